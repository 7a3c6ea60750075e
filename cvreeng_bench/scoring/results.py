"""Typed records for what the harness computes: a :class:`Result` (one system scored on one task and
split) and a :class:`Comparison` (a paired test of two systems). ``evaluate``, ``compare``, the
leaderboard and the CLI all pass these, never loose dicts; JSON is only their file format.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import CvreengError
from ..files import read_bounded, strict_json
from ..records import from_json
from .protocol import caveat


def _finite(value: Any) -> Any:
    """NaN and infinities (an interval from zero resamples, say) as null: JSON has no NaN."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def dumps(data: Any) -> str:
    """Strict JSON (no NaN) for results written to files and standard output."""
    return json.dumps(_finite(data), indent=2, default=str, allow_nan=False) + "\n"


MAX_RESULT_BYTES = 16 << 20  # a result (per-label scores, a confusion matrix) is kilobytes


class ResultError(CvreengError):
    """A result file that is not an ``evaluate`` result."""


@dataclass(frozen=True)
class Result:
    task: str
    task_version: int
    split: str
    track: str  # metadata, triage or full-thread: what the system read
    main_score: str
    dataset_version: str
    content_sha256: str
    package_version: str
    predictions_sha256: str
    date: str
    n: int
    labels: list[str]
    scores: dict[str, float]
    ci95: dict[str, list[float]]
    per_label: list[dict[str, Any]]
    confusion: list[list[int]] | None
    n_resamples: int
    seed: int
    n_missing: int = 0
    n_abstained: int = 0
    labels_public_since: str | None = None  # when the gold labels became public (the release's manifest)
    # The main score by the year the issue was opened (no interval; a year of few issues is noisy): whether
    # older issues, more likely in a model's training data, are easier. Empty for items without a date.
    per_year: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    @property
    def score(self) -> float:
        return self.scores[self.main_score]

    @property
    def interval(self) -> tuple[float, float]:
        low, high = self.ci95[self.main_score]
        return low, high

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any, source: str = "result") -> Result:
        """A result from parsed JSON (an `evaluate --out` file), each field checked against its declared type."""
        return from_json(cls, data, source, ResultError)

    @classmethod
    def read(cls, path: Path) -> Result:
        try:
            data = strict_json(read_bounded(path, MAX_RESULT_BYTES).decode("utf-8"))
        except OSError as error:
            raise ResultError(f"cannot read {path}: {error.strerror or error}") from error
        except (ValueError, RecursionError) as error:
            raise ResultError(f"{path}: not a JSON result from `cvreeng-bench evaluate --out` ({error})") from error
        return cls.from_dict(data, str(path))

    def table(self) -> str:
        """The result as an aligned text report (the CLI's default output)."""
        lines = [f"task {self.task}@v{self.task_version}, split {self.split}, track {self.track}, n = {self.n} "
                 f"({self.n_missing} missing, {self.n_abstained} abstained; {self.n_resamples} bootstrap resamples, "
                 f"seed {self.seed})", ""]
        for metric, value in self.scores.items():
            low, high = self.ci95[metric]
            lines.append(f"  {metric:9s} {value:.3f}  [{low:.3f}, {high:.3f}]")
        warned = caveat(self.task, self.split)
        if warned:
            lines.append(f"  caveat: {warned}")
        lines += ["", f"  {'label':40s} {'support':>7s} {'precision':>9s} {'recall':>7s} {'f1':>6s}"]
        for row in self.per_label:
            lines.append(f"  {row['label'][:40]:40s} {row['support']:7d} {row['precision']:9.3f} "
                         f"{row['recall']:7.3f} {row['f1']:6.3f}")
        if self.per_year:
            lines += ["", f"  {self.main_score} by the year the issue was opened (labels public since "
                      f"{self.labels_public_since}):"]
            lines += [f"  {row['year']}  n = {row['n']:3d}  {row['score']:.3f}" for row in self.per_year]
        if self.confusion:
            width = max(len(label) for label in self.labels)
            lines += ["", "  confusion (rows gold, columns predicted; columns numbered as the rows):",
                      f"  {'':{width + 4}s} " + " ".join(f"{i:4d}" for i in range(1, len(self.labels) + 1))]
            for number, (label, counts) in enumerate(zip(self.labels, self.confusion, strict=True), start=1):
                lines.append(f"  {number:2d}. {label:{width}s} " + " ".join(f"{n:4d}" for n in counts))
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RandomizationTest:
    """What every randomization test reports: its metric, p = (k + 1) / (rounds + 1), items, rounds, seed, name."""

    metric: str
    p_value: float
    n: int
    n_rounds: int
    seed: int
    test: str


@dataclass(frozen=True)
class PermutationTest(RandomizationTest):
    """metric(A) - metric(B) on the same items; the p-value is two-sided."""

    difference: float


@dataclass(frozen=True)
class ChanceTest(RandomizationTest):
    """The observed metric and the mean of the same predictions shuffled across items; the p-value is one-sided."""

    score: float
    chance_mean: float


@dataclass(frozen=True)
class Comparison(PermutationTest):
    """A paired permutation test of two systems' predictions on one task's split (``compare``)."""

    task: str
    task_version: int
    split: str
    a: str
    b: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return dumps(self.to_dict())

    def table(self) -> str:
        verdict = "different at 5%" if self.p_value < 0.05 else "not told apart at 5%"
        return (f"task {self.task}@v{self.task_version}, split {self.split}, n = {self.n}\n"
                f"  {self.metric}({self.a}) - {self.metric}({self.b}) = {self.difference:+.4f}\n"
                f"  p = {self.p_value:.4f} ({verdict}; {self.test}, {self.n_rounds} rounds, seed {self.seed})\n")
