"""The human ceiling: how well the study's two raters agreed, scored with the classifiers' own code.

Rater 1 plays gold and rater 2 the prediction (accuracy, macro-F1 and Cohen's kappa are symmetric in
the two). Labels are compared in their canonical form where the taxonomy maps them; an older-instrument
value with no canonical label (pilot phase: "traditional", "Bad Performance") is compared by its
normalized raw string, so such disagreements still count.

The paper reports one kappa per phase (0.46, 0.79, 0.70), pooled over the labeled dimensions. This
module recomputes that pooled value three ways (raw strings as typed, case/space-normalized strings,
canonical labels) so the effect of normalization on agreement is visible.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import paper, taxonomy
from .metrics import score
from .protocol import N_RESAMPLES

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

# The task dimensions both raters labeled (the reporter type was not double-annotated).
TASK_DIMENSIONS = tuple(d for d in taxonomy.CLASSIFIED if d in taxonomy.ANNOTATED)
PHASES = tuple(paper.KAPPA)  # pilot, pilot-revised, final
FINAL_PHASE = PHASES[-1]
COMPARISONS = ("raw", "normalized", "canonical")


def _value(row: dict[str, Any], dimension: str, how: str) -> str:
    raw = row[f"raw_{dimension}"] or ""
    if how == "raw":
        return raw
    if how == "canonical" and row[dimension] is not None:
        return row[dimension]
    return "~" + taxonomy.key(raw)  # marked so a raw fallback never equals a canonical label by accident


def pairs(annotations: pl.DataFrame, phase: str, dimension: str, how: str = "canonical") -> tuple[list, list]:
    rows = annotations.filter(annotations["phase"] == phase).sort("rater", "item").to_dicts()
    first = {r["item"]: r for r in rows if r["rater"] == 1}
    second = {r["item"]: r for r in rows if r["rater"] == 2}
    shared = sorted(set(first) & set(second))
    return ([_value(first[i], dimension, how) for i in shared], [_value(second[i], dimension, how) for i in shared])


def agreement(a: list[str], b: list[str], *, n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    labels = sorted(set(a) | set(b))
    result = score([[x] for x in a], [[y] for y in b], labels, n_resamples=n_resamples, seed=seed)
    return {"n": result.n, "scores": result.point, "ci95": {k: list(v) for k, v in result.interval.items()}}


def ceiling(release: Release, *, n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Per phase and dimension agreement, plus the pooled kappa next to the paper's."""
    annotations = release.frame("annotations")
    per_dimension, pooled = [], []
    for phase in PHASES:
        for dimension in TASK_DIMENSIONS:
            a, b = pairs(annotations, phase, dimension)
            per_dimension.append({"phase": phase, "dimension": dimension,
                                  **agreement(a, b, n_resamples=n_resamples, seed=seed)})
        row: dict[str, Any] = {"phase": phase, "paper_kappa": paper.KAPPA[phase]}
        for how in COMPARISONS:
            a_all, b_all = [], []
            for dimension in taxonomy.ANNOTATED:
                a, b = pairs(annotations, phase, dimension, how)
                a_all += [f"{dimension}:{x}" for x in a]
                b_all += [f"{dimension}:{y}" for y in b]
            row[f"kappa_{how}"] = agreement(a_all, b_all, n_resamples=0)["scores"]["kappa"]
        pooled.append(row)
    return {"per_dimension": per_dimension, "pooled": pooled}


def table(result: dict[str, Any]) -> str:
    """The ceiling as text: pooled kappa per phase next to the paper's, then per phase and dimension."""
    lines = ["pooled Cohen's kappa per phase (all labeled columns), as the paper reports it and as recomputed:",
             f"  {'phase':14s} {'paper':>6s} {'raw':>6s} {'normalized':>10s} {'canonical':>9s}"]
    for row in result["pooled"]:
        lines.append(f"  {row['phase']:14s} {row['paper_kappa']:6.2f} {row['kappa_raw']:6.2f} "
                     f"{row['kappa_normalized']:10.2f} {row['kappa_canonical']:9.2f}")
    lines += ["", "per dimension (rater 2 scored against rater 1):"]
    for row in result["per_dimension"]:
        s, c = row["scores"], row["ci95"]
        lines.append(f"  {row['phase']:14s} {row['dimension']:14s} n={row['n']:3d} accuracy {s['accuracy']:.3f} "
                     f"macro-F1 {s['macro_f1']:.3f} kappa {s['kappa']:.3f} [{c['kappa'][0]:.3f}, {c['kappa'][1]:.3f}]")
    return "\n".join(lines) + "\n"
