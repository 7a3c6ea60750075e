"""The leaderboard that ships in every release, regenerated from what it shows (never typed in).

It sits above the board and the systems (it runs the one and fills the other), as ``build`` does.
``cvreeng-bench leaderboard regenerate`` reruns, for every current task on its main split: the
``metadata`` baseline (ranked; where the task's items have text here, the text baselines too, on each text track
but the full thread: triage for issues and posts, symptom and analysis for the analysts' notes);
the chance lines (``majority``, ``repo-majority`` and ``stratified``, the mean over its seeds in every score
field, with the spread); and the raters' agreement on every linked workbook item (rater 1 against the
released gold, which follows rater 2 wherever the two can be compared). Single-run predictions are stored
under ``board/submissions/``, so any board re-scores them and shows them as reproduced.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__
from .board.entries import SHIPPED, SUBMISSIONS, Entry, Kind, LeaderboardError, Tier, read_strict, update
from .board.leaderboard import BOARD_ROUNDS, from_result, record_tier
from .board.memo import Memo, default
from .scoring.agreement import FINAL_PHASE, TASK_DIMENSIONS, task_ceiling
from .scoring.evaluate import evaluate, fold_spread, items_and_gold
from .scoring.metrics import MISSING, chance_test, permutation_test, score
from .scoring.populations import ReleaseTables
from .scoring.predictions import from_frame, write_predictions
from .scoring.protocol import ALPHA, N_RESAMPLES
from .scoring.results import Result
from .scoring.splits import BY_REPOSITORY, FOLD_SEEDS, SEED
from .scoring.tasks import ALL, REGISTRY, Task
from .systems.baselines import BASELINES, EMBEDDINGS_EXTRA, named, run

if TYPE_CHECKING:
    from .release import Release


@dataclass(frozen=True)
class _Dealing:
    """One dealing of a task's folds (a fold seed): the gold, and the chance lines' scores and labels under it."""

    ids: list[str]
    gold: list[list[str]]
    chance: float  # the strongest chance line's score (the stratified line: its mean over its seeds)
    reference: list[str]  # the labels of the strongest single-run chance line (majority or per-repository majority)


def _dealt(name: str, task: Task, release: Release, track: str, fold_seed: int | str,
           ) -> tuple[float, list[list[str]]]:
    """A baseline's main score under one dealing (the mean over its seeds) and each seed's labels, in item order."""
    baseline = BASELINES.get(name)
    ids, gold = items_and_gold(task, release, ALL)
    scores, labels = [], []
    for seed in range(baseline.seeds):
        frame = run(name, task, release, seed=seed, track=track, fold_seed=None if fold_seed == SEED else fold_seed)
        labels.append(from_frame(frame, name).labels_for(ids, MISSING))  # out-of-fold: every item labeled once
        scores.append(score(gold, labels[-1], task.labels, n_resamples=0).as_dict()["scores"][task.main_score])
    return statistics.fmean(scores), labels


def _dealing(task: Task, release: Release, fold_seed: int) -> _Dealing:
    """The chance lines under one dealing, once per task and fold seed on a release object."""
    def compute() -> _Dealing:
        ids, gold = items_and_gold(task, release, ALL)
        lines = {b.name: _dealt(b.name, task, release, "metadata", fold_seed)
                 for b in BASELINES if b.shipped and b.reference and b.fits(task)}
        single = max((name for name in lines if BASELINES.get(name).seeds == 1), key=lambda n: lines[n][0])
        return _Dealing(ids, gold, max(value for value, _ in lines.values()), lines[single][1][0])

    return release.memo(("fold-seed-dealing", task.key, fold_seed), compute)


def _fold_seeds(entry: Entry, task: Task, release: Release, name: str, *, track: str,
                frozen: tuple[float, list[list[str]]]) -> Entry:
    """The entry with its scores over :data:`FOLD_SEEDS` (the folds dealt again with each seed): their mean and
    spread; its score when whole repositories are dealt to folds (where items have one); and, for a ranked kind,
    under how many dealings it beats every chance line of that dealing (a score above the strongest, and both the
    label-permutation test and the paired test against the strongest single-run line at 5%, with the board's
    rounds)."""
    scores, beats = [], 0
    for fold_seed in FOLD_SEEDS:
        value, labels = frozen if fold_seed == SEED else _dealt(name, task, release, track, fold_seed)
        scores.append(value)
        if entry.kind is Kind.BASELINE:
            dealing = _dealing(task, release, fold_seed)
            metric = task.main_score
            beats += (value > dealing.chance
                      and chance_test(dealing.gold, labels[0], task.labels, metric, n_rounds=BOARD_ROUNDS).p_value
                      <= ALPHA
                      and permutation_test(dealing.gold, labels[0], dealing.reference, task.labels, metric,
                                           n_rounds=BOARD_ROUNDS).p_value <= ALPHA)
    grouped = _dealt(name, task, release, track, BY_REPOSITORY)[0] if task.source.repo_column else None
    return entry.replace(fold_seeds=len(FOLD_SEEDS), fold_seed_mean=statistics.fmean(scores),
                         fold_seed_sd=statistics.stdev(scores),
                         beats_chance_folds=beats if entry.kind is Kind.BASELINE else None, repo_fold_score=grouped)


def _baseline(task: Task, release: Release, name: str, *, today: str, n_resamples: int, store: Path | None,
              track: str = "metadata", fold_seeds: bool = True) -> Entry:
    baseline = BASELINES.get(name)
    results, frames = [], []
    for seed in range(baseline.seeds):
        frame = run(name, task, release, seed=seed, track=track)
        predictions = from_frame(frame, f"{name}-{seed}")
        results.append(evaluate(predictions, task, release, n_resamples=n_resamples, track=track))
        frames.append((frame, predictions))
    result = Result.from_dict({**results[0].to_dict(), "date": today})
    kind = Kind.TRIVIAL if baseline.reference else Kind.BASELINE
    spread = fold_spread(frames[0][1], task, release) if task.split == "fold" else None
    seeds = f"seeds 0-{baseline.seeds - 1}" if baseline.seeds > 1 else "seed 0"
    entry = from_result(result, name=f"baseline: {baseline.name}", kind=kind, verification=Tier.REPRODUCED,
                        fold_sd=spread, notes=f"cvreeng-bench {baseline.name} baseline ({baseline.description})",
                        baseline=baseline.key, trained="zero-shot" if baseline.zero_shot else "out-of-fold",
                        evidence=f"the board ran baseline {baseline.key} ({seeds}, {track} track) on the release's "
                                 f"data {result.content_sha256[:12]} itself")
    if fold_seeds and task.split == "fold" and not baseline.zero_shot:  # a zero-shot one learns from no fold
        ids, _ = items_and_gold(task, release, ALL)
        frozen = (statistics.fmean(r.score for r in results), [p.labels_for(ids, MISSING) for _, p in frames])
        entry = _fold_seeds(entry, task, release, name, track=track, frozen=frozen)
    if baseline.seeds > 1:
        def mean(metric: str) -> float:
            return statistics.fmean(r.scores[metric] for r in results)

        scores = [r.score for r in results]
        return entry.replace(score=mean(task.main_score), accuracy=mean("accuracy"), macro_f1=mean("macro_f1"),
                             kappa=mean("kappa"), score_sd=statistics.stdev(scores), seeds=baseline.seeds,
                             ci_low=min(scores), ci_high=max(scores), predictions_sha256=None, fold_sd=None,
                             notes=f"{entry.notes}; mean over seeds 0-{baseline.seeds - 1} in every score field; "
                                   "interval: lowest and highest seed")
    if store is not None:
        store.mkdir(parents=True, exist_ok=True)
        write_predictions(frames[0][0], store / f"{frames[0][1].digest}.csv")
    return entry


def _agreement(task: Task, release: Release, today: str, n_resamples: int) -> Entry | None:
    found = task_ceiling(release, task, FINAL_PHASE, n_resamples=n_resamples)
    if found is None:
        return None
    rater = found["rater_1_vs_gold"]
    result = Result(
        task=task.name, task_version=task.version, split=task.split, track="metadata", main_score=task.main_score,
        dataset_version=release.dataset_version, content_sha256=release.scored_sha256(task.source.name, task.name),
        package_version=__version__,
        predictions_sha256="", date=today, n=rater["n"], labels=list(task.labels), scores=rater["scores"],
        ci95=rater["ci95"], per_label=[], confusion=None, n_resamples=n_resamples, seed=0,
        labels_public_since=release.manifest.labels_public_since)
    flag = f"; instrument differed: {found['instrument_flag']}" if found["instrument_flag"] else ""
    entry = from_result(result, name="agreement: rater 1 vs rater 2 (gold)", kind=Kind.AGREEMENT,
                        verification=Tier.REPRODUCED,
                        evidence="the board computed it from the release's annotations config itself",
                        notes=f"inter-rater agreement on all {rater['n']} {FINAL_PHASE}-phase workbook items linked to "
                              f"issues (not a ceiling); {rater['outside_label_space']} rater values outside the label "
                              f"space count as errors{flag}")
    return entry.replace(predictions_sha256=None)


def text_baselines(release: Release, task: Task) -> list[str]:
    """The text baselines a task can run on a release: none where its population has no texts here (a study
    task without issue texts; a post and a note always have theirs); the embedding ones need the extra."""
    if not task.source.has_texts(ReleaseTables(release)):
        return []
    return [b.name for b in BASELINES if b.needs_text and b.runs_here()]


def text_tracks(task: Task) -> list[str]:
    """The tracks the shipped board runs text baselines on: every text track but the full thread (which often holds
    the fix; a user's hydrated release can score it)."""
    return [t for t in task.tracks if t not in ("metadata", "full-thread")]


def entries(release: Release, *, n_resamples: int = N_RESAMPLES, today: str | None = None,
            store: Path | None = None, fold_seeds: bool = True) -> list[Entry]:
    """Board entries for every current task: ranked baselines, chance lines and the raters' agreement; the
    single-run baselines' predictions are written into ``store`` when one is given."""
    today = today or datetime.now(UTC).date().isoformat()
    rows = []
    for task in REGISTRY.latest():
        if not release.has(task.source.config):
            continue
        for baseline in BASELINES:
            if baseline.shipped and baseline.fits(task):
                rows.append(_baseline(task, release, baseline.name, today=today, n_resamples=n_resamples,
                                      store=store, fold_seeds=fold_seeds))
        for track in text_tracks(task):  # with texts: the text baselines on each text track
            rows += [_baseline(task, release, name, today=today, n_resamples=n_resamples, store=store, track=track,
                               fold_seeds=fold_seeds) for name in text_baselines(release, task)]
        if task.source.agreement and not task.mapped and task.dimension in TASK_DIMENSIONS:
            agreement = _agreement(task, release, today, n_resamples)
            if agreement is not None:
                rows.append(agreement)
    return rows


def baseline_entry(task: Task, release: Release, name: str, track: str, n_resamples: int = N_RESAMPLES, *,
                   fold_seeds: bool = True) -> Entry:
    """The entry the board makes for a package baseline (its predictions are not stored); ``fold_seeds=False``
    leaves out the scores under other dealings of the folds (their fields stay empty)."""
    return _baseline(task, release, name, today="", n_resamples=n_resamples, store=None, track=track,
                     fold_seeds=fold_seeds)


def agreement_entry(task: Task, release: Release, n_resamples: int = N_RESAMPLES) -> Entry | None:
    return _agreement(task, release, "", n_resamples)


def _package_made(entry: Entry) -> bool:
    """Baselines, chance lines and the agreement: only the package makes them (``add`` makes submissions)."""
    return entry.kind is not Kind.SUBMISSION


def regenerate(release: Release, board: Path, *, shipped: bool = False, memo: Memo | None = None,
               fold_seeds: bool = True) -> list[Entry]:
    """Re-run every package baseline (and the raters' agreement) into ``board``: its package-made entries are
    replaced, its submissions kept. Refused for the package's own shipped board unless ``shipped``, and refused
    when an entry of the board belongs to a baseline this machine cannot run (never dropped for a missing extra).
    Stored prediction files that no entry names are removed."""
    if board.resolve() == SHIPPED.resolve() and not shipped:
        raise LeaderboardError(f"{board} is the package's shipped board; write it only on purpose (--shipped)")
    if not board.parent.is_dir():
        raise LeaderboardError(f"{board.parent} is not a folder; create it first")
    current = read_strict(board) if board.exists() else []
    cannot = sorted({e.baseline for e in current if e.baseline is not None
                     and (baseline := named(e.baseline)) is not None and not baseline.runs_here()})
    if cannot:
        raise LeaderboardError(f"{board} holds entries of {', '.join(cannot)}, which need the embeddings extra on this "
                               f"machine; regenerating would drop them. Install it first: {EMBEDDINGS_EXTRA}")
    folder = board.parent / SUBMISSIONS
    if shipped and not fold_seeds:
        raise LeaderboardError("the shipped board carries the fold-seed scores; regenerate it with them")
    made = entries(release, store=folder, fold_seeds=fold_seeds)
    # Under the board's lock: a submission added while the baselines ran is kept, never overwritten.
    rows = update(board, lambda now: [*made, *(e for e in now if not _package_made(e))])
    keep = {r.predictions_sha256 for r in rows}
    for path in folder.glob("*"):
        if path.name.split(".")[0] not in keep:
            path.unlink()
    memo = memo or default()
    for row in rows:
        if _package_made(row):
            record_tier(memo, row)
    return rows
