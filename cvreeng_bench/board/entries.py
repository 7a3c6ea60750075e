"""Board entries as typed records, and the board file (one JSON line per entry) read and written safely.

An :class:`Entry` is checked once, when it is made or read, against the ``leaderboard`` config's declared
columns (types, nullability); nothing downstream looks a key up by string. Appends take an exclusive lock
on ``<board>.lock`` and replace the file atomically, so concurrent adds keep every entry and a kill leaves
either the old board or the new one.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import CvreengError
from ..files import read_bounded, strict_json
from ..records import from_json
from ..schema import SCHEMAS
from ..scoring.populations import ALL_TRACKS
from ..scoring.splits import SPLITS

SHIPPED = Path(__file__).with_name("leaderboard.jsonl")
SUBMISSIONS = "submissions"  # folder beside a board holding the predictions of its entries
SHIPPED_SUBMISSIONS = SHIPPED.parent / SUBMISSIONS


class Kind(StrEnum):
    """What an entry is: ranked kinds (a submission, a package baseline) or reference lines (never ranked)."""

    SUBMISSION = "submission"
    BASELINE = "baseline"
    TRIVIAL = "trivial"  # a chance line
    AGREEMENT = "agreement"  # the raters' inter-rater agreement

    @property
    def ranked(self) -> bool:
        return self in (Kind.SUBMISSION, Kind.BASELINE)


class Tier(StrEnum):
    """What the board checked about where an entry's labels came from (decided at add or regenerate)."""

    REPRODUCED = "reproduced"  # the board itself ran a deterministic system and got exactly these labels
    CONSISTENT = "consistent"  # the labels are the registered prompt's parse of stored raw answers
    SELF_REPORTED = "self-reported"  # the submitter's word only


TIER_MEANINGS = {
    Tier.REPRODUCED: "the board itself ran a deterministic system (a package baseline) and got exactly these labels",
    Tier.CONSISTENT: "the labels are exactly the registered prompt's parse of the stored raw answers; the answers and "
                     "the run record (model, date) are the submitter's word, since a hosted model cannot be re-run",
    Tier.SELF_REPORTED: "the submitter's word only: the test gold is public, so nothing rules out tuning on it",
}
KINDS, TIERS = tuple(Kind), tuple(Tier)
# How an entry's system was trained, as declared: never on the items it labels (out-of-fold, which includes a
# holdout split's train side), on nothing labeled (zero-shot), or on the items it is scored on (in-sample).
TRAINED = ("out-of-fold", "zero-shot", "in-sample")
MAX_NAME, MAX_URL, MAX_NOTES = 120, 500, 1000
MAX_BOARD_BYTES = 32 << 20
_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "int32": (int,), "float64": (int, float), "bool": (bool,)}


class LeaderboardError(CvreengError):
    """An entry that cannot be made, or a board that cannot be read."""


@dataclass(frozen=True)
class Entry:
    name: str
    url: str | None
    kind: Kind
    task: str
    task_version: int
    split: str
    track: str
    dataset_version: str
    content_sha256: str
    package_version: str | None
    date: str | None
    predictions_sha256: str | None
    main_score: str
    score: float | None
    ci_low: float | None
    ci_high: float | None
    seeds: int | None
    score_sd: float | None
    accuracy: float | None
    macro_f1: float | None
    kappa: float | None
    n: int | None
    model_cutoff: str | None
    labels_public_since: str | None
    contamination_risk: bool | None
    prompt: str | None
    notes: str | None
    verification: Tier
    model: str | None
    fold_sd: float | None
    baseline: str | None  # the package baseline the board ran, name@vN (its identity; never read from the name)
    evidence: str | None  # what the board checked when it decided ``verification``
    trained: str | None  # out-of-fold, zero-shot or in-sample (never ranked); None: not declared
    fold_seeds: int | None  # dealings of the folds the board scored its own entry under (None: a submission)
    fold_seed_mean: float | None
    fold_seed_sd: float | None
    beats_chance_folds: int | None  # of those dealings, how many it beats every chance line under
    repo_fold_score: float | None  # its main score with whole repositories dealt to folds (unseen repositories)

    @property
    def key(self) -> tuple[str, int, str, str]:
        return (self.task, self.task_version, self.split, self.track)

    @property
    def ranked_kind(self) -> bool:
        return self.kind.ranked

    def to_row(self) -> dict[str, Any]:
        """The entry as plain JSON values (states as their strings; every field is a JSON scalar)."""
        return {f: str(v) if isinstance(v, StrEnum) else v for f, v in ((f, getattr(self, f)) for f in FIELDS)}

    def replace(self, **changes: Any) -> Entry:
        return make(self.to_row() | changes, "entry")


FIELDS = tuple(f.name for f in dataclasses.fields(Entry))
# The fields only the board makes, for the baselines and chance lines it runs (scores under other dealings of folds).
FOLD_SEED_FIELDS = ("fold_seeds", "fold_seed_mean", "fold_seed_sd", "beats_chance_folds", "repo_fold_score")


