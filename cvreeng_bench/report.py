"""One self-contained HTML page: the six figures (inline SVG, no network), their tables, Table 4, the
shares the text quotes, and for each crosstab a chi-square test of independence with Cramér's V."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paper
from .queries import FIGURES, crosstab, find, run_all
from .stats import ChiSquare, chi_square

if TYPE_CHECKING:
    import polars as pl

    from .release import Release
    from .scoring.predictions import Predictions

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}
table{border-collapse:collapse;font-size:13px;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}
th{background:#fafafa}
td:first-child,th:first-child{position:sticky;left:0;background:#fff;z-index:1}
th:first-child{background:#fafafa}
.stat{background:#f5f5f5;padding:.5em 1em;border-left:4px solid #4c78a8}
.warn{border-left-color:#e45756}
figure{margin:0;max-width:100%;overflow-x:auto}
figure svg{max-width:100%;min-width:620px;height:auto}
.scroll{overflow-x:auto;max-width:100%}
"""
# Tables never widen the page: a wide one scrolls inside its box, its first column staying in view.


def _cell(value: Any, floats: str) -> str:
    """A table cell: numbers right-aligned (class n), text left-aligned."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"<td>{html.escape('' if value is None else str(value))}</td>"
    return f"<td class='n'>{floats.format(value) if isinstance(value, float) else value}</td>"


def table_html(frame: pl.DataFrame, *, floats: str = "{:.1f}") -> str:
    numeric = {c for c, kind in frame.schema.items() if kind.is_numeric()}
    head = "".join(f"<th{' class=n' if c in numeric else ''}>{html.escape(c)}</th>" for c in frame.columns)
    body = ["<tr>" + "".join(_cell(v, floats) for v in row) + "</tr>" for row in frame.iter_rows()]
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(body)}</table></div>"


def wide_html(frame: pl.DataFrame, rows: str, columns: str) -> str:
    row_labels, col_labels, matrix = crosstab(frame, rows, columns)
    head = f"<th>{html.escape(rows)} \\ {html.escape(columns)}</th>" + "".join(
        f"<th>{html.escape(c)}</th>" for c in col_labels) + "<th>total</th>"
    body = "".join("<tr><td>" + html.escape(r) + "</td>" + "".join(f"<td class='n'>{n}</td>" for n in counts)
                   + f"<td class='n'>{sum(counts)}</td></tr>" for r, counts in zip(row_labels, matrix, strict=True))
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


def stat_html(result: ChiSquare) -> str:
    cls = "stat" if result.reliable else "stat warn"
    return (f"<p class='{cls}'>Chi-square test of independence: &chi;&sup2; = {result.statistic:.2f}, "
            f"df = {result.dof}, p = {result.p_value:.3g}, Cram&eacute;r's V = {result.cramers_v:.3f} "
            f"(n = {result.n}). {html.escape(_sentence(result.note()))}.</p>")


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def tests(results: dict[str, pl.DataFrame]) -> dict[str, ChiSquare]:
    out = {}
    for query in FIGURES:
        _, _, matrix = crosstab(results[query.label], *query.axes)
        out[query.label] = chi_square(matrix)
    return out


def render(release: Release, filters: dict[str, Any] | None = None, labels: Predictions | None = None,
           task: str | None = None) -> str:
    """The page; with ``labels`` (a system's out-of-fold predictions for a study task) each figure that reads the
    task's column is drawn twice, the paper's and the system's, and the quoted shares show whether they survive."""
    from . import charts

    info = release.manifest
    results = run_all(release, filters=filters)
    stats = tests(results)
    system: dict[str, tuple[pl.DataFrame, pl.DataFrame]] = {}
    if labels is not None:
        from .annotator import figure_change, figures_of, relabeled_query, task_of

        chosen = task_of(labels, task)
        system = {q.label: relabeled_query(q, labels, release, chosen.key, filters)
                  for q in (*figures_of(chosen.dimension), find("shares"))}
    where = ", ".join(f"{k} = {v}" for k, v in (filters or {}).items()) or "all defects"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>cvreeng-bench {info.dataset_version}: RQ1-RQ4</title><style>{STYLE}</style></head><body>",
        "<h1>Deep-learning model reengineering defects: RQ1-RQ4</h1>",
        f"<p>Dataset {info.dataset_version} (content sha256 <code>{info.content_sha256[:16]}</code>), "
        f"package {info.package_version}; subset: {html.escape(where)}. Figures after Jiang et al., "
        f"EMSE 2024 (doi:{paper.DOI}); percentages are shares of each bar's group, as in the paper.</p>",
    ]
    for query in FIGURES:
        frame = results[query.label]
        chart = charts.figure(query, frame, filters)
        parts += [f"<section id='{query.label}'><h2>{html.escape(query.title)}</h2>",
                  f"<figure class='chart'>{charts.svg(chart)}</figure>",
                  wide_html(frame, *query.axes), stat_html(stats[query.label])]
        if query.label in system and labels is not None:
            shown, drawn = system[query.label]
            moved = figure_change(query, shown, drawn)
            parts += [f"<h3>The same figure from the labels of {html.escape(labels.source)}</h3>",
                      f"<figure class='chart'>{charts.svg(charts.figure(query, drawn, filters))}</figure>",
                      f"<p class='stat'>Largest change of a cell's share {moved.max_change:.1f} points, mean "
                      f"{moved.mean_change:.1f}.</p>", wide_html(drawn, *query.axes),
                      stat_html(chi_square(crosstab(drawn, *query.axes)[2]))]
        parts.append("</section>")
    parts += [f"<section id='table4'><h2>{html.escape(find('table4').title)}</h2>", table_html(results["table4"]),
              "</section>",
              f"<section id='shares'><h2>{html.escape(find('shares').title)}</h2>",
              table_html(system["shares"][0] if "shares" in system else results["shares"]),
              "</section></body></html>"]
    return "\n".join(parts)


def write(out: Path, release: Release, filters: dict[str, Any] | None = None, labels: Predictions | None = None,
          task: str | None = None) -> Path:
    page = render(release, filters, labels, task)  # computed before anything is written
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.html"
    partial = path.with_suffix(".html.part")
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path
