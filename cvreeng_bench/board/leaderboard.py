"""The leaderboard: entries scored by the harness, stored with their predictions, ranked (:mod:`.ranking`) only on
what the board re-scores itself.

``submit`` reads the predictions once, scores them, refuses a claimed result that does not re-score to the
same numbers, predictions already on the board (same content under any name or row order) and a near-duplicate of
an entry already there, decides the entry's verification tier once (with its evidence), stores the file under
``submissions/`` beside the board (named by the predictions' digest) and appends the entry under the board's lock.

``rescore`` is the board's own scoring of stored predictions (through the board's memo, keyed by the predictions'
digest, the scored data and the protocol, so a second read computes nothing); no system is run.

A tier stored in a board file is a claim: it is shown only when this package made it (the entry is the package's
shipped entry, or this machine's memo records that this package decided or re-checked exactly this entry);
otherwise the entry is shown as self-reported, with the reason. ``verify`` re-checks claims through a caller's
``rederive`` (the API re-runs package baselines and re-parses stored answers) and records what holds.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..scoring import runs
from ..scoring.evaluate import evaluate, items_and_gold
from ..scoring.metrics import MISSING, chance_test
from ..scoring.predictions import FORMATS, MAX_BYTES, PredictionError, Predictions, read_predictions
from ..scoring.results import Result
from ..scoring.tasks import REGISTRY, get
from .entries import (
    SHIPPED,
    SHIPPED_SUBMISSIONS,
    SUBMISSIONS,
    Entry,
    Kind,
    LeaderboardError,
    Tier,
    check_fields,
    make,
    read,
    update,
)
from .memo import Memo, default, key

if TYPE_CHECKING:
    from ..release import Release
    from ..scoring.tasks import Task


BOARD_ROUNDS = 2000  # permutation rounds per test on the board (p resolves to 1/2001; the level is 0.05)
_DIGEST = re.compile(r"[0-9a-f]{64}")
# (predictions, their run record) -> whether the labels are the registered prompt's parse of the stored answers
Consistent = Callable[[Predictions, runs.RunRecord], bool]
# (entry, its stored predictions or None) -> whether this package re-derives the entry's claimed tier
Rederive = Callable[[Entry, "Path | None"], bool]
COMPARED = ("n", "score", "ci_low", "ci_high", "accuracy", "macro_f1", "kappa")
GOLD_NOTE = ("The test gold is public (it ships in the release): a self-reported entry rests on its submitter's "
             "word, a consistent one on the submitter's stored model answers; only reproduced entries were produced "
             "by the board itself.")


def from_result(result: Result, *, name: str, url: str = "", kind: Kind = Kind.SUBMISSION,
                model_cutoff: str | None = None, notes: str = "", prompt: str | None = None,
                verification: Tier = Tier.SELF_REPORTED, model: str | None = None,
                fold_sd: float | None = None, baseline: str | None = None, evidence: str | None = None,
                trained: str | None = None) -> Entry:
    """A board entry from an ``evaluate`` result."""
    problems = check_fields(name, url, model_cutoff, notes)
    if problems:
        raise LeaderboardError("refused:\n  " + "\n  ".join(problems))
    public = result.labels_public_since
    low, high = (None if v is None or not math.isfinite(v) else v for v in result.interval)
    return make({
        "name": name, "url": url or None, "kind": kind, "task": result.task, "task_version": result.task_version,
        "split": result.split, "track": result.track, "dataset_version": result.dataset_version,
        "content_sha256": result.content_sha256, "package_version": result.package_version,
        "date": result.date or date.today().isoformat(), "predictions_sha256": result.predictions_sha256,
        "main_score": result.main_score, "score": result.score, "ci_low": low, "ci_high": high, "seeds": 1,
        "score_sd": None, "accuracy": result.scores["accuracy"], "macro_f1": result.scores["macro_f1"],
        "kappa": result.scores["kappa"], "n": result.n, "model_cutoff": model_cutoff,
        "labels_public_since": public, "contamination_risk": bool(model_cutoff and public and model_cutoff >= public),
        "prompt": prompt, "notes": notes or None, "verification": str(verification), "model": model,
        "fold_sd": fold_sd, "baseline": baseline, "evidence": evidence, "trained": trained,
    }, name)


def identity(entry: Entry) -> str:
    """The sha256 of the whole entry: a tier decided for it holds for exactly these fields."""
    return hashlib.sha256(json.dumps(entry.to_row(), sort_keys=True).encode()).hexdigest()


def record_tier(memo: Memo, entry: Entry) -> None:
    """Note in this machine's memo that this package decided (or re-checked) the entry's tier."""
    if entry.verification is not Tier.SELF_REPORTED:
        memo.put(key("tier", identity(entry)), str(entry.verification))


def _file_digest(path: Path, memo: Memo) -> str | None:
    """The predictions digest of a stored file, read once per file content (the memo is keyed by its bytes)."""
    try:
        raw = hashlib.sha256(path.read_bytes()).hexdigest() if path.stat().st_size <= MAX_BYTES else None
    except OSError:
        return None
    if raw is None:
        return None
    name = key("file", raw)
    found = memo.get(name)
    if isinstance(found, str):
        return found
    try:
        digest = read_predictions(path).digest
    except PredictionError:
        return None
    memo.put(name, digest)
    return digest


def stored(board: Path, entry: Entry, memo: Memo | None = None) -> Path | None:
    """The stored predictions of an entry (beside the board, or shipped with the package), when present and
    unchanged (their digest re-checked)."""
    digest = entry.predictions_sha256 or ""
    if not _DIGEST.fullmatch(digest):
        return None
    memo = memo or Memo(None)
    for folder in (board.parent / SUBMISSIONS, SHIPPED_SUBMISSIONS):
        for suffix in FORMATS:
            path = folder / f"{digest}{suffix}"
            if path.is_file() and _file_digest(path, memo) == digest:
                return path
    return None


def verify(claimed: Result, scored: Result) -> list[str]:
    """Where a submitted result differs from the harness's own scoring of its predictions."""
    mine, theirs = scored.to_dict(), claimed.to_dict()
    keys = ("task", "task_version", "split", "track", "predictions_sha256", "n", "scores", "ci95")
    return [f"{key}: the result says {theirs[key]!r:.80}, the predictions score {mine[key]!r:.80}"
            for key in keys if theirs[key] != mine[key]]


