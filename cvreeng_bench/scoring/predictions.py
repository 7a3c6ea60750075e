"""The one reader of prediction files, with every check; everything that scores a file (evaluate,
compare, the board, the shipped-board builder) reads it here, once, and scores the frame.

A file (CSV, JSONL or parquet) holds one row per issue:

* ``issue_id``: ``owner/name#number`` as in the release;
* ``label``: exactly one label of the task's label space (several labels are refused);
* optional ``abstained`` (true with an empty label: the system declined; scored as wrong and counted; a
  label beside ``abstained=true`` is refused, it would be scored as a prediction);
* other columns (``score``, ``confidence``, ``raw``) are kept in the file, never scored.

A :class:`Predictions` record carries the three columns and a ``digest``: the sha256 of its rows in
issue order, so the same predictions in another row order, file format or file name have one digest.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CvreengError
from ..files import strict_json

if TYPE_CHECKING:
    import polars as pl

ISSUE_ID, LABEL, ABSTAINED = "issue_id", "label", "abstained"
KEYS = (ISSUE_ID, LABEL, ABSTAINED)
FORMATS = (".csv", ".jsonl", ".ndjson", ".parquet")
MAX_BYTES = 64 << 20
MAX_ROWS = 100_000  # far above any task's items (600 posts): more rows is not a predictions file
SHOWN = 5  # ids named per problem before "and N more"
TRUE = ("true", "1", "yes")


class PredictionError(CvreengError):
    """Predictions that cannot be scored; the message lists every reason."""


def some(ids: list[str]) -> str:
    more = f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else ""
    return ", ".join(ids[:SHOWN]) + more


@dataclass(frozen=True)
class Predictions:
    """One system's predictions: issue_id, label (null when abstained), abstained; ``source`` names them."""

    frame: pl.DataFrame
    source: str
    digest: str

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.frame.rows(named=True)

    def labels_for(self, ids: list[str], missing: str) -> list[str]:
        """One label per id, ``missing`` where none was predicted or the system abstained."""
        found = {r[ISSUE_ID]: r[LABEL] or missing for r in self.rows}
        return [found.get(i, missing) for i in ids]


def digest_of(frame: pl.DataFrame) -> str:
    """sha256 of the rows (issue_id, label, abstained) sorted by issue id: independent of order and format."""
    rows = sorted(frame.select(KEYS).rows(), key=lambda r: (r[0] or "", r[1] or "", bool(r[2])))
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()


def _cell(value: Any) -> str | None:
    """A label cell as text; None for empty, null or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


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
    with path.open("rb") as handle:
        head = handle.read(4)
    if not head.strip():
        raise PredictionError(f"{path.name}: the file is empty")
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise PredictionError(f"{path.name}: the file is UTF-16; save it as UTF-8")
    try:
        if suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False, n_rows=MAX_ROWS + 1)
        elif suffix == ".parquet":
            frame = _read_parquet(path)
        else:
            frame = _read_jsonl(path)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        what = {".csv": "CSV", ".parquet": "parquet"}.get(suffix, "JSON lines (one object per line)")
        raise PredictionError(f"{path.name}: cannot read it as {what}: {str(error).splitlines()[0][:200]}") from error
    if frame.height > MAX_ROWS:
        raise PredictionError(f"{path.name} has more than {MAX_ROWS} rows; a predictions file has one row per issue")
    return frame


def _read_parquet(path: Path) -> pl.DataFrame:
    """The columns the scorer reads, after the file's own row count says it is a predictions file (a small
    parquet file can declare millions of rows)."""
    import polars as pl
    import pyarrow.parquet as pq

    meta = pq.read_metadata(path)
    if meta.num_rows > MAX_ROWS:
        raise ValueError(f"it declares {meta.num_rows} rows; a predictions file has one row per issue")
    names = set(meta.schema.names)
    return pl.read_parquet(path, columns=[c for c in (ISSUE_ID, LABEL, ABSTAINED, "labels") if c in names])


def _read_jsonl(path: Path) -> pl.DataFrame:
    """The scored keys of each JSON line (a line's other keys, however many, are never turned into columns)."""
    import polars as pl

    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if len(rows) >= MAX_ROWS:
                raise ValueError(f"more than {MAX_ROWS} rows")
            row = strict_json(line)
            if not isinstance(row, dict):
                raise ValueError(f"line {number} is not a JSON object")
            rows.append({key: row.get(key) for key in (ISSUE_ID, LABEL, ABSTAINED, "labels") if key in row})
    keys = list(dict.fromkeys(key for row in rows for key in row))
    return pl.DataFrame({key: [_cell(row.get(key)) if key != "labels" else str(row.get(key)) for row in rows]
                         for key in keys}, schema=dict.fromkeys(keys, pl.String))


def from_frame(frame: pl.DataFrame, source: str = "predictions") -> Predictions:
    """Predictions from any frame with issue_id and label (and optionally abstained) columns."""
    import polars as pl

    if "labels" in frame.columns and LABEL not in frame.columns:
        raise PredictionError(f"{source}: exactly one label per issue in a column named 'label'; a 'labels' "
                              "column (label sets) is not accepted")
    missing = [c for c in (ISSUE_ID, LABEL) if c not in frame.columns]
    if missing:
        raise PredictionError(f"{source}: needs the columns issue_id and label; missing {', '.join(missing)} "
                              f"(found: {', '.join(frame.columns)[:200] or 'none'})")
    ids = [_cell(v) for v in frame[ISSUE_ID].to_list()]
    labels = [_cell(v) for v in frame[LABEL].to_list()]
    abstained = [str(v).strip().lower() in TRUE for v in
                 (frame[ABSTAINED].to_list() if ABSTAINED in frame.columns else [None] * frame.height)]
    both = [i or "?" for i, label, a in zip(ids, labels, abstained, strict=True) if a and label]
    if both:
        raise PredictionError(f"{source} refused:\n  {len(both)} row(s) with abstained=true and a label "
                              f"({some(both)}): an abstention has an empty label")
    clean = pl.DataFrame({ISSUE_ID: ids, LABEL: labels, ABSTAINED: abstained},
                         schema={ISSUE_ID: pl.String, LABEL: pl.String, ABSTAINED: pl.Boolean})
    return Predictions(clean, source, digest_of(clean))


def read_predictions(path: Path) -> Predictions:
    """The predictions in a CSV, JSONL or parquet file, every problem with the file refused at once."""
    return from_frame(_read_frame(path), path.name)


def write_predictions(frame: pl.DataFrame, path: Path) -> None:
    """Predictions in the format the file name says: .parquet, .jsonl/.ndjson, else CSV (written whole)."""
    suffix = path.suffix.lower()
    partial = path.with_name(f".{path.name}.part")
    if suffix == ".parquet":
        frame.write_parquet(partial)
    elif suffix in (".jsonl", ".ndjson"):
        frame.write_ndjson(partial)
    else:
        frame.write_csv(partial)
    partial.replace(path)
