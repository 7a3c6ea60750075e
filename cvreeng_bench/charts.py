"""The paper's figures as altair charts: horizontal stacked bars of shares per group, counts in labels and
tooltips, categories in taxonomy order. Saved as HTML, PNG or SVG (vl-convert; no browser needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import taxonomy
from .errors import CvreengError
from .queries import Query
from .text import printable

if TYPE_CHECKING:
    import altair as alt
    import polars as pl

FORMATS = (".html", ".png", ".svg", ".json")
CHART_WIDTH = 520  # px of the bar area
BAR_HEIGHT = 40  # px per bar (one bar per group)
LABEL_MIN_PERCENT = 6  # segments narrower than this carry no count label (it would not fit)
PNG_SCALE = 2.0  # PNGs at twice the CSS pixel size: sharp enough for a paper
# Vega's tableau palettes, listed so each segment's colour (and so a readable label colour) is known.
TABLEAU10 = ("#4c78a8", "#f58518", "#e45756", "#72b7b2", "#54a24b", "#eeca3b", "#b279a2", "#ff9da6", "#9d755d",
             "#bab0ac")
TABLEAU20 = ("#4c78a8", "#9ecae9", "#f58518", "#ffbf79", "#54a24b", "#88d27a", "#b79a20", "#f2cf5b", "#439894",
             "#83bcb6", "#e45756", "#ff9d98", "#79706e", "#bab0ac", "#d67195", "#fcbfd2", "#b279a2", "#d6a5c9",
             "#9e765f", "#d8b5a5")
LIGHT = 0.4  # relative luminance above which a label is drawn in black rather than white


def luminance(colour: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ink(colour: str) -> str:
    return "black" if luminance(colour) > LIGHT else "white"


def title(query: Query, filters: dict[str, object] | None = None) -> str:
    """The figure's title, with the subset it shows when filtered."""
    where = ", ".join(f"{k} = {v}" for k, v in (filters or {}).items())
    return f"{query.title} ({where})" if where else query.title


def chart_path(base: Path, alias: str) -> Path:
    """``figs/paper.svg`` -> ``figs/paper_fig5.svg``; ``figs/fig.svg`` -> ``figs/fig5.svg`` (no doubling)."""
    stem = base.stem
    name = alias if not stem or alias.startswith(stem) else f"{stem}_{alias}"
    return base.with_name(name + base.suffix)


def check_target(path: Path) -> None:
    """Refuse a chart file name before any work is done."""
    if path.suffix.lower() not in FORMATS:
        raise CvreengError(f"cannot write a chart as {path.name!r}; use one of {', '.join(FORMATS)}")


def targets(selected: list[Query], base: Path) -> dict[str, Path]:
    """Where each figure among ``selected`` is drawn: ``base`` itself for one query, else one file per figure
    named after it (figs/paper.svg -> figs/paper_fig5.svg ...). Refused before anything is computed."""
    check_target(base)
    figures = [q for q in selected if q.is_crosstab]
    if not figures:
        raise CvreengError(f"{selected[0].label} is a table, not a figure: --chart draws fig5 ... fig10 (or all)")
    return {q.label: base if len(selected) == 1 else chart_path(base, q.label) for q in figures}


def _title(dimension: str) -> str:
    return taxonomy.dimension(dimension).title


