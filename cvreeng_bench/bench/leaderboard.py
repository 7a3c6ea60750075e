"""The leaderboard: one JSON line per scored system, shipped in the release as the ``leaderboard`` config.

The board scores what it ranks. ``add`` runs the harness on the predictions itself, stores the file under
``submissions/`` beside the board (named by its sha256) and refuses a result JSON whose predictions do not
re-score to the same numbers. ``show`` re-checks each stored file's hash before ranking it.

Ranking (per task, split and track, current task and dataset versions only): by the main score, but a
system gets the rank of the system above it when a paired bootstrap cannot separate the two at 95%.
Trivial baselines (majority, stratified over seeds) and the human ceiling are reference lines, never
ranked. Contamination: an entry is flagged when its model's training cut-off is on or after the date the
gold labels became public (``labels_public_since`` in the release manifest).
"""

from __future__ import annotations

import json
import math
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..errors import CvreengError
from ..schema import SCHEMAS, frame
from ..sources import sha256_of
from .evaluate import read_predictions
from .metrics import MISSING, paired_difference
from .results import Result
from .tasks import REGISTRY, items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

SHIPPED = Path(__file__).with_name("leaderboard.jsonl")
SUBMISSIONS = "submissions"  # folder beside a board holding the predictions of its entries
FIELDS = tuple(c.name for c in SCHEMAS["leaderboard"])
RANKED, REFERENCE = ("submission", "baseline"), ("trivial", "human")
KINDS = (*RANKED, *REFERENCE)
MAX_NAME, MAX_URL, MAX_NOTES = 120, 500, 1000
ALPHA = 0.05  # a system is ranked below the one above only when the paired bootstrap separates them here
COMPARED = ("task", "task_version", "split", "track", "predictions_sha256", "n", "scores", "ci95")


class LeaderboardError(CvreengError):
    """A result that cannot be entered, or a board that cannot be read."""


def check_fields(name: str, url: str, model_cutoff: str | None, notes: str) -> list[str]:
    """Every problem with the submitter's fields (empty list: fine)."""
    problems = []
    if not name.strip() or len(name) > MAX_NAME or any(c in name for c in "\r\n\t|"):
        problems.append(f"--name must be 1-{MAX_NAME} characters on one line without '|' (got {len(name)} "
                        "characters)")
    if url and (len(url) > MAX_URL or urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc):
        problems.append(f"--url must be an http(s) address of at most {MAX_URL} characters, got {url[:80]!r}")
    if model_cutoff is not None:
        try:
            date.fromisoformat(model_cutoff)
        except ValueError:
            problems.append(f"--model-cutoff must be a date (YYYY-MM-DD), got {model_cutoff[:40]!r}")
    if len(notes) > MAX_NOTES:
        problems.append(f"--notes has {len(notes)} characters; at most {MAX_NOTES}")
    return problems


def entry(result: Result, *, name: str, url: str = "", kind: str = "submission", model_cutoff: str | None = None,
          notes: str = "", prompt: str | None = None) -> dict[str, Any]:
    """A board row from an ``evaluate`` result."""
    if kind not in KINDS:
        raise LeaderboardError(f"kind must be one of {', '.join(KINDS)}")
    problems = check_fields(name, url, model_cutoff, notes)
    if problems:
        raise LeaderboardError("refused:\n  " + "\n  ".join(problems))
    public = result.labels_public_since
    low, high = result.interval
    return {
        "name": name, "url": url, "kind": kind, "task": result.task, "task_version": result.task_version,
        "split": result.split, "track": result.track, "dataset_version": result.dataset_version,
        "content_sha256": result.content_sha256, "package_version": result.package_version,
        "date": result.date or date.today().isoformat(), "predictions_sha256": result.predictions_sha256,
        "main_score": result.main_score, "score": result.score, "ci_low": low, "ci_high": high, "seeds": 1,
        "score_sd": None, "accuracy": result.scores["accuracy"], "macro_f1": result.scores["macro_f1"],
        "kappa": result.scores["kappa"], "n": result.n, "model_cutoff": model_cutoff,
        "labels_public_since": public, "contamination_risk": bool(model_cutoff and public and model_cutoff >= public),
        "prompt": prompt, "notes": notes,
    }


