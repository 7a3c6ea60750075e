"""A system judged as a third rater: its agreement with each of the study's two analysts, beside theirs with
each other (Ahmed et al., MSR 2025, judge a model as an annotator this way).

The items are the final phase's workbook items linked to a dataset issue on which both raters gave a label in
the task's label space (:func:`.agreement.linked`); the system's label of an item is its label of the item's
issue, and the gold's is the issue's primary label (its first defect's, as the task tables give it), so gold
labels submitted as a system agree with the gold perfectly and with each rater exactly as the gold does. Intervals
are percentile bootstraps over items, one resample shared by every pair so the kappas are compared on the same
draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..stats import cohen_kappa, krippendorff_alpha
from .agreement import FINAL_PHASE, instrument_flag, linked
from .protocol import N_RESAMPLES
from .tasks import ALL, Task, items

if TYPE_CHECKING:
    from ..release import Release

NO_LABEL = "(no label)"  # an abstention or a missing prediction: a rating that agrees with no analyst


@dataclass(frozen=True)
class Kappa:
    value: float
    low: float
    high: float

    def text(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


@dataclass(frozen=True)
class ThirdRater:
    task: str
    phase: str
    n: int  # items both raters labeled inside the task's label space
    n_issues: int
    multi_defect_items: int  # items of issues with several gold labels (compared with the primary label)
    system_rater_1: Kappa
    system_rater_2: Kappa
    system_gold: Kappa
    raters: Kappa  # rater 1 against rater 2
    rater_1_gold: Kappa
    rater_2_gold: Kappa
    alpha_raters: float
    alpha_system_for_rater_1: float  # the system in rater 1's place
    alpha_system_for_rater_2: float
    alpha_all_three: float
    verdict: str
    instrument: str | None  # where the analysts evidently used different instruments (see .agreement)

    def lines(self) -> list[str]:
        return [f"as a third rater ({self.n} {self.phase}-phase items of {self.n_issues} issues that both analysts "
                f"labeled; Cohen's kappa, 95% bootstrap interval):",
                f"  system vs rater 1 {self.system_rater_1.text()}   system vs rater 2 {self.system_rater_2.text()}"
                f"   system vs gold {self.system_gold.text()}",
                f"  rater 1 vs rater 2 {self.raters.text()}   rater 1 vs gold {self.rater_1_gold.text()}   rater 2 vs "
                f"gold {self.rater_2_gold.text()}",
                f"  Krippendorff's alpha: raters {self.alpha_raters:.3f}; system for rater 1 "
                f"{self.alpha_system_for_rater_1:.3f}; for rater 2 {self.alpha_system_for_rater_2:.3f}; all three "
                f"{self.alpha_all_three:.3f}",
                f"  verdict: {self.verdict}",
                *([f"  note: the analysts' instruments differed here ({self.instrument})"] if self.instrument else [])]


def verdict_words(system_1: float, system_2: float, raters: Kappa) -> str:
    """The system's kappas with each analyst read against the interval of the analysts' kappa with each other."""
    worst, best = min(system_1, system_2), max(system_1, system_2)
    if any(math.isnan(v) for v in (worst, raters.low, raters.high)):
        return "cannot be judged (a kappa is undefined on these items)"
    if worst > raters.high:
        return "agrees with each analyst more than the analysts agree with each other"
    if worst >= raters.low:
        return "within the raters' interval: agrees with each analyst about as well as they agree with each other"
    if best < raters.low:
        return "agrees with either analyst less than they agree with each other"
    return "agrees with one analyst about as well as they agree with each other, with the other less"


def _bootstrap(ratings: Mapping[str, Sequence[str]], pairs: Sequence[tuple[str, str]], n_resamples: int,
               seed: int) -> dict[tuple[str, str], Kappa]:
    """Each pair's kappa with a percentile interval over item resamples (all pairs on the same draws; a draw in
    which a pair's kappa is undefined is left out of that pair's interval)."""
    import numpy as np

    vocabulary = sorted({label for values in ratings.values() for label in values})
    codes = {name: np.array([vocabulary.index(v) for v in values]) for name, values in ratings.items()}
    n = len(next(iter(codes.values())))
    chosen = np.random.default_rng(seed).integers(0, n, (n_resamples, n))

    def interval(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        if n_resamples == 0:
            return float("nan"), float("nan")
        x, y = a[chosen], b[chosen]
        observed = (x == y).mean(axis=1)
        expected = sum((x == k).mean(axis=1) * (y == k).mean(axis=1) for k in range(len(vocabulary)))
        defined = expected < 1
        if not defined.any():
            return float("nan"), float("nan")
        values = (observed[defined] - expected[defined]) / (1 - expected[defined])
        low, high = np.percentile(values, [2.5, 97.5])
        return float(low), float(high)

    return {(a, b): Kappa(cohen_kappa(ratings[a], ratings[b]), *interval(codes[a], codes[b])) for a, b in pairs}


def third_rater(labels: Mapping[str, str], task: Task, release: Release, *, n_resamples: int = N_RESAMPLES,
                seed: int = 0) -> ThirdRater | None:
    """The system (``labels``: issue_id -> its label; absent issues count as :data:`NO_LABEL`) against both
    analysts and the gold on the final phase's linked items; None when the task has no such items."""
    population = items(task, release, ALL)
    primary = dict(zip(population["issue_id"].to_list(), population["primary"].to_list(), strict=True))
    several = {i for i, g in zip(population["issue_id"].to_list(), population["gold"].to_list(), strict=True)
               if len(g) > 1}
    found = [(i, a, b) for i, a, b in linked(release.frame("annotations"), task, FINAL_PHASE)
             if i in primary and a is not None and b is not None]
    if not found:
        return None
    ratings = {"rater 1": [a for _, a, _ in found], "rater 2": [b for _, _, b in found],
               "gold": [primary[i] for i, _, _ in found], "system": [labels.get(i) or NO_LABEL for i, _, _ in found]}
    pairs = [("system", "rater 1"), ("system", "rater 2"), ("system", "gold"), ("rater 1", "rater 2"),
             ("rater 1", "gold"), ("rater 2", "gold")]
    kappas = _bootstrap(ratings, pairs, n_resamples, seed)
    one, two, system = ratings["rater 1"], ratings["rater 2"], ratings["system"]
    return ThirdRater(
        task=task.key, phase=FINAL_PHASE, n=len(found), n_issues=len({i for i, _, _ in found}),
        multi_defect_items=sum(i in several for i, _, _ in found),
        system_rater_1=kappas[pairs[0]], system_rater_2=kappas[pairs[1]], system_gold=kappas[pairs[2]],
        raters=kappas[pairs[3]], rater_1_gold=kappas[pairs[4]], rater_2_gold=kappas[pairs[5]],
        alpha_raters=krippendorff_alpha(list(zip(one, two, strict=True))),
        alpha_system_for_rater_1=krippendorff_alpha(list(zip(system, two, strict=True))),
        alpha_system_for_rater_2=krippendorff_alpha(list(zip(one, system, strict=True))),
        alpha_all_three=krippendorff_alpha(list(zip(one, two, system, strict=True))),
        verdict=verdict_words(kappas[pairs[0]].value, kappas[pairs[1]].value, kappas[pairs[3]]),
        instrument=instrument_flag(one, two))
