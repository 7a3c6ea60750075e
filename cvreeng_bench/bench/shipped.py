"""The leaderboard that ships in every release, regenerated from what it ranks (never typed in).

``cvreeng-bench leaderboard regenerate`` reruns every shipped baseline on every current task (default
split) and the human ceiling on the tasks both raters labeled, scores them with the harness, and writes
``cvreeng_bench/bench/leaderboard.jsonl``. Adding a task is one registry entry plus this command.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from .baselines import BASELINES, run
from .ceiling import FINAL_PHASE, TASK_DIMENSIONS, agreement, pairs
from .evaluate import evaluate
from .leaderboard import entry
from .protocol import N_RESAMPLES
from .results import Result
from .tasks import REGISTRY

if TYPE_CHECKING:
    from ..release import Release

SEED = 0


def entries(release: Release, *, n_resamples: int = N_RESAMPLES, today: str | None = None) -> list[dict[str, Any]]:
    """Board rows: each shipped baseline on every task, then the human ceiling (final phase)."""
    today = today or datetime.now(UTC).date().isoformat()
    rows = []
    shipped = [b for b in BASELINES.values() if b.shipped]
    with tempfile.TemporaryDirectory() as tmp:
        for task in REGISTRY.latest():
            for baseline in shipped:
                path = Path(tmp) / f"{task.name}-{baseline.name}.csv"
                run(baseline.name, task, release, seed=SEED).write_csv(path)
                result = evaluate(path, task, release, n_resamples=n_resamples)
                rows.append(entry(Result.from_dict({**result.to_dict(), "date": today}),
                                  name=f"baseline: {baseline.name}", kind="baseline",
                                  notes=f"cvreeng-bench baseline, seed {SEED}"))
    notes = release.frame("annotations")
    for task in REGISTRY.latest():
        if task.dimension not in TASK_DIMENSIONS:
            continue
        a, b = pairs(notes, FINAL_PHASE, task.dimension)
        agreed = agreement(a, b, n_resamples=n_resamples)
        result = Result(
            task=task.name, task_version=task.version, split=f"annotations:{FINAL_PHASE}",
            main_score=task.main_score, dataset_version=release.dataset_version,
            content_sha256=release.content_sha256, package_version=__version__, date=today,
            predictions_sha256=hashlib.sha256(json.dumps([a, b]).encode()).hexdigest(), n=agreed["n"],
            mode="single", labels=sorted(set(a) | set(b)), scores=agreed["scores"], ci95=agreed["ci95"],
            per_label=[], confusion=None, n_resamples=n_resamples, seed=SEED)
        rows.append(entry(result, name="human ceiling: rater 2 vs rater 1", kind="human",
                          notes=f"{FINAL_PHASE}-phase double annotations; labels canonicalized where the "
                          "taxonomy maps them"))
    return rows
