"""Commands over the release and the paper's figures: build, validate, publish, info, rq, report, hydrate."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..errors import CvreengError
from ..queries import FORMATS
from ..text import printable
from .common import command, print_problems, release_option


def cmd_build(args: argparse.Namespace) -> int:
    from ..api import default_release
    from ..build import build
    from ..problems import warnings

    extra = None
    if args.with_text is not None:
        from ..hydrate.run import cache_file
        from ..hydrate.texts import issue_texts_table

        extra = {"issue_texts": issue_texts_table(cache_file(args.with_text), redact=not args.no_redact)}
    out = args.out or default_release()
    folder, problems = build(out, args.upstream, verify=not args.no_verify, progress=not args.quiet, extra=extra)
    found = warnings(problems)
    if found:
        print(f"{len(found)} warning(s) about upstream labels (kept as the authors wrote them):", file=sys.stderr)
        print_problems(found, args.verbose)
    print(f"release written to {folder}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..problems import errors

    release = open_release(args.release)
    problems = release.audit()
    bad = errors(problems)
    print_problems(problems, args.verbose, limit=20)
    print(f"{release.folder}: {len(bad)} error(s), {len(problems) - len(bad)} warning(s)")
    return 1 if bad else 0


def cmd_publish(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..publish import plan, publish

    release = open_release(args.release)
    if args.dry_run:
        print("\n".join(plan(release, args.repo_id)))
        return 0
    url = publish(release, args.repo_id, token=os.environ.get(args.token_env), endpoint=args.endpoint,
                  private=args.private)
    print(f"published {release.folder} to {url}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import json

    from ..api import open_release

    print(json.dumps(dict(open_release(args.release).manifest.raw), indent=2, sort_keys=True))
    return 0


def cmd_rq(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..printing import format_rows
    from ..queries import QUERIES, find, parse_filters, print_rows, run

    filters = parse_filters(args.where)
    if args.labels is not None:
        return _rq_labels(args, filters)
    if args.task is not None:
        raise CvreengError("--task names the task of --labels; give the predictions with --labels FILE")
    selected = list(QUERIES) if args.name == "all" else [find(args.name, all_too=True)]
    targets = {}
    if args.chart is not None:  # refused before anything is printed or computed
        from .. import charts

        targets = charts.targets(selected, args.chart)
    release = open_release(args.release)
    frames = {}
    if targets:  # a chart is drawn from the frame: the selected queries through polars
        frames = {q.label: run(q.name, release, filters=filters) for q in selected}
        sections = [(q, frames[q.label].columns, frames[q.label].rows()) for q in selected]
    else:  # printing only: DuckDB rows straight to text, no polars or pyarrow
        sections = print_rows(selected, release, filters=filters)
    for query, columns, rows in sections:
        if len(selected) > 1 and args.format in ("table", "markdown"):
            print(f"\n## {query.title}\n")
        sys.stdout.write(format_rows(columns, rows, args.format))
        if query.label in targets:
            charts.save(charts.figure(query, frames[query.label], filters), targets[query.label], scale=args.scale)
            print(f"chart written to {targets[query.label]}", file=sys.stderr)
    return 0


def _rq_labels(args: argparse.Namespace, filters: dict[str, object]) -> int:
    """``rq NAME --labels FILE``: the figure (or the quoted shares) as a system's labels would have drawn it."""
    from ..annotator import figure_change, figures_of, relabeled_query, task_of
    from ..api import open_release
    from ..printing import format_rows
    from ..queries import find
    from ..scoring.predictions import read_predictions

    predictions = read_predictions(args.labels)
    named = None if args.name == "all" else find(args.name, all_too=True)
    task = task_of(predictions, args.task, named)
    selected = [*figures_of(task.dimension), find("shares")] if named is None else [named]
    targets = {}
    if args.chart is not None:
        from .. import charts

        targets = charts.targets(selected, args.chart)
    release = open_release(args.release)
    for query in selected:
        shown, drawn = relabeled_query(query, predictions, release, task.key, filters)
        if len(selected) > 1 and args.format in ("table", "markdown"):
            print(f"\n## {query.title}, from the labels of {predictions.source} ({task.key})\n")
        sys.stdout.write(format_rows(shown.columns, shown.rows(), args.format))
        if query.is_crosstab and args.format == "table":
            moved = figure_change(query, shown, drawn)
            print(f"largest change of a cell's share {moved.max_change:.1f} points, mean {moved.mean_change:.1f}; "
                  f"chi-square p {moved.gold_p:.3g} (gold) -> {moved.system_p:.3g} (these labels)")
        if query.label in targets:
            charts.save(charts.figure(query, drawn, filters), targets[query.label], scale=args.scale)
            print(f"chart written to {targets[query.label]}", file=sys.stderr)
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from ..api import open_release

    release = open_release(args.release)
    if args.query:  # DuckDB rows straight to text: no polars or pyarrow on the print path
        from ..printing import format_rows
        from ..queries import sql_rows

        columns, rows = sql_rows(args.query, release, allow_files=args.allow_files)
        sys.stdout.write(format_rows(columns, rows, args.format))
        return 0
    from ..shell import interactive

    return interactive(release, allow_files=args.allow_files)


