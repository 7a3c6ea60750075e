"""The leaderboard as text, JSON, Markdown and HTML. Every cell that came from a submitter is escaped:
Markdown cells lose their pipes and line breaks, HTML is rendered by jinja2 with autoescape on, and a link
is only ever an http(s) URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .leaderboard import LeaderboardError, older, ranked
from .tasks import REGISTRY

if TYPE_CHECKING:
    from ..release import Release

FORMATS = ("table", "json", "markdown")
COLUMNS = ("rank", "name", "kind", "track", "score", "95% CI", "seeds", "n", "note")


def _note(row: dict[str, Any]) -> str:
    notes = []
    if row["rank"] == "ref":
        notes.append("reference line")
    if row["rank"] == "unverified":
        notes.append("predictions missing or changed: not ranked")
    if row.get("contamination_risk"):
        notes.append(f"contamination risk: model cut-off {row['model_cutoff']} on or after the labels were "
                     f"public ({row['labels_public_since']})")
    if row.get("notes"):
        notes.append(str(row["notes"]))
    return "; ".join(notes)


def _cells(row: dict[str, Any]) -> list[str]:
    spread = f" ±{row['score_sd']:.3f}" if row.get("score_sd") else ""
    interval = "" if row.get("ci_low") is None else f"{row['ci_low']:.3f}-{row['ci_high']:.3f}"
    return [row["rank"], str(row["name"]), row["kind"], str(row.get("track") or ""), f"{row['score']:.3f}{spread}",
            interval, str(row.get("seeds") or 1), str(row.get("n") or ""), _note(row)]


def rows_for(rows: list[dict[str, Any]], release: Release, board: Path, task: str | None) -> list[dict[str, Any]]:
    if task is not None:
        REGISTRY.get(task)  # an unknown task is an error, never an empty board
        rows = [r for r in rows if r["task"] == task.partition("@")[0]]
    return ranked(rows, release, board)


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def show(rows: list[dict[str, Any]], release: Release, board: Path, task: str | None = None,
         fmt: str = "table") -> str:
    if fmt not in FORMATS:
        raise LeaderboardError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    shown = rows_for(rows, release, board, task)
    old = [r for r in older(rows, release) if task is None or r["task"] == task.partition("@")[0]]
    if fmt == "json":
        return json.dumps({"current": shown, "older": old}, indent=2, default=str) + "\n"
    out = []
    for group in dict.fromkeys(r["group"] for r in shown):
        members = [r for r in shown if r["group"] == group]
        metric = REGISTRY.get(group.split("/")[0]).main_score
        title = f"{group} (task/split/track), ranked by {metric}"
        if fmt == "markdown":
            out += [f"### {_md(title)}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
            out += ["| " + " | ".join(_md(c) for c in _cells(r)) + " |" for r in members]
        else:
            out += [title]
            cells = [list(COLUMNS), *(_cells(r) for r in members)]
            widths = [min(40, max(len(c[i]) for c in cells)) for i in range(len(COLUMNS))]
            out += ["  " + "  ".join(c[i][:40].ljust(widths[i]) for i in range(len(COLUMNS))).rstrip() for c in cells]
        out.append("")
    if old:
        out.append("Older task or dataset versions (not ranked with the above):")
        out += [f"  {_md(str(r['name']))}: {r['task']}@v{r['task_version']} {r['split']} dataset "
                f"{r['dataset_version']} score {r['score']:.3f}" for r in old]
    if not shown and not old:
        out.append("no entries")
    return "\n".join(out) + "\n"


PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>cvreeng-bench leaderboard</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 2em}td,th{border:1px solid #ccc;padding:2px 8px}
tr.ref{color:#555;font-style:italic;background:#f7f7f7}</style></head><body>
<h1>cvreeng-bench leaderboard</h1>
<p>Dataset {{ version }}. Systems are ranked by the task's main score; a system shares the rank of the one
above when a paired bootstrap cannot separate them at 95%. Reference lines (trivial baselines, the human
ceiling) are never ranked.</p>
{% for group, members in groups %}<h2>{{ group }}</h2>
<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for row, cells, url in members %}<tr class="{{ 'ref' if row.rank == 'ref' else '' }}">
{% for c in cells %}<td>{% if loop.index0 == 1 and url %}<a href="{{ url }}" rel="nofollow">{{ c }}</a>
{% else %}{{ c }}{% endif %}</td>{% endfor %}</tr>
{% endfor %}</table>{% endfor %}
{% if chart %}<figure>{{ chart | safe }}</figure>{% endif %}
</body></html>
"""


def safe_url(url: str | None) -> str | None:
    parsed = urlparse(url or "")
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


def render(rows: list[dict[str, Any]], release: Release, board: Path, out: Path) -> list[Path]:
    """leaderboard.md and leaderboard.html (current entries with their intervals and reference lines)."""
    import jinja2

    shown = rows_for(rows, release, board, None)
    groups = [(g, [(r, _cells(r), safe_url(r.get("url"))) for r in shown if r["group"] == g])
              for g in dict.fromkeys(r["group"] for r in shown)]
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    page = env.from_string(PAGE).render(version=release.dataset_version, groups=groups, columns=COLUMNS,
                                        chart=_chart(shown))
    out.mkdir(parents=True, exist_ok=True)
    (out / "leaderboard.md").write_text("# cvreeng-bench leaderboard\n\n" + show(rows, release, board, None,
                                                                                 "markdown"), encoding="utf-8")
    (out / "leaderboard.html").write_text(page, encoding="utf-8")
    return [out / "leaderboard.md", out / "leaderboard.html"]


def _chart(shown: list[dict[str, Any]]) -> str | None:
    """Scores with intervals, one panel per group, as inline SVG (vl-convert escapes its text)."""
    import altair as alt
    import polars as pl

    from ..charts import svg

    data = [{"group": r["group"], "name": str(r["name"])[:40], "kind": r["kind"], "score": r["score"],
             "low": r["ci_low"] if r["ci_low"] is not None else r["score"],
             "high": r["ci_high"] if r["ci_high"] is not None else r["score"]} for r in shown]
    if not data:
        return None
    frame = pl.DataFrame(data)
    base = alt.Chart(frame).encode(y=alt.Y("name:N", title=None), color=alt.Color("kind:N"))
    chart = (base.mark_rule().encode(x=alt.X("low:Q", title="main score (95% CI)"), x2="high:Q")
             + base.mark_point(filled=True, size=60).encode(x="score:Q")
             ).properties(width=420, height=120).facet(row=alt.Row("group:N", title=None))
    return svg(chart)
