"""The board: typed entries (:mod:`.entries`), submission, re-scoring and ranking (:mod:`.leaderboard`),
and the views (:mod:`.view`). It imports the scorer and no system: a system's run reaches it only as a
predictions file and a run record."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .entries import SHIPPED, LeaderboardError

if TYPE_CHECKING:
    from ..release import Release
    from .entries import Entry
    from .leaderboard import Rederive
    from .memo import Memo
    from .ranking import Ranked


def resolve(board: Path | None) -> Path:
    """The board file to show: the package's shipped board when none is named; a named board must exist."""
    if board is None:
        return SHIPPED
    if not board.is_file():
        raise LeaderboardError(f"no board at {board}; name an existing board file (without --board: the shipped "
                               "board)")
    return board


def _entries(board: Path | None, release: Release, warn: list[str] | None) -> tuple[Path, list[Entry]]:
    """The board's path and the entries this release can score; lines that are not entries are listed in ``warn``.
    A board in which no line is an entry (a CSV given by mistake) is refused."""
    from .entries import read

    path = resolve(board)
    entries, skipped = read(path)
    if skipped and not entries:
        raise LeaderboardError(f"{path} is not a board: none of its lines is an entry ({skipped[0]})")
    if warn is not None:
        warn.extend(skipped)
    entries, elsewhere = _scorable(entries, release)
    if warn is not None and elsewhere:
        warn.extend(f"{n} entries of task {name} not shown: {why}" for name, (n, why) in sorted(elsewhere.items()))
    return path, entries


def ranked(board: Path | None, release: Release, *, task: str | None = None, verified_only: bool = False,
           warn: list[str] | None = None, memo: Memo | None = None) -> list[Ranked]:
    """The board's entries re-scored (through the memo) and ranked; no system runs."""
    from .memo import default
    from .ranking import rank
    from .verdicts import attach
    from .view import select

    path, entries = _entries(board, release, warn)
    memo = memo or default()
    return attach(select(rank(entries, release, path, memo=memo), task, verified_only), release, path, memo)


def verify(board: Path | None, release: Release, rederive: Rederive, *, memo: Memo,
           warn: list[str] | None = None) -> list[tuple[Entry, bool]]:
    """Re-check every claimed tier of a board through ``rederive`` and record in ``memo`` the ones that hold."""
    from .leaderboard import verify_entries

    path, entries = _entries(board, release, warn)
    return verify_entries(entries, path, rederive, memo)


def _scorable(entries: list[Entry], release: Release) -> tuple[list[Entry], dict[str, tuple[int, str]]]:
    """The entries whose task's items this release holds, and per other task how many and why not."""
    from ..scoring.tasks import REGISTRY

    kept: list[Entry] = []
    elsewhere: dict[str, tuple[int, str]] = {}
    for entry in entries:
        source = REGISTRY.get(entry.task).source if entry.task in REGISTRY else None
        if source is None or release.has(source.config):
            kept.append(entry)
            continue
        why = release.why_absent(source.name)
        count, _ = elsewhere.get(entry.task, (0, why))
        elsewhere[entry.task] = (count + 1, f"this release was built without source {source.name} ({why})")
    return kept, elsewhere
