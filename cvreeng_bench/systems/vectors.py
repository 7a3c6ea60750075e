"""Sentence vectors stored once per (model and its version, text sha256) in the user cache, so a second process
neither encodes a text again nor imports the model's library when every text it needs is there.

One SQLite file (``<cache>/embeddings.sqlite``, safe to delete); a vector is the model's float32 output stored as
its bytes, so a cached vector is the fresh one bit for bit. Bounded: past :data:`MAX_VECTORS` entries nothing more
is stored (the texts are still encoded). An entry that cannot be read (a damaged file, a wrong size) is ignored
and encoded again; a cache that cannot be opened is no cache.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..layout import cache_dir

if TYPE_CHECKING:
    import numpy as np

CACHE_FILE = "embeddings.sqlite"
MAX_VECTORS = 200_000  # about 300 MB of 384-dimensional vectors


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class VectorCache:
    def __init__(self, model: str) -> None:
        self.model = model
        self._db: sqlite3.Connection | None = None
        try:
            folder = cache_dir()
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(folder / CACHE_FILE, timeout=10, isolation_level=None)
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (model TEXT, text_sha256 TEXT, dim INTEGER, "
                             "data BLOB, PRIMARY KEY (model, text_sha256))")
        except (OSError, sqlite3.Error):
            self._db = None

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        import numpy as np

        found: dict[str, np.ndarray] = {}
        if self._db is None:
            return found
        for start in range(0, len(keys), 500):  # SQLite's bound on parameters per statement
            chunk = list(keys[start:start + 500])
            try:
                rows = self._db.execute(
                    f"SELECT text_sha256, dim, data FROM vectors WHERE model = ? AND text_sha256 IN "
                    f"({', '.join('?' * len(chunk))})", [self.model, *chunk]).fetchall()
            except sqlite3.Error:
                return found
            for key, dim, data in rows:
                if isinstance(data, bytes) and isinstance(dim, int) and dim > 0 and len(data) == 4 * dim:
                    found[key] = np.frombuffer(data, dtype=np.float32).copy()
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        import numpy as np

        if self._db is None or not vectors:
            return
        try:
            (count,) = self._db.execute("SELECT count(*) FROM vectors").fetchone()
            if count + len(vectors) > MAX_VECTORS:
                return
            rows = [(self.model, key, int(v.size), np.asarray(v, dtype=np.float32).tobytes())
                    for key, v in vectors.items()]
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error:
            return

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def cached(texts: Sequence[str], model: str, encode: Callable[[list[str]], Sequence[np.ndarray]],
           ) -> dict[str, np.ndarray]:
    """text -> vector for every distinct text, encoding (``encode``) only those the cache lacks."""
    distinct = list(dict.fromkeys(texts))
    keys = {text: text_key(text) for text in distinct}
    store = VectorCache(model)
    try:
        found = store.get(list(keys.values()))
        missing = [text for text in distinct if keys[text] not in found]
        fresh = {}
        if missing:
            import numpy as np

            encoded = encode(missing)
            fresh = {keys[text]: np.asarray(vector, dtype=np.float32) for text, vector in
                     zip(missing, encoded, strict=True)}
            store.put(fresh)
        every = found | fresh
        return {text: every[keys[text]] for text in distinct}
    finally:
        store.close()
