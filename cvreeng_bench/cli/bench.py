"""Benchmark commands: tasks, predict, prompts, template, evaluate, compare, baseline, agreement, leaderboard."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CvreengError
from ..scoring.protocol import N_RESAMPLES, N_ROUNDS
from . import board
from .common import command, release_option

if TYPE_CHECKING:
    from ..annotator import Verdict
    from ..scoring.results import Result


# One line per command, for the command list (``--help`` shows it without importing the benchmark).
HELP = {
    "tasks": ('List the benchmark tasks, or show one: labels with definitions, inputs, tracks, split sizes and the '
              'ids to predict.'),
    "predict": ("Classify a task's test issues with any OpenAI-compatible chat model (hosted, vLLM, llama.cpp, "
                'Ollama); cached, resumable, with a run record.'),
    "prompts": 'Show a prompt rendered for one issue of a task.',
    "template": ('Write a predictions file to fill in: the issues to predict for a task and split, with an empty label '
                 'column.'),
    "evaluate": 'Score a predictions file (CSV, JSONL or parquet) on a task, with 95% bootstrap intervals.',
    "compare": ('Paired permutation (approximate-randomization) test of two prediction files on the same task and '
                'split.'),
    "transfer": ('Train a text baseline on every item of one task and score it on a task of another source '
                 '(so_dl_bugs, bug_kind and notes_bug_kind share the five DL-bug kinds).'),
    "crosswalk": ("Check the root-cause crosswalk against data: the DL-bug kinds a text baseline trained on the posts "
                  "gives the analysts' notes of each study root cause, beside each crosswalk version's mapping."),
    "agreement": ("The raters' inter-rater agreement per phase and dimension on all linked items (not a ceiling), and "
                  "the paper's pooled kappas recomputed."),
    "baseline": 'Run a seeded baseline',
}


def nonnegative(text: str) -> int:
    """--resamples: a whole number of at least 0 (0: point scores only, intervals null)."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of 0 or more, got {text[:40]!r}")
    return value


def cmd_tasks(args: argparse.Namespace) -> int:
    import json

    from ..api import describe, tasks

    if args.action == "show":
        if not args.task:
            raise CvreengError("tasks show needs a task name, e.g. `cvreeng-bench tasks show root_cause`")
        info = describe(args.task, args.release)
        sys.stdout.write(json.dumps(info, indent=2) + "\n" if args.format == "json" else info["text"])
        return 0
    if args.format == "json":
        sys.stdout.write(json.dumps([t.to_dict() for t in tasks()], indent=2) + "\n")
    else:
        from ..scoring.tasks import listing

        sys.stdout.write(listing())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from ..api import predict
    from ..scoring.runs import path_for

    record = predict(args.task, args.release, model=args.model, api_url=args.api_url, out=args.out, split=args.split,
                     track=args.track, prompt=args.prompt, shots=args.shots, api_key_env=args.api_key_env,
                     cache=args.cache, concurrency=args.concurrency, max_requests=args.max_requests,
                     model_cutoff=args.model_cutoff, progress=not args.quiet)
    print(f"{record.issues} predictions written to {args.out} ({record.abstentions} abstained; "
          f"{record.requests} requests, {record.cached_answers} cached answers); run record: {path_for(args.out)}")
    return 0


def cmd_prompts(args: argparse.Namespace) -> int:
    from ..api import prompt
    from ..scoring.tasks import get
    from ..systems.prompts import PROMPTS
    from ..text import printable

    chosen, task = PROMPTS.get(args.name), get(args.task)
    issue_id, messages = prompt(args.name, args.task, args.release, issue=args.issue, split=args.split,
                                track=args.track)
    print(f"# {chosen.key} for {task.key}, {task.source.item.lower()} {printable(issue_id)} (content sha256 "
          f"{chosen.sha256[:16]})\n")
    for message in messages:
        print(f"## {message['role']}\n\n{printable(message['content'], 1 << 20)}\n".replace("\\n", "\n"))
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from ..api import template

    frame = template(args.task, args.release, split=args.split, out=args.out)
    print(f"{frame.height} issues to predict written to {args.out}: fill in one label per issue")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..api import evaluate

    subset = None
    if args.subset:
        from ..files import read_bounded

        try:
            text = read_bounded(args.subset, 4 << 20).decode("utf-8")
        except ValueError as error:  # too long, or not UTF-8 text
            raise CvreengError(f"--subset {args.subset}: not a text file of issue ids, one a line (at most 4 MiB): "
                               f"{str(error)[:120]}") from error
        subset = {line.strip() for line in text.splitlines() if line.strip()}
    options = {"track": args.track} if args.track else {}
    result = evaluate(args.predictions, args.task, args.release, split=args.split, allow_missing=args.allow_missing,
                      n_resamples=args.resamples, seed=args.seed, subset=subset, **options)
    judged = _verdict(args, result) if subset is None else None
    if args.format == "json":
        import json

        sys.stdout.write(result.to_json() if judged is None else json.dumps(
            {**result.to_dict(), "verdict": judged.to_dict()}, indent=2, default=str) + "\n")
    else:
        sys.stdout.write(result.table() + ("" if judged is None else "\n" + judged.text()))
    if args.out:
        args.out.write_text(result.to_json(), encoding="utf-8")
    return 0


