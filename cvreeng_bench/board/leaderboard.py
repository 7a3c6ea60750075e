"""The leaderboard: entries scored by the harness, stored with their predictions, ranked only on what the
board re-scores itself.

``submit`` reads the predictions once, scores them, refuses a claimed result that does not re-score to the
same numbers and predictions already on the board (same content under any name or row order), stores the
file under ``submissions/`` beside the board (named by the predictions' digest) and appends the entry
under the board's lock.

``rank`` re-scores every current entry from its stored predictions against the release. An entry is
ranked only when its stored numbers equal the re-score and it beats chance (a label-permutation test at
5%); ranked entries of one task, split and track get dense ranks, and one shares the rank of the entry
above when a paired permutation test cannot separate them at 5%. Reference lines (chance baselines, the
raters' agreement) are never ranked. An entry is ``reproduced`` when it is the package's own shipped
entry, or when the caller's ``reproduce`` check re-derived its predictions (a chat-model run whose run
record and raw answers re-parse to the submitted labels); everything else is ``self-reported``.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from ..scoring import runs
from ..scoring.evaluate import evaluate, items_and_gold
from ..scoring.metrics import MISSING, chance_test, permutation_test
from ..scoring.predictions import FORMATS, PredictionError, Predictions, read_predictions
from ..scoring.protocol import ALPHA
from ..scoring.results import Result
from ..scoring.tasks import REGISTRY, get
from .entries import (
    SHIPPED,
    SHIPPED_SUBMISSIONS,
    SUBMISSIONS,
    Entry,
    LeaderboardError,
    check_fields,
    make,
    read,
    update,
)

if TYPE_CHECKING:
    from ..release import Release

STATUSES = ("ranked", "below chance", "reference", "unverified", "older")
BOARD_ROUNDS = 2000  # permutation rounds per test on the board (p resolves to 1/2001; the level is 0.05)
_DIGEST = re.compile(r"[0-9a-f]{64}")
Reproduce = Callable[[Predictions, runs.RunRecord], bool]
COMPARED = ("n", "score", "ci_low", "ci_high", "accuracy", "macro_f1", "kappa")
GOLD_NOTE = ("The test gold is public (it ships in the release), so a self-reported entry rests on its submitter's "
             "word; reproduced entries were produced or re-derived by the board itself.")


@dataclass(frozen=True)
class Ranked:
    """One entry as the board shows it: rank (an integer, or None when not ranked) and why."""

    entry: Entry
    status: str  # one of STATUSES
    rank: int | None
    verification: str  # reproduced or self-reported, as the board judges it (never as the file claims)
    p_vs_chance: float | None
    reason: str

    @property
    def group(self) -> str:
        return f"{self.entry.task}/{self.entry.split}/{self.entry.track}"


def from_result(result: Result, *, name: str, url: str = "", kind: str = "submission",
                model_cutoff: str | None = None, notes: str = "", prompt: str | None = None,
                verification: str = "self-reported", model: str | None = None,
                fold_sd: float | None = None) -> Entry:
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
        "prompt": prompt, "notes": notes or None, "verification": verification, "model": model, "fold_sd": fold_sd,
    }, name)


def stored(board: Path, entry: Entry) -> Path | None:
    """The stored predictions of an entry (beside the board, or shipped with the package), when present and
    unchanged (their digest re-checked)."""
    digest = entry.predictions_sha256 or ""
    if not _DIGEST.fullmatch(digest):
        return None
    for folder in (board.parent / SUBMISSIONS, SHIPPED_SUBMISSIONS):
        for suffix in FORMATS:
            path = folder / f"{digest}{suffix}"
            if path.is_file():
                try:
                    if read_predictions(path).digest == digest:
                        return path
                except PredictionError:
                    continue
    return None


def verify(claimed: Result, scored: Result) -> list[str]:
    """Where a submitted result differs from the harness's own scoring of its predictions."""
    mine, theirs = scored.to_dict(), claimed.to_dict()
    keys = ("task", "task_version", "split", "track", "predictions_sha256", "n", "scores", "ci95")
    return [f"{key}: the result says {theirs[key]!r:.80}, the predictions score {mine[key]!r:.80}"
            for key in keys if theirs[key] != mine[key]]


