"""The human ceiling: how well the study's raters did, scored with the classifiers' own code.

Each workbook item linked to a dataset issue (``annotations.issue_id``, see :mod:`cvreeng_bench.pipeline.link`) is
scored like a prediction: each rater's label, mapped into the task's label space, against the released
gold set of that issue. A rater value outside the label space (an older-instrument value with no
canonical label, or ``n/a``) counts as an error and is reported. Rater 1 against rater 2 is reported too.

The released gold follows rater 2 almost everywhere it can be compared (``gold_follows_rater_2``), so
"rater 2 vs gold" is close to 1 by construction and the informative ceiling is rater 1 against the gold.
Where one rater never uses a label that the other uses for many items, the instrument evidently differed
between them and the dimension is flagged (the final phase's stage: rater 1 never writes Environment).

The paper reports one kappa per phase (0.46, 0.79, 0.70), pooled over the labeled dimensions, without the
pooling rule. ``pooled`` recomputes it three ways (raw strings, case/space-normalized strings, canonical
labels); none reproduces all three published values, and the output says so.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from .. import paper, taxonomy
from .metrics import MISSING, score
from .protocol import N_RESAMPLES
from .splits import TEST
from .tasks import REGISTRY, Task, items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

# The task dimensions both raters labeled (the reporter type was not double-annotated).
TASK_DIMENSIONS = tuple(d for d in taxonomy.CLASSIFIED if d in taxonomy.ANNOTATED)
PHASES = tuple(paper.KAPPA)  # pilot, pilot-revised, final
FINAL_PHASE = PHASES[-1]
COMPARISONS = ("raw", "normalized", "canonical")
INSTRUMENT_SHARE = 0.2  # a label one rater uses on this share of items and the other never: flagged
REPRODUCED = 0.01  # a recomputed pooled kappa within this of the paper's reproduces it


def _value(row: dict[str, Any], dimension: str, how: str) -> str:
    raw = row[f"raw_{dimension}"] or ""
    if how == "raw":
        return raw
    if how == "canonical" and row[dimension] is not None:
        return row[dimension]
    return "~" + taxonomy.key(raw)  # marked so a raw fallback never equals a canonical label by accident


def pairs(annotations: pl.DataFrame, phase: str, dimension: str, how: str = "canonical") -> tuple[list, list]:
    """Both raters' values for every item of a phase (paired by position), linked or not."""
    rows = annotations.filter(annotations["phase"] == phase).sort("rater", "item").to_dicts()
    first = {r["item"]: r for r in rows if r["rater"] == 1}
    second = {r["item"]: r for r in rows if r["rater"] == 2}
    shared = sorted(set(first) & set(second))
    return ([_value(first[i], dimension, how) for i in shared], [_value(second[i], dimension, how) for i in shared])


