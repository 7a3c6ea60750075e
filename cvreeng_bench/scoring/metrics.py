"""Scores with seeded bootstrap intervals, computed from counts of distinct (gold, prediction) patterns.

Every reported metric depends only on how many items show each (gold, prediction) pattern, so resampling
items with replacement is exactly a multinomial draw over the pattern counts. That makes 1,000 resamples
of a million predictions a handful of small matrix products.

Scoring rules (unchanged since protocol v2; the README's "Scoring protocol v3" documents them):

* one label per issue; it is correct when it is one of the issue's gold labels. For the confusion matrix,
  kappa and per-label scores, the gold label of an issue is the predicted one when it is among the gold
  labels, else the issue's primary (first-defect) label.
* a missing prediction or an abstention is never correct; it is no label, so it adds no per-label term.
* macro-F1 averages the per-label F1 over the task's labels that occur in the scored gold or in the
  predictions: a label predicted but absent from the gold adds an F1 of 0; a task label that occurs in
  neither adds no term (its F1 is undefined), so a perfect system scores 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .protocol import CONFIDENCE, N_RESAMPLES, N_ROUNDS
from .results import ChanceTest, PermutationTest

MISSING = "<missing>"  # a prediction that was not made: never correct
METRICS = ("accuracy", "macro_f1", "kappa")


@dataclass
class Scores:
    n: int
    labels: list[str]
    point: dict[str, float]
    interval: dict[str, tuple[float, float]]
    per_label: list[dict[str, Any]]
    confusion: list[list[int]]
    n_resamples: int = 0
    seed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, "labels": self.labels, "scores": self.point,
                "ci95": {k: list(v) for k, v in self.interval.items()}, "per_label": self.per_label,
                "confusion": self.confusion, "n_resamples": self.n_resamples, "seed": self.seed}


def _safe(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan)


def _interval(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return (float("nan"), float("nan"))
    low, high = np.percentile(finite, CONFIDENCE)
    return (float(low), float(high))


def _nanmean(values: np.ndarray, axis: int) -> np.ndarray:
    counts = np.sum(np.isfinite(values), axis=axis)
    sums = np.nansum(values, axis=axis)
    return _safe(sums, counts.astype(float))


def _metrics(cells: np.ndarray, k: int, present: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics for a batch of flattened k x k confusion matrices (rows gold, columns predicted)."""
    confusion = cells.reshape(-1, k, k).astype(float)
    n = confusion.sum(axis=(1, 2))
    tp = np.diagonal(confusion, axis1=1, axis2=2)
    gold_totals, pred_totals = confusion.sum(axis=2), confusion.sum(axis=1)
    precision, recall = _safe(tp, pred_totals), _safe(tp, gold_totals)
    f1 = _safe(2 * tp, gold_totals + pred_totals)
    observed = (tp.sum(axis=1)) / n
    expected = (gold_totals * pred_totals).sum(axis=1) / n**2
    kappa = _safe(observed - expected, 1 - expected)
    return {"accuracy": observed, "macro_f1": _nanmean(f1[:, present], axis=1), "kappa": kappa,
            "precision": precision, "recall": recall, "f1": f1, "support": gold_totals}


def _patterns(gold: Sequence[Sequence[str]], predicted: Sequence[str]) -> list[tuple[str, str]]:
    """Each item's pattern: (resolved gold, prediction)."""
    return [((p if p in g else g[0]), p) for g, p in zip(gold, predicted, strict=True)]


def _evaluate(keys: list[tuple[str, str]], batch: np.ndarray, labels: Sequence[str]) -> tuple[dict, list, list]:
    """Metric arrays (row 0 = the observed data, rows 1.. = resamples) for pattern counts ``batch``."""
    names = [*labels, MISSING]
    index = {label: i for i, label in enumerate(names)}
    k = len(names)
    cells = np.zeros((batch.shape[0], k * k), dtype=np.int64)
    cells[:, [index[g] * k + index[p] for g, p in keys]] = batch  # distinct patterns: distinct cells
    present = np.zeros(k, bool)
    present[[index[g] for g, _ in keys] + [index[p] for _, p in keys]] = True
    present[index[MISSING]] = False
    values = _metrics(cells, k, present)
    confusion = cells[0].reshape(k, k)
    keep = [i for i in range(k) if present[i] or (i == index[MISSING] and confusion[:, i].any())]
    return values, [names[i] for i in keep], confusion[np.ix_(keep, keep)].tolist()


def _count(patterns: list[tuple]) -> tuple[list[tuple], np.ndarray]:
    counts: dict[tuple, int] = {}
    for pattern in patterns:
        counts[pattern] = counts.get(pattern, 0) + 1
    return list(counts), np.fromiter(counts.values(), dtype=np.int64, count=len(counts))