def _valid(row: Any) -> str | None:
    """Why a board line cannot be shown, or None."""
    if not isinstance(row, dict):
        return "not a JSON object"
    missing = [k for k in ("name", "kind", "task", "task_version", "split", "score", "dataset_version") if k not in row]
    if missing:
        return f"missing {', '.join(missing)}"
    score = row["score"]
    if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
        return f"score {score!r} is not a number"
    if row["kind"] not in KINDS:
        return f"kind {row['kind']!r} is not one of {', '.join(KINDS)}"
    if not isinstance(row["task_version"], int) or not isinstance(row["name"], str):
        return "task_version must be a whole number and name a string"
    return None


def read(board: Path, skipped: list[str] | None = None) -> list[dict[str, Any]]:
    """The board's entries; a malformed line is skipped and reported (with its line number) in ``skipped``."""
    if not board.is_file():
        return []
    rows = []
    try:
        text = board.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise LeaderboardError(f"cannot read the board {board}: {error}") from error
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            row, why = None, f"not JSON ({error.msg})"
        else:
            why = _valid(row)
        if why:
            if skipped is not None:
                skipped.append(f"{board} line {number}: {why}; skipped")
            continue
        rows.append({k: row.get(k) for k in FIELDS})
    return rows


def write(board: Path, rows: list[dict[str, Any]]) -> None:
    board.parent.mkdir(parents=True, exist_ok=True)
    partial = board.with_name(board.name + ".part")
    partial.write_text("".join(json.dumps({k: r.get(k) for k in FIELDS}) + "\n" for r in rows), encoding="utf-8")
    partial.replace(board)


def stored(board: Path, row: dict[str, Any]) -> Path | None:
    """The stored predictions of an entry, when present and unchanged (hash re-checked)."""
    folder = (board.parent if board != SHIPPED else SHIPPED.parent) / SUBMISSIONS
    digest = row.get("predictions_sha256") or ""
    for path in sorted(folder.glob(f"{digest}.*")) if digest else []:
        if sha256_of(path) == digest:
            return path
    return None


def verify(claimed: Result, scored: Result) -> list[str]:
    """Where a submitted result differs from the harness's own scoring of its predictions."""
    mine, theirs = scored.to_dict(), claimed.to_dict()
    return [f"{key}: the result says {theirs[key]!r:.80}, the predictions score {mine[key]!r:.80}"
            for key in COMPARED if theirs.get(key) != mine.get(key)]


def add(board: Path, predictions: Path, result: Result, **fields: Any) -> dict[str, Any]:
    """Store the predictions and append the entry; the same predictions under the same name are refused.
    Nothing is written unless everything is valid."""
    row = entry(result, **fields)
    skipped: list[str] = []
    rows = read(board, skipped) if board.is_file() else read(SHIPPED)
    if skipped:  # rewriting the board would drop them: the owner decides
        raise LeaderboardError("the board has lines that cannot be read; fix or remove them first:\n  "
                               + "\n  ".join(skipped))
    same = [r for r in rows if (r["task"], r["task_version"], r["split"], r["track"], r["predictions_sha256"],
                                r["name"]) == (row["task"], row["task_version"], row["split"], row["track"],
                                               row["predictions_sha256"], row["name"])]
    if same:
        raise LeaderboardError(f"{row['name']} is already on the board for {row['task']}@v{row['task_version']} "
                               f"({row['split']}, {row['track']}) with the same predictions")
    folder = board.parent / SUBMISSIONS
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{row['predictions_sha256']}{predictions.suffix.lower()}"
    if not target.exists():
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(predictions, partial)
        partial.replace(target)
    write(board, [*rows, row])
    return row


