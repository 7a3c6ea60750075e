"""The leaderboard: one JSON line per scored system, shipped in the release as the ``leaderboard`` config.

Every entry carries what is needed to trace and re-score its number: task name and version, split,
dataset version and content hash, package version, date, and the predictions' sha256. Entries scored
against another task or dataset version are shown apart, never ranked with current ones. Entries for
pretrained or LLM classifiers record the model's training-data cut-off; an entry whose cut-off is after
the scored issues became public is flagged as a contamination risk.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CvreengError
from ..schema import SCHEMAS, frame
from .results import Result
from .tasks import REGISTRY

if TYPE_CHECKING:
    import polars as pl

SHIPPED = Path(__file__).with_name("leaderboard.jsonl")
FIELDS = tuple(c.name for c in SCHEMAS["leaderboard"])
KINDS = ("baseline", "human", "submission")


class LeaderboardError(CvreengError):
    """A result that cannot be entered, or a board that cannot be read."""


def entry(result: Result, *, name: str, url: str = "", kind: str = "submission",
          model_cutoff: str | None = None, notes: str = "") -> dict[str, Any]:
    """A board row from an ``evaluate`` result."""
    if kind not in KINDS:
        raise LeaderboardError(f"kind must be one of {', '.join(KINDS)}")
    if model_cutoff is not None:
        try:
            date.fromisoformat(model_cutoff)
        except ValueError as error:
            raise LeaderboardError(f"--model-cutoff must be a date (YYYY-MM-DD), got {model_cutoff!r}") from error
    public = result.issues_public_since
    low, high = result.interval
    return {
        "name": name, "url": url, "kind": kind, "task": result.task, "task_version": result.task_version,
        "split": result.split, "dataset_version": result.dataset_version,
        "content_sha256": result.content_sha256, "package_version": result.package_version,
        "date": result.date or date.today().isoformat(), "predictions_sha256": result.predictions_sha256,
        "main_score": result.main_score, "score": result.score, "ci_low": low, "ci_high": high,
        "accuracy": result.scores["accuracy"], "macro_f1": result.scores["macro_f1"],
        "kappa": result.scores["kappa"], "n": result.n,
        "model_cutoff": model_cutoff, "issues_public_since": public,
        "contamination_risk": bool(model_cutoff and public and model_cutoff >= public), "notes": notes,
    }


def read(board: Path) -> list[dict[str, Any]]:
    if not board.is_file():
        return []
    rows = []
    for line_number, line in enumerate(board.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise LeaderboardError(f"{board} line {line_number}: not JSON ({error})") from error
        rows.append({k: row.get(k) for k in FIELDS})
    return rows


def add(board: Path, row: dict[str, Any]) -> None:
    """Append one entry (creating the board from the shipped entries); the same predictions twice are refused."""
    rows = read(board) if board.is_file() else read(SHIPPED)
    same = [r for r in rows if (r["task"], r["task_version"], r["split"], r["predictions_sha256"], r["name"]) ==
            (row["task"], row["task_version"], row["split"], row["predictions_sha256"], row["name"])]
    if same:
        raise LeaderboardError(f"{row['name']} is already on the board for {row['task']}@v{row['task_version']} "
                               f"({row['split']}) with the same predictions")
    rows.append(row)
    write(board, rows)


def write(board: Path, rows: list[dict[str, Any]]) -> None:
    board.parent.mkdir(parents=True, exist_ok=True)
    partial = board.with_name(board.name + ".part")
    partial.write_text("".join(json.dumps({k: r.get(k) for k in FIELDS}, sort_keys=False) + "\n" for r in rows),
                       encoding="utf-8")
    partial.replace(board)


def table(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame("leaderboard", rows)


def current(frame: pl.DataFrame, dataset_version: str, content_sha256: str | None = None) -> pl.DataFrame:
    """Marks each entry current (latest task version, this dataset) or not."""
    import polars as pl

    latest = {t.name: t.version for t in REGISTRY.latest()}
    is_current = [(latest.get(t) == v and d == dataset_version and (content_sha256 in (None, h)))
                  for t, v, d, h in frame.select("task", "task_version", "dataset_version", "content_sha256").rows()]
    return frame.with_columns(pl.Series("current", is_current, dtype=pl.Boolean))


def show(rows: list[dict[str, Any]], dataset_version: str, task: str | None = None) -> str:
    """Markdown: one ranked table per task and split for current entries, then older ones apart."""
    import polars as pl

    frame = current(table(rows), dataset_version)
    if task:
        frame = frame.filter(pl.col("task") == task)
    out = []
    live = frame.filter(pl.col("current"))
    humans = live.filter(pl.col("kind") == "human")
    systems = live.filter(pl.col("kind") != "human")
    groups = sorted(systems.group_by("task", "split"), key=lambda g: (str(g[0][0]), str(g[0][1])))
    for (task_name, split), group in groups:
        metric = group["main_score"][0]
        out.append(f"### {task_name} ({split}), ranked by {metric}\n")
        out.append("| rank | system | kind | score | 95% CI | accuracy | kappa | n | note |")
        out.append("|---:|---|---|---:|---|---:|---:|---:|---|")
        ranked = list(group.sort("score", descending=True, nulls_last=True).iter_rows(named=True))
        reference = list(humans.filter(pl.col("task") == task_name).iter_rows(named=True))
        for rank, r in [(str(i), r) for i, r in enumerate(ranked, 1)] + [("ref", r) for r in reference]:
            name = f"[{r['name']}]({r['url']})" if r["url"] else r["name"]
            note = ("contamination risk: model cut-off after the issues were public" if r["contamination_risk"]
                    else f"reference: the raters' agreement on other items ({r['split']})" if rank == "ref" else "")
            out.append(f"| {rank} | {name} | {r['kind']} | {r['score']:.3f} | {r['ci_low']:.3f}-{r['ci_high']:.3f} | "
                       f"{r['accuracy']:.3f} | {r['kappa']:.3f} | {r['n']} | {note} |")
        out.append("")
    older = frame.filter(~pl.col("current"))
    if older.height:
        out.append("### Older task or dataset versions (not ranked with the above)\n")
        out.append("| system | task | split | dataset | score |")
        out.append("|---|---|---|---|---:|")
        for r in older.iter_rows(named=True):
            out.append(f"| {r['name']} | {r['task']}@v{r['task_version']} | {r['split']} | {r['dataset_version']} | "
                       f"{r['score']:.3f} |")
    return "\n".join(out) + "\n"


def render(rows: list[dict[str, Any]], dataset_version: str, out: Path) -> list[Path]:
    """leaderboard.md and leaderboard.html (scores with their intervals, current entries only)."""
    import altair as alt
    import polars as pl

    from ..charts import svg

    out.mkdir(parents=True, exist_ok=True)
    markdown = "# cvreeng-bench leaderboard\n\n" + show(rows, dataset_version)
    (out / "leaderboard.md").write_text(markdown, encoding="utf-8")
    frame = current(table(rows), dataset_version).filter(pl.col("current"))
    frame = frame.with_columns((pl.col("task") + " (" + pl.col("split") + ")").alias("board"))
    base = alt.Chart(frame).encode(y=alt.Y("name:N", title=None), color=alt.Color("kind:N"))
    chart = (base.mark_rule().encode(x=alt.X("ci_low:Q", title="main score (95% CI)"), x2="ci_high:Q")
             + base.mark_point(filled=True, size=60).encode(
                 x="score:Q", tooltip=["name", "task", "split", "score", "ci_low", "ci_high", "n"])
             ).properties(width=420, height=140).facet(row=alt.Row("board:N", title=None))
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>cvreeng-bench leaderboard</title></head>"
            f"<body><h1>cvreeng-bench leaderboard</h1><figure class='chart'>{svg(chart)}</figure>"
            f"<pre>{markdown}</pre></body></html>")
    (out / "leaderboard.html").write_text(page, encoding="utf-8")
    return [out / "leaderboard.md", out / "leaderboard.html"]
