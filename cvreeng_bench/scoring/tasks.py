"""Benchmark tasks: frozen, versioned metadata objects in a registry that refuses duplicates.

A task's definition never changes in place: a changed task is registered again under a new version, and
results always name the version they were scored against (as mteb does). Version 1 of every task stays
registered so that its results remain visible (as older); version 2 was protocol v2, and version 3, the current
one, is protocol v3 (README): out-of-fold over every item is the main split, ``github_labels`` is no input, and

* the unit is the issue; gold is the set of its defects' labels in the task's label space;
* the label space is the taxonomy's labels with those of fewer than :data:`RARE_THRESHOLD` issues in the
  whole dataset merged into one declared rare class (``merged``), named after upstream's own bucket for
  categories under five defects, "Low frequency type";
* a system reads only the declared ``inputs`` (issue metadata that is known when the issue is filed and
  that no annotator made) and, per ``track``, the issue text: ``triage`` (title and body) or
  ``full-thread`` (with the comments, which often hold the fix);
* exactly one label per issue, correct when it is in the gold set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import dlbugs, taxonomy
from ..errors import CvreengError
from ..registry import Registry
from .populations import (
    NOTE_TRACKS,
    NOTES,
    SCREENING,
    SO_POSTS,
    STUDY,
    TRACKS,
    Population,
    ReleaseTables,
)
from .splits import SEED, SIDED, SPLITS, TEST, assign, repository_holdout

if TYPE_CHECKING:
    import polars as pl

    from ..release import Release

ALL = "all"  # every issue of the task's population, no split
SPLIT_NAMES = (*SPLITS, ALL)
SCREENING_LABELS = ("reengineering", "not reengineering")
RARE_THRESHOLD = 5
RARE = taxonomy.LOW_FREQUENCY
# Issue columns known when the issue was filed and made by no annotator. The repository's framework is
# left out: the release derives it from the annotators' per-defect framework labels.
METADATA_INPUTS = ("repo", "repo_type", "github_labels", "issue_created_at", "days_since_repo_creation")
# Columns an annotator made (or that are computed from what annotators made): never a task input.
ANNOTATOR_MADE = frozenset({*taxonomy.dimension_names(), "root_cause_stage", "is_reengineering", "n_defects",
                            "research_prototype"}) - {"repo_type"}
# Protocol v3 drops github_labels: upstream recorded them at study time, and 43 of the 103 labelled issues carry
# labels added after filing (stale, stat:awaiting response, cannot repro, duplicate, ...).
V3_INPUTS = tuple(c for c in METADATA_INPUTS if c != "github_labels")
V1_INPUTS = ("repo", "repo_type", "framework", "github_labels", "issue_created_at", "days_since_repo_creation")


class TaskError(CvreengError):
    """A split or track a task does not have, or a superseded task version."""


@dataclass(frozen=True)
class Task:
    name: str
    dimension: str  # the defects column holding the gold labels; "is_reengineering" for screening
    labels: tuple[str, ...]  # the task's label space, in order (merged labels replaced by the rare class)
    description: str
    version: int = 1
    split: str = "fold"  # default split (protocol v3: out-of-fold over every item)
    main_score: str = "macro_f1"
    inputs: tuple[str, ...] = V3_INPUTS
    tracks: tuple[str, ...] = tuple(TRACKS)
    population: str = "reengineering issues"  # what its items are, in words
    merged: tuple[str, ...] = ()  # canonical labels scored as the rare class
    kept: tuple[str, ...] = ()  # labels under the threshold that stay on their own (see the description)
    source: Population = STUDY  # where the items come from
    splits: tuple[str, ...] = SPLITS  # the splits its items have (posts have no repository and no date)
    # (canonical label, task label or None): a derived label space; a defect mapped to None is not scored, and
    # an issue none of whose defects maps is outside the task's population.
    mapped: tuple[tuple[str, str | None], ...] = ()
    # What a rater (or a prompted model) is asked of one item: no counts, no class balance, no protocol.
    question: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"

    def task_label(self, canonical: str) -> str:
        return RARE if canonical in self.merged else canonical

    @property
    def text_track(self) -> str:
        """The first text track (triage for issues and posts, symptom for the analysts' notes): what a text system
        reads when no track is named."""
        return next(t for t in self.tracks if t != "metadata")

    def text_fields(self, track: str) -> tuple[str, ...]:
        if track not in self.tracks:
            raise TaskError(f"task {self.key} has no track {track!r}; tracks: {', '.join(self.tracks)}")
        return self.track_fields(track)

    def track_fields(self, track: str) -> tuple[str, ...]:
        """The text fields a system reads on a track (as the task's population declares them)."""
        return self.source.track_fields(track)

    def definition(self, label: str) -> str:
        if self.source.define is not None:  # the population's own label vocabulary
            return self.source.define(label)
        if self.mapped:
            causes = [c for c, kind in self.mapped if kind == label]
            return f"{dlbugs.definition(label)} Study root causes of this kind: {', '.join(causes)}."
        if self.dimension == SCREENING:
            return ("The issue holds at least one defect that arose while reengineering a model." if
                    label == SCREENING_LABELS[0] else "The issue holds no reengineering defect.")
        if label == RARE and self.merged:
            upstream = (taxonomy.lookup(self.dimension, RARE).definition + " "
                        if RARE in taxonomy.labels(self.dimension) else "")
            return (f"{upstream}For this task it also holds the labels with fewer than {RARE_THRESHOLD} issues in "
                    f"the dataset: {', '.join(self.merged)}.")
        return taxonomy.lookup(self.dimension, label).definition

    def to_dict(self) -> dict[str, Any]:
        """What ``cvreeng-bench tasks --format json`` lists."""
        return {"name": self.name, "version": self.version, "key": self.key, "dimension": self.dimension,
                "description": self.description, "population": self.population, "main_score": self.main_score,
                "split": self.split, "default_split": self.split, "labels": list(self.labels),
                "merged": dict.fromkeys(self.merged, RARE), "kept_rare": list(self.kept),
                "inputs": list(self.inputs), "tracks": {t: list(self.track_fields(t)) for t in self.tracks},
                "source": self.source.name, "splits": list(self.splits), "mapped": dict(self.mapped),
                "question": self.question,
                "predictions": "exactly one label per issue, from labels"}


def _what(dimension: str) -> str:
    title = taxonomy.dimension(dimension).title
    return title if title.startswith("DL") else title.lower()


def _space(dimension: str, merged: tuple[str, ...]) -> tuple[str, ...]:
    kept = tuple(label for label in taxonomy.labels(dimension) if label not in merged and label != RARE)
    return (*kept, RARE) if merged or RARE in taxonomy.labels(dimension) else kept


# Labels with fewer than RARE_THRESHOLD issues in the whole dataset (a test checks this against the data).
MERGED: dict[str, tuple[str, ...]] = {
    "stage": (),
    "defect_type": ("Logic", "Configuration", "Other", "Memory exhaustion", "Syntax error"),
    "impact": ("Data corruption", "Hang", "Other"),
    "root_cause": ("Activation function", "Missing/redundant/wrong layer", "Optimizer", "Loss function",
                   "Evaluation", "Other training process"),
    "manifestation": (),
    "reporter": (),
}
KEPT: dict[str, tuple[str, ...]] = {"reporter": ("Replicator",)}  # 4 issues: one of the paper's four types

REGISTRY: Registry[Task] = Registry("task")
REGISTRY.register(Task(
    "screening", SCREENING, SCREENING_LABELS,
    "Is a sampled issue a reengineering defect? (334 yes, 93 no)", population="sampled issues", inputs=V1_INPUTS,
    tracks=("metadata",), split="holdout"))
for _name in taxonomy.CLASSIFIED:  # version 1: the taxonomy's labels as they are, label sets allowed
    REGISTRY.register(Task(_name, _name, taxonomy.labels(_name), f"The {_what(_name)} of a reengineering issue's "
                           "defects (gold: the set of its defects' labels).", inputs=V1_INPUTS, tracks=("metadata",),
                           split="holdout"))
REGISTRY.register(Task(
    "screening", SCREENING, SCREENING_LABELS,
    "Is a sampled issue a reengineering defect? (334 yes, 93 no). GitHub labels are not an input: upstream "
    "recorded them for reengineering issues only.", version=2, population="sampled issues",
    inputs=tuple(c for c in METADATA_INPUTS if c != "github_labels"), split="holdout"))
for _name in taxonomy.CLASSIFIED:  # version 2: protocol v2 (one label, declared label space and inputs)
    _kept = KEPT.get(_name, ())
    REGISTRY.register(Task(
        _name, _name, _space(_name, MERGED[_name]),
        f"The {_what(_name)} of a reengineering issue's defects (gold: the set of its defects' labels)."
        + (f" Kept on their own despite fewer than {RARE_THRESHOLD} issues: {', '.join(_kept)} (merging one "
           "label would only rename it)." if _kept else ""),
        version=2, merged=MERGED[_name], kept=_kept, split="holdout", inputs=METADATA_INPUTS))

QUESTIONS = {"screening": "Does this issue report a defect that arose while reengineering a deep-learning model "
                          "(reusing, replicating, adapting or enhancing it)?"}
for _name in ("screening", *taxonomy.CLASSIFIED):  # version 3: protocol v3 (out-of-fold main split, v3 inputs)
    _v2 = REGISTRY.get(_name, 2)
    REGISTRY.register(Task(
        _name, _v2.dimension, _v2.labels,
        _v2.description.replace(" GitHub labels are not an input: upstream recorded them for reengineering issues "
                                "only.", "") + " Scored out-of-fold over every issue (protocol v3).",
        version=3, split="fold", inputs=V3_INPUTS, population=_v2.population, merged=_v2.merged, kept=_v2.kept,
        question=QUESTIONS.get(_name) or f"Which {_what(_name)} best describes the defect this issue reports?"))


# The crosswalk's study side: root causes as DL-bug kinds, so one system can be scored on both sources.
REGISTRY.register(Task(
    "bug_kind", "root_cause", dlbugs.BUG_KINDS,
    "The kind of deep-learning bug (the Stack Overflow posts' classes) of a reengineering issue, from its defects' "
    "root causes through the declared crosswalk; issues whose root causes have no counterpart are left out.",
    version=1, split="fold", inputs=V3_INPUTS, question="Which kind of deep-learning bug does this issue report?",
    population="reengineering issues with a root cause that has a DL-bug kind",
    mapped=tuple((c.root_cause, c.kind) for c in dlbugs.CROSSWALK)))
REGISTRY.register(Task(
    "bug_kind", "root_cause", dlbugs.BUG_KINDS,
    "The kind of deep-learning bug (the Stack Overflow posts' classes) of a reengineering issue, from its defects' "
    "root causes through the declared crosswalk (version 2: wrong environment configuration counts as gpu); issues "
    "whose root causes have no counterpart are left out.",
    version=2, split="fold", inputs=V3_INPUTS, question="Which kind of deep-learning bug does this issue report?",
    population="reengineering issues with a root cause that has a DL-bug kind",
    mapped=tuple((c.root_cause, c.kind) for c in dlbugs.CROSSWALKS[2])))
REGISTRY.register(Task(
    "so_dl_bugs", "label", dlbugs.LABELS,
    "The kind of deep-learning bug a Stack Overflow post reports (model, tensor, training, gpu, api), or Others "
    "when it is not a DL bug; 600 posts, 100 per class. Scored out-of-fold over every post.",
    version=1, split="fold", inputs=("tags",), tracks=("metadata", "triage"), population="Stack Overflow posts",
    source=SO_POSTS, splits=SO_POSTS.splits,
    question="Which kind of deep-learning bug does this question report? Others when it reports none."))

# The same dimensions over the study issues that the analysts' 2022 notes describe: the text tracks are the notes
# (symptom; analysis, post-hoc), and the metadata track scores the metadata baseline and the chance lines on the
# same issues, so text and metadata compare on the same items.
for _name in taxonomy.CLASSIFIED:
    _v3 = REGISTRY.get(_name, 3)
    REGISTRY.register(Task(
        f"notes_{_name}", _v3.dimension, _v3.labels,
        f"The {_what(_name)} of a reengineering issue's defects, read from the analysts' 2022 notes on it (symptom: "
        "the Bugs note; analysis: Bugs, Comments and Fix, written after the analysis) or its metadata, over the "
        "issues whose notes link to their final defects. Scored out-of-fold.",
        version=1, split="fold", inputs=V3_INPUTS, tracks=tuple(NOTE_TRACKS),
        population="reengineering issues with the analysts' notes", merged=_v3.merged, kept=_v3.kept, source=NOTES,
        question=f"Which {_what(_name)} best describes the defect these notes describe?"))
REGISTRY.register(Task(
    "notes_bug_kind", "root_cause", dlbugs.BUG_KINDS,
    "The kind of deep-learning bug (the Stack Overflow posts' classes) of a noted reengineering issue, from its "
    "defects' root causes through the declared crosswalk, read from the analysts' 2022 notes; so a system trained on "
    "the posts can be scored on the study's own text (`transfer`).",
    version=1, split="fold", inputs=V3_INPUTS, tracks=tuple(NOTE_TRACKS), source=NOTES,
    population="reengineering issues with the analysts' notes and a root cause that has a DL-bug kind",
    mapped=tuple((c.root_cause, c.kind) for c in dlbugs.CROSSWALK),
    question="Which kind of deep-learning bug do these notes describe?"))
REGISTRY.register(Task(
    "notes_bug_kind", "root_cause", dlbugs.BUG_KINDS,
    "The kind of deep-learning bug (the Stack Overflow posts' classes) of a noted reengineering issue, from its "
    "defects' root causes through the declared crosswalk (version 2: wrong environment configuration counts as gpu), "
    "read from the analysts' 2022 notes; so a system trained on the posts can be scored on the study's own text "
    "(`transfer`).",
    version=2, split="fold", inputs=V3_INPUTS, tracks=tuple(NOTE_TRACKS), source=NOTES,
    population="reengineering issues with the analysts' notes and a root cause that has a DL-bug kind",
    mapped=tuple((c.root_cause, c.kind) for c in dlbugs.CROSSWALKS[2]),
    question="Which kind of deep-learning bug do these notes describe?"))


def listing() -> str:
    """One line per current task: name@version, main score, default split, label count, description."""
    return "".join(f"{t.key:22s} main={t.main_score:9s} split={t.split:8s} {len(t.labels):2d} labels  "
                   f"{t.description}\n" for t in REGISTRY.latest())


def get(name: str, version: int | None = None) -> Task:
    return REGISTRY.get(name, version)


def gold(task: Task, tables: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """issue_id -> gold label set (list) and primary label (the first defect's), in the task's label space.
    ``tables``: the release's configs by name (those the task's population reads its gold from)."""
    return task.source.gold(task, tables)


def items(task: Task, release: Release, split: str | None = None) -> pl.DataFrame:
    """The issues a task is scored on: issue_id, gold (list), primary, and the task's split columns."""
    import polars as pl

    split = split or task.split
    if split not in (*task.splits, ALL):
        raise TaskError(f"task {task.key} has no split {split!r}; splits: {', '.join((*task.splits, ALL))}")
    if not REGISTRY.is_latest(task):
        raise TaskError(f"{task.key} is superseded by {get(task.name).key}; its results stay on the board as "
                        "older, and new predictions are scored against the current version")
    needed = task.source.config
    if not release.has(needed):
        why = release.why_absent(task.source.name)
        raise TaskError(f"task {task.key} needs the {needed} config, absent from this release: {why}")

    def population() -> pl.DataFrame:
        splits = release.frame("splits").filter(pl.col("task") == task.name).drop("task", "task_version")
        return gold(task, ReleaseTables(release)).join(splits, on="issue_id", how="inner").sort("issue_id")

    frame = release.memo(("items", task.key), population)
    if split in SIDED:
        frame = frame.filter(frame[split] == TEST)
    return frame.clone()


def splits_table(tables: Mapping[str, pl.DataFrame], seed: int = SEED) -> pl.DataFrame:
    """The ``splits`` config: for every current task whose source is in ``tables``, its population's sides,
    stratified on its label; a split the task's items cannot have (no repository, no date) is null."""
    import polars as pl

    frames = []
    for task in REGISTRY.latest():
        if task.source.config not in tables:
            continue
        places = task.source.split_columns(tables)
        # Whole repositories of the population's items (all of them, whatever the task keeps) go to the test side.
        held = repository_holdout(task.source.items(tables), seed) if task.source.repo_column else set()
        population = gold(task, tables).rename({"primary": "stratum"}).join(places, on="issue_id")
        sides = assign(population, held, seed).with_columns(
            pl.lit(None, pl.String).alias(name) for name in SIDED if name not in task.splits)
        frames.append(sides.select(
            pl.lit(task.name).alias("task"), pl.lit(task.version, pl.Int32).alias("task_version"), pl.all()))
    return pl.concat(frames)