def figure(query: Query, frame: pl.DataFrame, filters: dict[str, object] | None = None) -> alt.Chart:
    """One crosstab (long form: grouping, dimension, count, percent) as the paper draws it."""
    import altair as alt
    import polars as pl

    if not query.is_crosstab:
        raise CvreengError(f"{query.label} is a table, not a figure; charts exist for fig5-fig10")
    group, part = query.axes
    # A value from a release is data: shown escaped (a control character aborts the SVG converter), and one outside
    # the taxonomy (an edited release) is drawn after the taxonomy's own, never a crash.
    frame = frame.with_columns(pl.col(c).cast(pl.String).fill_null("(none)").map_elements(
        lambda value: printable(value, 120), return_dtype=pl.String) for c in (group, part))

    def ordered(dimension: str, present: set[str]) -> list[str]:
        known = [label for label in taxonomy.labels(dimension) if label in present]
        return known + sorted(present - set(known))

    order = ordered(part, set(frame[part].to_list()))
    groups = ordered(group, set(frame[group].to_list()))
    totals = frame.group_by(group).agg(pl.col("count").sum().alias("total"))
    data = (frame.filter(pl.col("count") > 0).join(totals, on=group)
            .with_columns((pl.col(group) + " (n=" + pl.col("total").cast(pl.String) + ")").alias("bar"),
                          (pl.col("percent") / 100).alias("share"))
            .with_columns(pl.col(part).map_elements(order.index, return_dtype=pl.Int32).alias("segment"),
                          pl.when(pl.col("percent") >= LABEL_MIN_PERCENT).then(pl.col("count").cast(pl.String)
                                                               + " (" + pl.col("percent").round(0).cast(pl.Int32)
                                                               .cast(pl.String) + "%)")
                          .otherwise(pl.lit("")).alias("label")))
    palette = TABLEAU10 if len(order) <= len(TABLEAU10) else TABLEAU20
    colours = dict(zip(order, palette, strict=False))
    data = data.with_columns(pl.col(part).replace_strict({k: ink(v) for k, v in colours.items()},
                                                         return_dtype=pl.String).alias("ink"))
    sizes = dict(totals.iter_rows())
    bar_order = [f"{g} (n={sizes[g]})" for g in groups]
    base = alt.Chart(data).encode(
        y=alt.Y("bar:N", sort=bar_order, title=_title(group)),
        x=alt.X("sum(share):Q", stack="zero", axis=alt.Axis(format="%"), title="share of defects",
                scale=alt.Scale(domain=[0, 1])),
        order=alt.Order("segment:Q"),
    )
    bars = base.mark_bar().encode(
        color=alt.Color(f"{part}:N", sort=order, title=_title(part),
                        scale=alt.Scale(domain=order, range=[colours[label] for label in order])),
        tooltip=[alt.Tooltip(f"{group}:N", title=_title(group)), alt.Tooltip(f"{part}:N", title=_title(part)),
                 alt.Tooltip("count:Q", title="defects"), alt.Tooltip("percent:Q", title="%", format=".1f")],
    )
    labels = base.mark_text(align="center", baseline="middle", fontSize=10).encode(
        x=alt.X("sum(share):Q", stack="zero", bandPosition=0.5), text="label:N",
        color=alt.Color("ink:N", scale=None))
    return (bars + labels).properties(title=title(query, filters), width=CHART_WIDTH,
                                      height=BAR_HEIGHT * len(groups))


def save(chart: alt.Chart, path: Path, *, scale: float = PNG_SCALE) -> Path:
    """Write a chart as HTML (inline SVG, no network), PNG (``scale`` x its CSS size), SVG or its JSON spec."""
    import vl_convert as vlc

    check_target(path)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        path.write_text(standalone_html(chart), encoding="utf-8")
    elif suffix == ".png":
        path.write_bytes(vlc.vegalite_to_png(chart.to_json(), scale=scale))
    elif suffix == ".svg":
        path.write_text(svg(chart), encoding="utf-8")
    else:
        path.write_text(chart.to_json(), encoding="utf-8")
    return path


def svg(chart: alt.Chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_json())


def standalone_html(chart: alt.Chart) -> str:
    """An HTML page that shows the chart with no network: the SVG inline, the spec kept for reuse."""
    import html

    title = html.escape(str(chart.to_dict().get("title", "chart")))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head><body>"
            f"<figure class='chart'>{svg(chart)}</figure>"
            f"<script type='application/json' class='vega-lite-spec'>{chart.to_json()}</script></body></html>")