def submit(board: Path, predictions: Path, release: Release, *, claimed: Path | None = None, task: str | None = None,
           split: str | None = None, track: str | None = None, name: str, url: str = "",
           model_cutoff: str | None = None, notes: str | None = None) -> dict[str, Any]:
    """Score ``predictions`` with the harness and add them. Task, split and track default to what a submitted
    result (``claimed``, which must re-score to the same numbers) or a ``predict`` run record says; the run
    record also gives the prompt, the model and its cut-off."""
    from .evaluate import evaluate
    from .predict import read_sidecar
    from .tasks import get

    result = Result.read(claimed) if claimed is not None else None
    run = (read_sidecar(predictions) if predictions.is_file() else None) or {}
    said = result.to_dict() if result is not None else run  # where the defaults come from
    chosen = get(task or (f"{said['task']}@v{said['task_version']}" if said else ""))
    cutoff = model_cutoff or run.get("model_cutoff")
    if notes is None and run:
        ids = ", ".join(run["server_model_ids"]) or "id not reported"
        notes = f"model {run['model']} ({ids}), {run['shots']} shots"
    problems = check_fields(name, url, cutoff, notes or "")
    if problems:
        raise LeaderboardError("leaderboard add refused:\n  " + "\n  ".join(problems))
    scored = evaluate(predictions, chosen, release, split or said.get("split"),
                      track=track or said.get("track") or "metadata")
    if result is not None:
        differences = verify(result, scored)
        if differences:
            raise LeaderboardError(f"{claimed.name} does not match its predictions; refused:\n  "
                                   + "\n  ".join(differences))
    return add(board, predictions, scored, name=name, url=url, model_cutoff=cutoff, notes=notes or "",
               prompt=run.get("prompt"))


def table(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame("leaderboard", rows)


def is_current(row: dict[str, Any], release: Release) -> bool:
    latest = {t.name: t.version for t in REGISTRY.latest()}
    return latest.get(row["task"]) == row["task_version"] and row["dataset_version"] == release.dataset_version


def _predicted(path: Path, ids: list[str]) -> list[str]:
    found = {r["issue_id"]: r["label"] or MISSING for r in read_predictions(path).rows(named=True)}
    return [found.get(i, MISSING) for i in ids]


def ranked(rows: list[dict[str, Any]], release: Release, board: Path) -> list[dict[str, Any]]:
    """Current entries grouped by task, split and track: systems ranked (ties when a paired bootstrap
    cannot separate neighbours), then the reference lines. Each row gains ``group`` and ``rank``."""
    out = []
    current = [r for r in rows if is_current(r, release)]
    systems = [r for r in current if r["kind"] in RANKED]
    for key in sorted({(r["task"], r["split"], r["track"]) for r in systems}):
        task = REGISTRY.get(key[0])
        group = sorted((r for r in systems if (r["task"], r["split"], r["track"]) == key),
                       key=lambda r: -r["score"])
        scored = items(task, release, key[1])
        ids, gold = scored["issue_id"].to_list(), scored["gold"].to_list()
        previous, rank = None, 0
        for position, row in enumerate(group, start=1):
            path = stored(board, row)
            separated = True
            if previous is not None and path is not None and previous[1] is not None:
                test = paired_difference(gold, _predicted(previous[1], ids), _predicted(path, ids), task.labels,
                                         task.main_score)
                separated = test["p_value"] < ALPHA
            rank = position if separated or previous is None else rank
            out.append({**row, "group": "/".join(key), "rank": str(rank) if path is not None else "unverified"})
            previous = (row, path)
        references = [r for r in current if r["kind"] in REFERENCE and (r["task"], r["split"]) == key[:2]]
        out += [{**r, "group": "/".join(key), "rank": "ref"} for r in references]
    return out


def older(rows: list[dict[str, Any]], release: Release) -> list[dict[str, Any]]:
    return [r for r in rows if not is_current(r, release)]
