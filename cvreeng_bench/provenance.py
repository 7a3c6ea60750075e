"""What a board's verification tiers rest on, checked by running what the package can run.

It sits above the board and the systems (it wires the one to the other, as ``shipped`` does): ``consistent``
re-parses a chat-model run's stored raw answers with the prompt its run record names; ``rederive`` re-makes a
package-made entry (a baseline or chance line re-run, the raters' agreement recomputed) and compares it with the
stored one. Neither is ever called when a board is shown: ``add``, ``regenerate`` and ``verify`` call them and the
board's memo records what held.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .board.entries import FOLD_SEED_FIELDS, Entry, Kind, Tier
from .errors import CvreengError
from .scoring import runs
from .scoring.predictions import read_predictions
from .scoring.tasks import REGISTRY

if TYPE_CHECKING:
    from .release import Release
    from .scoring.predictions import Predictions
    from .scoring.runs import RunRecord

# What must equal between a stored package-made entry and the board's own re-make of it.
SAME = ("name", "kind", "task", "task_version", "split", "track", "baseline", "predictions_sha256", "n", "score",
        "ci_low", "ci_high", "accuracy", "macro_f1", "kappa", "seeds", "score_sd", "fold_sd", "verification", "trained",
        "fold_seeds", "fold_seed_mean", "fold_seed_sd", "beats_chance_folds", "repo_fold_score")


def consistent(predictions: Predictions, record: RunRecord, path: Path) -> bool:
    """Whether the labels are exactly the parse of the raw answers stored in ``path`` (JSONL) by the prompt the run
    record names, with that prompt's content hash."""
    import polars as pl

    from .systems.predict import reproduces

    try:
        frame = pl.read_ndjson(path) if path.suffix.lower() in (".jsonl", ".ndjson") else None
    except pl.exceptions.PolarsError:
        return False
    raw = frame["raw"].to_list() if frame is not None and "raw" in frame.columns else None
    if raw is not None and not all(isinstance(r, list) and all(isinstance(a, str) for a in r) for r in raw):
        return False
    try:
        task = REGISTRY.get(record.task, record.task_version)
        return reproduces(predictions, record, raw, task)
    except CvreengError:
        return False


def _remade(entry: Entry, release: Release, fold_seeds: bool = True) -> Entry | None:
    from .shipped import agreement_entry, baseline_entry
    from .systems.baselines import named

    task = REGISTRY.get(entry.task, entry.task_version)
    if entry.kind is Kind.AGREEMENT:
        return agreement_entry(task, release)
    baseline = named(entry.baseline) if entry.baseline is not None else None
    if baseline is None or baseline.key != entry.baseline or not baseline.runs_here():
        return None
    return baseline_entry(task, release, baseline.key, entry.track, fold_seeds=fold_seeds)


def rederive(entry: Entry, path: Path | None, release: Release, *, fold_seeds: bool | None = None) -> bool:
    """Whether the package re-derives the tier an entry claims: a package-made entry is made again and must equal
    the stored one in every compared field; a consistent one must re-parse from its stored answers and record.
    The scores under other dealings of the folds are re-derived when the entry carries them (None), and must then
    be absent when it does not; ``fold_seeds=False`` (a partial check for a test that times it; never what
    ``verify`` records) leaves them out."""
    if fold_seeds is None:
        fold_seeds = any(getattr(entry, name) is not None for name in FOLD_SEED_FIELDS)
    try:
        if entry.verification is Tier.CONSISTENT:
            if path is None:
                return False
            predictions = read_predictions(path)
            record = runs.read(path, predictions.digest)
            return (record is not None and record.prompt == entry.prompt and record.model == entry.model
                    and consistent(predictions, record, path))
        if entry.verification is Tier.REPRODUCED and entry.kind is not Kind.SUBMISSION:
            remade = _remade(entry, release, fold_seeds)
            if remade is None:
                return False
            mine, theirs = remade.to_row(), entry.to_row()
            return all(mine[f] == theirs[f] for f in SAME if fold_seeds or f not in FOLD_SEED_FIELDS)
    except CvreengError:
        return False
    return False