def _verdict(args: argparse.Namespace, result: Result) -> Verdict | None:
    """The annotator verdict, where it applies: out-of-fold labels of every issue of a study task."""
    from ..annotator import judged
    from ..api import verdict
    from ..scoring.tasks import get

    if result.split != "fold" or not judged(get(args.task)):
        return None
    return verdict(args.predictions, args.task, args.release, allow_missing=args.allow_missing,
                   n_resamples=args.resamples, seed=args.seed)


def cmd_compare(args: argparse.Namespace) -> int:
    from ..api import compare

    result = compare(args.a, args.b, args.task, args.release, split=args.split, metric=args.metric,
                     n_rounds=args.rounds, seed=args.seed)
    sys.stdout.write(result.to_json() if args.format == "json" else result.table())
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from ..api import baseline

    frame = baseline(args.name, args.task, args.release, split=args.split, seed=args.seed, track=args.track,
                     out=args.out)
    print(f"{frame.height} predictions written to {args.out}")
    return 0


def cmd_transfer(args: argparse.Namespace) -> int:
    from ..api import transfer
    from ..scoring.predictions import write_predictions

    frame, result = transfer(args.name, args.train, args.test, args.release, seed=args.seed, track=args.track,
                             n_resamples=args.resamples)
    if args.out:
        write_predictions(frame, args.out)
    sys.stdout.write(result.to_json() if args.format == "json" else result.table())
    return 0


