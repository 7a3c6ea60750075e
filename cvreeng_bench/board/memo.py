"""The board's memo: what this package computed about board entries on this machine, so reading a board is cheap.

Three kinds of record, each keyed by everything its value depends on:

* ``score``: the re-score of stored predictions (n, scores, interval, p-value against chance), keyed by the
  predictions' digest, the task version, split and track, the content hash of the scored data, the dataset
  version and the scoring protocol;
* ``pair``: the paired permutation test of two neighbours' predictions, keyed the same way on both digests;
* ``tier``: an entry whose verification tier this package decided or re-checked (``add``, ``regenerate``,
  ``verify``), keyed by the sha256 of the whole entry, so a changed field (a model, a score, a date) is a
  different entry whose tier must be decided again.

The memo lives in the user's cache folder (``$CVREENG_CACHE``, or the file ``$CVREENG_BOARD_MEMO``), never beside a
board: a board and its folder are
untrusted input, and no number or tier shown is ever read from them. A memo that cannot be opened or read is
treated as empty (everything is computed again); values are plain JSON, never executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from ..layout import cache_dir
from ..scoring.protocol import PROTOCOL

MEMO_FILE = "board-memo.sqlite"
MEMO_ENV = "CVREENG_BOARD_MEMO"  # another memo file (the test suite keeps one per session)
MAX_VALUE = 1 << 16  # a memo value is a handful of numbers; anything longer is not ours


def key(*parts: object) -> str:
    """One memo key from its parts (the protocol version is always one of them)."""
    return hashlib.sha256(json.dumps([PROTOCOL, *parts], default=str).encode()).hexdigest()


class Memo:
    """A small persistent key -> JSON value store (SQLite in the cache folder); ``path=None``: in memory."""

    def __init__(self, path: Path | None) -> None:
        self._mem: dict[str, Any] = {}
        self._db: sqlite3.Connection | None = None
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS memo (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except (OSError, sqlite3.Error):
            self._db = None  # a memo is an optimization: without one everything is computed

    def get(self, name: str) -> Any:
        if name in self._mem:
            return self._mem[name]
        if self._db is None:
            return None
        try:
            row = self._db.execute("SELECT value FROM memo WHERE key = ?", (name,)).fetchone()
            value = json.loads(row[0]) if row and isinstance(row[0], str) and len(row[0]) <= MAX_VALUE else None
        except (sqlite3.Error, ValueError, RecursionError):
            return None
        self._mem[name] = value
        return value

    def put(self, name: str, value: Any) -> None:
        self._mem[name] = value
        if self._db is None:
            return
        try:
            self._db.execute("INSERT OR REPLACE INTO memo (key, value) VALUES (?, ?)",
                             (name, json.dumps(value, allow_nan=False)))
        except (sqlite3.Error, ValueError):
            return

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> Memo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default() -> Memo:
    """The memo of this user's cache folder (or the file ``$CVREENG_BOARD_MEMO`` names)."""
    return Memo(Path(os.environ.get(MEMO_ENV) or cache_dir() / MEMO_FILE))
