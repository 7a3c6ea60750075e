"""``cvreeng-bench predict``: a chat model's predictions for a task's test side, with full provenance.

Writes the predictions (JSONL: issue_id, label, abstained, raw) and, beside them, a sidecar
``<name>.run.json`` (model, prompt and version, parameters, the model ids the server reported, token use,
request counts, date, cache key scheme, track) that ``leaderboard add`` reads.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..sources import sha256_of
from .baselines import inputs
from .llm import CACHE_SCHEME, PARAMS, ChatClient, ResponseCache, RunnerError, classify
from .prompts import PROMPTS, Prompt, examples, render
from .splits import SIDED, TRAIN
from .tasks import ALL, Task, items

if TYPE_CHECKING:
    from ..release import Release

SIDECAR_SUFFIX = ".run.json"


def sidecar_path(predictions: Path) -> Path:
    return predictions.with_name(predictions.stem + SIDECAR_SUFFIX)


def jobs(task: Task, release: Release, split: str, track: str, prompt: Prompt, *, shots: int | None = None,
         ) -> list[tuple[str, list[dict[str, str]]]]:
    """(issue id, messages) for every issue of the split's test side; examples only from its train side."""
    if split not in SIDED:
        raise RunnerError(f"predict runs on a split with a test side: {', '.join(SIDED)} (not {split})")
    if track == "metadata":
        raise RunnerError("a language model reads the issue text: use --track triage or --track full-thread")
    frame = items(task, release, ALL).join(inputs(task, release, track), on="issue_id", how="left")
    rows = frame.to_dicts()
    text_of = {r["issue_id"]: r["text"] or "" for r in rows}
    train = [r for r in rows if r[split] == TRAIN]
    shown = examples(train, prompt.shots if shots is None else shots)
    test = items(task, release, split)["issue_id"].to_list()
    by_id = {r["issue_id"]: r for r in rows}
    return [(i, render(prompt, task, by_id[i], text_of, shown)) for i in test]


def predict(task: Task, release: Release, *, model: str, api_url: str, out: Path, split: str | None = None,
            track: str = "triage", prompt: str = "zero-shot", shots: int | None = None,
            api_key_env: str | None = "OPENAI_API_KEY", cache: Path | None = None, concurrency: int = 4,
            max_requests: int | None = None, model_cutoff: str | None = None, timeout: float = 60.0,
            progress: bool = True) -> dict[str, Any]:
    """Run the model, write the predictions and the sidecar; returns the sidecar's content."""
    chosen = PROMPTS.get(prompt)
    split = split or task.split
    work = jobs(task, release, split, track, chosen, shots=shots)
    key = os.environ.get(api_key_env) if api_key_env else None
    client = ChatClient(api_url, key, timeout=timeout, max_requests=max_requests)
    store = ResponseCache((cache or out.parent / ".predict-cache") / "responses.sqlite")
    try:
        outcomes, tally = classify(work, task, client, store, model=model, prompt=chosen.key,
                                   concurrency=concurrency, progress=progress)
    finally:
        store.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_text("".join(json.dumps({"issue_id": o.issue_id, "label": o.label or "", "abstained": o.abstained,
                                           "raw": o.raw}) + "\n" for o in outcomes), encoding="utf-8")
    partial.replace(out)
    parts = urllib.parse.urlsplit(api_url)
    info = {
        "task": task.name, "task_version": task.version, "split": split, "track": track, "model": model,
        "server_model_ids": sorted(tally.model_ids), "prompt": chosen.key,
        "shots": chosen.shots if shots is None else shots, "parameters": PARAMS,
        "structured_output": client.structured, "api_host": parts.hostname, "issues": len(outcomes),
        "requests": tally.requests, "cached_answers": tally.cached, "retries": tally.retries,
        "abstentions": tally.abstentions, "tokens": tally.tokens, "model_cutoff": model_cutoff,
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "cache_key_scheme": CACHE_SCHEME,
        "package_version": __version__, "predictions_sha256": sha256_of(out),
    }
    sidecar_path(out).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def read_sidecar(predictions: Path) -> dict[str, Any] | None:
    """The run's sidecar when it sits beside the predictions and describes exactly that file."""
    path = sidecar_path(predictions)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise RunnerError(f"{path}: not a readable run sidecar ({error})") from error
    if not isinstance(info, dict) or info.get("predictions_sha256") != sha256_of(predictions):
        raise RunnerError(f"{path} does not describe {predictions.name} (its predictions_sha256 differs); the "
                          "predictions were changed after the run")
    return info
