"""The Python entry points: load a config, open DuckDB over a release, run a figure or any SQL."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import sources
from ._version import __version__
from .errors import CvreengError
from .release import DATASET_VERSION, MANIFEST, data_path

if TYPE_CHECKING:
    import duckdb
    import polars as pl


class ReleaseError(CvreengError):
    """No usable release at the given place."""


def default_release() -> Path:
    return sources.cache_dir() / "releases" / DATASET_VERSION


def release_dir(release: str | os.PathLike[str] | None = None, *, build_if_missing: bool = True) -> Path:
    """The release folder to read: the given one, or the user-cache release (built on first use)."""
    if release is not None:
        folder = Path(release)
        if not (folder / MANIFEST).is_file():
            raise ReleaseError(f"{folder} is not a cvreeng-bench release (no {MANIFEST}); build one with "
                               f"`cvreeng-bench build --out {folder}`")
        return folder
    folder = default_release()
    if not _current(folder):  # missing, or built by another package version: (re)build it
        if not build_if_missing:
            raise ReleaseError(f"no current release at {folder}; run `cvreeng-bench build`")
        from .release import build

        build(folder)
    return folder


def _current(folder: Path) -> bool:
    try:
        info = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return info.get("dataset_version") == DATASET_VERSION and info.get("package_version") == __version__


def manifest(release: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    return json.loads((release_dir(release) / MANIFEST).read_text("utf-8"))


def configs(release: str | os.PathLike[str] | None = None) -> list[str]:
    return sorted(manifest(release)["configs"])


_FRAMES: dict[tuple[tuple[str, float], str], pl.DataFrame] = {}


def load(config: str = "defects", release: str | os.PathLike[str] | None = None) -> pl.DataFrame:
    """One config of a release as a polars DataFrame (builds the default release on first use).

    A config read once stays in memory for this process until its release is rebuilt; every call returns
    its own copy, so changing the result never changes what the next call returns.
    """
    key = (release_key(release), config)
    if key not in _FRAMES:
        if len(_FRAMES) > 64:
            _FRAMES.clear()
        _FRAMES[key] = _read(config, release)
    return _FRAMES[key].clone()


def _read(config: str, release: str | os.PathLike[str] | None) -> pl.DataFrame:
    import polars as pl

    folder = release_dir(release)
    path = folder / data_path(config)
    if not path.is_file():
        known = ", ".join(configs(folder))
        raise ReleaseError(f"config {config!r} is not in the release at {folder} (configs: {known}); a release "
                           f"built by another version may lack it: rebuild with `cvreeng-bench build --out {folder}`")
    return pl.read_parquet(path)


def connect(release: str | os.PathLike[str] | None = None, *, database: str = ":memory:",
            ) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per config of the release."""
    import duckdb

    folder = release_dir(release)
    con = duckdb.connect(database)
    for name in configs(folder):
        path = (folder / data_path(name)).as_posix().replace("'", "''")
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    return con


_SHARED: dict[tuple[str, float], duckdb.DuckDBPyConnection] = {}


def release_key(release: str | os.PathLike[str] | None = None) -> tuple[str, float]:
    """Identifies one build of a release: its folder and its manifest's modification time."""
    folder = release_dir(release).resolve()
    return str(folder), (folder / MANIFEST).stat().st_mtime


def shared(release: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """A cursor on a per-release in-memory database holding every config as a table (warm queries are fast).

    Keyed on the release folder and its manifest's modification time, so a rebuilt release is re-read.
    """
    import duckdb

    key = release_key(release)
    folder = Path(key[0])
    if key not in _SHARED:
        con = duckdb.connect(":memory:")
        for name in configs(folder):
            path = (folder / data_path(name)).as_posix().replace("'", "''")
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
        _SHARED.clear()  # one release at a time stays in memory
        _SHARED[key] = con
    return _SHARED[key].cursor()


def sql(query: str, release: str | os.PathLike[str] | None = None) -> pl.DataFrame:
    """Run any query against the release's configs; returns a polars DataFrame."""
    con = shared(release)
    try:
        return con.sql(query).pl()
    finally:
        con.close()


def rq(name: str, release: str | os.PathLike[str] | None = None, **filters: Any) -> pl.DataFrame:
    """One of the paper's breakdowns (``fig5`` ... ``fig10`` or a query file's name), optionally filtered."""
    from .queries import run

    return run(name, release, filters=filters)