CONSISTENT_EVIDENCE = ("the labels are exactly the parse, by prompt {prompt} (sha256 {sha}), of the raw answers "
                       "stored beside them; the answers and the run record are the submitter's word")
SELF_EVIDENCE = "a predictions file only: the labels are the submitter's word"


def submit(board: Path, file: Path, release: Release, *, predictions: Path | None = None, task: str | None = None,
           split: str | None = None, track: str | None = None, name: str, url: str = "",
           model_cutoff: str | None = None, notes: str | None = None, trained: str | None = None,
           consistent: Consistent | None = None, memo: Memo | None = None) -> Entry:
    """Score and add a system. ``file`` is a predictions file, or an ``evaluate --out`` result (``.json``) whose
    ``predictions`` must re-score to the same numbers. Task, split and track default to what the result or the
    predictions' run record says; the run record also gives the prompt, the model and its cut-off. The entry is
    ``consistent`` when ``consistent`` confirms its labels parse from its stored raw answers, else
    ``self-reported``; a submission is never ``reproduced`` (the board cannot re-run a hosted model)."""
    claimed = Result.read(file) if file.suffix.lower() == ".json" else None
    if claimed is not None and predictions is None:
        raise LeaderboardError(f"{file.name} is a result: give the predictions it scored with --predictions FILE; "
                               "the board scores what it ranks")
    source = predictions if claimed is not None and predictions is not None else file
    read_in = read_predictions(source)
    record = runs.read(source, read_in.digest)
    said: dict[str, object] = {}
    if claimed is not None:
        said = {"task": f"{claimed.task}@v{claimed.task_version}", "split": claimed.split, "track": claimed.track}
    elif record is not None:
        said = {"task": f"{record.task}@v{record.task_version}", "split": record.split, "track": record.track}
    if not (task or said.get("task")):
        raise LeaderboardError("leaderboard add needs --task (or a result or run record that names it)")
    chosen = get(task or str(said["task"]))
    cutoff = model_cutoff or (record.model_cutoff if record else None)
    if notes is None and record is not None:
        ids = ", ".join(record.server_model_ids) or "id not reported"
        notes = f"model {record.model} ({ids}), {record.shots} shots"
    problems = check_fields(name, url, cutoff, notes or "")
    if problems:
        raise LeaderboardError("leaderboard add refused:\n  " + "\n  ".join(problems))
    scored = evaluate(read_in, chosen, release, split or (str(said["split"]) if "split" in said else None),
                      track=track or str(said.get("track") or "metadata"))
    if claimed is not None:
        # A result scored with other resamples or seed is checked at those (then shown at the board's own).
        again = (scored if (claimed.seed, claimed.n_resamples) == (0, scored.n_resamples)
                 else evaluate(read_in, chosen, release, scored.split, track=scored.track,
                               n_resamples=claimed.n_resamples, seed=claimed.seed))
        differences = verify(claimed, again)
        if differences:
            raise LeaderboardError(f"{file.name} does not match its predictions; refused:\n  "
                                   + "\n  ".join(differences))
    parsed = record is not None and consistent is not None and consistent(read_in, record)
    evidence = (CONSISTENT_EVIDENCE.format(prompt=record.prompt, sha=record.prompt_sha256[:16])
                if parsed and record is not None else SELF_EVIDENCE)
    if trained is None and record is not None:  # a prompted model: its shots come from the train side, or none
        trained = "zero-shot" if record.shots == 0 else "out-of-fold"
    entry = from_result(scored, name=name, url=url, model_cutoff=cutoff, notes=notes or "",
                        prompt=record.prompt if record else None, model=record.model if record else None,
                        verification=Tier.CONSISTENT if parsed else Tier.SELF_REPORTED, evidence=evidence,
                        trained=trained)

    def append(current: list[Entry]) -> list[Entry]:
        holder = next((e for e in current if e.predictions_sha256 == entry.predictions_sha256
                       and e.task == entry.task), None)
        if holder is not None:
            raise LeaderboardError(f"these predictions are already on the board as {holder.name!r} ({holder.task}@v"
                                   f"{holder.task_version}, {holder.split}, {holder.track}); refused")
        twin = near_duplicate(board, entry, read_in, current, release)
        if twin is not None:
            raise LeaderboardError(twin)
        taken = next((e for e in current if _spelled(e.name) == _spelled(entry.name) and e.key == entry.key), None)
        if taken is not None:
            raise LeaderboardError(f"the board already has an entry named {taken.name!r} for {taken.task}@v"
                                   f"{taken.task_version} ({taken.split}, {taken.track}); choose another --name")
        folder = board.parent / SUBMISSIONS
        if folder.is_symlink():
            raise LeaderboardError(f"{folder} is a link; a board's predictions live in a real folder beside it")
        folder.mkdir(exist_ok=True)
        target = folder / f"{entry.predictions_sha256}{source.suffix.lower()}"
        if target.is_symlink():
            raise LeaderboardError(f"{target} is a link; remove it (a board's stored predictions are plain files)")
        if not target.exists():
            partial = target.with_name(f".{target.name}.part")
            partial.unlink(missing_ok=True)  # a link planted under this name is removed, never followed
            with source.open("rb") as data, partial.open("xb") as out:
                shutil.copyfileobj(data, out)
            partial.replace(target)
        if record is not None:
            record.write(target)
        return [*current, entry]

    update(board, append)
    record_tier(memo or default(), entry)
    return entry


