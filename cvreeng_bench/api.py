"""The public one-liners: open a release, load a config, connect DuckDB, run a figure or any SQL.

Each accepts a :class:`~cvreeng_bench.release.Release`, a folder, or nothing (the user-cache release,
built on first use) and works on the same opened object: a folder opened once stays open for the process
until it is rebuilt, so its frames, database and query results are read and computed once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import sources
from ._version import __version__
from .layout import DATASET_VERSION
from .release import Release, ReleaseError

if TYPE_CHECKING:
    import duckdb
    import polars as pl

ReleaseLike = Release | str | os.PathLike[str] | None
_OPEN: dict[Path, Release] = {}  # opened Release objects by folder (the objects hold the state)


def default_release() -> Path:
    return sources.cache_dir() / "releases" / DATASET_VERSION


def _opened(folder: Path) -> Release:
    """The open Release of a folder, reopened when the folder was rebuilt since."""
    key = folder.resolve()
    opened = _OPEN.get(key)
    if opened is None or opened.is_stale():
        opened = _OPEN[key] = Release(folder)
    return opened


def _current(release: Release) -> bool:
    info = release.manifest
    return info.get("dataset_version") == DATASET_VERSION and info.get("package_version") == __version__


def open_release(path: ReleaseLike = None, *, build_if_missing: bool = True) -> Release:
    """The release at ``path`` (or the user-cache release, built when missing or out of date)."""
    if isinstance(path, Release):
        return path
    if path is not None:
        return _opened(Path(path))
    folder = default_release()
    try:
        opened = _opened(folder)
        if _current(opened):
            return opened
    except ReleaseError:  # missing: built below
        pass
    if not build_if_missing:  # missing, or built by another package version: (re)build it
        raise ReleaseError(f"no current release at {folder}; run `cvreeng-bench build`")
    from .build import build

    build(folder)
    return _opened(folder)


def load(config: str = "defects", release: ReleaseLike = None) -> pl.DataFrame:
    """One config of a release as a polars DataFrame; each call returns its own copy."""
    return open_release(release).frame(config)


def connect(release: ReleaseLike = None, *, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A new DuckDB connection with one view per config of the release."""
    return open_release(release).connect(database)


def sql(query: str, release: ReleaseLike = None) -> pl.DataFrame:
    """Run any query against the release's configs; returns a polars DataFrame."""
    con = open_release(release).cursor()
    try:
        return con.sql(query).pl()
    finally:
        con.close()


def rq(name: str, release: ReleaseLike = None, **filters: Any) -> pl.DataFrame:
    """One of the paper's breakdowns (``fig5`` ... ``fig10`` or a query file's name), optionally filtered."""
    from .queries import run

    return run(name, open_release(release), filters=filters)
