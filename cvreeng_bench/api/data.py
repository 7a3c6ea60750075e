"""The public one-liners of the data side: open a release, load a config, connect DuckDB, run a figure or any SQL.

Each accepts a :class:`~cvreeng_bench.release.Release`, a folder, or nothing (the user-cache release,
built on first use) and works on the same opened object: a folder opened once stays open for the process
until it is rebuilt, so its frames, database and query results are read and computed once.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..layout import DATASET_VERSION
from ..release import Release, ReleaseError

if TYPE_CHECKING:
    import duckdb
    import polars as pl


ReleaseLike = Release | str | os.PathLike[str] | None
_OPEN: dict[Path, Release] = {}  # opened Release objects by folder (the objects hold the state)


def default_release() -> Path:
    from ..layout import cache_dir

    return cache_dir() / "releases" / DATASET_VERSION


def _opened(folder: Path, *, notice: bool = False) -> Release:
    """The open Release of a folder, reopened when the folder was rebuilt since. ``notice``: say once, on stderr,
    when another version of the package built it (its data, tasks and shipped board may differ from this one's)."""
    key = folder.resolve()
    opened = _OPEN.get(key)
    if opened is None or opened.is_stale():
        opened = _OPEN[key] = Release(folder)
        if notice and not _current(opened):
            made = opened.manifest
            print(f"note: {folder} was built by cvreeng-bench {made.package_version} (dataset {made.dataset_version}); "
                  f"this is {__version__} (dataset {DATASET_VERSION}): its tasks and board entries may be out of date; "
                  f"rebuild it with `cvreeng-bench build --out {folder}`", file=sys.stderr)
    return opened


def _current(release: Release) -> bool:
    return release.manifest.dataset_version == DATASET_VERSION and release.manifest.package_version == __version__


def open_release(path: ReleaseLike = None, *, build_if_missing: bool = True) -> Release:
    """The release at ``path`` (or the user-cache release, built when missing or out of date).

    >>> release = open_release("release")
    >>> release.has("defects"), "so_dl_bugs" in release.tables()
    (True, True)
    """
    if isinstance(path, Release):
        return path
    if path is not None:
        return _opened(Path(path), notice=True)
    folder = default_release()
    try:
        opened = _opened(folder)
        if _current(opened):
            return opened
    except ReleaseError:  # missing: built below
        pass
    if not build_if_missing:  # missing, or built by another package version: (re)build it
        raise ReleaseError(f"no current release at {folder}; run `cvreeng-bench build`")
    import sys

    from ..build import build

    # Said once, on stderr: the first use takes a few seconds and writes into the user cache.
    print(f"building the default release into {folder} (first use; --release DIR or build --out DIR to choose "
          "another folder)", file=sys.stderr)
    build(folder)
    return _opened(folder)


def load(config: str = "defects", release: ReleaseLike = None) -> pl.DataFrame:
    """One config of a release as a polars DataFrame; each call returns its own copy. A task config gives
    both sides, with a ``split`` column.

    >>> load("defects", release="release").columns[:3]
    ['defect_id', 'issue_id', 'repo']
    >>> sorted(set(load("stage", release="release")["split"]))
    ['test', 'train']
    """
    return open_release(release).frame(config)


def connect(release: ReleaseLike = None, *, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A new DuckDB connection with one view per config of the release (task configs too), confined to it.

    >>> connect("release").execute("SELECT count(*) > 0 FROM defects").fetchone()
    (True,)
    """
    return open_release(release).connect(database)


def sql(query: str, release: ReleaseLike = None, *, allow_files: bool = False) -> pl.DataFrame:
    """Run one SQL statement against the release's configs (task configs too); returns a polars DataFrame.

    The database reads this release and nothing else: no other file, URL or extension, and one statement at
    a time. ``allow_files=True`` opts out (to COPY results out, or join a file of your own).

    >>> sql("SELECT stage, count(*) AS n FROM defects GROUP BY ALL ORDER BY n DESC", release="release").columns
    ['stage', 'n']
    """
    import polars as pl

    from ..queries import one_statement

    opened = open_release(release)
    con = opened.connect(allow_files=True) if allow_files else opened.cursor()
    try:
        return one_statement(con, query, lambda relation: relation.pl(), pl.DataFrame(), sealed=not allow_files)
    finally:
        con.close()


def rq(name: str, release: ReleaseLike = None, *, chart: str | os.PathLike[str] | None = None, scale: float = 2.0,
       labels: str | os.PathLike[str] | pl.DataFrame | None = None, task: str | None = None,
       **filters: Any) -> pl.DataFrame:
    """One of the paper's breakdowns (``fig5`` ... ``fig10`` or a query file's name), optionally filtered, and
    drawn into ``chart`` (.svg, .png, .html or .json) when one is given. ``labels``: a system's out-of-fold
    predictions for a study task (``task``, else the one whose labels they use): the figure as the system would
    have drawn it, its cells beside the paper's (``system_count``, ``system_percent``, ``change`` in points); the
    chart then draws the system's figure.

    >>> rq("fig9", release="release", repo_type="Zoo").columns
    ['stage', 'impact', 'count', 'percent']
    >>> majority = baseline("majority", "root_cause", release="release")
    >>> rq("fig10", release="release", labels=majority)["change"].abs().max() > 10
    True
    """
    from ..queries import find, run

    query = find(name)
    targets = {}
    if chart is not None:
        from .. import charts

        targets = charts.targets([query], Path(chart))
    opened = open_release(release)
    frame = run(name, opened, filters=filters)
    drawn = frame
    if labels is not None:
        from ..annotator import relabeled_query

        frame, drawn = relabeled_query(query, labels, opened, task, filters)
    if targets:
        charts.save(charts.figure(query, drawn, filters), targets[query.label], scale=scale)
    return frame
