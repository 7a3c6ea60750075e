"""The annotator verdict: would the paper's figures and claims survive if a system had labeled the defects, and
does it agree with the study's analysts as well as they agree with each other?

A system's labels enter the paper's own query files through a view: ``defects`` is replaced by the release's
defects with the task's column relabeled (the SQL files stay as they are, so the figure is computed exactly as the
gold one is). The rule for an issue, which the protocol labels once however many defects it holds:

* when the system's label is one of the issue's gold labels (correct under the protocol), its defects keep their
  own labels;
* otherwise every defect of the issue takes the system's label (the rare class as its name, an abstention or a
  missing prediction as ``(no label)``).

So gold labels submitted as a system change nothing, and on the 334 - k single-defect issues the figure is exactly
the one the system's labels draw. Per figure: the largest and the mean absolute change of a cell's share (points
of percent, over every cell either figure has), and whether the chi-square test's verdict at 5% changes. Per
quoted share (``headline_shares``) that reads the task's column: the system's value, whether it stays within
:data:`TOLERANCE` points of the gold's, and whether the orders the text states between shares
(:data:`..paper.SHARE_ORDERS`) still hold. The third-rater comparison is :mod:`.scoring.raters`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paper, taxonomy
from .errors import CvreengError
from .queries import FIGURES, Query, apply_filters, crosstab, find, run, sql_text
from .scoring.evaluate import align
from .scoring.populations import STUDY
from .scoring.protocol import ALPHA, N_RESAMPLES
from .scoring.raters import NO_LABEL, ThirdRater, third_rater
from .scoring.tasks import ALL, Task, items
from .stats import chi_square

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from .release import Release
    from .scoring.predictions import Predictions

TOLERANCE = 5.0  # points of percent: a quoted share survives when the system's value is this close to the gold's
SHARE_COLUMNS = ("project_type", "manifestation", "reporter", "stage", "defect_type", "impact", "root_cause")
RULE = ("one label per issue: an issue whose label is one of its gold labels keeps its defects' own labels; "
        "otherwise each of its defects takes the system's label")


class VerdictError(CvreengError):
    """A task or predictions the verdict cannot judge."""


def judged(task: Task) -> bool:
    """Whether the verdict applies: a study task that labels a taxonomy column the paper's figures read."""
    return task.source is STUDY and not task.mapped and task.dimension in SHARE_COLUMNS


def figures_of(dimension: str) -> tuple[Query, ...]:
    return tuple(q for q in FIGURES if dimension in q.axes)


@cache
def claim_columns() -> dict[str, frozenset[str]]:
    """Each quoted claim of ``headline_shares.sql`` and the defect columns its numerator or denominator reads
    (taken from the query's text, with string literals removed, so the file stays the one source)."""
    text = sql_text("shares")
    body = text[text.index("claims ("):text.rindex("\n)\n")]
    out = {}
    for chunk in re.split(r"\bUNION ALL\b", body):
        literals = re.findall(r"'((?:[^']|'')*)'", chunk)
        if len(literals) < 3:
            continue
        bare = re.sub(r"'(?:[^']|'')*'", "''", chunk)
        out[literals[2].replace("''", "'")] = frozenset(c for c in SHARE_COLUMNS if re.search(rf"\b{c}\b", bare))
    return out


@dataclass(frozen=True)
class FigureChange:
    figure: str  # fig5 ... fig10
    title: str
    cells: int
    max_change: float  # points of percent
    mean_change: float
    gold_p: float
    system_p: float

    @property
    def verdict_changed(self) -> bool:
        """Whether the chi-square test's verdict at 5% differs (an untestable table counts as not significant)."""
        return _significant(self.gold_p) != _significant(self.system_p)


@dataclass(frozen=True)
class Claim:
    claim: str
    figure: str
    gold: float | None  # percent
    system: float | None  # None: the system's labels leave the claim's group empty
    within: bool  # |system - gold| <= TOLERANCE
    orders_kept: bool  # every stated order this claim takes part in still holds

    @property
    def survives(self) -> bool:
        return self.within and self.orders_kept


@dataclass(frozen=True)
class Order:
    higher: str
    lower: str
    where: str
    kept: bool


