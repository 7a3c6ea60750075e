"""Benchmark commands: tasks, evaluate, compare, baseline, ceiling, leaderboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..bench.baselines import BASELINES
from ..bench.protocol import N_RESAMPLES
from ..bench.tasks import SPLIT_NAMES, TRACKS
from ..errors import CvreengError
from .common import command, release_option


def nonnegative(text: str) -> int:
    """--resamples: a whole number of at least 0 (0: point scores only, intervals null)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of 0 or more, got {text!r}")
    return value


def cmd_tasks(args: argparse.Namespace) -> int:
    import json

    from ..bench.tasks import REGISTRY, get, listing

    if args.action == "show":
        from ..api import open_release
        from ..bench.task_data import describe

        if not args.task:
            raise CvreengError("tasks show needs a task name, e.g. `cvreeng-bench tasks show root_cause`")
        info = describe(get(args.task), open_release(args.release))
        sys.stdout.write(json.dumps(info, indent=2) + "\n" if args.format == "json" else info["text"])
        return 0
    if args.format == "json":
        sys.stdout.write(json.dumps([t.to_dict() for t in REGISTRY.latest()], indent=2) + "\n")
    else:
        sys.stdout.write(listing())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.predict import predict, sidecar_path
    from ..bench.tasks import get

    info = predict(get(args.task), open_release(args.release), model=args.model, api_url=args.api_url, out=args.out,
                   split=args.split, track=args.track or "triage", prompt=args.prompt, shots=args.shots,
                   api_key_env=args.api_key_env, cache=args.cache, concurrency=args.concurrency,
                   max_requests=args.max_requests, model_cutoff=args.model_cutoff, progress=not args.quiet)
    print(f"{info['issues']} predictions written to {args.out} ({info['abstentions']} abstained; "
          f"{info['requests']} requests, {info['cached_answers']} cached answers); run record: "
          f"{sidecar_path(args.out)}")
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.predict import jobs
    from ..bench.prompts import PROMPTS
    from ..bench.tasks import get

    prompt = PROMPTS.get(args.name)
    task = get(args.task)
    work = jobs(task, open_release(args.release), args.split or task.split, args.track or "triage", prompt)
    issue_id, messages = next(((i, m) for i, m in work if i == args.issue), work[0]) if work else ("", [])
    if args.issue and issue_id != args.issue:
        raise CvreengError(f"{args.issue} is not on the test side of {task.key} ({args.split or task.split})")
    print(f"# {prompt.key} for {task.key}, issue {issue_id}\n")
    for message in messages:
        print(f"## {message['role']}\n\n{message['content']}\n")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.evaluate import write_predictions
    from ..bench.task_data import template
    from ..bench.tasks import get

    frame = template(get(args.task), open_release(args.release), args.split)
    write_predictions(frame, args.out)
    print(f"{frame.height} issues to predict written to {args.out}: fill in one label per issue")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.evaluate import evaluate
    from ..bench.tasks import get

    subset = None
    if args.subset:
        subset = {line.strip() for line in args.subset.read_text("utf-8").splitlines() if line.strip()}
    result = evaluate(args.predictions, get(args.task), open_release(args.release), args.split,
                      track=args.track or "metadata",
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

    frame = run(args.name, get(args.task), open_release(args.release), args.split, seed=args.seed, track=args.track)
    write_predictions(frame, args.out)
    print(f"{frame.height} predictions written to {args.out}")
    return 0


def cmd_ceiling(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench.ceiling import ceiling, table
    from ..bench.results import dumps

    result = ceiling(open_release(args.release), n_resamples=args.resamples)
    sys.stdout.write(dumps(result) if args.format == "json" else table(result))
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..bench import board_view, leaderboard

    release = open_release(args.release)
    if args.action == "regenerate":
        from ..bench.shipped import regenerate

        target = args.out if args.out is not None else leaderboard.SHIPPED
        rows = regenerate(release, target)
        print(f"{len(rows)} entries written to {target}; rebuild the release to ship them")
        return 0
    if args.action == "add":
        row = _add(args, release)
        print(f"added {row['name']} ({row['task']}@v{row['task_version']}, {row['split']}, {row['track']}: "
              f"{row['main_score']} {row['score']:.3f}) to {args.board}")
        if row["contamination_risk"]:
            print(f"note: flagged as a contamination risk (model cut-off {row['model_cutoff']} is on or after the "
                  f"labels became public, {row['labels_public_since']})")
        return 0
    board = args.board if args.board.is_file() else leaderboard.SHIPPED
    skipped: list[str] = []
    rows = leaderboard.read(board, skipped)
    for line in skipped:
        print(f"warning: {line}", file=sys.stderr)
    if args.action == "show":
        sys.stdout.write(board_view.show(rows, release, board, args.task, args.format))
    else:
        for path in board_view.render(rows, release, board, args.out or Path("leaderboard")):
            print(f"written {path}")
    return 0


def _add(args: argparse.Namespace, release: object) -> dict:
    from ..bench.leaderboard import submit

    if args.file is None or not args.name:
        raise CvreengError("leaderboard add needs PREDICTIONS (or RESULT.json with --predictions) and --name")
    claimed, predictions = (args.file, args.predictions) if args.file.suffix.lower() == ".json" else (None, args.file)
    if claimed is not None and predictions is None:
        raise CvreengError(f"{claimed.name} is a result: give the predictions it scored with --predictions FILE; "
                           "the board scores what it ranks")
    return submit(args.board, predictions, release, claimed=claimed, task=args.task, split=args.split,
                  track=args.track, name=args.name, url=args.url or "", model_cutoff=args.model_cutoff,
                  notes=args.notes)


def _task_options(p: argparse.ArgumentParser, *, resamples: bool = True) -> None:
    p.add_argument("--task", required=True, help="task name (see `cvreeng-bench tasks`), optionally NAME@vN")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="default: the task's own split (holdout)")
    p.add_argument("--track", default=None, choices=tuple(TRACKS),
                   help="what the system read: metadata (default), triage (title + body) or full-thread")
    release_option(p)
    if resamples:
        p.add_argument("--resamples", type=nonnegative, default=N_RESAMPLES,
                       help=f"bootstrap resamples (default {N_RESAMPLES})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = command(sub, common, "tasks", "List the benchmark tasks, or show one: labels with definitions, inputs, "
                "tracks, split sizes and the ids to predict.", example="cvreeng-bench tasks show root_cause",
                handler=cmd_tasks)
    p.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    p.add_argument("task", nargs="?", help="with show: the task")
    p.add_argument("--format", choices=("table", "json"), default="table")
    release_option(p)

    p = command(sub, common, "predict", "Classify a task's test issues with any OpenAI-compatible chat model "
                "(hosted, vLLM, llama.cpp, Ollama); cached, resumable, with a run record.",
                example="cvreeng-bench predict --task root_cause --model gpt-4o-mini --api-url "
                "https://api.openai.com/v1 --out preds.jsonl", handler=cmd_predict)
    p.add_argument("--task", required=True, help="task name")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="default: the task's own split (holdout)")
    p.add_argument("--track", default=None, choices=("triage", "full-thread"),
                   help="the text the model reads: triage (title + body, default) or full-thread")
    p.add_argument("--model", required=True, help="the model name the server knows")
    p.add_argument("--api-url", required=True, help="base URL of the OpenAI-compatible API (…/v1)")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY",
                   help="environment variable holding the key (none needed for local servers); sent to --api-url only")
    p.add_argument("--prompt", default="zero-shot", help="zero-shot or few-shot (NAME@vN for a version)")
    p.add_argument("--shots", type=nonnegative, default=None, help="examples for few-shot (default: the prompt's)")
    p.add_argument("--concurrency", type=int, default=4, help="parallel requests (default 4)")
    p.add_argument("--cache", type=Path, default=None, help="response cache folder (default: .predict-cache beside "
                   "--out); a re-run with the same settings sends nothing")
    p.add_argument("--max-requests", type=nonnegative, default=None, help="cost guard: stop after this many requests")
    p.add_argument("--model-cutoff", default=None, help="the model's training-data cut-off (YYYY-MM-DD), recorded")
    p.add_argument("--out", type=Path, required=True, help="predictions file (.jsonl)")
    release_option(p)

    p = command(sub, common, "prompts", "Show a prompt rendered for one issue of a task.",
                example="cvreeng-bench prompts show zero-shot --task root_cause", handler=cmd_prompts)
    p.add_argument("action", choices=("show",))
    p.add_argument("name", help="zero-shot or few-shot (NAME@vN for a version)")
    p.add_argument("--task", required=True, help="task name")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES)
    p.add_argument("--track", default=None, choices=("triage", "full-thread"))
    p.add_argument("--issue", default=None, help="an issue id of the test side (default: the first)")
    release_option(p)

    p = command(sub, common, "template", "Write a predictions file to fill in: the issues to predict for a task "
                "and split, with an empty label column.", example="cvreeng-bench template root_cause --out preds.csv",
                handler=cmd_template)
    p.add_argument("task", help="task name")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="default: the task's own split (holdout)")
    p.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .jsonl or .parquet)")
    release_option(p)

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
    p.add_argument("--resamples", type=nonnegative, default=N_RESAMPLES)

    p = command(sub, common, "leaderboard", "Add a system (scored by the harness) to the board, show or render it; "
                "regenerate the shipped board.", example="cvreeng-bench leaderboard add preds.csv --task root_cause "
                "--track triage --name my-model --url https://example.org", handler=cmd_leaderboard)
    p.add_argument("action", choices=("add", "show", "render", "regenerate"))
    p.add_argument("file", type=Path, nargs="?", metavar="PREDICTIONS",
                   help="with add: the predictions file (or an `evaluate --out` RESULT.json with --predictions)")
    p.add_argument("--predictions", type=Path, default=None, help="with add RESULT.json: the predictions it scored")
    p.add_argument("--task", help="with add: the task (default: the result's); with show: only this task")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="with add: the split (default: the task's)")
    p.add_argument("--track", default=None, choices=tuple(TRACKS), help="with add: what the system read")
    p.add_argument("--board", type=Path, default=Path("leaderboard.jsonl"),
                   help="board file, with its predictions under submissions/ beside it (default ./leaderboard.jsonl; "
                   "show/render fall back to the shipped board)")
    p.add_argument("--name", help="with add: the system's name")
    p.add_argument("--url", help="with add: where the system is described (http or https)")
    p.add_argument("--model-cutoff", help="with add: training-data cut-off of a pretrained model (YYYY-MM-DD)")
    p.add_argument("--notes", help="with add: free text")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table", help="with show")
    p.add_argument("--out", type=Path, default=None, help="with render: output folder (default ./leaderboard); "
                   "with regenerate: the board file (default: the package's shipped board)")
    release_option(p)