def agreement(a: list[str], b: list[str], *, n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    labels = sorted(set(a) | set(b))
    result = score([[x] for x in a], b, labels, n_resamples=n_resamples, seed=seed)
    return {"n": result.n, "scores": result.point, "ci95": {k: list(v) for k, v in result.interval.items()}}


def linked(annotations: pl.DataFrame, task: Task, phase: str) -> list[tuple[str, str | None, str | None]]:
    """(issue_id, rater 1's label, rater 2's label) in the task's label space for the phase's linked items;
    None where a rater's value is outside the label space."""
    rows = annotations.filter((annotations["phase"] == phase) & annotations["issue_id"].is_not_null()).to_dicts()
    by_item: dict[int, dict[int, dict[str, Any]]] = {}
    for row in rows:
        by_item.setdefault(row["item"], {})[row["rater"]] = row

    crosswalk = dict(task.mapped)  # a derived label space (bug_kind): the raters' labels go through it too

    def label(row: dict[str, Any]) -> str | None:
        value = row[task.dimension]
        if value is None:
            return None
        mapped = crosswalk.get(value) if task.mapped else task.task_label(value)
        return mapped if mapped in task.labels else None

    return [(pair[1]["issue_id"], label(pair[1]), label(pair[2]))
            for _, pair in sorted(by_item.items()) if 1 in pair and 2 in pair]


def _against_gold(gold: list[list[str]], said: list[str | None], task: Task, n_resamples: int,
                  seed: int) -> dict[str, Any]:
    result = score(gold, [s or MISSING for s in said], task.labels, n_resamples=n_resamples, seed=seed)
    return {"n": result.n, "scores": result.point, "ci95": {k: list(v) for k, v in result.interval.items()},
            "outside_label_space": sum(s is None for s in said)}


def instrument_flag(first: list[str | None], second: list[str | None]) -> str | None:
    """A note when one rater never uses a label the other gives to INSTRUMENT_SHARE of the items."""
    notes = []
    for name, mine, theirs in (("rater 1", first, second), ("rater 2", second, first)):
        used, counts = set(mine), Counter(x for x in theirs if x is not None)
        notes += [f"{name} never uses {label!r} (the other rater: {n} of {len(theirs)} items)"
                  for label, n in counts.items() if label not in used and n >= INSTRUMENT_SHARE * len(theirs)]
    return "; ".join(notes) or None


def task_ceiling(release: Release, task: Task, phase: str, *, split: str | None = None,
                 n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict[str, Any] | None:
    """Both raters against the released gold, and against each other, on the phase's linked items
    (only those on the test side of ``split`` when one is given); None when no item is linked."""
    scored = items(task, release, split) if split else items(task, release, "all")
    gold_of = dict(zip(scored["issue_id"], scored["gold"], strict=True))
    found = [(i, a, b) for i, a, b in linked(release.frame("annotations"), task, phase) if i in gold_of]
    if not found:
        return None
    gold = [gold_of[i] for i, _, _ in found]
    first, second = [a for _, a, _ in found], [b for _, _, b in found]
    both = [(a, b) for a, b in zip(first, second, strict=True) if a is not None and b is not None]
    return {
        "task": task.key, "phase": phase, "split": f"{split}:{TEST}" if split else "all", "n": len(found),
        "rater_1_vs_gold": _against_gold(gold, first, task, n_resamples, seed),
        "rater_2_vs_gold": _against_gold(gold, second, task, n_resamples, seed),
        "rater_1_vs_rater_2": agreement([a for a, _ in both], [b for _, b in both], n_resamples=n_resamples,
                                        seed=seed) if both else None,
        "gold_follows_rater_2": sum(b in g for g, b in zip(gold, second, strict=True)) / len(found),
        "instrument_flag": instrument_flag(first, second),
    }


def pooled(annotations: pl.DataFrame) -> list[dict[str, Any]]:
    """The paper's pooled kappa per phase next to three recomputations, and whether any reproduces it."""
    out = []
    for phase in PHASES:
        row: dict[str, Any] = {"phase": phase, "paper_kappa": paper.KAPPA[phase]}
        for how in COMPARISONS:
            a_all, b_all = [], []
            for dimension in taxonomy.ANNOTATED:
                a, b = pairs(annotations, phase, dimension, how)
                a_all += [f"{dimension}:{x}" for x in a]
                b_all += [f"{dimension}:{y}" for y in b]
            row[f"kappa_{how}"] = agreement(a_all, b_all, n_resamples=0)["scores"]["kappa"]
        row["reproduced_by"] = [h for h in COMPARISONS if abs(row[f"kappa_{h}"] - row["paper_kappa"]) <= REPRODUCED]
        out.append(row)
    return out


def ceiling(release: Release, *, n_resamples: int = N_RESAMPLES, seed: int = 0) -> dict[str, Any]:
    """Per phase and task: raters against the gold on linked items; the pooled kappa next to the paper's."""
    per_task = []
    for task in REGISTRY.latest():
        if task.dimension not in TASK_DIMENSIONS:
            continue
        for phase in PHASES:
            found = task_ceiling(release, task, phase, n_resamples=n_resamples, seed=seed)
            if found is not None:
                per_task.append(found)
    rows = pooled(release.frame("annotations"))
    reproduced = [r["phase"] for r in rows if r["reproduced_by"]]
    note = ("no single pooling rule reproduces all three published kappas" if len(reproduced) < len(rows)
            else "every published kappa is reproduced")
    return {"per_task": per_task, "pooled": rows, "pooled_note": note}


def table(result: dict[str, Any]) -> str:
    """The ceiling as text: per task and phase on linked items, then the pooled kappa next to the paper's."""
    lines = ["raters against the released gold on linked workbook items (task label space; values outside it "
             "count as errors):"]
    for row in result["per_task"]:
        one, two = row["rater_1_vs_gold"], row["rater_2_vs_gold"]
        main = REGISTRY.get(row["task"]).main_score
        lines.append(f"  {row['task']:18s} {row['phase']:14s} n={row['n']:3d}  rater 1 {main} "
                     f"{one['scores'][main]:.3f} [{one['ci95'][main][0]:.3f}, {one['ci95'][main][1]:.3f}] "
                     f"({one['outside_label_space']} outside)  rater 2 {two['scores'][main]:.3f}  "
                     f"gold follows rater 2 on {row['gold_follows_rater_2']:.0%}")
        if row["instrument_flag"]:
            lines.append(f"  {'':18s} instrument differed: {row['instrument_flag']}")
    lines += ["", "pooled Cohen's kappa per phase (all labeled columns), as the paper reports it and as recomputed:",
              f"  {'phase':14s} {'paper':>6s} {'raw':>6s} {'normalized':>10s} {'canonical':>9s}"]
    for row in result["pooled"]:
        lines.append(f"  {row['phase']:14s} {row['paper_kappa']:6.2f} {row['kappa_raw']:6.2f} "
                     f"{row['kappa_normalized']:10.2f} {row['kappa_canonical']:9.2f}")
    lines.append(f"  ({result['pooled_note']})")
    return "\n".join(lines) + "\n"
