"""The run record: what a system's run says about itself, in one typed file format that the systems
write and the board reads (as SWE-bench's inference and harness share only prediction keys).

``PREDS.run.json`` sits beside ``PREDS.jsonl``; it describes exactly that file (its ``predictions_sha256``
is the predictions' digest), so a record copied beside other predictions is refused.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CvreengError
from ..files import read_bounded, strict_json
from ..records import from_json

SUFFIX = ".run.json"
MAX_BYTES = 1 << 20


class RunRecordError(CvreengError):
    """A run record that cannot be read, or that describes other predictions."""


@dataclass(frozen=True)
class RunRecord:
    task: str
    task_version: int
    split: str
    track: str
    model: str
    prompt: str  # name@vN of the prompt the run rendered
    prompt_sha256: str  # the prompt's content hash
    shots: int
    predictions_sha256: str  # digest of the predictions this record describes
    date: str
    package_version: str
    server_model_ids: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    structured_output: bool = False
    api_host: str | None = None
    issues: int = 0
    requests: int = 0
    cached_answers: int = 0
    retries: int = 0
    abstentions: int = 0
    tokens: dict[str, int] = field(default_factory=dict)
    model_cutoff: str | None = None
    cache_key_scheme: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["server_model_ids"] = list(self.server_model_ids)
        return data

    def write(self, predictions: Path) -> Path:
        """Beside the predictions, written to a new file and renamed into place (a link planted at the name is
        replaced, never followed)."""
        path = path_for(predictions)
        partial = path.with_name(f".{path.name}.part")
        partial.unlink(missing_ok=True)
        with partial.open("x", encoding="utf-8") as out:
            out.write(json.dumps(self.to_dict(), indent=2) + "\n")
        partial.replace(path)
        return path

    @classmethod
    def from_dict(cls, data: Any, where: str) -> RunRecord:
        """A record from parsed JSON, each field checked against its declared type."""
        return from_json(cls, data, where, RunRecordError)


def path_for(predictions: Path) -> Path:
    return predictions.with_name(predictions.stem + SUFFIX)


def read(predictions: Path, digest: str) -> RunRecord | None:
    """The record beside ``predictions`` when there is one; refused when it describes other predictions."""
    path = path_for(predictions)
    if not path.is_file():
        return None
    try:
        data = strict_json(read_bounded(path, MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, RecursionError) as error:
        raise RunRecordError(f"{path}: not a readable run record ({str(error)[:120]})") from error
    record = RunRecord.from_dict(data, str(path))
    if record.predictions_sha256 != digest:
        raise RunRecordError(f"{path} does not describe {predictions.name} (its predictions_sha256 differs); the "
                             "predictions were changed after the run")
    return record