@dataclass(frozen=True)
class Verdict:
    task: str
    dimension: str
    rule: str
    tolerance: float
    n_issues: int
    relabeled: int  # issues whose defects took the system's label (its label is not among their gold labels)
    figures: tuple[FigureChange, ...]
    claims: tuple[Claim, ...]  # the quoted shares that read the task's column
    all_claims: int  # every quoted share
    all_survive: int  # of them, how many survive (those not reading the column always do)
    orders: tuple[Order, ...]
    third_rater: ThirdRater | None

    @property
    def survive(self) -> int:
        return sum(c.survives for c in self.claims)

    @property
    def max_change(self) -> float:
        return max((f.max_change for f in self.figures), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "survive": self.survive, "max_change": self.max_change,
                "figures": [{**asdict(f), "verdict_changed": f.verdict_changed} for f in self.figures],
                "claims": [{**asdict(c), "survives": c.survives} for c in self.claims]}

    def text(self) -> str:
        lines = [f"annotator verdict on {self.task} ({self.n_issues} issues; {self.relabeled} relabeled; rule: "
                 f"{self.rule}):", "  the paper's figures from these labels (change of a cell's share, points):"]
        for f in self.figures:
            turned = ("; chi-square verdict at 5% changes" if f.verdict_changed else "; chi-square verdict unchanged")
            lines.append(f"    {f.figure:5s} largest {f.max_change:5.1f}, mean {f.mean_change:5.1f} over {f.cells} "
                         f"cells (p {_p(f.gold_p)} -> {_p(f.system_p)}{turned})")
        lines.append(f"  claims the text quotes that read {self.dimension}: {self.survive} of {len(self.claims)} "
                     f"survive (within {self.tolerance:g} points, stated orders kept); all quoted shares: "
                     f"{self.all_survive} of {self.all_claims}")
        lines += [f"    fails: {c.claim}: {_pct(c.gold)} -> {_pct(c.system)}"
                  f"{'' if c.orders_kept else ' (a stated order is lost)'}" for c in self.claims if not c.survives]
        if self.third_rater is not None:
            lines += ["  " + line for line in self.third_rater.lines()]
        return "\n".join(lines) + "\n"


def _significant(p: float) -> bool:
    return not math.isnan(p) and p < ALPHA


def _p(p: float) -> str:
    return "n/a" if math.isnan(p) else f"{p:.3g}"


def _pct(value: float | None) -> str:
    return "no defects" if value is None else f"{value:.1f}%"


def relabeling(task: Task, labels: Mapping[str, str | None], release: Release) -> tuple[dict[str, str], int]:
    """(issue_id -> the label its defects take) for the issues the rule relabels, and the population's size."""
    population = items(task, release, ALL)
    out = {}
    for issue, gold in zip(population["issue_id"].to_list(), population["gold"].to_list(), strict=True):
        said = labels.get(issue)
        if said not in gold:
            out[issue] = said or NO_LABEL
    return out, population.height


def install(con: duckdb.DuckDBPyConnection, task: Task, relabeled: Mapping[str, str],
            filters: dict[str, Any] | None = None) -> None:
    """Make ``defects`` on this cursor the release's defects with the task's column relabeled (then filtered)."""
    found = con.execute("SELECT current_database()").fetchone()
    database = str(found[0] if found else "memory").replace('"', '""')
    column = task.dimension  # a declared taxonomy column (judged), never user text
    con.execute("CREATE OR REPLACE TEMP TABLE system_labels AS SELECT unnest($1::VARCHAR[]) AS issue_id, "
                "unnest($2::VARCHAR[]) AS label", [list(relabeled), list(relabeled.values())])
    con.execute(f'CREATE OR REPLACE TEMP VIEW system_defects AS SELECT d.* REPLACE (CASE WHEN s.issue_id IS NULL '
                f'THEN d."{column}" ELSE s.label END AS "{column}") FROM "{database}".main.defects AS d '
                "LEFT JOIN system_labels AS s ON s.issue_id = d.issue_id")
    if filters:
        apply_filters(con, filters, sources={"defects": "temp.main.system_defects"})
    else:
        con.execute("CREATE OR REPLACE TEMP VIEW defects AS SELECT * FROM temp.main.system_defects")


def system_frames(task: Task, labels: Mapping[str, str | None], release: Release, names: list[str],
                  filters: dict[str, Any] | None = None) -> dict[str, pl.DataFrame]:
    """The named queries run over the system's labels (by query label)."""
    relabeled, _ = relabeling(task, labels, release)
    cursor = release.cursor()
    try:
        install(cursor, task, relabeled, filters)
        return {find(name).label: run(name, release, con=cursor) for name in names}
    finally:
        cursor.close()