NEAR = 0.98  # the share of identical labels above which a new entry is a near-duplicate (ranking.NEAR_DUPLICATE)


def _spelled(name: str) -> str:
    """A name as a reader tells it apart: case and runs of spaces do not make two entries."""
    return " ".join(name.split()).casefold()


def near_duplicate(board: Path, entry: Entry, predictions: Predictions, current: list[Entry],
                   release: Release) -> str | None:
    """Why a new entry is refused as a near-duplicate of a ranked-kind entry on the same task and split (its labels
    agree on more than NEAR of the items), or None."""
    ids, _ = items_and_gold(get(entry.task, entry.task_version), release, entry.split)
    mine = predictions.labels_for(ids, MISSING)
    for other in current:
        if not other.kind.ranked or (other.task, other.task_version, other.split) != (
                entry.task, entry.task_version, entry.split):
            continue
        path = stored(board, other)
        if path is None:
            continue
        theirs = read_predictions(path).labels_for(ids, MISSING)
        share = sum(a == b for a, b in zip(mine, theirs, strict=True)) / max(1, len(ids))
        if share > NEAR:
            return (f"these predictions agree with {other.name!r} ({other.track}) on {share:.1%} of the items; the "
                    f"board refuses an entry that agrees with one already on it on more than {NEAR:.0%} (a "
                    "near-duplicate adds nothing and would crowd the ranking); refused")
    return None


