"""The paper's figures as altair charts: horizontal stacked bars of shares per group, counts in labels and
tooltips, categories in taxonomy order. Saved as HTML, PNG or SVG (vl-convert; no browser needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from . import taxonomy
from .errors import CvreengError
from .queries import Query

if TYPE_CHECKING:
    import altair as alt
    import polars as pl

FORMATS = (".html", ".png", ".svg", ".json")
CHART_WIDTH = 520  # px of the bar area
BAR_HEIGHT = 40  # px per bar (one bar per group)
LABEL_MIN_PERCENT = 6  # segments narrower than this carry no count label (it would not fit)


def _title(dimension: str) -> str:
    return taxonomy.dimension(dimension).title


def figure(query: Query, frame: pl.DataFrame) -> alt.Chart:
    """One crosstab (long form: grouping, dimension, count, percent) as the paper draws it."""
    import altair as alt
    import polars as pl

    if not query.is_crosstab:
        raise CvreengError(f"{query.alias or query.name} is a table, not a figure; charts exist for fig5-fig10")
    group, part = query.grouping, query.dimension
    order = [label for label in taxonomy.labels(part) if label in set(frame[part].to_list())]
    groups = [label for label in taxonomy.labels(group) if label in set(frame[group].to_list())]
    totals = frame.group_by(group).agg(pl.col("count").sum().alias("total"))
    data = (frame.filter(pl.col("count") > 0).join(totals, on=group)
            .with_columns((pl.col(group) + " (n=" + pl.col("total").cast(pl.String) + ")").alias("bar"),
                          (pl.col("percent") / 100).alias("share"))
            .with_columns(pl.col(part).map_elements(order.index, return_dtype=pl.Int32).alias("segment"),
                          pl.when(pl.col("percent") >= LABEL_MIN_PERCENT).then(pl.col("count").cast(pl.String)
                                                               + " (" + pl.col("percent").round(0).cast(pl.Int32)
                                                               .cast(pl.String) + "%)")
                          .otherwise(pl.lit("")).alias("label")))
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
                        scale=alt.Scale(scheme="tableau10" if len(order) <= 10 else "tableau20")),
        tooltip=[alt.Tooltip(f"{group}:N", title=_title(group)), alt.Tooltip(f"{part}:N", title=_title(part)),
                 alt.Tooltip("count:Q", title="defects"), alt.Tooltip("percent:Q", title="%", format=".1f")],
    )
    labels = base.mark_text(align="center", baseline="middle", fontSize=10, color="white").encode(
        x=alt.X("sum(share):Q", stack="zero", bandPosition=0.5), text="label:N")
    return (bars + labels).properties(title=query.title, width=CHART_WIDTH, height=BAR_HEIGHT * len(groups))


def save(chart: alt.Chart, path: Path) -> Path:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CvreengError(f"cannot write a chart as {path.name!r}; use one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        path.write_text(standalone_html(chart), encoding="utf-8")
    else:
        chart.save(str(path))
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
