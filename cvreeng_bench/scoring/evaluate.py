"""Score predictions on a task and split, and compare two systems on the same items.

The library scores :class:`~.predictions.Predictions` records (a file is read once, at the edge, by
:func:`~.predictions.read_predictions`). Predictions for issues of the task that lie outside the chosen
split are ignored, so one file with predictions for every issue can be scored on any split.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from .metrics import METRICS, MISSING, permutation_test, score
from .populations import ReleaseTables
from .predictions import ABSTAINED, ISSUE_ID, LABEL, SHOWN, PredictionError, Predictions, read_predictions, some
from .protocol import N_RESAMPLES, N_ROUNDS
from .results import Comparison, Result
from .splits import SIDED, TEST
from .tasks import ALL, Task, items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

_some = some
MAX_RESAMPLES = 100_000  # 1e5 resamples of 600 items take seconds; more is a typo


def align(task: Task, scored: pl.DataFrame, population: pl.DataFrame, predictions: Predictions, *,
          allow_missing: bool = False) -> tuple[list[list[str]], list[str], int]:
    """Gold sets, one predicted label per scored item (MISSING where none) and the abstention count; every
    problem with the predictions is raised at once."""
    reasons = []
    source = predictions.source
    rows = predictions.rows
    ids = [r[ISSUE_ID] for r in rows]
    if None in ids:
        reasons.append(f"{ids.count(None)} row(s) without an issue_id")
    duplicates = sorted(i for i, n in Counter(i for i in ids if i).items() if n > 1)
    if duplicates:
        reasons.append(f"{len(duplicates)} issue(s) predicted more than once: {_some(duplicates)}")
    known = set(population["issue_id"].to_list())
    unknown = [i for i in dict.fromkeys(ids) if i and i not in known]
    if unknown:
        reasons.append(f"{len(unknown)} issue id(s) not in task {task.name} ({task.population}): {_some(unknown)}")
    several = [r[ISSUE_ID] for r in rows if r[LABEL] and (";" in r[LABEL] or r[LABEL].startswith("["))
               and r[LABEL] not in task.labels]
    if several:
        reasons.append(f"{len(several)} prediction(s) with several labels ({_some(several)}): the protocol takes "
                       "exactly one label per issue")
    allowed = set(task.labels)
    outside = sorted({r[LABEL] for r in rows if r[LABEL] and r[LABEL] not in allowed and r[ISSUE_ID] not in several})
    if outside:
        shown = ", ".join(repr(o[:80]) for o in outside[:SHOWN])
        hints = []
        if all(o.isdigit() for o in outside):
            hints.append("labels are names, not class indices: write the name (a task config's `label_text`, "
                         "or `names[i]` of its ClassLabel)")
        merged = [o for o in outside if o in task.merged]
        if merged:
            hints.append(f"{', '.join(repr(m) for m in merged[:SHOWN])} count as {task.task_label(merged[0])!r} in "
                         f"this task (labels of fewer than 5 issues are merged): write that")
        reasons.append(f"labels outside the {task.key} label set: {shown} (allowed: {', '.join(task.labels)})"
                       + "".join(f"; {h}" for h in hints))
    empty = [r[ISSUE_ID] or "?" for r in rows if not r[LABEL] and not r[ABSTAINED]]
    if empty:
        reasons.append(f"{len(empty)} prediction(s) without a label (write abstained=true to decline): "
                       f"{_some(empty)}")
    predicted = {r[ISSUE_ID]: r[LABEL] or MISSING for r in rows if r[ISSUE_ID]}
    missing = [i for i in scored["issue_id"].to_list() if i not in predicted]
    if missing and not allow_missing:
        side = _test_side(population, set(predicted))
        advice = (f"these predictions are exactly the test side of split {side!r}: score them there with --split "
                  f"{side}" if side else "--allow-missing scores them as wrong")
        reasons.append(f"{len(missing)} issue(s) of the split have no prediction (e.g. {_some(missing[:3])}); "
                       + advice)
    if reasons:
        raise PredictionError(f"{source} refused:\n  " + "\n  ".join(reasons))
    wanted = scored["issue_id"].to_list()
    abstentions = sum(1 for r in rows if r[ABSTAINED] and r[ISSUE_ID] in set(wanted))
    return scored["gold"].to_list(), [predicted.get(i, MISSING) for i in wanted], abstentions


def _test_side(population: pl.DataFrame, predicted: set[str]) -> str | None:
    """The sided split (holdout, repo_holdout, temporal) whose test side is exactly the predicted items, if any: a
    user who labeled a task config's 66 test issues meant that split, not the out-of-fold main one."""
    known = predicted & set(population["issue_id"].to_list())
    for side in SIDED:
        if side in population.columns:
            test = set(population.filter(population[side] == TEST)["issue_id"].to_list())
            if test and known == test:
                return side
    return None


