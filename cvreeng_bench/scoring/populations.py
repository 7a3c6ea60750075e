"""Populations: where a task's items come from, one declaration per source of items.

A :class:`Population` knows everything the scorer, the systems, the board and the build need of one source: the
config holding its items and how an item is named (``issue_id``), the configs its gold is read from and its scored
data (for the board's content hash), its gold in a task's label space, what a system may read on each track (the
declared inputs and the text), the raw text fields its task configs carry, which splits its items can have (a
repository and a date, or neither), what its own labels mean, whether the raters' agreement exists for it, and the
reader that turns its pinned files into rows. Tasks name a population object, never a string, and nothing else
branches on the source: adding a source is its pinned files (``sources``), its reader, its config's columns
(``schema``) and one :data:`POPULATIONS` entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .. import dlbugs, taxonomy
from ..pipeline.notes import NOTE_TRACK_MEANINGS
from ..registry import Registry
from ..threads import render

if TYPE_CHECKING:
    import polars as pl

    from ..problems import Problem
    from ..release import Release

TEXT = "text"  # the rendered text of the chosen track, in the rows a text system reads
# The text tracks: which fields of an item's text a system may read besides the metadata inputs.
TRACKS: dict[str, tuple[str, ...]] = {"metadata": (), "triage": ("title", "body"),
                                      "full-thread": ("title", "body", "comments")}
# The analysts' notes (a third source of text on the study's issues): what each note track reads.
NOTE_TRACKS: dict[str, tuple[str, ...]] = {"metadata": (), "symptom": ("bugs",),
                                           "analysis": ("bugs", "comments", "fix")}
ALL_TRACKS: tuple[str, ...] = tuple(dict.fromkeys([*TRACKS, *NOTE_TRACKS]))
TEXT_TRACKS: tuple[str, ...] = tuple(t for t in ALL_TRACKS if t != "metadata")
TRACK_MEANINGS = {
    "metadata": "the declared inputs only (no text)",
    "triage": "the issue's title and body as filed (study issues: a hydrated release; posts: the post)",
    "full-thread": "title, body and the comments, which often hold the fix (a hydrated release)",
    **NOTE_TRACK_MEANINGS,
}
SPLITS = ("holdout", "fold", "repo_holdout", "temporal")
Tables = Mapping[str, "pl.DataFrame"]


class Read(Protocol):
    """What a source's reader returns: typed rows of its config and every problem met."""

    rows: list[dict[str, Any]]
    problems: list[Problem]


class TaskLike(Protocol):
    """The task fields a population's gold reads (``scoring.tasks.Task`` has them)."""

    @property
    def dimension(self) -> str: ...
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def merged(self) -> tuple[str, ...]: ...
    @property
    def mapped(self) -> tuple[tuple[str, str | None], ...]: ...


@dataclass(frozen=True)
class Population:
    name: str  # the name of its source in ``sources.SOURCES`` (the release's manifest keys on it)
    config: str  # the config holding one row per item
    describes: str  # what one item is, in a sentence's words
    gold: Callable[[TaskLike, Tables], pl.DataFrame]  # issue_id, primary, gold (list) in the task's label space
    items: Callable[[Tables], pl.DataFrame]  # the config's rows with the item id as ``issue_id``
    scored_configs: tuple[str, ...]  # what its tasks are scored on (with their split rows: the content hash)
    gold_configs: tuple[str, ...]  # the configs ``gold`` reads
    tracks: Mapping[str, tuple[str, ...]]  # track -> the text fields a system reads on it
    texts: Callable[[Tables, tuple[str, ...]], pl.DataFrame | None]  # issue_id, TEXT; None: no texts here
    raw_texts: Callable[[Tables], pl.DataFrame | None]  # issue_id and the text fields its task configs carry
    text_configs: tuple[str, ...] = ()  # the configs its texts need beside ``config`` (absent: no text tracks)
    splits: tuple[str, ...] = SPLITS  # posts have no repository and no date: holdout and fold only
    # In ``items``: the repository a holdout keeps together (``repo``, beside ``repo_type``, whose kinds it alternates;
    # None: no repository split) and the date of the temporal split and of per-year scores (None: neither).
    repo_column: str | None = "repo"
    date_column: str | None = "issue_created_at"
    define: Callable[[str], str] | None = None  # its own label vocabulary's definitions (None: the taxonomy's)
    agreement: bool = False  # the raters' labels exist for its items (the agreement reference line)
    read: Callable[[Mapping[str, Path]], Read] | None = None  # its pinned files -> rows (None: assembled by build)
    # Completes the rows read against the study's configs (links to final defects); None: nothing to complete.
    link: Callable[[list[dict[str, Any]], Tables], None] | None = None
    # What a prompt calls one item, all of them, and the vocabulary its labels come from (prompts v2 on).
    item: str = "Issue"
    items_are: str = "GitHub issues from open-source computer-vision model repositories"
    vocabulary: str = ("the defect taxonomy of Jiang et al., 'Challenges and Practices of Deep Learning Model "
                       "Reengineering' (EMSE 2024)")
    version: int = 1
    # When its gold labels became public, where its source says so (None: the release's, the study's labels' date):
    # a model whose training data reach this date may have seen them.
    labels_public_since: str | None = None

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"

    def track_fields(self, track: str) -> tuple[str, ...]:
        return self.tracks[track]

    def has_texts(self, tables: Tables) -> bool:
        return all(name in tables for name in self.text_configs)

    def split_columns(self, tables: Tables) -> pl.DataFrame:
        """issue_id, repo and issue_created_at of every item (null where the population has none)."""
        import polars as pl

        frame = self.items(tables)
        return frame.select(
            "issue_id",
            pl.col(self.repo_column).cast(pl.String).alias("repo") if self.repo_column
            else pl.lit(None, pl.String).alias("repo"),
            pl.col(self.date_column).alias("issue_created_at") if self.date_column
            else pl.lit(None, pl.Datetime("us", "UTC")).alias("issue_created_at"))


