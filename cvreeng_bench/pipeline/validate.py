"""Stage 3, validate: audit the tables and return every problem found, never just the first.

Errors (schema, vocabulary, uniqueness, references) block a release. Warnings are the taxonomy's own
rules that upstream breaks in places (a root cause outside its Table 7 stage, a reporter type that
contradicts the same-code/same-data answers of Table 1): they are reported with the defect ids, never
silently fixed, since the labels are the authors'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import paper, taxonomy
from ..problems import SEVERITIES, Problem, errors
from ..schema import SCHEMAS, polars_type

if TYPE_CHECKING:
    import polars as pl


def check_schema(config: str, frame: pl.DataFrame) -> list[Problem]:
    problems = []
    declared = SCHEMAS[config]
    names = [c.name for c in declared]
    missing = [n for n in names if n not in frame.columns]
    extra = [n for n in frame.columns if n not in names]
    if missing:
        problems.append(Problem(config, f"missing columns: {', '.join(missing)} (a release made by another version "
                                "of the package: rebuild it with `cvreeng-bench build`)"))
    if extra:
        problems.append(Problem(config, f"undeclared columns: {', '.join(extra)}"))
    for column in declared:
        if column.name not in frame.columns:
            continue
        actual = frame.schema[column.name]
        if actual != polars_type(column.type):
            problems.append(Problem(f"{config}.{column.name}", f"type {actual}, declared {column.type}"))
        nulls = frame[column.name].null_count()
        if not column.nullable and nulls:
            problems.append(Problem(f"{config}.{column.name}", f"{nulls} null values in a required column"))
        if column.dimension:
            allowed = set(taxonomy.labels(column.dimension))
            bad = sorted(set(frame[column.name].drop_nulls().to_list()) - allowed)
            if bad:
                problems.append(Problem(f"{config}.{column.name}", f"values outside the {column.dimension} "
                                        f"taxonomy: {bad}"))
    return problems


def check_unique(config: str, frame: pl.DataFrame, columns: list[str]) -> list[Problem]:
    import polars as pl

    if not all(c in frame.columns for c in columns):
        return []
    dup = frame.group_by(columns).len().filter(pl.col("len") > 1)
    return [Problem(f"{config}", f"duplicated {'/'.join(columns)}: {row[:-1]} appears {row[-1]} times")
            for row in dup.rows()]


KEYS = {"defects": ["defect_id"], "issues": ["issue_id"], "repositories": ["repo"],
        "taxonomy": ["dimension", "label"], "annotations": ["phase", "rater", "item"], "so_posts": ["post_id"]}


def check_references(tables: dict[str, pl.DataFrame]) -> list[Problem]:
    import polars as pl

    problems = []
    defects, issues = tables.get("defects"), tables.get("issues")
    if defects is not None and issues is not None:
        orphan = defects.join(issues, on="issue_id", how="anti")["defect_id"].to_list()
        problems += [Problem(f"defects {d}", "its issue is not in the issues config") for d in orphan]
        counted = defects.group_by("issue_id").len()
        wrong = issues.join(counted, on="issue_id", how="left").filter(
            pl.col("n_defects") != pl.col("len").fill_null(0))
        problems += [Problem(f"issues {row['issue_id']}", f"n_defects {row['n_defects']} but "
                             f"{row['len'] or 0} defects") for row in wrong.iter_rows(named=True)]
        flag = issues.filter(pl.col("is_reengineering") != (pl.col("n_defects") > 0))
        problems += [Problem(f"issues {i}", "is_reengineering disagrees with n_defects") for i in flag["issue_id"]]
    repos = tables.get("repositories")
    if repos is not None:
        known = set(repos["repo"].to_list())
        for config in ("defects", "issues"):
            frame = tables.get(config)
            if frame is not None:
                stray = sorted(set(frame["repo"].to_list()) - known)
                problems += [Problem(f"{config}", f"repository {r!r} not in the repositories config") for r in stray]
    return problems


def check_taxonomy_rules(defects: pl.DataFrame) -> list[Problem]:
    """Warnings where upstream labels break the paper's own rules (Tables 1 and 7)."""
    problems = []
    origin = {row.repo: row.origin for row in paper.TABLE4}
    previous: dict[tuple, str] = {}
    for row in defects.iter_rows(named=True):
        where = f"defects {row['defect_id']}"
        if row["root_cause_stage"] and row["stage"] and row["root_cause_stage"] != row["stage"]:
            problems.append(Problem(where, f"root cause {row['root_cause']!r} belongs to stage "
                                    f"{row['root_cause_stage']!r} (Table 7) but the defect's stage is "
                                    f"{row['stage']!r}", "warning"))
        for dimension, answer in taxonomy.REPORTER_CONTRADICTIONS.get(row["reporter"], ()):
            if row[dimension] == answer:
                problems.append(Problem(where, f"reporter {row['reporter']!r} with {dimension} = {answer!r} "
                                        "contradicts Table 1", "warning"))
        expected = origin.get(row["repo"]) == "Prototype"
        if row["research_prototype"] is not None and row["research_prototype"] != expected:
            problems.append(Problem(where, f"research_prototype {row['research_prototype']} but Table 4 lists "
                                    f"{row['repo']} as {origin.get(row['repo']) or 'a zoo repository'}", "warning"))
        labels = (row["issue_id"], *(row[c] for c in taxonomy.CLASSIFIED))
        if labels in previous:
            problems.append(Problem(where, f"same labels as {previous[labels]} in the same issue; kept, as the "
                                    "paper counts both (Table 4)", "warning"))
        previous.setdefault(labels, row["defect_id"])
    return problems


def check_table4(tables: dict[str, pl.DataFrame]) -> list[Problem]:
    repos = tables.get("repositories")
    if repos is None:
        return []
    problems = []
    for row in repos.iter_rows(named=True):
        for published, derived in (("sampled_issues", "n_sampled"), ("reengineering_issues",
                                   "n_reengineering_issues"), ("defects", "n_defects")):
            if row[published] != row[derived]:
                problems.append(Problem(f"repositories {row['repo']}", f"Table 4 gives {published} = "
                                        f"{row[published]} but the data has {row[derived]}", "warning"))
    return problems


def validate(tables: dict[str, pl.DataFrame]) -> list[Problem]:
    """Every problem with the tables of a release, errors first."""
    problems: list[Problem] = []
    for config, frame in tables.items():
        if config in SCHEMAS:
            problems += check_schema(config, frame)
        if config in KEYS:
            problems += check_unique(config, frame, KEYS[config])
    problems += check_references(tables)
    if "defects" in tables and not errors(problems):
        problems += check_taxonomy_rules(tables["defects"])
    problems += check_table4(tables)
    for config, frame in tables.items():  # label columns with a declared label set outside the taxonomy
        for column in SCHEMAS.get(config, ()):
            if column.classes and column.name in frame.columns:
                values = frame[column.name].to_list()
                problems += [Problem(f"{config} row {i}", f"{column.name} {value!r} is not in the label table")
                             for i, value in enumerate(values) if value is not None and value not in column.classes]
    return sorted(problems, key=lambda p: SEVERITIES.index(p.severity))
