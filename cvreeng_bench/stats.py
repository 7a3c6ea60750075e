"""Chi-square test of independence and Cramér's V for a crosstab, in plain Python (no scipy needed).

The paper reports shares only; these say whether a figure's two dimensions are associated at all, and
flag tables where expected counts are too small for the chi-square approximation to be trusted
(Cochran's rule: no expected count below 1, and at most 20% of them below 5).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChiSquare:
    statistic: float
    dof: int
    p_value: float
    cramers_v: float
    n: int
    min_expected: float
    share_expected_below_5: float

    @property
    def reliable(self) -> bool:
        return self.min_expected >= 1 and self.share_expected_below_5 <= 0.2

    def note(self) -> str:
        if self.reliable:
            return "expected counts are large enough for the chi-square approximation"
        return (f"unreliable: {self.share_expected_below_5:.0%} of expected counts are below 5 (smallest "
                f"{self.min_expected:.2f}); read the p-value as a rough guide, or merge sparse categories")


def _gamma_q(a: float, x: float) -> float:
    """Regularized upper incomplete gamma Q(a, x) (series for small x, continued fraction otherwise)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        k = a
        for _ in range(10_000):
            k += 1
            term *= x / k
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # Lentz's continued fraction
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(log_front) * h


def chi2_sf(statistic: float, dof: int) -> float:
    """P(X >= statistic) for a chi-square variable with ``dof`` degrees of freedom."""
    if dof <= 0:
        return float("nan")
    return _gamma_q(dof / 2, statistic / 2)


def chi_square(table: list[list[int]]) -> ChiSquare:
    """Pearson's chi-square test of independence on a contingency table (rows x columns of counts)."""
    rows = [r for r in table if sum(r) > 0]
    columns = [j for j in range(len(rows[0]) if rows else 0) if sum(r[j] for r in rows) > 0]
    rows = [[r[j] for j in columns] for r in rows]
    n = sum(map(sum, rows))
    if n == 0 or len(rows) < 2 or len(columns) < 2:
        return ChiSquare(0.0, 0, float("nan"), 0.0, n, 0.0, 1.0)
    row_sums = [sum(r) for r in rows]
    col_sums = [sum(r[j] for r in rows) for j in range(len(columns))]
    statistic, expected_all = 0.0, []
    for i, r in enumerate(rows):
        for j, observed in enumerate(r):
            expected = row_sums[i] * col_sums[j] / n
            expected_all.append(expected)
            statistic += (observed - expected) ** 2 / expected
    dof = (len(rows) - 1) * (len(columns) - 1)
    v = math.sqrt(statistic / (n * (min(len(rows), len(columns)) - 1)))
    below = sum(e < 5 for e in expected_all) / len(expected_all)
    return ChiSquare(statistic, dof, chi2_sf(statistic, dof), v, n, min(expected_all), below)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two raters over the same items (NaN when chance agreement is certain, as scikit-learn
    gives it: one label used by both raters on every item leaves nothing to correct for)."""
    if len(a) != len(b):
        raise ValueError(f"kappa needs two ratings per item; got {len(a)} and {len(b)}")
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    first, second = Counter(a), Counter(b)
    expected = sum(first[label] * second[label] for label in first) / (n * n)
    return float("nan") if expected == 1 else (observed - expected) / (1 - expected)


def krippendorff_alpha(units: Sequence[Sequence[Hashable | None]]) -> float:
    """Krippendorff's alpha for nominal data. ``units``: one sequence per item of the values its raters gave
    (None where a rater gave none); items with fewer than two values are not pairable and left out.

    Coincidences o(c, k) count, within each item of m values, every ordered pair of values of different raters
    weighed 1 / (m - 1); alpha = 1 - (n - 1) * sum over c != k of o(c, k) / sum over c != k of n_c * n_k."""
    coincidences: dict[tuple[Hashable, Hashable], float] = {}
    for unit in units:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        for i, x in enumerate(values):
            for j, y in enumerate(values):
                if i != j:
                    coincidences[(x, y)] = coincidences.get((x, y), 0.0) + 1 / (m - 1)
    totals: dict[Hashable, float] = {}
    for (x, _), weight in coincidences.items():
        totals[x] = totals.get(x, 0.0) + weight
    n = sum(totals.values())
    disagreeing = sum(w for (x, y), w in coincidences.items() if x != y)
    expected = sum(totals[x] * totals[y] for x in totals for y in totals if x != y)
    if n <= 1 or expected == 0:
        return float("nan")
    return 1 - (n - 1) * disagreeing / expected