def is_current(entry: Entry, release: Release, task: Task | None = None) -> bool:
    """Whether an entry was scored on the current version of its task and on this release's data for it (the
    content hash of the data the task scores: a new dataset version that leaves that data alone keeps the entry)."""
    task = task or (REGISTRY.get(entry.task) if entry.task in REGISTRY else None)
    if task is None or task.version != entry.task_version:
        return False
    return entry.content_sha256 == release.scored_sha256(task.source.name, task.name)


def shipped_identities() -> set[str]:
    entries, _ = read(SHIPPED)
    return {identity(e) for e in entries}


def trusted(entry: Entry, memo: Memo, shipped: set[str]) -> tuple[Tier, str]:
    """The tier shown for an entry, and why a claimed tier is not: a claim counts only when this package made it
    (a shipped entry, or one this machine's memo records)."""
    claimed = entry.verification
    if claimed is Tier.SELF_REPORTED:
        return claimed, ""
    ident = identity(entry)
    if ident in shipped or memo.get(key("tier", ident)) == str(claimed):
        return claimed, ""
    return Tier.SELF_REPORTED, (f"the file claims {claimed}, which this package did not decide or re-check here "
                                "(`cvreeng-bench leaderboard verify`)")


def rescore(entry: Entry, task: Task, path: Path, release: Release, memo: Memo) -> dict[str, float] | str:
    """The board's own re-score of stored predictions (memoized): every compared number and the p-value against
    chance; or why they cannot be scored."""
    name = key("score", entry.predictions_sha256, task.key, entry.split, entry.track,
               release.scored_sha256(task.source.name, task.name), release.dataset_version, BOARD_ROUNDS)
    found = memo.get(name)
    if isinstance(found, dict) and all(isinstance(found.get(k), (int, float)) for k in (*COMPARED, "p_chance")):
        return found
    try:
        predictions = read_predictions(path)
        result = evaluate(predictions, task, release, entry.split, track=entry.track, allow_missing=True)
    except PredictionError as error:
        return f"stored predictions no longer score: {str(error).splitlines()[-1][:120]}"
    low, high = result.interval
    scored, gold = items_and_gold(task, release, entry.split)
    labels = predictions.labels_for(scored, MISSING)
    chance = chance_test(gold, labels, task.labels, task.main_score, n_rounds=BOARD_ROUNDS)
    mine = {"n": result.n, "score": result.score, "ci_low": low, "ci_high": high, **result.scores,
            "p_chance": chance.p_value}
    if all(isinstance(v, (int, float)) and math.isfinite(v) for v in mine.values()):
        memo.put(name, mine)
    return mine


def differs(entry: Entry, mine: dict[str, float]) -> str:
    claimed = entry.to_row()
    off = [k for k in COMPARED if claimed[k] is None or abs(float(claimed[k]) - float(mine[k])) > 1e-9]
    return "" if not off else "stored numbers differ from the re-score (" + ", ".join(
        f"{k} {claimed[k]} vs {mine[k]:.4f}" for k in off[:3]) + ")"


def verify_entries(entries: list[Entry], board: Path, rederive: Rederive, memo: Memo) -> list[tuple[Entry, bool]]:
    """Re-check every entry that claims more than self-reported: ``rederive`` re-runs what the package can run;
    each entry that holds is recorded in the memo (so ``show`` honours it), and each is returned with the verdict."""
    out = []
    for entry in entries:
        if entry.verification is Tier.SELF_REPORTED:
            continue
        held = rederive(entry, stored(board, entry, memo) if entry.predictions_sha256 else None)
        if held:
            record_tier(memo, entry)
        out.append((entry, held))
    return out