def _scored(task: Task, release: Release, split: str, subset: set[str] | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    population = items(task, release, ALL)
    scored = items(task, release, split)
    if subset is not None:
        unknown = sorted(subset - set(population["issue_id"].to_list()))
        if unknown:
            raise PredictionError(f"--subset names {len(unknown)} issue(s) not in task {task.name}: {_some(unknown)}")
        scored = scored.filter(scored["issue_id"].is_in(list(subset)))
    return population, scored


def _checked(n_resamples: int, seed: int) -> None:
    if not 0 <= n_resamples <= MAX_RESAMPLES:
        raise PredictionError(f"--resamples/--rounds must be a whole number from 0 to {MAX_RESAMPLES}, got "
                              f"{n_resamples}")
    if not 0 <= seed < 2**32:
        raise PredictionError(f"--seed must be a whole number from 0 to 2**32 - 1, got {seed}")


def evaluate(predictions: Predictions, task: Task, release: Release, split: str | None = None, *,
             track: str = "metadata", allow_missing: bool = False, n_resamples: int = N_RESAMPLES, seed: int = 0,
             subset: set[str] | None = None) -> Result:
    """Score predictions on a task and split; returns the result record a leaderboard entry needs.

    >>> result = evaluate(read_predictions(Path("preds.csv")), get("root_cause"), open_release())  # doctest: +SKIP
    """
    split = split or task.split
    task.text_fields(track)  # an unknown track is refused before anything is read
    _checked(n_resamples, seed)
    population, scored = _scored(task, release, split, subset)
    gold, predicted, abstained = align(task, scored, population, predictions, allow_missing=allow_missing)
    scores = score(gold, predicted, task.labels, n_resamples=n_resamples, seed=seed)
    per_year = _per_year(task, release, scored["issue_id"].to_list(), gold, predicted)
    return Result(
        task=task.name, task_version=task.version, split=split, track=track, main_score=task.main_score,
        dataset_version=release.dataset_version, content_sha256=release.scored_sha256(task.source.name, task.name),
        package_version=__version__, predictions_sha256=predictions.digest,
        date=datetime.now(UTC).date().isoformat(), **scores.as_dict(),
        n_missing=sum(p == MISSING for p in predicted) - abstained, n_abstained=abstained,
        labels_public_since=task.source.labels_public_since or release.manifest.labels_public_since,
        per_year=per_year,
    )


def _per_year(task: Task, release: Release, ids: list[str], gold: list[list[str]], predicted: list[str],
              ) -> list[dict[str, Any]]:
    """The main score per year the issue was opened (study tasks; posts carry no date)."""
    if task.source.date_column is None:
        return []
    opened = release.memo(("opened-at", task.source.name), lambda: dict(
        task.source.split_columns(ReleaseTables(release)).select("issue_id", "issue_created_at").rows()))
    years: dict[int, list[int]] = {}
    for position, issue in enumerate(ids):
        when = opened.get(issue)
        if when is not None:
            years.setdefault(when.year, []).append(position)
    out = []
    for year, positions in sorted(years.items()):
        part = score([gold[i] for i in positions], [predicted[i] for i in positions], task.labels, n_resamples=0)
        out.append({"year": year, "n": len(positions), "score": part.as_dict()["scores"][task.main_score]})
    return out


def evaluate_file(path: Path, task: Task, release: Release, split: str | None = None, **options: Any) -> Result:
    """:func:`evaluate` on a predictions file (read with every check)."""
    return evaluate(read_predictions(path), task, release, split, **options)


def compare(a: Predictions, b: Predictions, task: Task, release: Release, split: str | None = None, *,
            metric: str | None = None, n_rounds: int = N_ROUNDS, seed: int = 0) -> Comparison:
    """A minus B on the same items, with a paired permutation test (p = (k + 1) / (rounds + 1), never 0)."""
    split = split or task.split
    _checked(n_rounds, seed)
    if n_rounds < 1:
        raise PredictionError("--rounds must be at least 1: a permutation test of no rounds tells nothing")
    if metric is not None and metric not in METRICS:
        raise PredictionError(f"--metric {str(metric)[:40]!r} is not a score; use one of {', '.join(METRICS)}")
    population, scored = _scored(task, release, split, None)
    gold, left, _ = align(task, scored, population, a)
    _, right, _ = align(task, scored, population, b)
    result = permutation_test(gold, left, right, task.labels, metric or task.main_score, n_rounds=n_rounds, seed=seed)
    return Comparison(**dataclasses.asdict(result), task=task.name, task_version=task.version, split=split,
                      a=a.source, b=b.source)



def items_and_gold(task: Task, release: Release, split: str | None = None) -> tuple[list[str], list[list[str]]]:
    """The ids scored on a split and their gold label sets, in the same order."""
    scored = items(task, release, split or task.split)
    return scored["issue_id"].to_list(), scored["gold"].to_list()


def fold_spread(predictions: Predictions, task: Task, release: Release) -> float | None:
    """The standard deviation of the main score over the folds of out-of-fold predictions."""
    import statistics

    population = items(task, release, ALL)
    values = []
    for fold in sorted(set(population["fold"].to_list())):
        subset = set(population.filter(population["fold"] == fold)["issue_id"].to_list())
        result = evaluate(predictions, task, release, "fold", n_resamples=0, subset=subset)
        values.append(result.score)
    return statistics.stdev(values) if len(values) > 1 else None