class ReleaseTables(Mapping[str, "pl.DataFrame"]):
    """A release's configs as a read-only mapping (frames read lazily, through the release's memo)."""

    def __init__(self, release: Release) -> None:
        self._release = release

    def __getitem__(self, name: str) -> pl.DataFrame:
        if not self._release.has(name):
            raise KeyError(name)
        return self._release.frame(name)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._release.has(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._release.tables())

    def __len__(self) -> int:
        return len(self._release.tables())


# --- the study's issues ---------------------------------------------------------------------------------------

SCREENING = "is_reengineering"  # the screening task's dimension: the issue flag, not a defect label


def _study_gold(task: TaskLike, tables: Tables) -> pl.DataFrame:
    import polars as pl

    issues, defects = tables["issues"], tables["defects"]
    if task.dimension == SCREENING:  # labels: (reengineering, not reengineering)
        frame = issues.select("issue_id", pl.when(pl.col(SCREENING)).then(pl.lit(task.labels[0]))
                              .otherwise(pl.lit(task.labels[1])).alias("primary"))
        return frame.with_columns(pl.concat_list("primary").alias("gold"))
    label = pl.col(task.dimension)
    if task.merged:
        label = pl.when(label.is_in(list(task.merged))).then(pl.lit(taxonomy.LOW_FREQUENCY)).otherwise(label)
    if task.mapped:
        label = label.replace_strict(dict(task.mapped), default=None, return_dtype=pl.String)
    live = (defects.filter(~pl.col("withdrawn")).sort("issue_id", "defect_index").with_columns(label.alias("label"))
            .filter(pl.col("label").is_not_null()))
    return (live.group_by("issue_id", maintain_order=True)
            .agg(pl.col("label").first().alias("primary"), pl.col("label").unique(maintain_order=True).alias("gold")))


THREAD_FIELDS = ("title", "body", "comments")  # the hydrated thread's fields (``issue_texts``)


def _study_texts(tables: Tables, fields: tuple[str, ...]) -> pl.DataFrame | None:
    import polars as pl

    if "issue_texts" not in tables:
        return None
    texts = tables["issue_texts"]
    rendered = [render(t or "", b or "", (c or []) if "comments" in fields else [])
                for t, b, c in texts.select(*THREAD_FIELDS).rows()]
    return pl.DataFrame({"issue_id": texts["issue_id"], TEXT: rendered}, schema={"issue_id": pl.String,
                                                                                 TEXT: pl.String})


STUDY = Population(
    name="study", config="issues", describes="a sampled GitHub issue of the study's 27 repositories",
    gold=_study_gold, items=lambda tables: tables["issues"],
    scored_configs=("annotations", "defects", "issues", "repositories", "taxonomy"),
    gold_configs=("issues", "defects"), tracks=TRACKS, texts=_study_texts,
    raw_texts=lambda tables: tables["issue_texts"].select("issue_id", *THREAD_FIELDS) if "issue_texts" in tables
    else None, text_configs=("issue_texts",), agreement=True)


# --- the Stack Overflow posts ---------------------------------------------------------------------------------

def _post_items(tables: Tables) -> pl.DataFrame:
    """The so_posts rows with the item id the scorer keys on (``issue_id``: the post id as text)."""
    import polars as pl

    return tables["so_posts"].with_columns(pl.col("post_id").cast(pl.String).alias("issue_id"))


def _post_gold(task: TaskLike, tables: Tables) -> pl.DataFrame:
    import polars as pl

    return _post_items(tables).select("issue_id", pl.col("label").alias("primary"),
                                      pl.concat_list(pl.col("label")).alias("gold"))


def _post_texts(tables: Tables, fields: tuple[str, ...]) -> pl.DataFrame:
    return _post_items(tables).select("issue_id", TEXT)


