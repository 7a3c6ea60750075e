"""The annotator verdict on the board: for every entry on a study task's out-of-fold split whose stored
predictions the board re-scored, the figures, claims and third-rater kappas computed from those predictions
(:mod:`..annotator`), and per group the systems' agreement with each other. Computed here from the stored files
through the memo, never read from a board file."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path
from typing import TYPE_CHECKING

from ..annotator import Peers, Summary, judged, verdict
from ..scoring.metrics import MISSING
from ..scoring.predictions import PredictionError, read_predictions
from ..scoring.protocol import N_RESAMPLES
from ..scoring.tasks import REGISTRY, items
from ..stats import cohen_kappa
from .entries import Kind
from .leaderboard import stored
from .memo import Memo, key
from .ranking import Ranked, Status

if TYPE_CHECKING:
    from ..release import Release

JUDGED_SPLIT = "fold"  # the verdict needs a label for every issue: out-of-fold predictions
SHOWN = (Status.RANKED, Status.BELOW_CHANCE, Status.REFERENCE)


def _summary(path: Path, row: Ranked, release: Release, memo: Memo) -> Summary | None:
    task = REGISTRY.get(row.entry.task)
    name = key("verdict", row.entry.predictions_sha256, task.key, release.scored_sha256(task.source.name, task.name),
               release.dataset_version, N_RESAMPLES)
    found = memo.get(name)
    if isinstance(found, dict):
        try:
            return Summary(**found)
        except TypeError:
            pass  # another version's record: computed again
    try:
        summary = Summary.of(verdict(read_predictions(path), task, release, allow_missing=True))
    except PredictionError:
        return None
    memo.put(name, dataclasses.asdict(summary))
    return summary


def _peers(paths: list[tuple[str, Path]], row: Ranked, release: Release, memo: Memo) -> Peers | None:
    if len(paths) < 2:
        return None
    task = REGISTRY.get(row.entry.task)
    name = key("peers", sorted(d for d, _ in paths), task.key, row.entry.split,
               release.scored_sha256(task.source.name, task.name))
    found = memo.get(name)
    if isinstance(found, dict):
        return Peers(**found)
    ids = items(task, release, row.entry.split)["issue_id"].to_list()
    labels = [read_predictions(p).labels_for(ids, MISSING) for _, p in paths]
    kappas = [k for a, b in itertools.combinations(labels, 2) if not math.isnan(k := cohen_kappa(a, b))]
    if not kappas:
        return None
    peers = Peers(sum(kappas) / len(kappas), len(paths))
    memo.put(name, dataclasses.asdict(peers))
    return peers


def attach(rows: list[Ranked], release: Release, board: Path, memo: Memo) -> list[Ranked]:
    """The rows with their verdicts (study tasks, out-of-fold, predictions stored and re-scored) and their
    group's model-model agreement (the ranked kinds with stored predictions, two or more)."""
    out = []
    groups: dict[str, list[tuple[str, Path]]] = {}
    for row in rows:
        entry = row.entry
        path = stored(board, entry, memo) if row.status in SHOWN and entry.kind is not Kind.AGREEMENT else None
        if path is not None and entry.kind.ranked:
            groups.setdefault(row.group, []).append((entry.predictions_sha256 or "", path))
        task = REGISTRY.get(entry.task) if entry.task in REGISTRY else None
        fits = path is not None and task is not None and judged(task) and entry.split == JUDGED_SPLIT
        out.append(dataclasses.replace(row, verdict=_summary(path, row, release, memo) if fits and path else None))
    peers = {group: _peers(paths, next(r for r in out if r.group == group), release, memo)
             for group, paths in groups.items()}
    return [dataclasses.replace(r, peers=peers.get(r.group)) for r in out]
