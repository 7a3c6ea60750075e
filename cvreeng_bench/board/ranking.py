"""Ranking, protocol v4: ranks that a gamed or lucky entry cannot take.

Per task, split and track, every current entry is re-scored from its stored predictions (:func:`.leaderboard.rescore`,
through the memo) and then:

* **Pools.** Entries whose labels the board produced or checked (``reproduced``, ``consistent``) are ranked in the
  main table; ``self-reported`` ones (the test gold is public) are ranked among themselves in their own table. An
  entry declared trained ``in-sample`` (on the items it is scored on) is never ranked.
* **Near-duplicates.** An entry whose labels agree with a better entry of its pool on more than
  :data:`NEAR_DUPLICATE` of the items is shown, not ranked: it adds no information and would crowd the ranking.
* **Chance.** An entry is ranked only when it beats every chance line of the task on the board: its score is
  above the strongest one's (the stratified line is its mean over seeds), a label-permutation test rejects
  "no association with the gold", and a paired permutation test rejects "no better than the strongest chance line
  with stored predictions"; the larger of the two p-values is adjusted with Holm's method over the pool's
  candidates, so submitting many seeds does not buy a rank.
* **Ranks that do not chain.** rank = 1 + the number of entries of the pool whose 95% interval lies wholly above
  the entry's (as LMSYS's Chatbot Arena ranks models): a tie is a tie with the leader, never a neighbour's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from ..scoring import runs
from ..scoring.evaluate import items_and_gold
from ..scoring.metrics import MISSING, permutation_test
from ..scoring.predictions import read_predictions
from ..scoring.protocol import ALPHA
from ..scoring.tasks import REGISTRY
from .entries import FOLD_SEED_FIELDS, Entry, Kind, Tier
from .leaderboard import BOARD_ROUNDS, NEAR, differs, is_current, rescore, shipped_identities, stored, trusted
from .memo import Memo, default, key

if TYPE_CHECKING:
    from ..annotator import Peers, Summary
    from ..release import Release
    from ..scoring.tasks import Task

NEAR_DUPLICATE = NEAR  # share of identical labels above which an entry is a near-duplicate of a better one
IN_SAMPLE = "in-sample"


class Status(StrEnum):
    RANKED = "ranked"
    BELOW_CHANCE = "below chance"
    NEAR_DUPLICATE = "near-duplicate"
    IN_SAMPLE = "in-sample"
    REFERENCE = "reference"
    UNVERIFIED = "unverified"
    OLDER = "older"


class Pool(StrEnum):
    MAIN = "main"  # reproduced and consistent entries
    SELF_REPORTED = "self-reported"


STATUSES = tuple(Status)


@dataclass(frozen=True)
class Ranked:
    """One entry as the board shows it: rank (an integer, or None when not ranked) and why."""

    entry: Entry
    status: Status
    rank: int | None
    verification: Tier  # as this package judges it (a claim in the file counts only when this package made it)
    p_vs_chance: float | None  # Holm-adjusted, for a candidate of its pool
    reason: str
    pool: Pool = Pool.MAIN
    verdict: Summary | None = None  # the annotator verdict of its stored predictions (see .verdicts)
    peers: Peers | None = None  # its group's model-model agreement

    @property
    def group(self) -> str:
        return f"{self.entry.task}/{self.entry.split}/{self.entry.track}"

    @property
    def table(self) -> str:
        """The table it is shown in: its group, self-reported entries apart."""
        return self.group if self.pool is Pool.MAIN else f"{self.group} (self-reported)"


@dataclass(frozen=True)
class _Candidate:
    entry: Entry
    path: Path
    tier: Tier
    why: str
    low: float
    high: float
    p_chance: float


def holm(p_values: list[float], alpha: float = ALPHA) -> tuple[list[bool], list[float]]:
    """Holm's step-down procedure: which hypotheses are rejected at ``alpha`` (family-wise) and the adjusted
    p-values, in the input order."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    m, running = len(p_values), 0.0
    adjusted = [1.0] * m
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p_values[i]))
        adjusted[i] = running
    return [a <= alpha for a in adjusted], adjusted