def submit(board: Path, file: Path, release: Release, *, predictions: Path | None = None, task: str | None = None,
           split: str | None = None, track: str | None = None, name: str, url: str = "",
           model_cutoff: str | None = None, notes: str | None = None,
           reproduce: Reproduce | None = None) -> Entry:
    """Score and add a system. ``file`` is a predictions file, or an ``evaluate --out`` result (``.json``) whose
    ``predictions`` must re-score to the same numbers. Task, split and track default to what the result or the
    predictions' run record says; the run record also gives the prompt, the model and its cut-off."""
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
        differences = verify(claimed, scored)
        if differences:
            raise LeaderboardError(f"{file.name} does not match its predictions; refused:\n  "
                                   + "\n  ".join(differences))
    reproduced = record is not None and reproduce is not None and reproduce(read_in, record)
    entry = from_result(scored, name=name, url=url, model_cutoff=cutoff, notes=notes or "",
                        prompt=record.prompt if record else None, model=record.model if record else None,
                        verification="reproduced" if reproduced else "self-reported")

    def append(current: list[Entry]) -> list[Entry]:
        holder = next((e for e in current if e.predictions_sha256 == entry.predictions_sha256
                       and e.task == entry.task), None)
        if holder is not None:
            raise LeaderboardError(f"these predictions are already on the board as {holder.name!r} ({holder.task}@v"
                                   f"{holder.task_version}, {holder.split}, {holder.track}); refused")
        folder = board.parent / SUBMISSIONS
        folder.mkdir(exist_ok=True)
        target = folder / f"{entry.predictions_sha256}{source.suffix.lower()}"
        if not target.exists():
            partial = target.with_name(f".{target.name}.part")
            shutil.copyfile(source, partial)
            partial.replace(target)
        if record is not None:
            record.write(target)
        return [*current, entry]

    update(board, append)
    return entry


def is_current(entry: Entry, release: Release) -> bool:
    task = REGISTRY.get(entry.task) if entry.task in REGISTRY else None
    if task is None or task.version != entry.task_version:
        return False
    return (entry.dataset_version == release.dataset_version
            and entry.content_sha256 == release.scored_sha256(task.source))


def _shipped() -> set[tuple[object, ...]]:
    entries, _ = read(SHIPPED)
    return {tuple(e.to_row().values()) for e in entries}


def _rescored(entry: Entry, path: Path, release: Release) -> tuple[Result | None, str]:
    try:
        result = evaluate(read_predictions(path), get(entry.task), release, entry.split, track=entry.track,
                          allow_missing=True)
    except PredictionError as error:
        return None, f"stored predictions no longer score: {str(error).splitlines()[-1][:120]}"
    low, high = result.interval
    mine = {"n": result.n, "score": result.score, "ci_low": low, "ci_high": high, **result.scores}
    claimed = entry.to_row()
    off = [k for k in COMPARED if claimed[k] is None or abs(float(claimed[k]) - float(mine[k])) > 1e-9]
    if off:
        return None, "stored numbers differ from the re-score (" + ", ".join(
            f"{k} {claimed[k]} vs {mine[k]:.4f}" for k in off[:3]) + ")"
    return result, ""


def rank(entries: list[Entry], release: Release, board: Path, *, reproduce_tier: Callable[[Entry, Path], bool]
         | None = None) -> list[Ranked]:
    """Every entry with its status, grouped by task, split and track (groups sorted, best first)."""
    shipped = _shipped()
    out: list[Ranked] = []

    def tier(entry: Entry, path: Path | None) -> str:
        if tuple(entry.to_row().values()) in shipped:
            return "reproduced"
        if entry.verification == "reproduced" and path is not None and reproduce_tier is not None \
                and reproduce_tier(entry, path):
            return "reproduced"
        return "self-reported"

    for key in sorted({e.key for e in entries}, key=lambda k: (k[0], -k[1], k[2], k[3])):
        group = [e for e in entries if e.key == key]
        systems: list[tuple[Entry, list[str], float, str]] = []
        for entry in group:
            path = stored(board, entry) if entry.predictions_sha256 else None
            if not is_current(entry, release):
                out.append(Ranked(entry, "older", None, tier(entry, path), None, "scored on another task or dataset "
                                  "version"))
                continue
            if not entry.ranked_kind:
                out.append(Ranked(entry, "reference", None, tier(entry, path), None, "reference line"))
                continue
            if path is None:
                out.append(Ranked(entry, "unverified", None, tier(entry, path), None,
                                  "stored predictions missing or changed"))
                continue
            result, why = _rescored(entry, path, release)
            if result is None:
                out.append(Ranked(entry, "unverified", None, tier(entry, path), None, why))
                continue
            scored, gold = items_and_gold(get(entry.task), release, entry.split)
            labels = read_predictions(path).labels_for(scored, MISSING)
            task = get(entry.task)
            chance = chance_test(gold, labels, task.labels, task.main_score, n_rounds=BOARD_ROUNDS)
            if chance["p_value"] >= ALPHA:
                out.append(Ranked(entry, "below chance", None, tier(entry, path), chance["p_value"],
                                  f"does not beat chance (p = {chance['p_value']:.3f})"))
                continue
            systems.append((entry, labels, chance["p_value"], tier(entry, path)))
        systems.sort(key=lambda s: -(s[0].score or 0.0))
        position, previous = 0, None
        for entry, labels, p, verification in systems:
            separated = True
            if previous is not None:
                task = get(entry.task)
                _, gold = items_and_gold(task, release, entry.split)
                test = permutation_test(gold, previous, labels, task.labels, task.main_score, n_rounds=BOARD_ROUNDS)
                separated = test["p_value"] < ALPHA
            position += 1 if separated or previous is None else 0
            out.append(Ranked(entry, "ranked", position, verification, p, ""))
            previous = labels
    order = {s: i for i, s in enumerate(STATUSES)}
    return sorted(out, key=lambda r: (r.group, order[r.status], r.rank or 0, -(r.entry.score or 0.0)))
