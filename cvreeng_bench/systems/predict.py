"""``cvreeng-bench predict``: a chat model's predictions for a task's scored issues, with full provenance.

Writes the predictions (JSONL: issue_id, label, abstained, raw) and, beside them, the run record
``<name>.run.json`` (:class:`~cvreeng_bench.scoring.runs.RunRecord`) that ``leaderboard add`` reads. On
the ``fold`` split every issue is predicted; few-shot examples come from the other folds only.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .._version import __version__
from ..scoring.inputs import views
from ..scoring.predictions import Predictions, from_frame
from ..scoring.runs import RunRecord
from ..scoring.splits import SIDED
from ..scoring.tasks import Task, items
from .answers import parse
from .chat import CACHE_SCHEME, PARAMS, ChatClient, ResponseCache, RunnerError, classify, redact
from .prompts import PROMPTS, Prompt, examples, render

if TYPE_CHECKING:
    from ..release import Release


def jobs(task: Task, release: Release, split: str, track: str, prompt: Prompt, *, shots: int | None = None,
         ) -> list[tuple[str, list[dict[str, str]]]]:
    """(issue id, messages) for every scored issue of the split; examples only from the side not scored. The
    messages are made from :class:`~cvreeng_bench.scoring.inputs.TaskView` rows: declared inputs and text only."""
    if split not in (*SIDED, "fold"):
        raise RunnerError(f"predict runs on fold or a split with a test side: {', '.join(SIDED)} (not {split})")
    if track == "metadata":
        raise RunnerError(f"a language model reads text: use --track {' or --track '.join(task.tracks[1:])}")
    k = prompt.shots if shots is None else shots
    work = []
    for view in views(task, release, split, track):
        shown = examples(list(zip(view.train, view.labels, strict=True)), k)
        work += [(row["issue_id"], render(prompt, task, row, shown)) for row in view.test]
    order = {issue: i for i, issue in enumerate(items(task, release, split)["issue_id"].to_list())}
    return sorted((job for job in work if job[0] in order), key=lambda job: order[job[0]])


def predict(task: Task, release: Release, *, model: str, api_url: str, out: Path, split: str | None = None,
            track: str | None = None, prompt: str = "zero-shot", shots: int | None = None,
            api_key_env: str | None = "OPENAI_API_KEY", cache: Path | None = None, concurrency: int = 4,
            max_requests: int | None = None, model_cutoff: str | None = None, timeout: float = 60.0,
            progress: bool = True) -> RunRecord:
    """Run the model, write the predictions and the run record; returns the record."""
    chosen = PROMPTS.get(prompt)
    split = split or task.split
    track = track or task.text_track
    # What can be checked before a request is sent is checked first: a run of minutes is never lost to a typo.
    if out.suffix.lower() not in (".jsonl", ".ndjson"):
        raise RunnerError(f"--out {out.name}: predict writes JSONL (each row keeps the model's raw answers); name it "
                          f"{out.stem}.jsonl")
    work = jobs(task, release, split, track, chosen, shots=shots)
    key = os.environ.get(api_key_env) if api_key_env else None
    client = ChatClient(api_url, key, timeout=timeout, max_requests=max_requests)
    store = ResponseCache((cache or out.parent / ".predict-cache") / "responses.sqlite")
    if not out.parent.is_dir():  # checked before any request (the default cache lives beside it)
        store.close()
        raise RunnerError(f"{out.parent} is not a folder; create it first")
    try:
        outcomes, tally = classify(work, task, client, store, model=model, prompt=chosen,
                                   concurrency=concurrency, progress=progress)
    finally:
        store.close()
    if not out.parent.is_dir():
        raise RunnerError(f"{out.parent} is not a folder; create it first")
    rows = [{"issue_id": o.issue_id, "label": o.label or "", "abstained": o.abstained,
             "raw": [redact(r, key) for r in o.raw]} for o in outcomes]
    partial = out.with_name(f".{out.name}.part")
    partial.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    partial.replace(out)
    record = RunRecord(
        task=task.name, task_version=task.version, split=split, track=track, model=model, prompt=chosen.key,
        prompt_sha256=chosen.sha256, shots=chosen.shots if shots is None else shots,
        predictions_sha256=_digest(rows), date=datetime.now(UTC).isoformat(timespec="seconds"),
        package_version=__version__, server_model_ids=tuple(sorted(tally.model_ids)), parameters=dict(PARAMS),
        structured_output=client.structured, api_host=urllib.parse.urlsplit(api_url).hostname,
        issues=len(outcomes), requests=tally.requests, cached_answers=tally.cached, retries=tally.retries,
        abstentions=tally.abstentions, tokens=dict(tally.tokens), model_cutoff=model_cutoff,
        cache_key_scheme=CACHE_SCHEME)
    record.write(out)
    return record


def _digest(rows: list[dict[str, object]]) -> str:
    import polars as pl

    return from_frame(pl.DataFrame([{k: r[k] for k in ("issue_id", "label", "abstained")} for r in rows]),
                      "predictions").digest


def reproduces(predictions: Predictions, record: RunRecord, raw: list[list[str]] | None, task: Task) -> bool:
    """Whether a run's stored raw answers re-parse to exactly the submitted labels with the prompt it names
    (same content hash): the check that makes a chat-model entry ``reproduced``."""
    if raw is None or record.prompt_sha256 != PROMPTS.get(record.prompt).sha256:
        return False
    labels = [r["label"] for r in predictions.rows]
    if len(raw) != len(labels):
        return False
    for answers, label in zip(raw, labels, strict=True):
        parsed = next((p for p in (parse(a, task) for a in answers) if p is not None), None)
        if parsed != label:
            return False
    return True