@dataclass(frozen=True)
class _Group:
    """What ranking one group reads: the board's entries and folder, the release, the memo, the task and split."""

    entries: list[Entry]
    release: Release
    board: Path
    memo: Memo
    task: Task
    split: str


class _Labels:
    """Each stored file's labels for the group's items, read on first need (a memoized board reads none)."""

    def __init__(self, group: _Group) -> None:
        self.group = group
        self._read: dict[Path, list[str]] = {}

    def __getitem__(self, path: Path) -> list[str]:
        if path not in self._read:
            ids, _ = items_and_gold(self.group.task, self.group.release, self.group.split)
            self._read[path] = read_predictions(path).labels_for(ids, MISSING)
        return self._read[path]


def _memoized(group: _Group, kind: str, a: str, b: str, compute: Callable[[], float]) -> float:
    """A number about two stored predictions (by their digests), from the memo or computed once."""
    release, task = group.release, group.task
    name = key(kind, a, b, task.key, group.split, release.scored_sha256(task.source.name, task.name),
               release.dataset_version, BOARD_ROUNDS)
    found = group.memo.get(name)
    if isinstance(found, (int, float)) and not isinstance(found, bool):
        return float(found)
    value = compute()
    group.memo.put(name, value)
    return value


def _pair_p(group: _Group, a: tuple[str, Path], b: tuple[str, Path], labels: _Labels) -> float:
    """The paired permutation test's p of two stored predictions (memoized by both digests)."""
    def compute() -> float:
        _, gold = items_and_gold(group.task, group.release, group.split)
        return permutation_test(gold, labels[a[1]], labels[b[1]], group.task.labels, group.task.main_score,
                                n_rounds=BOARD_ROUNDS).p_value

    return _memoized(group, "pair", a[0], b[0], compute)


def _twins(group: _Group, ordered: list[_Candidate], labels: _Labels) -> dict[str, tuple[str, float]]:
    """digest -> (the better entry's digest, share of labels alike) for each candidate that agrees with a kept, better
    one on more than NEAR_DUPLICATE of the items (``ordered``: best first). One memo record per set of candidates;
    computed with numpy, each candidate against every kept one at once."""
    digests = [c.entry.predictions_sha256 or "" for c in ordered]
    release, task = group.release, group.task
    name = key("twins", digests, task.key, group.split, release.scored_sha256(task.source.name, task.name),
               release.dataset_version)
    found = group.memo.get(name)
    if isinstance(found, dict) and all(isinstance(v, list) and len(v) == 2 for v in found.values()):
        return {k: (str(v[0]), float(v[1])) for k, v in found.items()}
    import numpy as np

    vocabulary: dict[str, int] = {}
    rows = [np.array([vocabulary.setdefault(x, len(vocabulary)) for x in labels[c.path]]) for c in ordered]
    out: dict[str, tuple[str, float]] = {}
    kept: list[int] = []
    for index, row in enumerate(rows):
        if kept:
            shares = (np.vstack([rows[k] for k in kept]) == row).mean(axis=1)
            best = int(shares.argmax())
            if shares[best] > NEAR_DUPLICATE:
                out[digests[index]] = (digests[kept[best]], float(shares[best]))
                continue
        kept.append(index)
    group.memo.put(name, {k: list(v) for k, v in out.items()})
    return out


@dataclass(frozen=True)
class _Chance:
    """A task's chance lines on the board (same split, any track): the strongest score and its name, and the strongest
    line with stored predictions (digest, path), which the paired test compares against."""

    score: float | None = None
    name: str = ""
    stored: tuple[str, Path] | None = None


def _references(group: _Group) -> _Chance:
    task, split = group.task, group.split
    lines = [e for e in group.entries if e.kind is Kind.TRIVIAL and e.task == task.name and e.split == split
             and e.score is not None and is_current(e, group.release, task)]
    if not lines:
        return _Chance()
    top = max(lines, key=lambda e: e.score or 0.0)
    with_files = [(e, path) for e in lines if (path := stored(group.board, e, group.memo)) is not None]
    if not with_files:
        return _Chance(top.score, top.name)
    best, path = max(with_files, key=lambda pair: pair[0].score or 0.0)
    return _Chance(top.score, top.name, (best.predictions_sha256 or "", path))


