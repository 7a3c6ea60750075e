"""Frozen, seeded splits over issues (the unit a classifier sees), shipped as the ``splits`` config.

Every assignment is a pure function of the issue ids, their strata and a seed: issues are ordered within
each stratum by sha256(seed, issue id) and dealt out in turn, so regenerating on any machine gives the
same split without a random-number generator. An issue is one row, so no issue can sit on both sides; the defects of an
issue follow it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

SEED = 20240101
TEST_FRACTION = 0.2
N_FOLDS = 5
# Issues opened on or after this instant are the temporal test side (88 of 427, about a fifth).
TEMPORAL_CUTOFF = datetime(2020, 1, 1, tzinfo=UTC)
SPLITS = ("holdout", "fold", "repo_holdout", "temporal")
SIDED = ("holdout", "repo_holdout", "temporal")  # columns holding train/test; "fold" holds 0 .. N_FOLDS-1
TRAIN, TEST = "train", "test"
# Leave-repositories-out may overshoot its test budget by this factor rather than split a repository.
REPO_OVERSHOOT = 1.1


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def stratified_folds(ids: list[str], strata: list[str], seed: int, n_folds: int = N_FOLDS) -> dict[str, int]:
    """Fold of every id: within each stratum, members in seeded order are dealt to folds in turn.

    The dealing continues across strata (in name order), so every stratum is spread over the folds as
    evenly as its size allows and the folds differ in size by at most one.
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for issue, stratum in zip(ids, strata, strict=True):
        groups[stratum].append(issue)
    folds, dealt = {}, 0
    for stratum in sorted(groups):
        for issue in sorted(groups[stratum], key=lambda member: _rank(seed, member)):
            folds[issue] = dealt % n_folds
            dealt += 1
    return folds


def make_splits(issues: pl.DataFrame, defects: pl.DataFrame, seed: int = SEED) -> pl.DataFrame:
    """One row per sampled issue with its side in every split."""
    import polars as pl

    first = (defects.sort("defect_index").group_by("issue_id", maintain_order=True)
             .agg(pl.col("stage").first().alias("primary_stage")))
    frame = issues.join(first, on="issue_id", how="left").with_columns(
        pl.when(pl.col("is_reengineering")).then(pl.col("primary_stage").fill_null("?"))
        .otherwise(pl.lit("not reengineering")).alias("stratum")).sort("issue_id")
    ids, strata = frame["issue_id"].to_list(), frame["stratum"].to_list()
    folds = stratified_folds(ids, strata, seed)
    fold = [folds[i] for i in ids]
    # The stratified holdout is its own dealing into 1 / TEST_FRACTION parts (a different seed), test = part 0.
    parts = stratified_folds(ids, strata, seed + 1, round(1 / TEST_FRACTION))
    holdout = ["test" if parts[i] == 0 else "train" for i in ids]

    # Leave repositories out: whole repositories to the test side, in seeded order, until about a fifth
    # of the issues are there; zoo and solo repositories alternate so both kinds are held out.
    per_repo = frame.group_by("repo", "repo_type").len().rows()
    by_kind: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for repo, kind, n in per_repo:
        by_kind[kind].append((repo, n))
    for members in by_kind.values():
        members.sort(key=lambda m: _rank(seed, m[0]))
    held: set[str] = set()
    budget, total = TEST_FRACTION * frame.height, 0
    queues = [by_kind[k] for k in sorted(by_kind)]
    while total < budget and any(queues):
        for queue in queues:
            while queue and total < budget:
                repo, n = queue.pop(0)
                if total + n <= budget * REPO_OVERSHOOT:  # a repository that would overshoot is skipped, not split
                    held.add(repo)
                    total += n
                    break
    repo_holdout = ["test" if r in held else "train" for r in frame["repo"].to_list()]
    temporal = ["test" if t is not None and t >= TEMPORAL_CUTOFF else "train"
                for t in frame["issue_created_at"].to_list()]
    return pl.DataFrame({
        "issue_id": ids, "stratum": strata, "holdout": holdout, "fold": fold,
        "repo_holdout": repo_holdout, "temporal": temporal,
    }, schema={"issue_id": pl.String, "stratum": pl.String, "holdout": pl.String, "fold": pl.Int32,
               "repo_holdout": pl.String, "temporal": pl.String})