def _read_posts(files: Mapping[str, Path]) -> Read:
    from ..pipeline.normalize_posts import read_posts

    return read_posts(files["posts"])


SO_POSTS = Population(
    name="so-posts", config="so_posts", describes="a Stack Overflow question about a deep-learning bug",
    gold=_post_gold, items=_post_items, scored_configs=("so_posts",), gold_configs=("so_posts",),
    # A post's one text (title and body, flattened upstream) is all any text track reads.
    tracks={track: (TEXT,) if fields else () for track, fields in TRACKS.items()},
    texts=_post_texts, raw_texts=lambda tables: _post_items(tables).select("issue_id", TEXT),
    splits=("holdout", "fold"), repo_column=None,
    date_column=None, define=dlbugs.definition, read=_read_posts, item="Post",
    items_are="Stack Overflow questions about programs that use deep-learning libraries (Keras, TensorFlow, PyTorch)",
    labels_public_since="2026-04-07",  # the commit that added dataset.csv (its labels were not public before)
    vocabulary="six classes: five kinds of deep-learning bug, and Others for a question that reports none")

# --- the analysts' notes on study issues ----------------------------------------------------------------------

def _noted(tables: Tables) -> list[str]:
    """The study issues whose notes are linked to their final defects (the rule links all of an issue's or none)."""
    import polars as pl

    notes = tables["analyst_notes"]
    return notes.filter(pl.col("defect_id").is_not_null())["issue_id"].unique().sort().to_list()


def _note_items(tables: Tables) -> pl.DataFrame:
    import polars as pl

    return tables["issues"].filter(pl.col("issue_id").is_in(_noted(tables)))


def _note_gold(task: TaskLike, tables: Tables) -> pl.DataFrame:
    import polars as pl

    return _study_gold(task, tables).filter(pl.col("issue_id").is_in(_noted(tables)))


def _joined(tables: Tables, fields: tuple[str, ...]) -> dict[str, str]:
    """Per noted issue, its notes' fields in position order (a note's fields one per line, notes a blank line
    apart; a repeated note, such as the same symptom of two defects, once)."""
    import polars as pl

    notes = tables["analyst_notes"].filter(pl.col("defect_id").is_not_null()).sort("issue_id", "position")
    out: dict[str, list[str]] = {}
    for row in notes.select("issue_id", *fields).iter_rows(named=True):
        text = "\n".join(row[f] for f in fields if row[f])
        if text and text not in out.setdefault(row["issue_id"], []):
            out[row["issue_id"]].append(text)
    return {issue: "\n\n".join(texts) for issue, texts in out.items()}


def _note_texts(tables: Tables, fields: tuple[str, ...]) -> pl.DataFrame:
    import polars as pl

    found = _joined(tables, fields)
    ids = _noted(tables)
    return pl.DataFrame({"issue_id": ids, TEXT: [found.get(i, "") for i in ids]},
                        schema={"issue_id": pl.String, TEXT: pl.String})


def _note_raw(tables: Tables) -> pl.DataFrame:
    import polars as pl

    ids = _noted(tables)
    parts = {field: _joined(tables, (field,)) for field in NOTE_TRACKS["analysis"]}
    return pl.DataFrame({"issue_id": ids, **{f: [parts[f].get(i) for i in ids] for f in parts}},
                        schema={"issue_id": pl.String, **dict.fromkeys(parts, pl.String)})


def _read_notes(files: Mapping[str, Path]) -> Read:
    from ..pipeline.notes import read_notes

    return read_notes(files["notes"])


def _link_notes(rows: list[dict[str, Any]], tables: Tables) -> None:
    from ..pipeline.notes import drift, link_notes

    defects = tables["defects"].to_dicts()
    issues = tables["issues"]
    link_notes(rows, defects, issues.filter(~issues["is_reengineering"]).to_dicts())
    drift(rows, defects)


NOTES = Population(
    name="study-notes", config="analyst_notes",
    describes="a study issue whose defects the analysts' 2022 notes describe (linked by issue and position)",
    gold=_note_gold, items=_note_items,
    scored_configs=("analyst_notes", "defects", "issues", "repositories", "taxonomy"),
    gold_configs=("issues", "defects", "analyst_notes"), tracks=NOTE_TRACKS, texts=_note_texts,
    raw_texts=_note_raw, text_configs=("analyst_notes",), read=_read_notes, link=_link_notes, item="Note",
    labels_public_since="2022-03-04",  # the workbook's first commit held the notes beside the labels
    items_are=("analysts' notes on GitHub issues of open-source computer-vision model repositories, written while "
               "the study's analysts labeled the issues (a note, not the issue itself)"))

POPULATIONS: Registry[Population] = Registry("population")
POPULATIONS.register(STUDY)
POPULATIONS.register(SO_POSTS)
POPULATIONS.register(NOTES)


def of(name: str) -> Population:
    return POPULATIONS.get(name)
