"""Stage 2, normalize: the artifact's raw strings to typed tables in the canonical taxonomy.

Each reader returns its rows together with the problems it met; nothing raises on bad data, so a build
can list every problem at once. Every normalized column keeps its upstream string in a ``raw_*`` twin.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Any

from .. import paper, taxonomy
from ..problems import Problem, errors
from .tabular import (
    ANCHOR,
    INT32_MAX,
    RowReader,
    Rows,
    open_workbook,
    read_csv,
    sheet_rows,
    shown,
    too_many,
    where,
)

# Upstream column -> taxonomy dimension (our column is named after the dimension).
DEFECT_LABEL_COLUMNS: dict[str, str] = {
    "Part of Implementation": "stage", "Defect types": "defect_type", "Impacts": "impact",
    "Root Causes": "root_cause", "Manifestation": "manifestation", "Reporter": "reporter",
    "Project Type": "project_type", "Repo type": "repo_type", "Framework": "framework",
    "Same Code?": "same_code", "Same Data?": "same_data",
}
DEFECT_COLUMNS = ("", "URL", "Repo owner", "Repo name", "Issue #", "Research Prototype", "Repo creation time",
                  "Issue creation time", "Time Slot/d", "Label", *DEFECT_LABEL_COLUMNS)
NON_REENGINEERING_HEADER = ("", "URL", "Repo owner", "Repo name", "Issue #", "Repo type", "Research Prototype",
                            "Repo creation time", "Issue creation time", "Time Slot/d", "Label")
# What the non-reengineering file really holds, by position (its header is shifted against its rows).
NON_REENGINEERING_LAYOUT = ("upstream_row", "issue_url", "owner", "name", "issue_number", "issue_number_again",
                            "research_prototype", "repo_created_at_again", "repo_created_at",
                            "issue_created_at", "days_since_repo_creation")
AGREEMENT_PHASES = {"Pilot": "pilot", "Pilot-re": "pilot-revised", "Final": "final"}
AGREEMENT_COLUMNS = {
    "Framework": "framework", "same code": "same_code", "same data": "same_data", "DL Stage": "stage",
    "Impacts": "impact", "General Code Error Type": "defect_type", "DL Specific Error Type": "root_cause",
    "Root Causes": "root_cause", "Manifestation": "manifestation",
}


def parse_labels(value: str) -> list[str]:
    """GitHub labels as upstream wrote them: a Python list literal, a comma or semicolon list, or N/a."""
    value = value.strip()
    if taxonomy.key(value) in taxonomy.MISSING:
        return []
    if value.startswith("["):
        if len(value) > 10_000:
            raise ValueError("too long for a label list")
        parsed = ast.literal_eval(value)
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            raise ValueError("not a list of label names")
        return [item.strip() for item in parsed]
    return [part.strip() for part in re.split(r"[;,]", value) if part.strip()]


def read_defects(path: Path) -> Rows:
    """One row per labeled defect, canonical labels beside their raw strings."""
    out = Rows()
    header, rows, out.problems = read_csv(path, DEFECT_COLUMNS)
    if errors(out.problems):
        return out
    repos = paper.table4()
    seen_index: dict[str, int] = {}
    for position, (line, cells) in enumerate(rows):
        if too_many(out.problems, path, len(rows) - position):
            break
        r = RowReader(path, line, dict(zip(header, cells, strict=False)), out.problems)
        record: dict[str, Any] = {"upstream_row": r.integer("")}
        index = r.text("").strip()
        if index in seen_index:
            r.fail("", f"duplicated defect: upstream row id {index!r} also on row {seen_index[index]}")
        seen_index.setdefault(index, line)
        repo = f"{r.text('Repo owner').strip()}/{r.text('Repo name').strip()}"
        if repo not in repos:
            r.fail("Repo name", f"repository {repo!r} is not one of the paper's 27 (Table 4)")
        number = r.issue_number("Issue #")
        url = r.text("URL").strip()
        if ANCHOR.search(url):  # a link to the issue's first comment, not to the issue
            r.fail("URL", f"{url!r} carries a comment anchor; it is dropped", "warning")
            url = ANCHOR.sub("", url)
        expected = f"https://github.com/{repo}/issues/{number}"
        if url != expected:
            r.fail("URL", f"{url!r} does not match repository and issue number ({expected})")
        record.update(repo=repo, issue_number=number, issue_url=url, issue_id=f"{repo}#{number}")
        for column, dimension in DEFECT_LABEL_COLUMNS.items():
            record[dimension] = r.label(column, dimension)
            record[f"raw_{dimension}"] = r.text(column)
        record["research_prototype"] = r.yes_no("Research Prototype")
        record["raw_research_prototype"] = r.text("Research Prototype")
        record["repo_created_at"] = r.time("Repo creation time")
        record["issue_created_at"] = r.time("Issue creation time")
        record["days_since_repo_creation"] = r.integer("Time Slot/d")
        record["raw_github_labels"] = r.text("Label")
        try:
            record["github_labels"] = parse_labels(r.text("Label"))
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            r.fail("Label", f"cannot read the label list {shown(r.text('Label'))}")
            record["github_labels"] = []
        if repo in repos:  # repository-level facts that a row left blank come from Table 4, with a warning
            row4 = repos[repo]
            if record["repo_type"] is None and not record["raw_repo_type"].strip():
                record["repo_type"] = row4.repo_type
                r.fail("Repo type", f"blank; filled with {row4.repo_type!r} from Table 4", "warning")
            if record["research_prototype"] is None and not record["raw_research_prototype"].strip():
                record["research_prototype"] = row4.origin == "Prototype"
                r.fail("Research Prototype", "blank; filled from Table 4", "warning")
        record["source_row"] = line
        out.rows.append(record)
    _number_defects(out.rows)
    return out


def _number_defects(rows: list[dict[str, Any]]) -> None:
    """defect_id = issue id + 1-based position within the issue, in upstream order (stable: upstream is pinned)."""
    counts: dict[str, int] = {}
    for record in rows:
        counts[record["issue_id"]] = counts.get(record["issue_id"], 0) + 1
        record["defect_index"] = counts[record["issue_id"]]
        record["defect_id"] = f"{record['issue_id']}/{record['defect_index']}"


def read_non_reengineering(path: Path) -> Rows:
    """The 93 sampled issues without a reengineering defect, parsed by position (see the layout above)."""
    out = Rows()
    header, rows, out.problems = read_csv(path, ())
    if out.problems:
        return out
    if tuple(header) != NON_REENGINEERING_HEADER:
        out.problems.append(Problem(where(path, 1), f"unexpected header {header!r}; this reader knows the "
                                    "pinned file's shifted layout only"))
        return out
    repos = paper.table4()
    for position, (line, cells) in enumerate(rows):
        if too_many(out.problems, path, len(rows) - position):
            break
        if len(cells) != len(NON_REENGINEERING_LAYOUT):
            out.problems.append(Problem(where(path, line), f"expected {len(NON_REENGINEERING_LAYOUT)} cells, "
                                        f"got {len(cells)}"))
            continue
        r = RowReader(path, line, dict(zip(NON_REENGINEERING_LAYOUT, cells, strict=True)), out.problems)
        repo = f"{r.text('owner').strip()}/{r.text('name').strip()}"
        number = r.integer("issue_number")
        if r.text("issue_number_again") != r.text("issue_number"):
            r.fail("issue_number_again", f"layout check failed: expected the issue number again, got "
                   f"{r.text('issue_number_again')!r}")
        if repo not in repos:
            r.fail("name", f"repository {repo!r} is not one of the paper's 27 (Table 4)")
        url = r.text("issue_url").strip()
        if url != f"https://github.com/{repo}/issues/{number}":
            r.fail("issue_url", f"{url!r} does not match repository and issue number")
        created, opened = r.time("repo_created_at"), r.time("issue_created_at")
        days = r.integer("days_since_repo_creation")
        if created and opened and days is not None and (opened - created).days != days:
            r.fail("days_since_repo_creation", f"layout check failed: {days} is not the days between "
                   f"{created:%Y-%m-%d} and {opened:%Y-%m-%d}")
        out.rows.append({
            "upstream_row": r.integer("upstream_row"), "repo": repo, "issue_number": number, "issue_url": url,
            "issue_id": f"{repo}#{number}", "research_prototype": r.yes_no("research_prototype"),
            "repo_created_at": created, "issue_created_at": opened, "days_since_repo_creation": days,
            "source_row": line,
        })
    return out


def read_agreement(path: Path) -> Rows:
    """The two raters' labels, one row per (phase, rater, item); rows of rater 1 and 2 pair up by order."""
    out = Rows()
    book = open_workbook(path, out.problems)
    if book is None:
        return out
    sheets = {sheet.title: sheet for sheet in book.worksheets}
    for prefix, phase in AGREEMENT_PHASES.items():
        per_rater: dict[int, list[dict[str, Any]]] = {}
        for rater in (1, 2):
            title = f"{prefix}{rater}"
            if title not in sheets:
                out.problems.append(Problem(where(path), f"sheet {title!r} is missing"))
                continue
            try:
                values = sheet_rows(sheets[title])
            except ValueError as error:  # too large, or a part that does not parse
                out.problems.append(Problem(where(path, sheet=title), str(error)))
                continue
            header = [str(v).strip() if v is not None else "" for v in values[0]] if values else []
            columns = {i: AGREEMENT_COLUMNS[h] for i, h in enumerate(header) if h in AGREEMENT_COLUMNS}
            if "Issue #" not in header or set(columns.values()) != set(taxonomy.ANNOTATED):
                out.problems.append(Problem(where(path, sheet=title), f"unexpected header {header!r}"))
                continue
            items: list[dict[str, Any]] = []
            for number, row in enumerate(values[1:], start=2):
                if not any(v is not None and str(v).strip() for v in row[: len(header)]):
                    continue
                record: dict[str, Any] = {"phase": phase, "rater": rater, "item": len(items) + 1,
                                          "sheet": title, "sheet_row": number}
                issue = row[header.index("Issue #")]
                if isinstance(issue, (int, float)) and not isinstance(issue, bool):
                    if not (math.isfinite(issue) and float(issue).is_integer() and 0 < issue <= INT32_MAX):
                        out.problems.append(Problem(where(path, number, "Issue #", sheet=title),
                                                    f"not an issue number: {shown(str(issue))}"))
                        continue
                    record["issue_number"] = int(issue)
                else:
                    record["issue_number"] = None
                for i, dimension in columns.items():
                    raw = "" if row[i] is None else str(row[i])
                    record[f"raw_{dimension}"] = raw
                    try:
                        record[dimension] = taxonomy.canonical(dimension, raw)
                    except KeyError:  # older instrument vocabulary: kept raw, no canonical label
                        record[dimension] = None
                items.append(record)
            per_rater[rater] = items
        if len(per_rater) == 2:
            first, second = per_rater[1], per_rater[2]
            if len(first) != len(second):
                out.problems.append(Problem(f"{path.name} phase {phase!r}", f"rater 1 has {len(first)} items, "
                                            f"rater 2 has {len(second)}; pairs by order are unreliable"))
            mismatched = [a["item"] for a, b in zip(first, second, strict=False)
                          if a["issue_number"] != b["issue_number"]]
            if mismatched:
                out.problems.append(Problem(
                    f"{path.name} phase {phase!r}", f"{len(mismatched)} paired items name different issue "
                    f"numbers (items {mismatched[:5]}...); kept in upstream order as the authors paired them",
                    "warning"))
            for items in per_rater.values():
                out.rows.extend(items)
    return out