def rank(entries: list[Entry], release: Release, board: Path, *, memo: Memo | None = None) -> list[Ranked]:
    """Every entry with its status, grouped by task, split and track (groups sorted, best first). Reads only:
    stored predictions are re-scored through the memo (this user's, unless one is given), and no system is run."""
    memo = memo or default()
    shipped = shipped_identities()
    tasks = {name: REGISTRY.get(name) if name in REGISTRY else None for name in {e.task for e in entries}}
    out: list[Ranked] = []
    chance: dict[tuple[str, str], _Chance] = {}
    for group_key in sorted({e.key for e in entries}, key=lambda k: (k[0], -k[1], k[2], k[3])):
        task = tasks[group_key[0]]  # a group is one task (its version too)
        pools: dict[Pool, list[_Candidate]] = {Pool.MAIN: [], Pool.SELF_REPORTED: []}
        for entry in (e for e in entries if e.key == group_key):
            tier, why = trusted(entry, memo, shipped)
            pool = Pool.MAIN if tier is not Tier.SELF_REPORTED else Pool.SELF_REPORTED

            def shown(status: Status, reason: str, *, entry: Entry = entry, tier: Tier = tier, why: str = why,
                      pool: Pool = pool) -> Ranked:
                return Ranked(entry, status, None, tier, None, "; ".join(r for r in (reason, why) if r), pool)

            if task is None or not is_current(entry, release, task):
                out.append(shown(Status.OLDER, "scored on another version of the task or on other data"))
                continue
            if not entry.ranked_kind:
                out.append(shown(Status.REFERENCE, "reference line"))
                continue
            path = stored(board, entry, memo)
            if path is None:
                out.append(shown(Status.UNVERIFIED, "stored predictions missing or changed"))
                continue
            mine = rescore(entry, task, path, release, memo)
            problem = mine if isinstance(mine, str) else (differs(entry, mine) or _derived(entry, task, release, path))
            if isinstance(mine, str) or problem:
                out.append(shown(Status.UNVERIFIED, problem))
                continue
            if entry.trained == IN_SAMPLE:
                out.append(shown(Status.IN_SAMPLE, "declared trained in-sample, on the items it is scored on: never "
                                 "ranked"))
                continue
            pools[pool].append(_Candidate(entry, path, tier, why, mine["ci_low"], mine["ci_high"], mine["p_chance"]))
        if task is not None:
            group = _Group(entries, release, board, memo, task, group_key[2])
            if (task.key, group.split) not in chance:  # the tracks of a task share its chance lines
                chance[(task.key, group.split)] = _references(group)
            for pool, candidates in pools.items():
                out += _rank_pool(group, candidates, pool, chance[(task.key, group.split)])
    order = {s: i for i, s in enumerate(STATUSES)}
    return sorted(out, key=lambda r: (r.group, r.pool != Pool.MAIN, order[r.status], r.rank or 0,
                                      -(r.entry.score or 0.0)))


def _derived(entry: Entry, task: Task, release: Release, path: Path) -> str:
    """Where a stored field the board can derive (the labels' public date of the task's population, the
    contamination flag from the model's cut-off; a submission's model and prompt from the run record beside its
    predictions, its one seed) disagrees with the board's own, or a field only the board makes (the fold-seed scores
    of a baseline it ran, a spread over seeds or folds) sits on a submission: a hand edit shows."""
    public = task.source.labels_public_since or release.manifest.labels_public_since
    risk = bool(entry.model_cutoff and public and entry.model_cutoff >= public)
    off = [f"{name} {said!r} (the board derives {derived!r})" for name, said, derived in (
        ("labels_public_since", entry.labels_public_since, public), ("contamination_risk", entry.contamination_risk,
                                                                     risk)) if said != derived]
    if entry.kind is Kind.SUBMISSION:
        made = [name for name in (*FOLD_SEED_FIELDS, "score_sd", "fold_sd") if getattr(entry, name) is not None]
        if made or entry.seeds not in (None, 1):
            off.append(f"{', '.join(made) or 'seeds'} (the board scored one predictions file; only it makes spreads "
                       "and fold-seed scores, for the baselines it runs)")
        try:
            record = runs.read(path, entry.predictions_sha256 or "")
        except runs.RunRecordError:
            record = None
        for name, said, recorded in (("model", entry.model, record.model if record else None),
                                     ("prompt", entry.prompt, record.prompt if record else None)):
            if said != recorded:
                off.append(f"{name} {str(said)[:60]!r} (the run record beside the predictions says {recorded!r})")
    return "stored fields differ from what the board derives: " + "; ".join(off) if off else ""


