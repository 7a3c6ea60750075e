"""A built release as one object: its folder, manifest, lazily read frames and one DuckDB database.

Every layer above the build takes a :class:`Release` and passes it down; nothing re-resolves a path
string at the bottom of a call chain. Results computed from a release (query results, baseline inputs)
are memoized on the object itself, so they live exactly as long as it and never outlive a rebuild.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import CvreengError
from .layout import MANIFEST

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from .problems import Problem

T = TypeVar("T")


class ReleaseError(CvreengError):
    """No usable release at the given place, or a config it does not hold."""


class Release:
    """An opened release folder (built by ``cvreeng-bench build``)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder).resolve()
        path = self.folder / MANIFEST
        try:
            self.manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
            self._stamp = path.stat().st_mtime_ns
        except (OSError, ValueError) as error:
            raise ReleaseError(f"{folder} is not a cvreeng-bench release (no readable {MANIFEST}); build one with "
                               f"`cvreeng-bench build --out {folder}`") from error
        self._frames: dict[str, pl.DataFrame] = {}
        self._db: duckdb.DuckDBPyConnection | None = None
        self._memo: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Release({str(self.folder)!r}, dataset {self.dataset_version})"

    @property
    def dataset_version(self) -> str:
        return self.manifest["dataset_version"]

    @property
    def content_sha256(self) -> str:
        return self.manifest["content_sha256"]

    @property
    def configs(self) -> list[str]:
        return sorted(self.manifest["configs"])

    def has(self, config: str) -> bool:
        return config in self.manifest["configs"]

    def is_stale(self) -> bool:
        """True when the folder was rebuilt (or removed) since this object read its manifest."""
        try:
            return (self.folder / MANIFEST).stat().st_mtime_ns != self._stamp
        except OSError:
            return True

    def path(self, config: str) -> Path:
        if not self.has(config):
            raise ReleaseError(f"config {config!r} is not in the release at {self.folder} (configs: "
                               f"{', '.join(self.configs)}); a release built by another version may lack it: "
                               f"rebuild with `cvreeng-bench build --out {self.folder}`")
        return self.folder / self.manifest["configs"][config]["path"]

    def frame(self, config: str) -> pl.DataFrame:
        """One config as a polars DataFrame, read once; each call returns its own copy."""
        import polars as pl

        if config not in self._frames:
            path = self.path(config)
            if not path.is_file():
                raise ReleaseError(f"{path} is listed in {MANIFEST} but missing; rebuild the release")
            self._frames[config] = pl.read_parquet(path)
        return self._frames[config].clone()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on this release's in-memory database (every config a table; warm queries are fast)."""
        import duckdb

        with self._lock:
            if self._db is None:
                db = duckdb.connect(":memory:")
                for name in self.configs:
                    db.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet(?)", [str(self.path(name))])
                self._db = db
            return self._db.cursor()

    def connect(self, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
        """A new DuckDB connection with one view per config over the parquet files (nothing copied)."""
        import duckdb

        con = duckdb.connect(database)
        for name in self.configs:
            path = self.path(name).as_posix().replace("'", "''")
            con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
        return con

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key for this release object (results derived from its data)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def audit(self) -> list[Problem]:
        """Every problem of the written release: missing files, a changed content hash, bad tables."""
        import polars as pl

        from .problems import Problem
        from .validate import validate
        from .write import content_hash

        tables, problems = {}, []
        for name in self.configs:
            path = self.path(name)
            if not path.is_file():
                problems.append(Problem(str(path), "listed in the manifest but missing"))
                continue
            tables[name] = pl.read_parquet(path)
        if not problems and content_hash(tables) != self.content_sha256:
            problems.append(Problem(str(self.folder / MANIFEST), f"content hash {content_hash(tables)} differs "
                                    f"from the recorded {self.content_sha256}: the data was changed after the build"))
        return problems + validate(tables)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