def cmd_report(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..queries import parse_filters
    from ..report import write

    labels = None
    if args.labels is not None:
        from ..scoring.predictions import read_predictions

        labels = read_predictions(args.labels)
    path = write(args.out, open_release(args.release), parse_filters(args.where), labels, args.task)
    print(f"report written to {path}")
    return 0


def cmd_hydrate(args: argparse.Namespace) -> int:
    from ..api import open_release
    from ..hydrate.client import Client
    from ..hydrate.run import cache_file, hydrate, read_ids

    if args.issues_file:
        ids = read_ids(args.issues_file)
    else:
        ids = open_release(args.release).frame("issues")["issue_id"].to_list()
    token = os.environ.get(args.token_env) or None
    if token is None:
        print(f"no token in ${args.token_env}: anonymous rate limit (60 requests an hour)", file=sys.stderr)
    client = Client(args.api_url, token)
    summary = hydrate(ids, cache_file(args.cache), client, concurrency=args.concurrency,
                      progress=not args.quiet, refresh_missing=args.refresh_missing)
    verb = "resumed" if summary.resumed else "started"
    print(f"run {summary.run} ({verb}): {summary.issues} issues fetched, {summary.skipped} already done, "
          f"{summary.requests} requests, waited {summary.waited_s:.0f} s; "
          + ", ".join(f"{k}: {v}" for k, v in sorted(summary.statuses.items())))
    for old, new in sorted(summary.moved.items()):
        print(f"moved: {printable(old)} is now {printable(new)}")
    if summary.foreign:
        print(f"warning: {len(summary.foreign)} follow-up link(s) pointed to another host and were not followed "
              f"(the token is only ever sent to {client.api})", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = command(sub, common, "build", "Build the versioned release (Hugging Face layout) from the pinned upstream "
                "artifact.",
                example="cvreeng-bench build --upstream ../shared/upstream --out release", handler=cmd_build)
    p.add_argument("--upstream", default=None, help="folder or base URL of the artifact (default: "
                   "$CVREENG_UPSTREAM, then the download cache, then the pinned GitHub URLs)")
    p.add_argument("--out", type=Path, default=None, help="release folder (default: the user cache)")
    p.add_argument("--no-verify", action="store_true", help="build from a modified copy: skip the sha256 check "
                   "(warns, and the release records the real hashes)")
    p.add_argument("--with-text", type=Path, default=None, metavar="CACHE",
                   help="add the issue_texts config from a `hydrate` cache")
    p.add_argument("--no-redact", action="store_true", help="keep e-mail addresses and tokens in issue texts")

    p = command(sub, common, "validate", "Audit a release: schema, vocabulary, uniqueness, content hash, taxonomy "
                "rules.",
                example="cvreeng-bench validate --release release", handler=cmd_validate)
    release_option(p)

    p = command(sub, common, "publish", "Upload a release to the Hugging Face Hub and tag it v<dataset version>.",
                example="cvreeng-bench publish --repo-id my-org/cvreeng-defects --dry-run", handler=cmd_publish)
    release_option(p)
    p.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repository")
    p.add_argument("--dry-run", action="store_true", help="print the plan, upload nothing")
    p.add_argument("--token-env", default="HF_TOKEN", help="environment variable holding the token")
    p.add_argument("--endpoint", default=None, help="Hub URL (default: huggingface_hub's)")
    p.add_argument("--private", action="store_true", help="create the repository as private")

    p = command(sub, common, "info", "Print a release's manifest: versions, upstream commit, content hash, "
                "configs.",
                example="cvreeng-bench info --release release", handler=cmd_info)
    release_option(p)

    p = command(sub, common, "rq", "Print one of the paper's RQ1-RQ4 breakdowns (fig5 ... fig10, table4, shares, "
                "or all).",
                example="cvreeng-bench rq fig9 --format csv --where repo_type=Zoo --chart fig9.png\n"
                "  cvreeng-bench rq fig10 --labels preds.csv --task root_cause", handler=cmd_rq)
    p.add_argument("name", help="fig5 ... fig10, table4, shares, a query file's name, or all")
    release_option(p)
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--chart", type=Path, default=None, help="also draw the figure (.html, .png, .svg or .json); "
                   "with all, one file per figure: figs/paper.svg -> figs/paper_fig5.svg ...")
    p.add_argument("--scale", type=float, default=2.0, help="PNG pixels per CSS pixel (default 2)")
    p.add_argument("--where", action="append", metavar="COLUMN=VALUE",
                   help="only defects with this value (repeatable), e.g. repo_type=Zoo, framework=PyTorch, "
                   "family=YOLO")
    p.add_argument("--labels", type=Path, default=None, metavar="PREDICTIONS",
                   help="a system's out-of-fold predictions for a study task: the figure (or shares) as its labels "
                   "would have drawn it, beside the paper's; the chart draws the system's")
    p.add_argument("--task", default=None, help="the task of --labels (default: the one whose labels they use)")

    p = command(sub, common, "sql", "Run SQL over the release's views, or with no query open an interactive shell "
                "(DuckDB's own where installed).", example="cvreeng-bench sql \"SELECT stage, count(*) FROM defects "
                "GROUP BY ALL\"", handler=cmd_sql)
    p.add_argument("query", nargs="?", help="one SQL statement (omit it for a shell)")
    release_option(p)
    p.add_argument("--allow-files", action="store_true", help="let SQL read or write files outside the release "
                   "(COPY ... TO, read_csv of your own file); by default it reads the release and nothing else")
    p.add_argument("--format", choices=FORMATS, default="table")

    p = command(sub, common, "report", "Write one self-contained HTML report: figures, tables, Table 4, "
                "chi-square tests.",
                example="cvreeng-bench report --out report\n  cvreeng-bench report --out report --labels preds.csv "
                "--task stage", handler=cmd_report)
    release_option(p)
    p.add_argument("--out", type=Path, default=Path("report"), help="folder for report.html")
    p.add_argument("--where", action="append", metavar="COLUMN=VALUE", help="as for rq")
    p.add_argument("--labels", type=Path, default=None, metavar="PREDICTIONS",
                   help="also draw each figure that reads the task's column from a system's out-of-fold labels, "
                   "beside the paper's")
    p.add_argument("--task", default=None, help="the task of --labels (default: the one whose labels they use)")

    p = command(sub, common, "hydrate", "Fetch every sampled issue's thread from the GitHub API into a resumable "
                "cache.",
                example="GITHUB_TOKEN=... cvreeng-bench hydrate --cache text-cache --concurrency 8",
                handler=cmd_hydrate)
    release_option(p)
    p.add_argument("--cache", type=Path, default=Path("hydrate-cache"), help="cache folder (hydrate.duckdb)")
    p.add_argument("--token-env", default="GITHUB_TOKEN", help="environment variable holding a token")
    p.add_argument("--api-url", default="https://api.github.com", help="API root (GitHub Enterprise, a test server)")
    p.add_argument("--concurrency", type=int, default=4, help="parallel requests (default 4)")
    p.add_argument("--issues-file", type=Path, default=None, help="issue ids, one per line (default: the release's)")
    p.add_argument("--refresh-missing", action="store_true", help="ask again for issues recorded as 404/410")
