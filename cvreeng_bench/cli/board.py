"""The leaderboard command: ``add``, ``show``, ``render``, ``verify`` and ``regenerate`` as subcommands, each a thin
call into the library (``cvreeng_bench.api``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import CvreengError
from .common import command, release_option


def cmd_leaderboard_add(args: argparse.Namespace) -> int:
    from ..api import submit
    from ..text import printable

    board = args.board or Path("leaderboard.jsonl")
    entry = submit(board, args.file, args.release, predictions=args.predictions, task=args.task, split=args.split,
                   track=args.track, name=args.name, url=args.url or "", model_cutoff=args.model_cutoff,
                   notes=args.notes, trained=args.trained)
    print(f"added {printable(entry.name)} ({entry.task}@v{entry.task_version}, {entry.split}, {entry.track}: "
          f"{entry.main_score} {entry.score:.3f}, {entry.verification}) to {board}")
    if entry.contamination_risk:
        print(f"note: flagged as a contamination risk (model cut-off {entry.model_cutoff} is on or after the "
              f"labels became public, {entry.labels_public_since})")
    return 0


def _warn(warnings: list[str]) -> None:
    from ..text import printable

    for line in warnings:
        print(f"warning: {printable(line)}; skipped", file=sys.stderr)


def cmd_leaderboard_show(args: argparse.Namespace) -> int:
    from ..api import leaderboard
    from ..board.view import show

    warnings: list[str] = []
    ranked = leaderboard(args.board, args.release, task=args.task, verified_only=args.verified_only, warn=warnings)
    _warn(warnings)
    sys.stdout.write(show(ranked, args.format))
    return 0


def cmd_leaderboard_render(args: argparse.Namespace) -> int:
    from ..api import leaderboard, open_release
    from ..board.view import render

    warnings: list[str] = []
    release = open_release(args.release)
    ranked = leaderboard(args.board, release, task=args.task, verified_only=args.verified_only, warn=warnings)
    _warn(warnings)
    for path in render(ranked, release, args.out):
        print(f"written {path}")
    return 0


def cmd_leaderboard_verify(args: argparse.Namespace) -> int:
    from ..api import verify
    from ..text import printable

    warnings: list[str] = []
    checked = verify(args.board, args.release, warn=warnings)
    _warn(warnings)
    for entry, held in checked:
        print(f"{'holds' if held else 'FAILS'}  {entry.verification:13s} {printable(entry.name, 80)} ({entry.task}@v"
              f"{entry.task_version}, {entry.split}, {entry.track})")
    failed = sum(not held for _, held in checked)
    print(f"{len(checked) - failed} of {len(checked)} claimed tiers re-derived; "
          + ("the others are shown as self-reported" if failed else "all are shown as claimed"))
    return 0


def cmd_leaderboard_regenerate(args: argparse.Namespace) -> int:
    from ..api import regenerate
    from ..board.entries import SHIPPED

    target = SHIPPED if args.shipped else args.board
    rows = regenerate(target, args.release, shipped=args.shipped, fold_seeds=not args.no_fold_seeds)
    print(f"{len(rows)} entries written to {target}" + ("; rebuild the release to ship them" if args.shipped else ""))
    return 0


HELP = ("The board: add a system (scored by the harness), show or render it (reads only: no system runs), verify "
        "the tiers it claims, regenerate the package's entries.")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, *, summary: bool = False) -> None:
    if summary:  # the command list of --help: no registry is imported
        sub.add_parser("leaderboard", help=HELP)
        return
    from ..board.entries import TRAINED
    from ..scoring.populations import ALL_TRACKS
    from ..scoring.tasks import SPLIT_NAMES

    p = command(sub, common, "leaderboard", HELP,
                example="cvreeng-bench leaderboard show --task root_cause", handler=_needs_action)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    board_help = ("board file, with its predictions under submissions/ beside it (default: the package's shipped "
                  "board)")
    q = command(actions, common, "add", "Score a predictions file and add it to a board (self-reported, or "
                "consistent when its stored raw answers parse to its labels with the prompt its run record names).",
                example="cvreeng-bench leaderboard add preds.csv --task root_cause --track triage --name my-model "
                "--url https://example.org", handler=cmd_leaderboard_add)
    q.add_argument("file", type=Path, metavar="PREDICTIONS",
                   help="the predictions file (or an `evaluate --out` RESULT.json with --predictions)")
    q.add_argument("--predictions", type=Path, default=None, help="with RESULT.json: the predictions it scored")
    q.add_argument("--task", help="the task (default: the result's or run record's)")
    q.add_argument("--split", default=None, choices=SPLIT_NAMES, help="the split (default: the task's)")
    q.add_argument("--track", default=None, choices=ALL_TRACKS, help="what the system read")
    q.add_argument("--board", type=Path, default=None,
                   help="board file (default ./leaderboard.jsonl, started from the shipped entries)")
    q.add_argument("--name", required=True, help="the system's name")
    q.add_argument("--url", help="where the system is described (http or https)")
    q.add_argument("--model-cutoff", help="training-data cut-off of a pretrained model (YYYY-MM-DD)")
    q.add_argument("--notes", help="free text")
    q.add_argument("--trained", choices=TRAINED, default=None,
                   help="how the system was trained: out-of-fold (never on the items it labels), zero-shot, or "
                   "in-sample (shown, never ranked); a chat run's record says it")
    release_option(q)
    for name, what, handler, example in (
            ("show", "Print the board re-scored and ranked (memoized re-scores; no system runs).", cmd_leaderboard_show,
             "cvreeng-bench leaderboard show --verified-only --format markdown"),
            ("render", "Write the board as an HTML page with charts (reads only, like show).", cmd_leaderboard_render,
             "cvreeng-bench leaderboard render --board leaderboard.jsonl --out site")):
        q = command(actions, common, name, what, example=example, handler=handler)
        q.add_argument("--board", type=Path, default=None, help=board_help)
        q.add_argument("--task", help="only this task")
        q.add_argument("--verified-only", action="store_true", help="only entries the board reproduced itself")
        if name == "show":
            q.add_argument("--format", choices=("table", "json", "markdown"), default="table")
        else:
            q.add_argument("--out", type=Path, default=Path("leaderboard"),
                           help="output folder (default ./leaderboard)")
        release_option(q)
    q = command(actions, common, "verify", "Re-check every tier a board claims: re-run package baselines, recompute "
                "the raters' agreement, re-parse stored model answers; what holds is shown as claimed from then on.",
                example="cvreeng-bench leaderboard verify --board shared-board.jsonl", handler=cmd_leaderboard_verify)
    q.add_argument("--board", type=Path, default=None, help=board_help)
    release_option(q)
    q = command(actions, common, "regenerate", "Re-run every package baseline and the raters' agreement into a board "
                "(its submissions kept); the package's shipped board only with --shipped.",
                example="cvreeng-bench leaderboard regenerate --board leaderboard.jsonl",
                handler=cmd_leaderboard_regenerate)
    where = q.add_mutually_exclusive_group(required=True)
    where.add_argument("--board", type=Path, help="the board file to write")
    where.add_argument("--shipped", action="store_true", help="write the package's own shipped board (maintainers)")
    q.add_argument("--no-fold-seeds", action="store_true", help="leave out the scores under 4 more dealings of the "
                   "folds and by repository (faster; the entries then claim none)")
    release_option(q)


def _needs_action(args: argparse.Namespace) -> int:
    raise CvreengError("leaderboard needs an action: add, show, render, verify or regenerate (`cvreeng-bench "
                       "leaderboard --help`)")
