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

import os
from typing import TYPE_CHECKING, Any

from .. import paper, taxonomy
from ..normalize import ANNOTATED_DIMENSIONS
from .metrics import score

if TYPE_CHECKING:
    import polars as pl

TASK_DIMENSIONS = ("stage", "defect_type", "impact", "root_cause", "manifestation")
PHASES = ("pilot", "pilot-revised", "final")
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


def agreement(a: list[str], b: list[str], *, n_resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    labels = sorted(set(a) | set(b))
    result = score([[x] for x in a], [[y] for y in b], labels, n_resamples=n_resamples, seed=seed)
    return {"n": result.n, "scores": result.point, "ci95": {k: list(v) for k, v in result.interval.items()}}


def ceiling(release: str | os.PathLike[str] | None = None, *, n_resamples: int = 1000, seed: int = 0,
            ) -> dict[str, Any]:
    """Per phase and dimension agreement, plus the pooled kappa next to the paper's."""
    from ..api import load

    annotations = load("annotations", release)
    per_dimension, pooled = [], []
    for phase in PHASES:
        for dimension in TASK_DIMENSIONS:
            a, b = pairs(annotations, phase, dimension)
            per_dimension.append({"phase": phase, "dimension": dimension,
                                  **agreement(a, b, n_resamples=n_resamples, seed=seed)})
        row: dict[str, Any] = {"phase": phase, "paper_kappa": paper.KAPPA[phase]}
        for how in COMPARISONS:
            a_all, b_all = [], []
            for dimension in ANNOTATED_DIMENSIONS:
                a, b = pairs(annotations, phase, dimension, how)
                a_all += [f"{dimension}:{x}" for x in a]
                b_all += [f"{dimension}:{y}" for y in b]
            row[f"kappa_{how}"] = agreement(a_all, b_all, n_resamples=0)["scores"]["kappa"]
        pooled.append(row)
    return {"per_dimension": per_dimension, "pooled": pooled}
