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
from .splits import SIDED, SPLITS

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

METADATA_INPUTS = ("repo", "repo_type", "framework", "github_labels", "issue_created_at", "days_since_repo_creation")
TEXT_INPUTS = ("title", "body", "comments")
ALL = "all"  # every issue of the task's population, no split
SPLIT_NAMES = (*SPLITS, ALL)
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
            if not suffix.isdigit():
                raise TaskError(f"{name!r}: a version is a whole number, as in {base}@v1")
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
for _name in taxonomy.CLASSIFIED:  # one task per dimension a defect is classified by
    _title = taxonomy.dimension(_name).title
    _what = _title if _title.startswith("DL") else _title.lower()
    REGISTRY.register(Task(_name, _name, taxonomy.labels(_name),
                           f"The {_what} of a reengineering issue's defects (gold: the set of its defects' labels)."))


def listing() -> str:
    """One line per current task: name@version, main score, default split, label count, description."""
    return "".join(f"{t.key:22s} main={t.main_score:9s} split={t.split:8s} {len(t.labels):2d} labels  "
                   f"{t.description}\n" for t in REGISTRY.latest())


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


def items(task: Task, release: Release, split: str | None = None) -> pl.DataFrame:
    """The issues a task is scored on: issue_id, gold (list), primary, and the split columns."""
    split = split or task.split
    if split not in SPLIT_NAMES:
        raise TaskError(f"unknown split {split!r}; splits: {', '.join(SPLIT_NAMES)}")

    def population() -> pl.DataFrame:
        return gold(task, release.frame("issues"), release.frame("defects")).join(
            release.frame("splits"), on="issue_id", how="left").sort("issue_id")

    frame = release.memo(("items", task.key), population)
    if split in SIDED:
        frame = frame.filter(frame[split] == "test")
    return frame.clone()
