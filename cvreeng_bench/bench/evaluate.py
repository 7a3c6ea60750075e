"""Read predictions, refuse bad ones with the reason, score them, and compare two systems.

Prediction files (CSV, JSONL or parquet), one row per issue:

* ``issue_id``: ``owner/name#number`` as in the release;
* ``label`` (one label) or ``labels`` (several: a list in JSONL/parquet; in CSV a JSON list or
  ``;``-separated);
* optional ``score`` or ``confidence`` (kept, not scored).

Predictions for issues of the task that lie outside the chosen split are ignored, so one file with
predictions for every issue can be scored on any split.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..errors import CvreengError
from .metrics import MISSING, paired_difference, score
from .protocol import N_RESAMPLES
from .results import Comparison, Result
from .tasks import ALL, Task, items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release


class PredictionError(CvreengError):
    """Predictions that cannot be scored; the message lists every reason."""


def _labels_cell(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return [str(v) for v in json.loads(text)]
        except json.JSONDecodeError as error:
            raise PredictionError(f"cannot read the label list {text!r}: {error}") from error
    return [part.strip() for part in text.split(";") if part.strip()] if ";" in text else ([text] if text else [])


def read_predictions(path: Path) -> pl.DataFrame:
    """issue_id and labels (list of strings) from a CSV, JSONL or parquet file."""
    import polars as pl

    if not path.is_file():
        raise PredictionError(f"no predictions file at {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False)
        elif suffix in (".jsonl", ".ndjson"):
            frame = pl.read_ndjson(path)
        elif suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            raise PredictionError(f"{path.name}: unknown format {suffix!r}; use .csv, .jsonl or .parquet")
    except (pl.exceptions.PolarsError, OSError) as error:
        raise PredictionError(f"{path.name}: cannot read it: {error}") from error
    if "issue_id" not in frame.columns or not ({"label", "labels"} & set(frame.columns)):
        raise PredictionError(f"{path.name}: needs the columns issue_id and label (or labels); found "
                              f"{', '.join(frame.columns)}")
    column = "labels" if "labels" in frame.columns else "label"
    labels = [_labels_cell(v) for v in frame[column].to_list()]
    return pl.DataFrame({"issue_id": frame["issue_id"].cast(pl.String), "labels": labels},
                        schema={"issue_id": pl.String, "labels": pl.List(pl.String)})


def align(task: Task, scored: pl.DataFrame, population: pl.DataFrame, predictions: pl.DataFrame, *,
          allow_missing: bool = False, source: str = "predictions") -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted label sets for the scored items; every problem with the predictions is raised."""
    reasons = []
    ids = predictions["issue_id"].to_list()
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        reasons.append(f"{len(duplicates)} issue(s) predicted more than once: {', '.join(duplicates[:5])}")
    known = set(population["issue_id"].to_list())
    unknown = [i for i in dict.fromkeys(ids) if i not in known]
    if unknown:
        reasons.append(f"{len(unknown)} issue id(s) not in task {task.name} ({task.population}): "
                       f"{', '.join(unknown[:5])}")
    allowed = set(task.labels)
    outside = sorted({label for row in predictions["labels"].to_list() for label in row} - allowed)
    if outside:
        reasons.append(f"labels outside the {task.name} label set: {', '.join(map(repr, outside))} (allowed: "
                       f"{', '.join(task.labels)})")
    empty = [i for i, row in zip(ids, predictions["labels"].to_list(), strict=True) if not row]
    if empty:
        reasons.append(f"{len(empty)} prediction(s) without a label: {', '.join(empty[:5])}")
    predicted = dict(zip(ids, predictions["labels"].to_list(), strict=True))
    missing = [i for i in scored["issue_id"].to_list() if i not in predicted]
    if missing and not allow_missing:
        reasons.append(f"{len(missing)} issue(s) of the split have no prediction (e.g. {', '.join(missing[:3])});"
                       " --allow-missing scores them as wrong")
    if reasons:
        raise PredictionError(f"{source} refused:\n  " + "\n  ".join(reasons))
    gold = scored["gold"].to_list()
    return gold, [predicted.get(i) or [MISSING] for i in scored["issue_id"].to_list()]


def write_predictions(frame: pl.DataFrame, path: Path) -> None:
    """Predictions in the format the file name says: .parquet, .jsonl/.ndjson, else CSV."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.write_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        frame.write_ndjson(path)
    else:
        frame.write_csv(path)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def evaluate(path: Path, task: Task, release: Release, split: str | None = None, *, allow_missing: bool = False,
             n_resamples: int = N_RESAMPLES, seed: int = 0, subset: set[str] | None = None) -> Result:
    """Score a predictions file on a task and split; returns the result record a leaderboard entry needs."""
    import polars as pl

    split = split or task.split
    population = items(task, release, ALL)
    scored = items(task, release, split)
    if subset is not None:
        unknown = sorted(subset - set(population["issue_id"].to_list()))
        if unknown:
            raise PredictionError(f"--subset names {len(unknown)} issue(s) not in task {task.name}: "
                                  f"{', '.join(unknown[:5])}")
        scored = scored.filter(scored["issue_id"].is_in(list(subset)))
    gold, predicted = align(task, scored, population, read_predictions(path), allow_missing=allow_missing,
                            source=path.name)
    scores = score(gold, predicted, task.labels, n_resamples=n_resamples, seed=seed)
    issues = release.frame("issues")
    opened = issues.filter(pl.col("issue_id").is_in(scored["issue_id"].implode()))["issue_created_at"]
    return Result(
        task=task.name, task_version=task.version, split=split, main_score=task.main_score,
        dataset_version=release.dataset_version, content_sha256=release.content_sha256,
        package_version=__version__, predictions_sha256=sha256_file(path),
        date=datetime.now(UTC).date().isoformat(), **scores.as_dict(),
        n_missing=sum(p == [MISSING] for p in predicted),
        issues_public_since=opened.min().date().isoformat() if opened.len() else None,
    )


def compare(path_a: Path, path_b: Path, task: Task, release: Release, split: str | None = None, *,
            metric: str | None = None, n_resamples: int = N_RESAMPLES, seed: int = 0) -> Comparison:
    """Paired bootstrap test of A minus B on the same items."""
    split = split or task.split
    population, scored = items(task, release, ALL), items(task, release, split)
    gold, a = align(task, scored, population, read_predictions(path_a), source=path_a.name)
    _, b = align(task, scored, population, read_predictions(path_b), source=path_b.name)
    result = paired_difference(gold, a, b, task.labels, metric or task.main_score, n_resamples=n_resamples, seed=seed)
    return Comparison(task=task.name, task_version=task.version, split=split, a=path_a.name, b=path_b.name,
                      **result)
