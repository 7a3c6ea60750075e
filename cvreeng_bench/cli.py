"""The ``cvreeng-bench`` command. Each subcommand imports what it needs when it runs, so ``--help`` is fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:
    import polars as pl

Handler = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Handler] = {}


def _add(sub: argparse._SubParsersAction, name: str, help_text: str, example: str,
         ) -> argparse.ArgumentParser:
    return sub.add_parser(name, help=help_text, description=help_text,
                          epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)


def _release_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", type=Path, default=None,
                        help="release folder (default: the user-cache release, built on first use)")


def _print_problems(problems: Sequence[object], limit: int | None = 20) -> None:
    shown = list(problems) if limit is None else list(problems)[:limit]
    for problem in shown:
        print(f"  {problem}", file=sys.stderr)
    if limit is not None and len(problems) > limit:
        print(f"  ... and {len(problems) - limit} more (--verbose lists all)", file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    from .api import default_release
    from .release import build

    out = args.out or default_release()
    text = None
    if args.with_text is not None:
        from .hydrate.texts import issue_texts_table

        text = {"issue_texts": issue_texts_table(cache_file(args.with_text), redact=not args.no_redact)}
    folder, problems = build(out, args.upstream, verify=not args.no_verify, progress=not args.quiet, extra=text)
    warnings = [p for p in problems if p.severity == "warning"]
    if warnings:
        print(f"{len(warnings)} warning(s) about upstream labels (kept as the authors wrote them):",
              file=sys.stderr)
        _print_problems(warnings, None if args.verbose else 10)
    print(f"release written to {folder}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .api import release_dir
    from .audit import audit_release
    from .validate import errors

    folder = release_dir(args.release)
    problems = audit_release(folder)
    bad = errors(problems)
    _print_problems(problems, None if args.verbose else 20)
    print(f"{folder}: {len(bad)} error(s), {len(problems) - len(bad)} warning(s)")
    return 1 if bad else 0


def cmd_publish(args: argparse.Namespace) -> int:
    from .api import release_dir
    from .publish import plan, publish

    folder = release_dir(args.release)
    steps = plan(folder, args.repo_id)
    if args.dry_run:
        print("\n".join(steps))
        return 0
    token = os.environ.get(args.token_env)
    url = publish(folder, args.repo_id, token=token, endpoint=args.endpoint, private=args.private)
    print(f"published {folder} to {url}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import json

    from .api import manifest

    print(json.dumps(manifest(args.release), indent=2, sort_keys=True))
    return 0


def _filters(pairs: list[str] | None) -> dict[str, object]:
    from .errors import CvreengError

    out: dict[str, object] = {}
    for pair in pairs or []:
        column, sep, value = pair.partition("=")
        if not sep or not column:
            raise CvreengError(f"--where takes COLUMN=VALUE, got {pair!r}")
        out[column.strip()] = {"true": True, "false": False}.get(value.strip().lower(), value.strip())
    return out


def _emit(frame: pl.DataFrame, fmt: str) -> str:
    import polars as pl

    if fmt == "csv":
        return frame.write_csv()
    if fmt == "json":
        return frame.write_json()
    if fmt == "markdown":
        head = "| " + " | ".join(frame.columns) + " |"
        rule = "|" + "|".join("---:" if frame.schema[c].is_numeric() else "---" for c in frame.columns) + "|"
        rows = ["| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row) + " |"
                for row in frame.iter_rows()]
        return "\n".join([head, rule, *rows]) + "\n"
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=200, fmt_str_lengths=80, float_precision=1,
                   tbl_hide_dataframe_shape=True, tbl_hide_column_data_types=True):
        return str(frame) + "\n"


def cmd_rq(args: argparse.Namespace) -> int:
    from .queries import QUERIES, find, run_all

    filters = _filters(args.where)
    selected = list(QUERIES) if args.name == "all" else [find(args.name)]
    results = run_all(args.release, filters=filters)
    for query in selected:
        frame = results[query.alias or query.name]
        if len(selected) > 1 and args.format in ("table", "markdown"):
            print(f"\n## {query.title}\n")
        sys.stdout.write(_emit(frame, args.format))
        if args.chart and query.is_crosstab:
            from . import charts

            target = args.chart if len(selected) == 1 else args.chart.with_name(
                f"{args.chart.stem}_{query.alias}{args.chart.suffix}")
            charts.save(charts.figure(query, frame), target)
            print(f"chart written to {target}", file=sys.stderr)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write

    path = write(args.out, args.release, _filters(args.where))
    print(f"report written to {path}")
    return 0


def _json(data: object) -> str:
    import json

    return json.dumps(data, indent=2, default=str)


def cmd_tasks(args: argparse.Namespace) -> int:
    from .bench.tasks import REGISTRY

    for task in REGISTRY.latest():
        print(f"{task.key:22s} main={task.main_score:9s} split={task.split:8s} {len(task.labels):2d} labels  "
              f"{task.description}")
    return 0


def _score_table(result: dict) -> str:
    lines = [f"task {result['task']}@v{result['task_version']}, split {result['split']}, n = {result['n']} "
             f"({result['mode']}-label predictions, {result['n_resamples']} bootstrap resamples, "
             f"seed {result['seed']})", ""]
    for metric, value in result["scores"].items():
        low, high = result["ci95"][metric]
        lines.append(f"  {metric:9s} {value:.3f}  [{low:.3f}, {high:.3f}]")
    lines += ["", f"  {'label':40s} {'support':>7s} {'precision':>9s} {'recall':>7s} {'f1':>6s}"]
    for row in result["per_label"]:
        lines.append(f"  {row['label'][:40]:40s} {row['support']:7d} {row['precision']:9.3f} {row['recall']:7.3f} "
                     f"{row['f1']:6.3f}")
    if result.get("confusion"):
        lines += ["", "  confusion (rows gold, columns predicted):"]
        for label, row in zip(result["labels"], result["confusion"], strict=True):
            lines.append(f"  {label[:28]:28s} " + " ".join(f"{n:4d}" for n in row))
    return "\n".join(lines) + "\n"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .bench.evaluate import evaluate
    from .bench.tasks import get

    subset = None
    if args.subset:
        subset = {line.strip() for line in args.subset.read_text("utf-8").splitlines() if line.strip()}
    result = evaluate(args.predictions, get(args.task), args.split, args.release, allow_missing=args.allow_missing,
                      n_resamples=args.resamples, seed=args.seed, subset=subset)
    text = _json(result) + "\n" if args.format == "json" else _score_table(result)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(_json(result) + "\n", encoding="utf-8")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .bench.evaluate import compare
    from .bench.tasks import get

    result = compare(args.a, args.b, get(args.task), args.split, args.release, metric=args.metric,
                     n_resamples=args.resamples, seed=args.seed)
    print(_json(result))
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from .bench.baselines import run
    from .bench.tasks import get

    frame = run(args.name, get(args.task), args.split, args.release, seed=args.seed)
    suffix = args.out.suffix.lower()
    if suffix == ".parquet":
        frame.write_parquet(args.out)
    elif suffix in (".jsonl", ".ndjson"):
        frame.write_ndjson(args.out)
    else:
        frame.write_csv(args.out)
    print(f"{frame.height} predictions written to {args.out}")
    return 0


def cmd_ceiling(args: argparse.Namespace) -> int:
    from .bench.ceiling import ceiling

    result = ceiling(args.release, n_resamples=args.resamples)
    if args.format == "json":
        print(_json(result))
        return 0
    print("pooled Cohen's kappa per phase (all labeled columns), as the paper reports it and as recomputed:")
    print(f"  {'phase':14s} {'paper':>6s} {'raw':>6s} {'normalized':>10s} {'canonical':>9s}")
    for row in result["pooled"]:
        print(f"  {row['phase']:14s} {row['paper_kappa']:6.2f} {row['kappa_raw']:6.2f} "
              f"{row['kappa_normalized']:10.2f} {row['kappa_canonical']:9.2f}")
    print("\nper dimension (rater 2 scored against rater 1):")
    for row in result["per_dimension"]:
        s, c = row["scores"], row["ci95"]
        print(f"  {row['phase']:14s} {row['dimension']:14s} n={row['n']:3d} accuracy {s['accuracy']:.3f} "
              f"macro-F1 {s['macro_f1']:.3f} kappa {s['kappa']:.3f} [{c['kappa'][0]:.3f}, {c['kappa'][1]:.3f}]")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    import json

    from .api import manifest
    from .bench import leaderboard
    from .errors import CvreengError
    from .release import DATASET_VERSION

    if args.action == "add":
        if args.result is None or not args.name:
            raise CvreengError("leaderboard add needs RESULT.json and --name")
        result = json.loads(args.result.read_text("utf-8"))
        row = leaderboard.entry(result, name=args.name, url=args.url or "", model_cutoff=args.model_cutoff,
                                notes=args.notes or "")
        leaderboard.add(args.board, row)
        print(f"added {args.name} ({row['task']}, {row['split']}: {row['main_score']} {row['score']:.3f}) "
              f"to {args.board}")
        if row["contamination_risk"]:
            print("note: flagged as a contamination risk (model cut-off after the issues were public)")
        return 0
    board = args.board if args.board.is_file() else leaderboard.SHIPPED
    rows = leaderboard.read(board)
    version = manifest(args.release)["dataset_version"] if args.release else DATASET_VERSION
    if args.action == "show":
        sys.stdout.write(leaderboard.show(rows, version, args.task))
    else:
        for path in leaderboard.render(rows, version, args.out):
            print(f"written {path}")
    return 0


def cache_file(folder: Path) -> Path:
    """A hydrate cache is a folder holding hydrate.duckdb (a path to the file itself is accepted too)."""
    return folder if folder.suffix == ".duckdb" else folder / "hydrate.duckdb"


def cmd_hydrate(args: argparse.Namespace) -> int:
    from .api import load
    from .hydrate.client import Client
    from .hydrate.run import hydrate

    if args.issues_file:
        ids = [line.strip() for line in args.issues_file.read_text("utf-8").splitlines() if line.strip()]
    else:
        ids = load("issues", args.release)["issue_id"].to_list()
    token = os.environ.get(args.token_env) or None
    if token is None:
        print(f"no token in ${args.token_env}: anonymous rate limit (60 requests an hour)", file=sys.stderr)
    client = Client(args.api_url, token)
    summary = hydrate(ids, cache_file(args.cache), client, concurrency=args.concurrency, progress=not args.quiet,
                      refresh_missing=args.refresh_missing)
    verb = "resumed" if summary.resumed else "started"
    print(f"run {summary.run} ({verb}): {summary.issues} issues fetched, {summary.skipped} already done, "
          f"{summary.requests} requests, waited {summary.waited_s:.0f} s; "
          + ", ".join(f"{k}: {v}" for k, v in sorted(summary.statuses.items())))
    for old, new in sorted(summary.moved.items()):
        print(f"moved: {old} is now {new}")
    return 0


def _bench_args(p: argparse.ArgumentParser, *, resamples: bool = True) -> None:
    p.add_argument("--task", required=True, help="task name (see `cvreeng-bench tasks`), optionally NAME@vN")
    p.add_argument("--split", default=None, help="holdout (default), fold, repo_holdout, temporal or all")
    _release_arg(p)
    if resamples:
        p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cvreeng-bench",
        description="The CV model-reengineering defect study (Jiang et al., EMSE 2024): dataset, queries, benchmark.",
        epilog="example:\n  cvreeng-bench build --out release && cvreeng-bench rq fig9 --release release",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every problem and warning")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = _add(sub, "build", "Build the versioned release (Hugging Face layout) from the pinned upstream artifact.",
             "cvreeng-bench build --upstream ../shared/upstream --out release")
    p.add_argument("--upstream", default=None, help="folder or base URL of the artifact (default: "
                   "$CVREENG_UPSTREAM, then the download cache, then the pinned GitHub URLs)")
    p.add_argument("--out", type=Path, default=None, help="release folder (default: the user cache)")
    p.add_argument("--no-verify", action="store_true", help="build from a modified copy: skip the sha256 check "
                   "(warns, and the release records the real hashes)")
    p.add_argument("--with-text", type=Path, default=None, metavar="CACHE",
                   help="add the issue_texts config from a `hydrate` cache")
    p.add_argument("--no-redact", action="store_true", help="keep e-mail addresses and tokens in issue texts")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.add_argument("-v", "--verbose", action="store_true", help="list every warning")
    COMMANDS["build"] = cmd_build

    p = _add(sub, "validate", "Audit a release: schema, vocabulary, uniqueness, content hash, taxonomy rules.",
             "cvreeng-bench validate --release release")
    _release_arg(p)
    p.add_argument("-v", "--verbose", action="store_true", help="list every problem")
    COMMANDS["validate"] = cmd_validate

    p = _add(sub, "publish", "Upload a release to the Hugging Face Hub and tag it v<dataset version>.",
             "cvreeng-bench publish --repo-id my-org/cvreeng-defects --dry-run")
    _release_arg(p)
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repository")
    p.add_argument("--dry-run", action="store_true", help="print the plan, upload nothing")
    p.add_argument("--token-env", default="HF_TOKEN", help="environment variable holding the token")
    p.add_argument("--endpoint", default=None, help="Hub URL (default: huggingface_hub's)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    COMMANDS["publish"] = cmd_publish

    p = _add(sub, "info", "Print a release's manifest: versions, upstream commit, content hash, configs.",
             "cvreeng-bench info --release release")
    _release_arg(p)
    COMMANDS["info"] = cmd_info

    p = _add(sub, "rq", "Print one of the paper's RQ1-RQ4 breakdowns (fig5 ... fig10, table4, shares, or all).",
             "cvreeng-bench rq fig9 --format csv --where repo_type=Zoo --chart fig9.png")
    p.add_argument("name", help="fig5 ... fig10, table4, shares, a query file's name, or all")
    _release_arg(p)
    p.add_argument("--format", choices=("table", "csv", "json", "markdown"), default="table")
    p.add_argument("--chart", type=Path, default=None, help="also draw the figure (.html, .png, .svg or .json)")
    p.add_argument("--where", action="append", metavar="COLUMN=VALUE",
                   help="only defects with this value (repeatable), e.g. repo_type=Zoo, framework=PyTorch, "
                   "family=YOLO")
    COMMANDS["rq"] = cmd_rq

    p = _add(sub, "report", "Write one self-contained HTML report: figures, tables, Table 4, chi-square tests.",
             "cvreeng-bench report --out report")
    _release_arg(p)
    p.add_argument("--out", type=Path, default=Path("report"), help="folder for report.html")
    p.add_argument("--where", action="append", metavar="COLUMN=VALUE", help="as for rq")
    COMMANDS["report"] = cmd_report

    p = _add(sub, "hydrate", "Fetch every sampled issue's thread from the GitHub API into a resumable cache.",
             "GITHUB_TOKEN=... cvreeng-bench hydrate --cache text-cache --concurrency 8")
    _release_arg(p)
    p.add_argument("--cache", type=Path, default=Path("hydrate-cache"), help="cache folder (hydrate.duckdb)")
    p.add_argument("--token-env", default="GITHUB_TOKEN", help="environment variable holding a token")
    p.add_argument("--api-url", default="https://api.github.com", help="API root (GitHub Enterprise, a test server)")
    p.add_argument("--concurrency", type=int, default=4, help="parallel requests (default 4)")
    p.add_argument("--issues-file", type=Path, default=None, help="issue ids, one per line (default: the release's)")
    p.add_argument("--refresh-missing", action="store_true", help="ask again for issues recorded as 404/410")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    COMMANDS["hydrate"] = cmd_hydrate

    p = _add(sub, "tasks", "List the benchmark tasks (name@version, main score, default split, labels).",
             "cvreeng-bench tasks")
    COMMANDS["tasks"] = cmd_tasks

    p = _add(sub, "evaluate", "Score a predictions file (CSV, JSONL or parquet) on a task, with 95%% bootstrap "
             "intervals.", "cvreeng-bench evaluate preds.csv --task stage --split holdout --format json")
    p.add_argument("predictions", type=Path, help="issue_id + label (or labels), optional score/confidence")
    _bench_args(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--allow-missing", action="store_true", help="score issues without a prediction as wrong")
    p.add_argument("--out", type=Path, default=None, help="also write the JSON result here (for leaderboard add)")
    p.add_argument("--subset", type=Path, default=None, metavar="FILE",
                   help="score only these issue ids (one per line), e.g. the items both raters agreed on")
    COMMANDS["evaluate"] = cmd_evaluate

    p = _add(sub, "compare", "Paired bootstrap test of two prediction files on the same task and split.",
             "cvreeng-bench compare a.csv b.csv --task impact")
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    _bench_args(p)
    p.add_argument("--metric", default=None, help="accuracy, macro_f1 or kappa (default: the task's main score)")
    COMMANDS["compare"] = cmd_compare

    p = _add(sub, "baseline", "Run a seeded baseline: majority, stratified, metadata, tfidf or embeddings.",
             "cvreeng-bench baseline metadata --task root_cause --out preds.csv")
    p.add_argument("name", help="majority, stratified, metadata, tfidf or embeddings")
    _bench_args(p, resamples=False)
    p.add_argument("--out", type=Path, required=True, help="predictions file (.csv, .jsonl or .parquet)")
    COMMANDS["baseline"] = cmd_baseline

    p = _add(sub, "ceiling", "The human ceiling: the two raters' agreement per phase and dimension.",
             "cvreeng-bench ceiling --format json")
    _release_arg(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--resamples", type=int, default=1000)
    COMMANDS["ceiling"] = cmd_ceiling

    p = _add(sub, "leaderboard", "Add a result to, show or render the leaderboard.",
             "cvreeng-bench leaderboard add result.json --name my-model --url https://example.org")
    p.add_argument("action", choices=("add", "show", "render"))
    p.add_argument("result", type=Path, nargs="?", help="with add: an `evaluate --out` JSON result")
    p.add_argument("--board", type=Path, default=Path("leaderboard.jsonl"),
                   help="board file (default ./leaderboard.jsonl; show/render fall back to the shipped board)")
    p.add_argument("--name", help="with add: the system's name")
    p.add_argument("--url", help="with add: where the system is described")
    p.add_argument("--model-cutoff", help="with add: training-data cut-off of a pretrained model (YYYY-MM-DD)")
    p.add_argument("--notes", help="with add: free text")
    p.add_argument("--task", help="with show: only this task")
    p.add_argument("--out", type=Path, default=Path("leaderboard"), help="with render: output folder")
    _release_arg(p)
    COMMANDS["leaderboard"] = cmd_leaderboard

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .errors import CvreengError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    args.verbose = getattr(args, "verbose", False)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cvreeng-bench rq all | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    except CvreengError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
