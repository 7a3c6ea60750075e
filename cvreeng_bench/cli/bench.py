"""Benchmark commands: tasks, evaluate, compare, baseline, ceiling, leaderboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..bench.baselines import BASELINES
from ..bench.protocol import N_RESAMPLES
from ..bench.tasks import SPLIT_NAMES
from .common import command, release_option


def cmd_tasks(args: argparse.Namespace) -> int:
    from ..bench.tasks import listing

    sys.stdout.write(listing())
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.evaluate import evaluate
    from ..bench.tasks import get

    subset = None
    if args.subset:
        subset = {line.strip() for line in args.subset.read_text("utf-8").splitlines() if line.strip()}
    result = evaluate(args.predictions, get(args.task), open_release(args.release), args.split,
                      allow_missing=args.allow_missing, n_resamples=args.resamples, seed=args.seed, subset=subset)
    sys.stdout.write(result.to_json() if args.format == "json" else result.table())
    if args.out:
        args.out.write_text(result.to_json(), encoding="utf-8")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.evaluate import compare
    from ..bench.tasks import get

    result = compare(args.a, args.b, get(args.task), open_release(args.release), args.split, metric=args.metric,
                     n_resamples=args.resamples, seed=args.seed)
    sys.stdout.write(result.to_json())
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.baselines import run
    from ..bench.evaluate import write_predictions
    from ..bench.tasks import get

    frame = run(args.name, get(args.task), open_release(args.release), args.split, seed=args.seed)
    write_predictions(frame, args.out)
    print(f"{frame.height} predictions written to {args.out}")
    return 0


def cmd_ceiling(args: argparse.Namespace) -> int:
    import json

    from ..api import open_release
    from ..bench.ceiling import ceiling, table

    result = ceiling(open_release(args.release), n_resamples=args.resamples)
    sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n" if args.format == "json" else table(result))
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench import leaderboard
    from ..errors import CvreengError
    from ..layout import DATASET_VERSION

    if args.action == "regenerate":
        from ..bench.shipped import entries

        rows = entries(open_release(args.release))
        target = args.out if args.out is not None else leaderboard.SHIPPED
        leaderboard.write(target, rows)
        print(f"{len(rows)} entries written to {target}; rebuild the release to ship them")
        return 0
    if args.action == "add":
        from ..bench.results import Result

        if args.result is None or not args.name:
            raise CvreengError("leaderboard add needs RESULT.json and --name")
        row = leaderboard.entry(Result.read(args.result), name=args.name, url=args.url or "",
                                model_cutoff=args.model_cutoff, notes=args.notes or "")
        leaderboard.add(args.board, row)
        print(f"added {args.name} ({row['task']}, {row['split']}: {row['main_score']} {row['score']:.3f}) "
              f"to {args.board}")
        if row["contamination_risk"]:
            print("note: flagged as a contamination risk (model cut-off after the issues were public)")
        return 0
    board = args.board if args.board.is_file() else leaderboard.SHIPPED
    rows = leaderboard.read(board)
    version = open_release(args.release).dataset_version if args.release else DATASET_VERSION
    if args.action == "show":
        sys.stdout.write(leaderboard.show(rows, version, args.task))
    else:
        for path in leaderboard.render(rows, version, args.out or Path("leaderboard")):
            print(f"written {path}")
    return 0


def _task_options(p: argparse.ArgumentParser, *, resamples: bool = True) -> None:
    p.add_argument("--task", required=True, help="task name (see `cvreeng-bench tasks`), optionally NAME@vN")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="default: the task's own split (holdout)")
    release_option(p)
    if resamples:
        p.add_argument("--resamples", type=int, default=N_RESAMPLES,
                       help=f"bootstrap resamples (default {N_RESAMPLES})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    command(sub, common, "tasks", "List the benchmark tasks (name@version, main score, default split, labels).",
                example="cvreeng-bench tasks", handler=cmd_tasks)

    p = command(sub, common, "evaluate", "Score a predictions file (CSV, JSONL or parquet) on a task, with 95% "
                "bootstrap intervals.",
                example="cvreeng-bench evaluate preds.csv --task stage --split holdout --format json",
                handler=cmd_evaluate)
    p.add_argument("predictions", type=Path, help="issue_id + label (or labels), optional score/confidence")
    _task_options(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--allow-missing", action="store_true", help="score issues without a prediction as wrong")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON result here (for leaderboard add)")
    p.add_argument("--subset", type=Path, default=None, metavar="FILE",
                   help="score only these issue ids (one per line), e.g. the items both raters agreed on")

    p = command(sub, common, "compare", "Paired bootstrap test of two prediction files on the same task and split.",
                example="cvreeng-bench compare a.csv b.csv --task impact", handler=cmd_compare)
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    _task_options(p)
    p.add_argument("--metric", default=None, help="accuracy, macro_f1 or kappa (default: the task's main score)")

    names = ", ".join(BASELINES)
    p = command(sub, common, "baseline", f"Run a seeded baseline: {names}.",
                example="cvreeng-bench baseline metadata --task root_cause --out preds.csv", handler=cmd_baseline)
    p.add_argument("name", choices=tuple(BASELINES), metavar="NAME", help=names)
    _task_options(p, resamples=False)
    p.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .jsonl or .parquet)")

    p = command(sub, common, "ceiling", "The human ceiling: the two raters' agreement per phase and dimension.",
                example="cvreeng-bench ceiling --format json", handler=cmd_ceiling)
    release_option(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--resamples", type=int, default=N_RESAMPLES)

    p = command(sub, common, "leaderboard", "Add a result to, show or render the leaderboard; regenerate the "
                "shipped board.",
                example="cvreeng-bench leaderboard add result.json --name my-model --url https://example.org",
                handler=cmd_leaderboard)
    p.add_argument("action", choices=("add", "show", "render", "regenerate"))
    p.add_argument("result", type=Path, nargs="?", help="with add: an `evaluate --out` JSON result")
    p.add_argument("--board", type=Path, default=Path("leaderboard.jsonl"),
                   help="board file (default ./leaderboard.jsonl; show/render fall back to the shipped board)")
    p.add_argument("--name", help="with add: the system's name")
    p.add_argument("--url", help="with add: where the system is described")
    p.add_argument("--model-cutoff", help="with add: training-data cut-off of a pretrained model (YYYY-MM-DD)")
    p.add_argument("--notes", help="with add: free text")
    p.add_argument("--task", help="with show: only this task")
    p.add_argument("--out", type=Path, default=None, help="with render: output folder (default ./leaderboard); "
                   "with regenerate: the board file (default: the package's shipped board)")
    release_option(p)
