"""The board for notebooks and the command line: read (no system runs), add, verify, regenerate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data import ReleaseLike, open_release

if TYPE_CHECKING:
    from ..board.entries import Entry
    from ..board.ranking import Ranked


def leaderboard(board: str | os.PathLike[str] | None = None, release: ReleaseLike = None, *,
                task: str | None = None, verified_only: bool = False, warn: list[str] | None = None) -> list[Ranked]:
    """The board (default: the shipped one) re-scored and ranked, as typed rows. Reads only: re-scores come from
    this machine's memo once computed, and no system is run.

    >>> rows = leaderboard(release="release", task="stage")
    >>> {r.entry.task for r in rows}, {r.status for r in rows} <= {"ranked", "below chance", "reference", "older"}
    ({'stage'}, True)
    """
    from .. import board as boards
    from ..board.memo import default

    with default() as memo:
        return boards.ranked(Path(board) if board is not None else None, open_release(release), task=task,
                             verified_only=verified_only, warn=warn, memo=memo)


def verify(board: str | os.PathLike[str] | None = None, release: ReleaseLike = None, *,
           warn: list[str] | None = None) -> list[tuple[Entry, bool]]:
    """Re-check every tier a board's entries claim (re-run package baselines, recompute the raters' agreement,
    re-parse stored model answers); those that hold are shown with their tier from then on on this machine.

    >>> checked = verify("baselines.jsonl", release="release")  # the board regenerate's example wrote
    >>> len(checked) > 10, all(held for _, held in checked)
    (True, True)
    """
    from .. import board as boards
    from ..board.memo import default
    from ..provenance import rederive

    opened = open_release(release)
    with default() as memo:
        return boards.verify(Path(board) if board is not None else None, opened,
                             lambda entry, path: rederive(entry, path, opened), memo=memo, warn=warn)


def regenerate(board: str | os.PathLike[str], release: ReleaseLike = None, *, shipped: bool = False,
               fold_seeds: bool = True) -> list[Entry]:
    """Re-run every package baseline and the raters' agreement into a board (its submissions are kept); the
    package's own shipped board only with ``shipped=True``. ``fold_seeds=False``: without the scores under other
    dealings of the folds (about a third of the time; the entries then claim none).

    >>> rows = regenerate("baselines.jsonl", release="release", fold_seeds=False)  # quicker: no fold-seed scores
    >>> sorted({str(r.verification) for r in rows}), "metadata@v2" in {r.baseline for r in rows}
    (['reproduced'], True)
    """
    from ..board.memo import default
    from ..shipped import regenerate as remake

    with default() as memo:
        return remake(open_release(release), Path(board), shipped=shipped, memo=memo, fold_seeds=fold_seeds)


def submit(board: str | os.PathLike[str], file: str | os.PathLike[str], release: ReleaseLike = None,
           **fields: Any) -> Entry:
    """Score a predictions file (or a result with ``predictions=``) and add it to a board; a chat-model run whose
    stored raw answers parse (with the prompt its run record names) to exactly its labels is ``consistent``,
    anything else ``self-reported``: a submission is never ``reproduced``.

    >>> entry = submit("board.jsonl", "preds.csv", release="release", task="stage", name="my model")
    >>> entry.name, str(entry.verification), entry.split
    ('my model', 'self-reported', 'fold')
    """
    from ..board.leaderboard import submit as add
    from ..board.memo import default
    from ..provenance import consistent

    opened = open_release(release)
    path = Path(file)
    predictions = fields.pop("predictions", None)
    raw_from = Path(predictions) if predictions is not None else path
    with default() as memo:
        return add(Path(board), path, opened, predictions=Path(predictions) if predictions else None,
                   consistent=lambda preds, record: consistent(preds, record, raw_from), memo=memo, **fields)
