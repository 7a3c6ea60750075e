"""The ``cvreeng-bench`` command. Each subcommand imports what it needs when it runs, so ``--help`` is fast."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ._version import __version__

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
    from .validate import errors

    out = args.out or default_release()
    text = None
    if args.with_text is not None:
        from .hydrate.texts import issue_texts_table

        text = {"issue_texts": issue_texts_table(args.with_text, redact=not args.no_redact)}
    folder, problems = build(out, args.upstream, verify=not args.no_verify, progress=not args.quiet, extra=text)
    warnings = [p for p in problems if p not in errors(problems)]
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


def _emit(frame: object, fmt: str) -> str:
    import polars as pl

    assert isinstance(frame, pl.DataFrame)
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
    except CvreengError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