def side_by_side(query: Query, gold: pl.DataFrame, system: pl.DataFrame) -> pl.DataFrame:
    """A figure's cells with the gold's count and share beside the system's and the change (points)."""
    import polars as pl

    keys = list(query.axes)
    theirs = system.rename({"count": "system_count", "percent": "system_percent"})
    joined = gold.join(theirs, on=keys, how="full", coalesce=True, nulls_equal=True, maintain_order="left")
    return joined.with_columns(pl.col("count", "system_count").fill_null(0),
                               pl.col("percent", "system_percent").fill_null(0.0)).with_columns(
        (pl.col("system_percent") - pl.col("percent")).alias("change"))


def figure_change(query: Query, shown: pl.DataFrame, system: pl.DataFrame) -> FigureChange:
    """How a figure moves: ``shown`` is :func:`side_by_side`'s frame (its ``count`` the gold's, over every cell either
    figure has), ``system`` the figure from the system's labels."""
    changes = [abs(float(c)) for c in shown["change"].to_list()]
    p = [chi_square(crosstab(frame, *query.axes)[2]).p_value for frame in (shown, system)]
    return FigureChange(query.label, query.title, len(changes), max(changes, default=0.0),
                        sum(changes) / len(changes) if changes else 0.0, p[0], p[1])


def _claims(dimension: str, gold: pl.DataFrame, system: pl.DataFrame, *, every: bool = False,
            ) -> tuple[tuple[Claim, ...], tuple[Order, ...], int, int]:
    """(the claims that read ``dimension``, or all of them in the query's order with ``every``; the stated orders
    that hold in the gold, each kept or not; how many claims in all; how many of them survive)."""
    theirs = dict(zip(system["claim"].to_list(), system["percent"].to_list(), strict=True))
    ours = dict(zip(gold["claim"].to_list(), gold["percent"].to_list(), strict=True))
    figure = dict(zip(gold["claim"].to_list(), gold["figure"].to_list(), strict=True))
    orders = tuple(Order(high, low, where, _above(theirs[high], theirs[low]))
                   for high, low, where in paper.SHARE_ORDERS if _above(ours[high], ours[low]))
    lost = {name for o in orders if not o.kept for name in (o.higher, o.lower)}
    claims = [Claim(name, figure[name], ours[name], theirs[name],
                   theirs[name] is not None and ours[name] is not None and abs(theirs[name] - ours[name]) <= TOLERANCE,
                   name not in lost) for name in ours]
    reading = claim_columns()
    chosen = claims if every else [c for c in claims if dimension in reading[c.claim]]
    return tuple(chosen), orders, len(claims), sum(c.survives for c in claims)


def _above(high: float | None, low: float | None) -> bool:
    return high is not None and low is not None and high > low


def task_of(predictions: Predictions, task: str | None, query: Query | None = None) -> Task:
    """The study task the predictions label: ``task`` when given, else the one judged task whose label space holds
    every predicted label (among those whose column ``query`` reads, when it is a figure)."""
    from .scoring.tasks import REGISTRY, get

    if task is not None:
        return get(task)
    said = {r["label"] for r in predictions.rows if r["label"]}
    fits = [t for t in REGISTRY.latest() if judged(t) and said <= set(t.labels)
            and (query is None or not query.is_crosstab or t.dimension in query.axes)]
    if len(fits) != 1:
        named = ", ".join(t.name for t in fits) if fits else "none"
        raise VerdictError(f"{predictions.source}: name the task the labels are for (--task); tasks whose labels "
                           f"they fit: {named}")
    return fits[0]


