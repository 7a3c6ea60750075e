"""Frozen, seeded splits over issues (the unit a classifier sees), shipped as the ``splits`` config: one set
of rows per task, stratified on the task's own label (the first defect's, in the task's label space).

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
# Fold seeds the board re-deals the folds with to show how much one dealing decides (its own baselines and chance
# lines only); the first is the release's frozen dealing, which every submission is scored on.
FOLD_SEEDS = tuple(SEED + k for k in range(5))
# The dealing that keeps every repository in one fold (generalization to unseen repositories), for the board's own.
BY_REPOSITORY = "repository"
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


def grouped_folds(ids: list[str], groups: list[str], n_folds: int = N_FOLDS) -> dict[str, int]:
    """Fold of every id with whole groups (repositories) in one fold each: largest group first, each to the fold
    holding the fewest items so far (ties: the lower fold), so no repository is on both sides of a round."""
    members: dict[str, list[str]] = defaultdict(list)
    for issue, group in zip(ids, groups, strict=True):
        members[group].append(issue)
    sizes, folds = [0] * n_folds, {}
    for group in sorted(members, key=lambda g: (-len(members[g]), g)):
        fold = min(range(n_folds), key=lambda f: (sizes[f], f))
        sizes[fold] += len(members[group])
        folds.update(dict.fromkeys(members[group], fold))
    return folds


def stratified_holdout(ids: list[str], strata: list[str], seed: int,
                       fraction: float = TEST_FRACTION) -> dict[str, str]:
    """train/test of every id: each stratum sends round(fraction x its size) members to test, at least one
    when it has two or more, so every class that can be on both sides is (the rest stay in train)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for issue, stratum in zip(ids, strata, strict=True):
        groups[stratum].append(issue)
    sides = {}
    for members in groups.values():
        ordered = sorted(members, key=lambda member: _rank(seed, member))
        n_test = max(1, round(len(ordered) * fraction)) if len(ordered) >= 2 else 0
        sides.update({issue: TEST if i < n_test else TRAIN for i, issue in enumerate(ordered)})
    return sides


def repository_holdout(issues: pl.DataFrame, seed: int = SEED) -> set[str]:
    """Whole repositories for the test side, in seeded order, until about a fifth of the issues are there;
    zoo and solo repositories alternate so both kinds are held out."""
    by_kind: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for repo, kind, n in issues.group_by("repo", "repo_type").len().rows():
        by_kind[kind].append((repo, n))
    for members in by_kind.values():
        members.sort(key=lambda m: _rank(seed, m[0]))
    held: set[str] = set()
    budget, total = TEST_FRACTION * issues.height, 0
    queues = [by_kind[k] for k in sorted(by_kind)]
    while total < budget and any(queues):
        for queue in queues:
            while queue and total < budget:
                repo, n = queue.pop(0)
                if total + n <= budget * REPO_OVERSHOOT:  # a repository that would overshoot is skipped, not split
                    held.add(repo)
                    total += n
                    break
    return held


def assign(population: pl.DataFrame, held_repos: set[str], seed: int = SEED) -> pl.DataFrame:
    """Every split for a population (issue_id, stratum, repo, issue_created_at), one row per issue."""
    import polars as pl

    frame = population.sort("issue_id")
    ids, strata = frame["issue_id"].to_list(), frame["stratum"].to_list()
    folds = stratified_folds(ids, strata, seed)
    holdout = stratified_holdout(ids, strata, seed + 1)
    return pl.DataFrame({
        "issue_id": ids, "stratum": strata, "holdout": [holdout[i] for i in ids], "fold": [folds[i] for i in ids],
        "repo_holdout": [TEST if r in held_repos else TRAIN for r in frame["repo"].to_list()],
        "temporal": [TEST if t is not None and t >= TEMPORAL_CUTOFF else TRAIN
                     for t in frame["issue_created_at"].to_list()],
    }, schema={"issue_id": pl.String, "stratum": pl.String, "holdout": pl.String, "fold": pl.Int32,
               "repo_holdout": pl.String, "temporal": pl.String})