def _problems(row: dict[str, Any]) -> list[str]:
    """Every way ``row`` departs from the leaderboard schema (empty: none)."""
    out = []
    columns = {c.name: c for c in SCHEMAS["leaderboard"]}
    extra = sorted(set(row) - set(columns))
    if extra:
        out.append(f"unknown field(s) {', '.join(e[:40] for e in extra[:5])}")
    for name, column in columns.items():
        value = row.get(name)
        if value is None:
            if not column.nullable:
                out.append(f"{name} is missing")
            continue
        allowed = _TYPES[column.type]
        if not isinstance(value, allowed) or (bool not in allowed and isinstance(value, bool)):
            out.append(f"{name} must be {column.type}, got {str(value)[:40]!r}")
        elif isinstance(value, float) and not math.isfinite(value):
            out.append(f"{name} is not a finite number")
    if not out:
        if row["kind"] not in KINDS:
            out.append(f"kind {str(row['kind'])[:40]!r} is not one of {', '.join(KINDS)}")
        if row.get("verification") not in (None, *TIERS):
            out.append(f"verification {str(row['verification'])[:40]!r} is not one of {', '.join(TIERS)}")
        if row["track"] not in ALL_TRACKS:
            out.append(f"track {str(row['track'])[:40]!r} is not one of {', '.join(ALL_TRACKS)}")
        if row.get("trained") not in (None, *TRAINED):
            out.append(f"trained {str(row['trained'])[:40]!r} is not one of {', '.join(TRAINED)}")
        if row["split"] not in SPLITS:
            out.append(f"split {str(row['split'])[:40]!r} is not one of {', '.join(SPLITS)}")
    return out


def make(row: dict[str, Any], where: str) -> Entry:
    """An entry from a row, checked against the schema; every problem named in one error. A row without a tier is
    self-reported (boards written before tiers were stored)."""
    problems = _problems(row)
    if problems:
        raise LeaderboardError(f"{where}: " + "; ".join(problems))
    values = {name: row.get(name) for name in FIELDS} | {"verification": row.get("verification") or Tier.SELF_REPORTED}
    return from_json(Entry, values, where, LeaderboardError)


def check_fields(name: str, url: str, model_cutoff: str | None, notes: str) -> list[str]:
    """Every problem with the submitter's fields (empty list: fine)."""
    problems = []
    if not name.strip() or len(name) > MAX_NAME or any(c in name for c in "\r\n\t|") or not name.isprintable():
        problems.append(f"--name must be 1-{MAX_NAME} printable characters on one line without '|' (got "
                        f"{len(name)} characters)")
    if url and (len(url) > MAX_URL or urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc):
        problems.append(f"--url must be an http(s) address of at most {MAX_URL} characters, got {url[:80]!r}")
    if model_cutoff is not None:
        try:
            date.fromisoformat(model_cutoff)
        except ValueError:
            problems.append(f"--model-cutoff must be a date (YYYY-MM-DD), got {model_cutoff[:40]!r}")
    if len(notes) > MAX_NOTES:
        problems.append(f"--notes has {len(notes)} characters; at most {MAX_NOTES}")
    return problems


def read(board: Path) -> tuple[list[Entry], list[str]]:
    """The board's entries and, for every line that is not one, its number and why."""
    try:
        text = read_bounded(board, MAX_BOARD_BYTES).decode("utf-8")
    except ValueError as error:  # too long (or not UTF-8: UnicodeDecodeError is a ValueError)
        raise LeaderboardError(f"cannot read the board {board}: it is not UTF-8 text of at most "
                               f"{MAX_BOARD_BYTES >> 20} MiB ({str(error)[:120]})") from error
    except OSError as error:
        raise LeaderboardError(f"cannot read the board {board}: {error}") from error
    entries, skipped = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = strict_json(line)
            if not isinstance(row, dict):
                raise LeaderboardError("not a JSON object")
            entries.append(make(row, "entry"))
        except ValueError as error:  # not JSON, a key given twice, or nested too deeply
            skipped.append(f"{board} line {number}: not JSON ({getattr(error, 'msg', error)})")
        except LeaderboardError as error:
            skipped.append(f"{board} line {number}: {error}")
    return entries, skipped


def read_strict(board: Path) -> list[Entry]:
    """The board's entries; a board with an unreadable line is refused (rewriting it would drop the line)."""
    entries, skipped = read(board)
    if skipped:
        raise LeaderboardError("the board has lines that cannot be read; fix or remove them first:\n  "
                               + "\n  ".join(skipped[:10]))
    return entries


def encode(entries: list[Entry]) -> str:
    return "".join(json.dumps(e.to_row(), allow_nan=False) + "\n" for e in entries)


def write(board: Path, entries: list[Entry]) -> None:
    """Replace the board atomically (a unique temporary name beside it, then one rename)."""
    handle, name = tempfile.mkstemp(prefix=f".{board.name}.", suffix=".part", dir=board.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(encode(entries))
            out.flush()
            os.fsync(out.fileno())
        Path(name).replace(board)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


@contextmanager
def locked(board: Path) -> Iterator[None]:
    """Hold the board's lock (``.<name>.lock`` beside it) for a read-modify-write."""
    with board.with_name(f".{board.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def update(board: Path, change: Callable[[list[Entry]], list[Entry]]) -> list[Entry]:
    """Read, change and write the board under its lock; a new board starts from the shipped entries."""
    if not board.parent.is_dir():
        raise LeaderboardError(f"{board.parent} is not a folder; create it first (the board's folder is never made "
                               "for you)")
    with locked(board):
        current = read_strict(board) if board.exists() else read_strict(SHIPPED)
        entries = change(current)
        write(board, entries)
    return entries