def stability(row: Ranked) -> str:
    """Whether the entry's ranked-or-not holds when the folds are dealt again (the board's own baselines): empty
    when the board has no fold-seed scores for it, or has not confirmed on this machine that it made them."""
    entry = row.entry
    if (entry.beats_chance_folds is None or entry.fold_seeds is None or row.verification is not Tier.REPRODUCED
            or row.status not in (Status.RANKED, Status.BELOW_CHANCE)):
        return ""
    beats, dealt = entry.beats_chance_folds, entry.fold_seeds
    ranked = row.status is Status.RANKED
    tested = "each test at 5%, before the table's Holm adjustment"
    if (ranked and beats == dealt) or (not ranked and beats == 0):
        return (f"stable over fold seeds: beats every chance line under {beats} of {dealt} dealings of the folds "
                f"({tested})")
    return (f"unstable over fold seeds: beats every chance line under {beats} of {dealt} dealings of the folds "
            f"({tested}), so {'its rank' if ranked else 'being unranked'} may rest on the release's one dealing")


def _rank_pool(group: _Group, candidates: list[_Candidate], pool: Pool, chance: _Chance) -> list[Ranked]:
    if not candidates:
        return []
    out: list[Ranked] = []
    labels = _Labels(group)
    strongest, strongest_name, reference = chance.score, chance.name, chance.stored
    ordered = sorted(candidates, key=lambda c: -(c.entry.score or 0.0))
    twins = _twins(group, ordered, labels)
    by_digest = {c.entry.predictions_sha256 or "": c for c in ordered}
    kept: list[_Candidate] = []
    for candidate in ordered:
        twin = twins.get(candidate.entry.predictions_sha256 or "")
        if twin is not None:
            leader, share = by_digest[twin[0]], twin[1]
            out.append(_shown(candidate, pool, Status.NEAR_DUPLICATE, f"agrees with {leader.entry.name!r} on "
                              f"{share:.1%} of the items (more than {NEAR_DUPLICATE:.0%}): a near-duplicate is shown, "
                              "not ranked"))
            continue
        kept.append(candidate)
    raw = []
    for candidate in kept:
        p = candidate.p_chance
        if reference is not None:
            p = max(p, _pair_p(group, (candidate.entry.predictions_sha256 or "", candidate.path), reference, labels))
        raw.append(p)
    passed, adjusted = holm(raw)
    ranked: list[tuple[_Candidate, float]] = []
    for candidate, ok, p in zip(kept, passed, adjusted, strict=True):
        score = candidate.entry.score or 0.0
        if strongest is not None and score <= strongest:
            out.append(_shown(candidate, pool, Status.BELOW_CHANCE, f"scores no more than the chance line "
                              f"{strongest_name!r} ({strongest:.3f})", p))
        elif not ok:
            out.append(_shown(candidate, pool, Status.BELOW_CHANCE, f"does not beat the chance lines at 5% after "
                              f"Holm's adjustment over {len(kept)} entries (p = {p:.3f})", p))
        else:
            ranked.append((candidate, p))
    for candidate, p in ranked:
        better = sum(other.low > candidate.high for other, _ in ranked if other is not candidate)
        out.append(Ranked(candidate.entry, Status.RANKED, 1 + better, candidate.tier, p, candidate.why, pool))
    return out


def _shown(candidate: _Candidate, pool: Pool, status: Status, reason: str, p: float | None = None) -> Ranked:
    return Ranked(candidate.entry, status, None, candidate.tier, None if p is None or math.isnan(p) else p,
                  "; ".join(r for r in (reason, candidate.why) if r), pool)