def _resample(weights: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Row 0: the observed counts; then one multinomial draw per resample (= resampling items)."""
    n = int(weights.sum())
    rng = np.random.default_rng(seed)
    return np.vstack([weights[None, :], rng.multinomial(n, weights / n, size=n_resamples)])


def score(gold: Sequence[Sequence[str]], predicted: Sequence[str], labels: Sequence[str], *,
          n_resamples: int = N_RESAMPLES, seed: int = 0) -> Scores:
    """Score one label per item (or MISSING) against gold label sets over a fixed label set."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    if not gold:
        raise ValueError("nothing to score")
    keys, weights = _count(_patterns(gold, predicted))
    values, shown, confusion = _evaluate(keys, _resample(weights, n_resamples, seed), labels)
    names = [*labels, MISSING]
    point = {m: float(values[m][0]) for m in METRICS}
    interval = {m: _interval(values[m][1:]) for m in METRICS}
    per_label = []
    for label in shown:
        i = names.index(label)
        row: dict[str, Any] = {"label": label, "support": int(values["support"][0][i])}
        for metric in ("precision", "recall", "f1"):
            row[metric] = float(values[metric][0][i])
            row[f"{metric}_ci95"] = list(_interval(values[metric][1:, i]))
        per_label.append(row)
    return Scores(len(gold), shown, point, interval, per_label, confusion, n_resamples, seed)


# --- permutation tests ---------------------------------------------------------------------------------------
# Approximate randomization (Noreen 1989; Dror et al. 2018): the null hypothesis is resampled exactly as it
# states, so p = (k + 1) / (B + 1) is never 0 and a metric that rewards spreading predictions (macro-F1)
# gains nothing from it.

PERMUTATION_TEST = "paired approximate-randomization (permutation) test, two-sided"
CHANCE_TEST = "label-permutation test against chance (predictions shuffled across items), one-sided"
TOLERANCE = 1e-12  # float noise: a permuted statistic this close to the observed one counts as reaching it


def _cells(predicted: np.ndarray, member: np.ndarray, primary: np.ndarray) -> np.ndarray:
    """Flattened confusion-matrix cells of each row of ``predicted`` (rounds x items, label indices); ``member``
    marks each item's gold labels, ``primary`` is its first."""
    k = member.shape[1]
    resolved = np.where(member[np.arange(member.shape[0])[None, :], predicted], predicted, primary[None, :])
    rounds = predicted.shape[0]
    flat = (np.arange(rounds, dtype=np.int64)[:, None] * (k * k) + resolved * k + predicted).ravel()
    return np.bincount(flat, minlength=rounds * k * k).reshape(rounds, k * k)


def _encoded(gold: Sequence[Sequence[str]], labels: Sequence[str],
             ) -> tuple[list[str], dict[str, int], np.ndarray, np.ndarray]:
    names = [*labels, MISSING]
    index = {label: i for i, label in enumerate(names)}
    member = np.zeros((len(gold), len(names)), bool)
    for row, labels_of in enumerate(gold):
        member[row, [index[g] for g in labels_of]] = True
    primary = np.array([index[g[0]] for g in gold], dtype=np.int32)
    return names, index, member, primary


def _statistic(cells: np.ndarray, k: int, metric: str) -> np.ndarray:
    present = np.ones(k, bool)
    present[-1] = False  # MISSING is never a label; labels in neither gold nor predictions give NaN and drop out
    return _metrics(cells, k, present)[metric]


def permutation_test(gold: Sequence[Sequence[str]], a: Sequence[str], b: Sequence[str], labels: Sequence[str],
                     metric: str, *, n_rounds: int = N_ROUNDS, seed: int = 0) -> PermutationTest:
    """metric(A) - metric(B) and its two-sided p-value: each round swaps the two systems' predictions of each
    item with probability 1/2."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}")
    names, index, member, primary = _encoded(gold, labels)
    left = np.array([index[p] for p in a], dtype=np.int32)
    right = np.array([index[p] for p in b], dtype=np.int32)
    rng = np.random.default_rng(seed)
    observed = (_statistic(_cells(left[None, :], member, primary), len(names), metric)
                - _statistic(_cells(right[None, :], member, primary), len(names), metric))[0]
    reached, done, batch = 0, 0, max(1, min(n_rounds, 2_000_000 // max(1, len(gold))))
    while done < n_rounds:
        size = min(batch, n_rounds - done)
        swap = rng.random((size, len(gold)), dtype=np.float32) < 0.5
        both = np.concatenate([np.where(swap, right, left), np.where(swap, left, right)])
        values = _statistic(_cells(both, member, primary), len(names), metric)
        diffs = values[:size] - values[size:]
        reached += int(np.sum(np.abs(np.nan_to_num(diffs)) >= abs(observed) - TOLERANCE))
        done += size
    return PermutationTest(metric=metric, p_value=(reached + 1) / (n_rounds + 1), n=len(gold), n_rounds=n_rounds,
                           seed=seed, test=PERMUTATION_TEST, difference=float(observed))


def chance_test(gold: Sequence[Sequence[str]], predicted: Sequence[str], labels: Sequence[str], metric: str, *,
                n_rounds: int = N_ROUNDS, seed: int = 0) -> ChanceTest:
    """Whether the predictions beat chance: the p-value of the observed metric among the metrics of the same
    predictions shuffled across items (a stratified predictor with this system's own label frequencies). A
    constant system gets p = 1."""
    names, index, member, primary = _encoded(gold, labels)
    labels_of = np.array([index[p] for p in predicted])
    observed = _statistic(_cells(labels_of[None, :], member, primary), len(names), metric)[0]
    rng = np.random.default_rng(seed)
    reached, done, batch = 0, 0, max(1, min(n_rounds, 2_000_000 // max(1, len(gold))))
    scores = []
    while done < n_rounds:
        size = min(batch, n_rounds - done)
        shuffled = rng.permuted(np.broadcast_to(labels_of, (size, len(gold))), axis=1)
        values = np.nan_to_num(_statistic(_cells(shuffled, member, primary), len(names), metric))
        reached += int(np.sum(values >= observed - TOLERANCE))
        scores.append(values)
        done += size
    chance = np.concatenate(scores)
    return ChanceTest(metric=metric, p_value=(reached + 1) / (n_rounds + 1), n=len(gold), n_rounds=n_rounds,
                      seed=seed, test=CHANCE_TEST, score=float(observed), chance_mean=float(chance.mean()))
