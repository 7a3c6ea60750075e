"""Column schemas of every release config, declared once.

Types are small strings so this module imports nothing heavy at import time; :func:`polars_schema` and
:func:`arrow_schema` are the one mapping of those strings to library types (the build, validation and the
leaderboard all use them), and the data card renders the same declarations as tables. ``dimension`` names
the taxonomy dimension whose labels a column holds (validated against the taxonomy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import dlbugs, taxonomy

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string | int32 | int64 | float64 | bool | timestamp | list<string> | list<int32>
    description: str
    nullable: bool = True
    dimension: str | None = None
    classes: tuple[str, ...] = ()  # the label set of a label column outside the taxonomy (the posts' classes)


def _labels(names: Iterable[tuple[str, str]], *, nullable: bool = False) -> tuple[Column, ...]:
    """One label column per (dimension, description); the column is named after its dimension."""
    return tuple(Column(name, "string", f"{what} (canonical label)", nullable, name) for name, what in names)


_DEFECT_LABELS = tuple((d.name, d.column) for d in taxonomy.DIMENSIONS)
_ANNOTATED_LABELS = tuple((d, d.replace("_", " ").capitalize()) for d in taxonomy.ANNOTATED)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "defects": (
        Column("defect_id", "string", "Stable id: issue id and 1-based position within the issue", False),
        Column("issue_id", "string", "owner/name#number of the GitHub issue", False),
        Column("repo", "string", "owner/name of the studied repository, as studied", False),
        Column("issue_number", "int32", "GitHub issue number", False),
        Column("issue_url", "string", "URL of the issue", False),
        Column("defect_index", "int32", "Position of the defect within its issue (1-based)", False),
        *_labels(_DEFECT_LABELS),
        Column("root_cause_stage", "string", "The stage the root cause belongs to (Table 7); null when none",
               dimension="stage"),
        Column("research_prototype", "bool", "Upstream's 'Research Prototype' flag of the repository"),
        Column("repo_created_at", "timestamp", "Repository creation time (UTC)"),
        Column("issue_created_at", "timestamp", "Issue creation time (UTC)"),
        Column("days_since_repo_creation", "int32", "Whole days from repository to issue creation"),
        Column("github_labels", "list<string>", "GitHub labels of the issue, as recorded upstream", False),
        Column("withdrawn", "bool", "True when an erratum withdrew the defect (the row stays)", False),
        Column("withdrawn_reason", "string", "Why it was withdrawn"),
        Column("upstream_row", "int32", "Upstream's own row id (first, unnamed column)", False),
        Column("source_row", "int32", "Line of the upstream CSV the defect comes from", False),
        *(Column(f"raw_{name}", "string", f"Upstream's string for {name}", False) for name, _ in _DEFECT_LABELS),
        Column("raw_research_prototype", "string", "Upstream's string for research_prototype", False),
        Column("raw_github_labels", "string", "Upstream's string for github_labels", False),
    ),
    "issues": (
        Column("issue_id", "string", "owner/name#number", False),
        Column("repo", "string", "owner/name of the studied repository", False),
        Column("issue_number", "int32", "GitHub issue number", False),
        Column("issue_url", "string", "URL of the issue", False),
        Column("is_reengineering", "bool", "Whether the issue holds at least one reengineering defect", False),
        Column("n_defects", "int32", "Number of labeled defects (0 for non-reengineering issues)", False),
        Column("repo_type", "string", "Repository type (Table 4)", False, "repo_type"),
        Column("framework", "string", "The repository's main DL framework (most frequent in its defects)",
               dimension="framework"),
        Column("repo_created_at", "timestamp", "Repository creation time (UTC)"),
        Column("issue_created_at", "timestamp", "Issue creation time (UTC)"),
        Column("days_since_repo_creation", "int32", "Whole days from repository to issue creation"),
        Column("github_labels", "list<string>", "GitHub labels (not recorded upstream for non-reengineering)"),
        Column("source", "string", "Upstream file: defects or non_reengineering", False),
        Column("source_rows", "list<int32>", "Lines of the upstream file", False),
    ),
    "repositories": (
        Column("table4_row", "int32", "Position in the paper's Table 4", False),
        Column("repo", "string", "owner/name as studied", False),
        Column("current_repo", "string", "owner/name today, where the repository moved"),
        Column("family", "string", "Table 4 section: Zoo or the model architecture", False),
        Column("repo_type", "string", "Zoo or Solo", False, "repo_type"),
        Column("origin", "string", "Prototype or Replication (solo repositories)"),
        Column("framework", "string", "Most frequent framework among its defects", dimension="framework"),
        Column("stars_k", "float64", "GitHub stars in thousands (Table 4)", False),
        Column("forks_k", "float64", "GitHub forks in thousands (Table 4)", False),
        Column("closed_issues", "int32", "Closed issues (Table 4)", False),
        Column("qualified_issues", "int32", "Closed issues with >= 10 comments (Table 4)", False),
        Column("sampled_issues", "int32", "Sampled issues (Table 4)", False),
        Column("reengineering_issues", "int32", "Issues with a reengineering defect (Table 4)", False),
        Column("defects", "int32", "Reengineering defects (Table 4)", False),
        Column("n_sampled", "int32", "Sampled issues in the data", False),
        Column("n_reengineering_issues", "int32", "Reengineering issues in the data", False),
        Column("n_defects", "int32", "Defects in the data", False),
    ),
    "annotations": (
        Column("phase", "string", "pilot (original instrument), pilot-revised, final (half of the rest)", False),
        Column("rater", "int32", "1 or 2", False),
        Column("item", "int32", "Position within the phase; rater 1 and 2 items pair up by it", False),
        Column("issue_number", "int32", "Issue number as written (the workbook names no repository)"),
        *_labels(_ANNOTATED_LABELS, nullable=True),
        *(Column(f"raw_{d}", "string", f"The rater's string for {d}", False) for d in taxonomy.ANNOTATED),
        Column("sheet", "string", "Workbook sheet", False),
        Column("sheet_row", "int32", "Row in that sheet", False),
        Column("issue_id", "string", "The sampled issue the item was linked to; null when no single issue "
               "fits (never guessed)"),
        Column("link_method", "string", "How the item was linked: 'issue number' (one candidate), 'issue "
               "number + framework/same code/same data', or why not: 'ambiguous', 'no candidate', "
               "'raters name different issues'", False),
        Column("link_candidates", "int32", "Reengineering issues in the sample with the item's issue number", False),
        Column("link_ambiguous", "bool", "True when several issues fit the item's recorded fields", False),
    ),
    "taxonomy": (
        Column("dimension", "string", "Column the label belongs to", False),
        Column("label", "string", "Canonical label", False),
        Column("stage", "string", "DL stage of a root cause (Table 7)", dimension="stage"),
        Column("definition", "string", "Definition (this project's wording; see the paper for the original)",
               False),
        Column("aliases", "list<string>", "Other spellings mapped to the label", False),
        Column("source", "string", "Where the paper defines it; 'upstream' when only the data uses it", False),
        Column("position", "int32", "Order within the dimension", False),
    ),
    "splits": (
        Column("task", "string", "Benchmark task the row belongs to (each task has its own stratified splits)",
               False),
        Column("task_version", "int32", "Version of that task", False),
        Column("issue_id", "string", "owner/name#number", False),
        Column("stratum", "string", "Stratification key: the issue's label for the task (its first defect's)",
               False),
        Column("holdout", "string", "Stratified 80/20 split (every class of two or more issues on both sides): "
               "train or test", False),
        Column("fold", "int32", "Stratified 5-fold cross-validation fold, 0-4", False),
        Column("repo_holdout", "string", "Leave-repositories-out split: train or test (null for a task whose "
               "items have no repository)"),
        Column("temporal", "string", "Train before the cut-off date, test on or after it (null for a task whose "
               "items have no date)"),
    ),
    "leaderboard": (
        Column("name", "string", "System name", False),
        Column("url", "string", "Where the system is described (http or https)"),
        Column("kind", "string", "submission or baseline (ranked); trivial (chance references) or agreement "
               "(the raters' inter-rater agreement): reference lines, never ranked", False),
        Column("task", "string", "Task name", False),
        Column("task_version", "int32", "Task version the entry was scored against", False),
        Column("split", "string", "Split scored (the human ceiling: its linked test items)", False),
        Column("track", "string", "What the system read: metadata, triage (title and body) or full-thread", False),
        Column("dataset_version", "string", "Dataset version scored against", False),
        Column("content_sha256", "string", "Content hash of the data the task is scored on (the release manifest's "
               "scored_sha256 of the task: its source's configs and its own split rows)", False),
        Column("package_version", "string", "cvreeng-bench version that scored it"),
        Column("date", "string", "Date scored (ISO 8601)"),
        Column("predictions_sha256", "string", "sha256 of the predictions file (stored under submissions/)"),
        Column("main_score", "string", "Name of the task's main score", False),
        Column("score", "float64", "Main score (the mean over seeds for a seeded baseline)"),
        Column("ci_low", "float64", "95% bootstrap interval, low end"),
        Column("ci_high", "float64", "95% bootstrap interval, high end"),
        Column("seeds", "int32", "Seeds averaged (1 for a single run)"),
        Column("score_sd", "float64", "Standard deviation of the main score over the seeds"),
        Column("accuracy", "float64", "Accuracy"),
        Column("macro_f1", "float64", "Macro-F1"),
        Column("kappa", "float64", "Cohen's kappa"),
        Column("n", "int32", "Issues scored"),
        Column("model_cutoff", "string", "Training-data cut-off of a pretrained model (ISO date)"),
        Column("labels_public_since", "string", "When the gold labels became public (see the release manifest)"),
        Column("contamination_risk", "bool", "Model cut-off on or after the labels became public"),
        Column("prompt", "string", "Prompt name and version, for a prompted model"),
        Column("notes", "string", "Free text"),
        Column("verification", "string", "reproduced (the board itself ran a deterministic system and got these "
               "labels), consistent (the labels are the registered prompt's parse of stored raw answers; the answers "
               "are the submitter's word) or self-reported (the submitter's word: the test gold is public)"),
        Column("model", "string", "The model behind the system (as its run record or the submitter names it)"),
        Column("fold_sd", "float64", "Standard deviation of the main score over the folds (out-of-fold entries)"),
        Column("baseline", "string", "The package baseline the board ran (name@vN), for a baseline or chance line"),
        Column("evidence", "string", "What the board checked when it decided the verification tier"),
        Column("trained", "string", "How the system was trained, as declared: out-of-fold (never on the items it "
               "labels), zero-shot, or in-sample (never ranked); null: not declared"),
        Column("fold_seeds", "int32", "For the board's own out-of-fold baselines and chance lines: how many dealings "
               "of the folds (fold seeds, the release's frozen one first) it was scored under; null for submissions"),
        Column("fold_seed_mean", "float64", "Mean of the main score over those dealings"),
        Column("fold_seed_sd", "float64", "Standard deviation of the main score over those dealings"),
        Column("beats_chance_folds", "int32", "Of those dealings, how many the baseline beats every chance line of the "
               "same dealing under (score above the strongest, label-permutation and paired tests at 5%)"),
        Column("repo_fold_score", "float64", "For the board's own out-of-fold baselines and chance lines on items "
               "with a repository: the main score when whole repositories are dealt to the folds, so every item is "
               "labeled by a system that saw no issue of its repository (the main split keeps a repository's issues "
               "on both sides)"),
    ),
    "so_posts": (
        Column("post_id", "int64", "Stack Overflow post id", False),
        Column("url", "string", "https://stackoverflow.com/q/<post id> (the text's CC BY-SA attribution)", False),
        Column("text", "string", "Title and body as upstream flattened them (code inline, one line)", False),
        Column("tags", "list<string>", "The post's Stack Overflow tags", False),
        Column("label", "string", "Kind of deep-learning bug, or Others (not a DL bug); see the label table",
               False, classes=dlbugs.LABELS),
        Column("label_num", "int32", "Upstream's class number (0 model ... 5 Others)", False),
        Column("source_row", "int32", "Line of the upstream dataset.csv", False),
    ),
    "analyst_notes": (
        Column("note_id", "int32", "Row order among the workbook's defect rows (1-based)", False),
        Column("sheet_row", "int32", "Row of the workbook's sheet", False),
        Column("issue_id", "string", "owner/name#number (the final dataset's spelling where the issue is in it)",
               False),
        Column("issue_number", "int32", "GitHub issue number", False),
        Column("position", "int32", "Position of the row among its issue's rows (1-based, sheet order)", False),
        Column("notes_in_issue", "int32", "The workbook's rows for the issue", False),
        Column("bugs", "string", "Bugs: the symptom as the analyst wrote it down (often the title or error message)"),
        Column("comments", "string", "Comments: what the analyst found, often quoting the thread (written after "
               "the analysis)"),
        Column("fix", "string", "Fix: how the defect was fixed (written after the analysis)"),
        *(Column(f"raw_{name}", "string", f"The 2022 workbook's {what!r} value (that instrument's names)")
          for name, what in (("dl_stage", "DL Stage"), ("part_of_implementation", "Part of Implementation"),
                             ("impact", "Impacts"), ("defect_type", "Defect Type"), ("root_cause", "Root Cause"),
                             ("manifestation", "Manifestation"), ("reporter", "Reporter"),
                             ("project_type", "Project Type"))),
        *(Column(f"{d}_2022", "string", f"The final {d} label the 2022 value names (null: an older category)",
                 dimension=d) for d in ("stage", "impact", "defect_type", "root_cause", "manifestation", "reporter",
                                        "project_type")),
        Column("defect_id", "string", "The final defect the row is (null: not linked; see link_status)"),
        Column("link_status", "string", "linked, defect count differs, not in the final dataset, or not a "
               "reengineering issue", False),
        Column("link_reason", "string", "Why the row is, or is not, linked", False),
        Column("changed", "list<string>", "Dimensions whose final label differs from the 2022 one (linked rows whose "
               "2022 value names a final label; null when not linked)"),
    ),
    "issue_texts": (
        Column("issue_id", "string", "owner/name#number as studied", False),
        Column("repo", "string", "owner/name as studied", False),
        Column("issue_number", "int32", "GitHub issue number", False),
        Column("status", "string", "ok, not_found (404) or gone (410) at snapshot time", False),
        Column("current_repo", "string", "owner/name the issue lives in now, when the repository moved"),
        Column("title", "string", "Issue title"),
        Column("body", "string", "Issue body (Markdown)"),
        Column("state", "string", "open or closed at snapshot time"),
        Column("labels", "list<string>", "GitHub labels at snapshot time", False),
        Column("author_association", "string", "The reporter's relation to the repository"),
        Column("created_at", "timestamp", "Issue creation time (UTC)"),
        Column("closed_at", "timestamp", "Issue closing time (UTC)"),
        Column("comments", "list<string>", "Comment bodies in thread order", False),
        Column("comment_author_associations", "list<string>", "Each commenter's relation to the repository",
               False),
        Column("n_comments", "int32", "Number of comments", False),
        Column("comments_truncated", "bool", "True when the thread had more comment pages than the snapshot fetches "
               "(200); the comments are those of the first 200 pages", False),
        Column("text", "string", "Title, body and comments rendered as one text (the text-track input)"),
        Column("snapshot_at", "timestamp", "When the snapshot was taken (UTC)", False),
        Column("content_sha256", "string", "sha256 of text", False),
    ),
}

# Every config the build can write, in the order the schemas are declared.
CONFIGS: tuple[str, ...] = tuple(SCHEMAS)
# One ready-to-train config per benchmark task (the registry in scoring.tasks declares exactly these; tested).
TASK_CONFIGS: tuple[str, ...] = ("screening", *taxonomy.CLASSIFIED, "bug_kind", "so_dl_bugs",
                                  *(f"notes_{d}" for d in taxonomy.CLASSIFIED), "notes_bug_kind")
# Configs a release may lack: the issue texts (a hydrate cache) and the optional sources' posts and notes.
OPTIONAL_CONFIGS: tuple[str, ...] = ("issue_texts", "so_posts", "analyst_notes")


def _simple(kind: str, library: str) -> Any:
    """The library type of a simple type name (string, int32, ...): the one mapping, for polars and arrow."""
    if library == "polars":
        import polars as pl

        return {"string": pl.String(), "int32": pl.Int32(), "int64": pl.Int64(), "float64": pl.Float64(),
                "bool": pl.Boolean(), "timestamp": pl.Datetime("us", "UTC")}[kind]
    import pyarrow as pa

    return {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(),
            "bool": pa.bool_(), "timestamp": pa.timestamp("us", tz="UTC")}[kind]


def library_type(kind: str, library: str) -> Any:
    """``list<string>`` and the simple names as a polars (``library="polars"``) or arrow data type."""
    if kind.startswith("list<"):
        inner = _simple(kind[5:-1], library)
        if library == "polars":
            import polars as pl

            return pl.List(inner)
        import pyarrow as pa

        return pa.list_(inner)
    return _simple(kind, library)


def polars_type(kind: str) -> pl.DataType:
    return library_type(kind, "polars")


def polars_schema(config: str) -> dict[str, pl.DataType]:
    return {c.name: polars_type(c.type) for c in SCHEMAS[config]}


def arrow_schema(config: str) -> pa.Schema:
    """The declared Arrow schema, column descriptions kept as field metadata."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, library_type(c.type, "arrow"), nullable=c.nullable,
                               metadata={"description": c.description}) for c in SCHEMAS[config]])


def frame(config: str, rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """A DataFrame of the config's declared columns and types from dict rows (absent keys are null)."""
    import polars as pl

    columns = SCHEMAS[config]
    return pl.DataFrame([{c.name: row.get(c.name) for c in columns} for row in rows], schema=polars_schema(config),
                        orient="row")
