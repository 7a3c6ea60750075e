"""What a system may read for a task: the task's declared inputs and, on a text track, the text of that
track. Baselines and the chat-model runner receive a :class:`TaskView` built here, and the task configs take
their rows from here, so an undeclared column (and the gold of what is predicted) is never in reach."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .populations import TEXT, ReleaseTables
from .splits import BY_REPOSITORY, N_FOLDS, SIDED, TEST, TRAIN, grouped_folds, stratified_folds
from .tasks import ALL, Task, TaskError, items

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

NO_TEXTS = ("this release has no issue texts; build it with `cvreeng-bench build --with-text CACHE` after "
            "`cvreeng-bench hydrate`")


def inputs(task: Task, release: Release, track: str) -> pl.DataFrame:
    """issue_id, the task's declared inputs and, for a text track, ``text``: nothing else."""
    fields = task.text_fields(track)
    tables = ReleaseTables(release)
    frame = task.source.items(tables).select("issue_id", *task.inputs)
    if not fields:
        return frame
    texts = task.source.texts(tables, fields)
    if texts is None:
        raise TaskError(NO_TEXTS)
    return frame.join(texts, on="issue_id", how="left")


@dataclass(frozen=True)
class TaskView:
    """Everything a system is handed for one round of training and prediction, built only from the task's
    declared inputs (and the track's text): ``train`` rows with their ``labels`` (the first defect's label, in
    the task's space), and the ``test`` rows to label, which carry no label, stratum, split or fold. Rows are
    read-only mappings of ``issue_id``, the declared inputs and, on a text track, ``text``: nothing else."""

    task: Task
    track: str
    train: tuple[Mapping[str, Any], ...]
    labels: tuple[str, ...]
    test: tuple[Mapping[str, Any], ...]

    def __post_init__(self) -> None:
        if len(self.train) != len(self.labels):
            raise TaskError(f"a view needs one label per train row ({len(self.train)} rows, {len(self.labels)} "
                            "labels)")

    @property
    def test_ids(self) -> list[str]:
        return [row["issue_id"] for row in self.test]


def _rows(task: Task, release: Release, track: str, only: tuple[str, ...] = ()) -> dict[str, Mapping[str, Any]]:
    """issue_id -> the read-only row of what a system may read of that item (``only``: just these columns); built
    once per release object (the rows are read-only, so every round may share them)."""
    def build() -> dict[str, Mapping[str, Any]]:
        frame = inputs(task, release, track)
        return {row["issue_id"]: MappingProxyType(row) for row in (frame.select(*only) if only else frame).to_dicts()}

    return release.memo(("view-rows", task.key, track, only), build)


def views(task: Task, release: Release, split: str, track: str, fold_seed: int | str | None = None) -> list[TaskView]:
    """The rounds of a split: one view per fold on ``fold`` and ``all`` (out-of-fold, every item predicted once),
    else one (its train side, its test side). Items keep the release's order (by id). ``fold_seed``: the folds dealt
    again with that seed, stratified on the primary label as the release's were (its own seed deals them alike);
    ``"repository"`` (:data:`BY_REPOSITORY`): whole repositories dealt to folds.
    Built once per release object: the views are read-only, and seeded systems and fold seeds share them."""
    return release.memo(("views", task.key, split, track, fold_seed),
                        lambda: _views(task, release, split, track, fold_seed))


def _views(task: Task, release: Release, split: str, track: str, fold_seed: int | str | None) -> list[TaskView]:
    frame = items(task, release, ALL)
    rows = _rows(task, release, track)
    ids, labels = frame["issue_id"].to_list(), frame["primary"].to_list()
    if split in SIDED:
        sides = frame[split].to_list()
        rounds = [([s == TRAIN for s in sides], [s == TEST for s in sides])]
    else:
        if fold_seed is None:
            folds = frame["fold"].to_list()
        elif fold_seed == BY_REPOSITORY:
            if task.source.repo_column is None:
                raise TaskError(f"task {task.key}'s items have no repository to deal folds by")
            repos = dict(task.source.split_columns(ReleaseTables(release)).select("issue_id", "repo").rows())
            dealt = grouped_folds(ids, [repos[i] for i in ids])
            folds = [dealt[i] for i in ids]
        elif isinstance(fold_seed, int):
            dealt = stratified_folds(ids, labels, fold_seed)
            folds = [dealt[i] for i in ids]
        else:
            raise TaskError(f"fold_seed must be a seed or {BY_REPOSITORY!r}, got {fold_seed!r}")
        rounds = [([f != fold for f in folds], [f == fold for f in folds]) for fold in range(N_FOLDS)]
    return [TaskView(task, track, tuple(rows[i] for i, t in zip(ids, train, strict=True) if t),
                     tuple(label for label, t in zip(labels, train, strict=True) if t),
                     tuple(rows[i] for i, t in zip(ids, test, strict=True) if t)) for train, test in rounds]


def across(train_task: Task, test_task: Task, release: Release, track: str, keep: Collection[str]) -> TaskView:
    """One view across sources: every item of ``train_task`` whose label is in ``keep`` for training, every item of
    ``test_task`` to label; both read only text (the one input two sources share): ``track`` on each side that has
    it, else that side's first text track (a post's text is the same on every text track)."""
    def chosen(task: Task) -> str:
        return track if track in task.tracks else task.text_track

    train_frame = items(train_task, release, ALL)
    train_rows = _rows(train_task, release, chosen(train_task), ("issue_id", TEXT))
    pairs = [(i, p) for i, p in zip(train_frame["issue_id"], train_frame["primary"], strict=True) if p in keep]
    test_rows = _rows(test_task, release, chosen(test_task), ("issue_id", TEXT))
    return TaskView(test_task, chosen(test_task), tuple(train_rows[i] for i, _ in pairs), tuple(p for _, p in pairs),
                    tuple(test_rows[i] for i in items(test_task, release, ALL)["issue_id"]))
