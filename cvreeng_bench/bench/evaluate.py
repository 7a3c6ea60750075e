"""Read predictions, refuse bad ones with every reason at once, score them, and compare two systems.

Prediction files (CSV, JSONL or parquet), one row per issue (the one loader; keys in :data:`KEYS`):

* ``issue_id``: ``owner/name#number`` as in the release;
* ``label``: exactly one label of the task's label space (protocol v2: several labels are refused);
* optional ``abstained`` (true with an empty label: the system declined; scored as wrong and counted);
* optional ``score`` or ``confidence`` (kept, not scored).

Predictions for issues of the task that lie outside the chosen split are ignored, so one file with
predictions for every issue can be scored on any split.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..errors import CvreengError
from ..sources import sha256_of
from .metrics import MISSING, paired_difference, score
from .protocol import N_RESAMPLES
from .results import Comparison, Result
from .tasks import ALL, Task, items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

ISSUE_ID, LABEL, ABSTAINED = "issue_id", "label", "abstained"
KEYS = (ISSUE_ID, LABEL, ABSTAINED)
FORMATS = (".csv", ".jsonl", ".ndjson", ".parquet")
SHOWN = 5  # ids named per problem before "and N more"
MAX_BYTES = 64 << 20


class PredictionError(CvreengError):
    """Predictions that cannot be scored; the message lists every reason."""


def _some(ids: list[str]) -> str:
    more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
    return ", ".join(ids[:SHOWN]) + more


def _read_frame(path: Path) -> pl.DataFrame:
    import polars as pl

    if not path.is_file():
        raise PredictionError(f"no predictions file at {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:  # a predictions file for a few hundred issues is kilobytes: this is not one
        raise PredictionError(f"{path.name} is {size >> 20} MiB; a predictions file may be at most {MAX_BYTES >> 20} "
                              "MiB (one row per issue)")
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PredictionError(f"{path.name}: unknown format {suffix!r}; use .csv, .jsonl or .parquet")
    head = path.read_bytes()[:4]
    if not head.strip():
        raise PredictionError(f"{path.name}: the file is empty")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise PredictionError(f"{path.name}: the file is UTF-16; save it as UTF-8")
    try:
        if suffix == ".csv":
            return pl.read_csv(path, infer_schema=False)
        if suffix == ".parquet":
            return pl.read_parquet(path)
        return pl.read_ndjson(path, infer_schema_length=None)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as error:
        what = {".csv": "CSV", ".parquet": "parquet"}.get(suffix, "JSON lines (one object per line)")
        raise PredictionError(f"{path.name}: cannot read it as {what}: {str(error).splitlines()[0]}") from error


def _cell(value: Any) -> str | None:
    """A label cell as text; None for empty, null or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def read_predictions(path: Path) -> pl.DataFrame:
    """issue_id, label (null when abstained) and abstained from a CSV, JSONL or parquet file."""
    import polars as pl

    frame = _read_frame(path)
    if "labels" in frame.columns and LABEL not in frame.columns:
        raise PredictionError(f"{path.name}: protocol v2 takes exactly one label per issue in a column named "
                              f"'label'; a 'labels' column (label sets) is not accepted")
    missing = [c for c in (ISSUE_ID, LABEL) if c not in frame.columns]
    if missing:
        raise PredictionError(f"{path.name}: needs the columns issue_id and label; missing {', '.join(missing)} "
                              f"(found: {', '.join(frame.columns) or 'none'})")
    ids = [_cell(v) for v in frame[ISSUE_ID].to_list()]
    labels = [_cell(v) for v in frame[LABEL].to_list()]
    abstained = [str(v).strip().lower() in ("true", "1", "yes") for v in
                 (frame[ABSTAINED].to_list() if ABSTAINED in frame.columns else [None] * frame.height)]
    return pl.DataFrame({ISSUE_ID: ids, LABEL: labels, ABSTAINED: abstained},
                        schema={ISSUE_ID: pl.String, LABEL: pl.String, ABSTAINED: pl.Boolean})


