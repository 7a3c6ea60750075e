"""Benchmark tasks: frozen, versioned metadata objects in a registry that refuses duplicates.

A task's definition never changes in place: a changed task is registered again under a new version, and
results always name the version they were scored against (as mteb does).

The unit is the issue: a classifier sees an issue, not a defect row. For the label tasks the gold of an
issue is the set of labels of its defects (13 issues hold more than one defect).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .. import taxonomy
from ..errors import CvreengError

if TYPE_CHECKING:
    import polars as pl

METADATA_INPUTS = ("repo", "repo_type", "framework", "github_labels", "issue_created_at", "days_since_repo_creation")
TEXT_INPUTS = ("title", "body", "comments")
SPLIT_NAMES = ("holdout", "fold", "repo_holdout", "temporal", "all")
SCREENING_LABELS = ("reengineering", "not reengineering")


class TaskError(CvreengError):
    """An unknown task or version, or a duplicate registration."""


@dataclass(frozen=True)
class Task:
    name: str
    dimension: str  # the defects column holding the gold labels; "is_reengineering" for screening
    labels: tuple[str, ...]
    description: str
    version: int = 1
    split: str = "holdout"  # default split
    main_score: str = "macro_f1"
    inputs: tuple[str, ...] = METADATA_INPUTS
    text_inputs: tuple[str, ...] = TEXT_INPUTS  # used when the release has issue_texts
    population: str = "reengineering issues"

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"


@dataclass
class Registry:
    tasks: dict[str, dict[int, Task]] = field(default_factory=dict)

    def register(self, task: Task) -> Task:
        versions = self.tasks.setdefault(task.name, {})
        if task.version in versions:
            raise TaskError(f"task {task.key} is already registered; a changed task needs a new version")
        if versions and task.version < max(versions):
            raise TaskError(f"task {task.name}: version {task.version} is older than v{max(versions)}")
        versions[task.version] = task
        return task

    def get(self, name: str, version: int | None = None) -> Task:
        base, _, suffix = name.partition("@v")
        if suffix:
            version = int(suffix)
        if base not in self.tasks:
            raise TaskError(f"unknown task {base!r}; tasks: {', '.join(sorted(self.tasks))}")
        versions = self.tasks[base]
        if version is None:
            return versions[max(versions)]
        if version not in versions:
            raise TaskError(f"task {base} has no version {version}; versions: {sorted(versions)}")
        return versions[version]

    def latest(self) -> list[Task]:
        return [v[max(v)] for _, v in sorted(self.tasks.items())]


REGISTRY = Registry()
REGISTRY.register(Task(
    "screening", "is_reengineering", SCREENING_LABELS,
    "Is a sampled issue a reengineering defect? (334 yes, 93 no)", population="sampled issues"))
for _dimension, _what in (("stage", "DL stage"), ("defect_type", "defect type"), ("impact", "impact"),
                          ("root_cause", "root cause"), ("manifestation", "manifestation"),
                          ("reporter", "reporter type")):
    REGISTRY.register(Task(_dimension, _dimension, taxonomy.labels(_dimension),
                           f"The {_what} of a reengineering issue's defects (gold: the set of its defects' labels)."))


def get(name: str, version: int | None = None) -> Task:
    return REGISTRY.get(name, version)


def gold(task: Task, issues: pl.DataFrame, defects: pl.DataFrame) -> pl.DataFrame:
    """issue_id -> gold label set (list) and primary label (the first defect's), for the task's population."""
    import polars as pl

    if task.dimension == "is_reengineering":
        frame = issues.select("issue_id", pl.when(pl.col("is_reengineering")).then(pl.lit(SCREENING_LABELS[0]))
                              .otherwise(pl.lit(SCREENING_LABELS[1])).alias("primary"))
        return frame.with_columns(pl.concat_list("primary").alias("gold"))
    live = defects.filter(~pl.col("withdrawn")).sort("issue_id", "defect_index")
    return (live.group_by("issue_id", maintain_order=True)
            .agg(pl.col(task.dimension).first().alias("primary"), pl.col(task.dimension).unique(maintain_order=True)
                 .alias("gold")))


def items(task: Task, release: object = None, split: str | None = None) -> pl.DataFrame:
    """The issues a task is scored on: issue_id, gold (list), primary, and the split columns."""
    from ..api import load

    split = split or task.split
    if split not in SPLIT_NAMES:
        raise TaskError(f"unknown split {split!r}; splits: {', '.join(SPLIT_NAMES)}")
    frame = gold(task, load("issues", release), load("defects", release)).join(
        load("splits", release), on="issue_id", how="left")
    if split in ("holdout", "repo_holdout", "temporal"):
        frame = frame.filter(frame[split] == "test")
    return frame.sort("issue_id")
