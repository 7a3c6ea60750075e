"""The public one-liners: open a release, load a config, connect DuckDB, run a figure or any SQL.

Each accepts a :class:`~cvreeng_bench.release.Release`, a folder, or nothing (the user-cache release,
built on first use) and works on the same opened object: a folder opened once stays open for the process
until it is rebuilt, so its frames, database and query results are read and computed once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .layout import DATASET_VERSION
from .release import Release, ReleaseError

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from .board.entries import Entry
    from .board.leaderboard import Ranked
    from .scoring.predictions import Predictions
    from .scoring.results import Comparison, Result
    from .scoring.tasks import Task

ReleaseLike = Release | str | os.PathLike[str] | None
_OPEN: dict[Path, Release] = {}  # opened Release objects by folder (the objects hold the state)


def default_release() -> Path:
    from .layout import cache_dir

    return cache_dir() / "releases" / DATASET_VERSION


def _opened(folder: Path) -> Release:
    """The open Release of a folder, reopened when the folder was rebuilt since."""
    key = folder.resolve()
    opened = _OPEN.get(key)
    if opened is None or opened.is_stale():
        opened = _OPEN[key] = Release(folder)
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
    import sys

    from .build import build

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

    from .queries import one_statement

    opened = open_release(release)
    con = opened.connect(allow_files=True) if allow_files else opened.cursor()
    try:
        return one_statement(con, query, lambda relation: relation.pl(), pl.DataFrame())
    finally:
        con.close()


def rq(name: str, release: ReleaseLike = None, *, chart: str | os.PathLike[str] | None = None, scale: float = 2.0,
       **filters: Any) -> pl.DataFrame:
    """One of the paper's breakdowns (``fig5`` ... ``fig10`` or a query file's name), optionally filtered, and
    drawn into ``chart`` (.svg, .png, .html or .json) when one is given.

    >>> rq("fig9", release="release", repo_type="Zoo").columns
    ['stage', 'impact', 'count', 'percent']
    """
    from .queries import find, run

    query = find(name)
    targets = {}
    if chart is not None:
        from . import charts

        targets = charts.targets([query], Path(chart))
    frame = run(name, open_release(release), filters=filters)
    if targets:
        charts.save(charts.figure(query, frame, filters), targets[query.label], scale=scale)
    return frame


# --- the benchmark, for notebooks: each takes names and files and returns typed records -------------------------

def tasks() -> list[Task]:
    """The current benchmark tasks.

    >>> names = [t.name for t in tasks()]
    >>> "stage" in names, "so_dl_bugs" in names, all(t.split == "fold" for t in tasks())
    (True, True, True)
    """
    from .scoring.tasks import REGISTRY

    return REGISTRY.latest()


def evaluate(predictions: str | os.PathLike[str] | pl.DataFrame, task: str, release: ReleaseLike = None, *,
             split: str | None = None, track: str = "metadata", **options: Any) -> Result:
    """Score predictions (a file, or a frame with issue_id and label) on a task; the split defaults to the task's.

    >>> result = evaluate("preds.csv", "stage", release="release", n_resamples=200)
    >>> result.split, result.main_score, 0 <= result.interval[0] <= result.score <= result.interval[1]
    ('fold', 'macro_f1', True)
    """
    from .scoring.evaluate import evaluate as score
    from .scoring.tasks import get

    return score(_predictions(predictions), get(task), open_release(release), split, track=track, **options)


def compare(a: str | os.PathLike[str] | pl.DataFrame, b: str | os.PathLike[str] | pl.DataFrame, task: str,
            release: ReleaseLike = None, *, split: str | None = None, **options: Any) -> Comparison:
    """A minus B on the same issues with a paired permutation test.

    >>> a, b = baseline("metadata", "stage", release="release"), baseline("majority", "stage", release="release")
    >>> compared = compare(a, b, "stage", release="release", n_rounds=500)
    >>> compared.test, compared.p_value >= 1 / 501
    ('paired approximate-randomization (permutation) test, two-sided', True)
    """
    from .scoring.evaluate import compare as paired
    from .scoring.tasks import get

    return paired(_predictions(a, "a"), _predictions(b, "b"), get(task), open_release(release), split, **options)


def baseline(name: str, task: str, release: ReleaseLike = None, *, split: str | None = None, seed: int = 0,
             track: str | None = None) -> pl.DataFrame:
    """A reference baseline's predictions (issue_id, label) for a task's split, ready for :func:`evaluate`.

    >>> preds = baseline("majority", "stage", release="release", split="holdout")
    >>> preds.columns, preds["label"].n_unique()
    (['issue_id', 'label'], 1)
    """
    from .scoring.tasks import get
    from .systems.baselines import run

    return run(name, get(task), open_release(release), split, seed=seed, track=track)


def transfer(name: str, train: str, test: str, release: ReleaseLike = None, *, seed: int = 0,
             track: str = "triage", n_resamples: int | None = None) -> tuple[pl.DataFrame, Result]:
    """A text baseline trained on every item of one task and scored on every item of a task of the other source
    (``so_dl_bugs`` and ``bug_kind`` share the five DL-bug kinds); returns the predictions and their score.

    >>> preds, result = transfer("tfidf", "bug_kind", "so_dl_bugs", release="text-release", n_resamples=50)
    >>> result.task, "Others" in set(preds["label"])
    ('so_dl_bugs', False)
    """
    from .scoring.evaluate import evaluate as score
    from .scoring.predictions import from_frame
    from .scoring.protocol import N_RESAMPLES
    from .scoring.tasks import get
    from .systems.baselines import transfer as run_across

    opened = open_release(release)
    target = get(test)
    frame = run_across(name, get(train), target, opened, seed=seed, track=track)
    return frame, score(from_frame(frame, f"{name} trained on {train}"), target, opened, track=track,
                        n_resamples=N_RESAMPLES if n_resamples is None else n_resamples)


def leaderboard(board: str | os.PathLike[str] | None = None, release: ReleaseLike = None, *,
                task: str | None = None, verified_only: bool = False, warn: list[str] | None = None) -> list[Ranked]:
    """The board (default: the shipped one) re-scored and ranked, as typed rows. Reads only: re-scores come from
    this machine's memo once computed, and no system is run.

    >>> rows = leaderboard(release="release", task="stage")
    >>> {r.entry.task for r in rows}, {r.status for r in rows} <= {"ranked", "below chance", "reference", "older"}
    ({'stage'}, True)
    """
    from . import board as boards
    from .board.memo import default

    memo = default()
    try:
        return boards.ranked(Path(board) if board is not None else None, open_release(release), task=task,
                             verified_only=verified_only, warn=warn, memo=memo)
    finally:
        memo.close()


def verify(board: str | os.PathLike[str] | None = None, release: ReleaseLike = None, *,
           warn: list[str] | None = None) -> list[tuple[Entry, bool]]:
    """Re-check every tier a board's entries claim (re-run package baselines, recompute the raters' agreement,
    re-parse stored model answers); those that hold are shown with their tier from then on on this machine.

    >>> checked = verify("baselines.jsonl", release="release")  # the board regenerate's example wrote
    >>> len(checked) > 10, all(held for _, held in checked)
    (True, True)
    """
    from . import board as boards
    from .board.memo import default
    from .provenance import rederive

    opened = open_release(release)
    memo = default()
    try:
        return boards.verify(Path(board) if board is not None else None, opened,
                             lambda entry, path: rederive(entry, path, opened), memo=memo, warn=warn)
    finally:
        memo.close()


def regenerate(board: str | os.PathLike[str], release: ReleaseLike = None, *, shipped: bool = False) -> list[Entry]:
    """Re-run every package baseline and the raters' agreement into a board (its submissions are kept); the
    package's own shipped board only with ``shipped=True``.

    >>> rows = regenerate("baselines.jsonl", release="release")
    >>> sorted({str(r.verification) for r in rows}), "metadata@v1" in {r.baseline for r in rows}
    (['reproduced'], True)
    """
    from .board.memo import default
    from .shipped import regenerate as remake

    memo = default()
    try:
        return remake(open_release(release), Path(board), shipped=shipped, memo=memo)
    finally:
        memo.close()


def submit(board: str | os.PathLike[str], file: str | os.PathLike[str], release: ReleaseLike = None,
           **fields: Any) -> Entry:
    """Score a predictions file (or a result with ``predictions=``) and add it to a board; a chat-model run whose
    stored raw answers parse (with the prompt its run record names) to exactly its labels is ``consistent``,
    anything else ``self-reported``: a submission is never ``reproduced``.

    >>> entry = submit("board.jsonl", "preds.csv", release="release", task="stage", name="my model")
    >>> entry.name, str(entry.verification), entry.split
    ('my model', 'self-reported', 'fold')
    """
    from .board.leaderboard import submit as add
    from .board.memo import default
    from .provenance import consistent

    opened = open_release(release)
    path = Path(file)
    predictions = fields.pop("predictions", None)
    raw_from = Path(predictions) if predictions is not None else path
    memo = default()
    try:
        return add(Path(board), path, opened, predictions=Path(predictions) if predictions else None,
                   consistent=lambda preds, record: consistent(preds, record, raw_from), memo=memo, **fields)
    finally:
        memo.close()


def _predictions(value: str | os.PathLike[str] | pl.DataFrame, name: str = "predictions") -> Predictions:
    from .scoring.predictions import from_frame, read_predictions

    if isinstance(value, (str, os.PathLike)):
        return read_predictions(Path(value))
    return from_frame(value, name)