def align(task: Task, scored: pl.DataFrame, population: pl.DataFrame, predictions: pl.DataFrame, *,
          allow_missing: bool = False, source: str = "predictions") -> tuple[list[list[str]], list[str], int]:
    """Gold sets, one predicted label per scored item (MISSING where none) and the abstention count; every
    problem with the predictions is raised at once."""
    reasons = []
    rows = predictions.rows(named=True)
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
        reasons.append(f"{len(several)} prediction(s) with several labels ({_some(several)}): protocol v2 takes "
                       "exactly one label per issue")
    allowed = set(task.labels)
    outside = sorted({r[LABEL] for r in rows if r[LABEL] and r[LABEL] not in allowed and r[ISSUE_ID] not in several})
    if outside:
        reasons.append(f"labels outside the {task.key} label set: {', '.join(map(repr, outside[:SHOWN]))} "
                       f"(allowed: {', '.join(task.labels)})")
    empty = [r[ISSUE_ID] or "?" for r in rows if not r[LABEL] and not r[ABSTAINED]]
    if empty:
        reasons.append(f"{len(empty)} prediction(s) without a label (write abstained=true to decline): "
                       f"{_some(empty)}")
    predicted = {r[ISSUE_ID]: r[LABEL] or MISSING for r in rows if r[ISSUE_ID]}
    missing = [i for i in scored["issue_id"].to_list() if i not in predicted]
    if missing and not allow_missing:
        reasons.append(f"{len(missing)} issue(s) of the split have no prediction (e.g. {_some(missing[:3])});"
                       " --allow-missing scores them as wrong")
    if reasons:
        raise PredictionError(f"{source} refused:\n  " + "\n  ".join(reasons))
    wanted = scored["issue_id"].to_list()
    abstentions = sum(1 for r in rows if r[ABSTAINED] and r[ISSUE_ID] in set(wanted))
    return scored["gold"].to_list(), [predicted.get(i, MISSING) for i in wanted], abstentions


def write_predictions(frame: pl.DataFrame, path: Path) -> None:
    """Predictions in the format the file name says: .parquet, .jsonl/.ndjson, else CSV."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        frame.write_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        frame.write_ndjson(path)
    else:
        frame.write_csv(path)


def _scored(task: Task, release: Release, split: str, subset: set[str] | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    population = items(task, release, ALL)
    scored = items(task, release, split)
    if subset is not None:
        unknown = sorted(subset - set(population["issue_id"].to_list()))
        if unknown:
            raise PredictionError(f"--subset names {len(unknown)} issue(s) not in task {task.name}: {_some(unknown)}")
        scored = scored.filter(scored["issue_id"].is_in(list(subset)))
    return population, scored


def evaluate(path: Path, task: Task, release: Release, split: str | None = None, *, track: str = "metadata",
             allow_missing: bool = False, n_resamples: int = N_RESAMPLES, seed: int = 0,
             subset: set[str] | None = None) -> Result:
    """Score a predictions file on a task and split; returns the result record a leaderboard entry needs."""
    split = split or task.split
    task.text_fields(track)  # an unknown track is refused before anything is read
    if n_resamples < 0:
        raise PredictionError(f"--resamples must be 0 or more, got {n_resamples}")
    population, scored = _scored(task, release, split, subset)
    gold, predicted, abstained = align(task, scored, population, read_predictions(path),
                                       allow_missing=allow_missing, source=path.name)
    scores = score(gold, predicted, task.labels, n_resamples=n_resamples, seed=seed)
    return Result(
        task=task.name, task_version=task.version, split=split, track=track, main_score=task.main_score,
        dataset_version=release.dataset_version, content_sha256=release.content_sha256,
        package_version=__version__, predictions_sha256=sha256_of(path),
        date=datetime.now(UTC).date().isoformat(), **scores.as_dict(),
        n_missing=sum(p == MISSING for p in predicted) - abstained, n_abstained=abstained,
        labels_public_since=release.manifest.get("labels_public_since"),
    )


def compare(path_a: Path, path_b: Path, task: Task, release: Release, split: str | None = None, *,
            metric: str | None = None, n_resamples: int = N_RESAMPLES, seed: int = 0) -> Comparison:
    """Paired bootstrap test of A minus B on the same items."""
    split = split or task.split
    population, scored = _scored(task, release, split, None)
    gold, a, _ = align(task, scored, population, read_predictions(path_a), source=path_a.name)
    _, b, _ = align(task, scored, population, read_predictions(path_b), source=path_b.name)
    result = paired_difference(gold, a, b, task.labels, metric or task.main_score, n_resamples=n_resamples, seed=seed)
    return Comparison(task=task.name, task_version=task.version, split=split, a=path_a.name, b=path_b.name,
                      **result)