def cmd_crosswalk(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from ..api import crosswalk
    from ..systems.crosswalk import table

    rows = crosswalk(args.release, system=args.system, track=args.track, seed=args.seed)
    sys.stdout.write(json.dumps([dataclasses.asdict(r) for r in rows], indent=2) + "\n" if args.format == "json"
                     else table(rows, args.system, args.track))
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from ..api import agreement
    from ..scoring.agreement import table
    from ..scoring.results import dumps

    result = agreement(args.release, n_resamples=args.resamples)
    sys.stdout.write(dumps(result) if args.format == "json" else table(result))
    return 0


def _task_options(p: argparse.ArgumentParser, *, resamples: bool = True) -> None:
    from ..scoring.populations import ALL_TRACKS
    from ..scoring.tasks import SPLIT_NAMES

    p.add_argument("--task", required=True, help="task name (see `cvreeng-bench tasks`), optionally NAME@vN")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="default: the task's own split (fold)")
    p.add_argument("--track", default=None, choices=ALL_TRACKS,
                   help="what the system read: metadata (default); triage (title + body) or full-thread for issues and "
                   "posts; symptom or analysis (post-hoc) for the analysts' notes")
    release_option(p)
    if resamples:
        p.add_argument("--resamples", type=nonnegative, default=N_RESAMPLES,
                       help=f"bootstrap resamples (default {N_RESAMPLES})")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, *, summary: bool = False) -> None:
    """The benchmark commands; ``summary``: their names and one-line help only (the command list of ``--help``,
    which then imports no registry)."""
    if summary:
        for name, text in HELP.items():
            sub.add_parser(name, help=text.replace("%", "%%"))
        board.register(sub, common, summary=True)
        return
    from ..scoring.populations import TEXT_TRACKS
    from ..scoring.tasks import SPLIT_NAMES
    from ..systems.baselines import BASELINES

    p = command(sub, common, "tasks", HELP["tasks"], example="cvreeng-bench tasks show root_cause",
                handler=cmd_tasks)
    p.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    p.add_argument("task", nargs="?", help="with show: the task")
    p.add_argument("--format", choices=("table", "json"), default="table")
    release_option(p)

    p = command(sub, common, "predict", HELP["predict"],
                example="cvreeng-bench predict --task root_cause --model gpt-4o-mini --api-url "
                "https://api.openai.com/v1 --out preds.jsonl", handler=cmd_predict)
    p.add_argument("--task", required=True, help="task name")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="default: the task's own split (fold)")
    p.add_argument("--track", default=None, choices=TEXT_TRACKS,
                   help="the text the model reads (default: the task's first text track: triage, title + body, for "
                   "issues and posts; symptom for the analysts' notes)")
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

    p = command(sub, common, "prompts", HELP["prompts"],
                example="cvreeng-bench prompts show zero-shot --task root_cause", handler=cmd_prompts)
    p.add_argument("action", choices=("show",))
    p.add_argument("name", help="zero-shot or few-shot (NAME@vN for a version)")
    p.add_argument("--task", required=True, help="task name")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES)
    p.add_argument("--track", default=None, choices=TEXT_TRACKS, help="default: the task's first text track")
    p.add_argument("--issue", default=None, help="an issue id of the test side (default: the first)")
    release_option(p)

    p = command(sub, common, "template", HELP["template"], example="cvreeng-bench template root_cause --out preds.csv",
                handler=cmd_template)
    p.add_argument("task", help="task name")
    p.add_argument("--split", default=None, choices=SPLIT_NAMES, help="default: the task's own split (fold)")
    p.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .jsonl or .parquet)")
    release_option(p)

    p = command(sub, common, "evaluate", HELP["evaluate"],
                example="cvreeng-bench evaluate preds.csv --task stage --split holdout --format json",
                handler=cmd_evaluate)
    p.add_argument("predictions", type=Path, help="issue_id + label (or labels), optional score/confidence")
    _task_options(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--allow-missing", action="store_true", help="score issues without a prediction as wrong")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON result here (for leaderboard add)")
    p.add_argument("--subset", type=Path, default=None, metavar="FILE",
                   help="score only these issue ids (one per line), e.g. the items both raters agreed on")

    p = command(sub, common, "compare", HELP["compare"], example="cvreeng-bench compare a.csv b.csv --task impact",
                handler=cmd_compare)
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    _task_options(p, resamples=False)
    p.add_argument("--rounds", type=nonnegative, default=N_ROUNDS,
                   help=f"permutation rounds (default {N_ROUNDS}); p = (k + 1) / (rounds + 1)")
    p.add_argument("--metric", default=None, choices=("accuracy", "macro_f1", "kappa"),
                   help="the score compared (default: the task's main score)")
    p.add_argument("--format", choices=("table", "json"), default="table")

    names = ", ".join(BASELINES.names())
    p = command(sub, common, "baseline", f"{HELP['baseline']}: {names}.",
                example="cvreeng-bench baseline metadata --task root_cause --out preds.csv", handler=cmd_baseline)
    p.add_argument("name", choices=BASELINES.names(), metavar="NAME", help=names)
    _task_options(p, resamples=False)
    p.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .jsonl or .parquet)")

    text_names = [b.name for b in BASELINES if b.needs_text]
    p = command(sub, common, "transfer", HELP["transfer"],
                example="cvreeng-bench transfer embeddings --train so_dl_bugs --test notes_bug_kind --track symptom",
                handler=cmd_transfer)
    p.add_argument("name", choices=text_names, metavar="NAME", help=", ".join(text_names))
    p.add_argument("--train", required=True, help="the task trained on (e.g. so_dl_bugs)")
    p.add_argument("--test", required=True, help="the task scored (e.g. notes_bug_kind: the analysts' notes; bug_kind "
                   "needs issue texts)")
    p.add_argument("--track", default="triage", choices=TEXT_TRACKS,
                   help="the text read, on each side that has the track (else that side's first text track); "
                   "e.g. symptom for the analysts' notes")
    p.add_argument("--seed", type=nonnegative, default=0, help="random seed (default 0)")
    p.add_argument("--resamples", type=nonnegative, default=N_RESAMPLES, help="bootstrap resamples for the interval")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--out", type=Path, default=None, help="also write the predictions here")
    release_option(p)

    p = command(sub, common, "crosswalk", HELP["crosswalk"], example="cvreeng-bench crosswalk --track analysis",
                handler=cmd_crosswalk)
    p.add_argument("--system", default="tfidf", choices=("tfidf", "embeddings", "knn"),
                   help="the text baseline trained on the posts "
                   "(default tfidf; the embedding ones need the embeddings extra)")
    p.add_argument("--track", default="analysis", choices=("symptom", "analysis"),
                   help="which notes it labels (default analysis: Bugs, Comments and Fix)")
    p.add_argument("--seed", type=nonnegative, default=0, help="random seed (default 0)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    release_option(p)

    p = command(sub, common, "agreement", HELP["agreement"],
                example="cvreeng-bench agreement --format json", handler=cmd_agreement)
    release_option(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--resamples", type=nonnegative, default=N_RESAMPLES)

    board.register(sub, common)