def relabeled_query(query: Query, labels: Any, release: Release, task: str | None,
                    filters: dict[str, Any] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A query run over a system's labels: (the rows to show, the frame a chart draws). A figure shows each cell
    with the gold's count and share beside the system's; the quoted shares show each claim's gold and system value
    and whether it survives; any other query is the same with and without labels and is refused."""
    import polars as pl

    from .scoring.predictions import Predictions, from_frame, read_predictions

    if isinstance(labels, Predictions):
        predictions = labels
    elif isinstance(labels, (str, os.PathLike)):
        predictions = read_predictions(Path(labels))
    else:
        predictions = from_frame(labels, "labels")
    chosen = task_of(predictions, task, query)
    if not judged(chosen):
        raise VerdictError(f"--labels redraws the paper's figures from a study task's labels; {chosen.key} is not one")
    if query.is_crosstab and chosen.dimension not in query.axes:
        raise VerdictError(f"{query.label} does not read {chosen.dimension}: the system's labels leave it unchanged; "
                           f"figures that read it: {', '.join(q.label for q in figures_of(chosen.dimension))}")
    if not query.is_crosstab and query.label != "shares":
        raise VerdictError(f"{query.label} reads no label a system gives; --labels works with "
                           f"{', '.join(q.label for q in figures_of(chosen.dimension))} and shares")
    population = items(chosen, release, ALL)
    align(chosen, population, population, predictions, allow_missing=True)
    said = {r["issue_id"]: r["label"] for r in predictions.rows}
    mine = system_frames(chosen, said, release, [query.name], filters)[query.label]
    gold = run(query.name, release, filters=filters)
    if query.is_crosstab:
        return side_by_side(query, gold, mine), mine
    claims, _, _, _ = _claims(chosen.dimension, gold, mine, every=True)
    return pl.DataFrame([{"rq": rq, "figure": c.figure, "claim": c.claim, "percent": c.gold,
                          "system_percent": c.system, "within_tolerance": c.within, "orders_kept": c.orders_kept,
                          "survives": c.survives}
                         for rq, c in zip(gold["rq"].to_list(), claims, strict=True)]), mine


def verdict(predictions: Predictions, task: Task, release: Release, *, allow_missing: bool = False,
            n_resamples: int = N_RESAMPLES, seed: int = 0) -> Verdict:
    """The verdict of out-of-fold predictions on every issue of a study task (missing predictions are refused
    unless ``allow_missing``; they count as ``(no label)``)."""
    if not judged(task):
        raise VerdictError(f"the annotator verdict judges the study's labeled columns ({', '.join(SHARE_COLUMNS)}); "
                           f"task {task.key} labels {task.dimension!r} of {task.population}")
    population = items(task, release, ALL)
    align(task, population, population, predictions, allow_missing=allow_missing)  # every problem, at once
    labels = {r["issue_id"]: r["label"] for r in predictions.rows}
    relabeled, n = relabeling(task, labels, release)
    names = [q.name for q in figures_of(task.dimension)] + ["headline_shares"]
    mine = system_frames(task, labels, release, names)
    figures = tuple(figure_change(q, side_by_side(q, run(q.name, release), mine[q.label]), mine[q.label])
                    for q in figures_of(task.dimension))
    claims, orders, total, surviving = _claims(task.dimension, run("shares", release), mine["shares"])
    rater = (third_rater(labels, task, release, n_resamples=n_resamples, seed=seed)
             if task.dimension in taxonomy.ANNOTATED else None)
    return Verdict(task.key, task.dimension, RULE, TOLERANCE, n, len(relabeled), figures, claims, total, surviving,
                   orders, rater)


@dataclass(frozen=True)
class Summary:
    """What a board row shows of a verdict (the board computes it from the entry's stored predictions)."""

    max_change: float  # the largest change of a cell's share over the task's figures, points
    survive: int
    claims: int
    kappa_rater_1: float | None  # None: the raters did not label the column
    kappa_rater_2: float | None
    words: str  # the third-rater verdict, or what the figures say where no raters compare

    @classmethod
    def of(cls, judged: Verdict) -> Summary:
        rater = judged.third_rater
        return cls(judged.max_change, judged.survive, len(judged.claims),
                   None if rater is None else rater.system_rater_1.value,
                   None if rater is None else rater.system_rater_2.value,
                   "no double-labeled items" if rater is None else rater.verdict)

    def text(self) -> str:
        kappas = ("" if self.kappa_rater_1 is None or self.kappa_rater_2 is None else
                  f"; kappa vs analysts {self.kappa_rater_1:.2f}/{self.kappa_rater_2:.2f}")
        return f"figures ±{self.max_change:.0f} pts; {self.survive}/{self.claims} claims{kappas}"


@dataclass(frozen=True)
class Peers:
    """Model-model agreement on a task: the mean Cohen's kappa over every pair of the board's systems (Ahmed et
    al., MSR 2025, found that high agreement among models marks a task that suits automation)."""

    kappa: float
    systems: int

    def text(self) -> str:
        return f"systems agree with each other: mean pairwise kappa {self.kappa:.2f} over {self.systems} systems"
