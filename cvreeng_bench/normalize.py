"""Stage 2, normalize: the artifact's raw strings to typed tables in the canonical taxonomy.

Each reader returns its rows together with the problems it met; nothing raises on bad data, so a build
can list every problem at once. Every normalized column keeps its upstream string in a ``raw_*`` twin.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import paper, taxonomy
from .problems import Problem, errors

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
_ANCHOR = re.compile(r"#issue-\d+$")


@dataclass
class Rows:
    """Rows read from one file, with what went wrong on the way."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def shown(value: str, limit: int = 80) -> str:
    """A value as an error message echoes it: quoted, cut to a readable length."""
    return repr(value[:limit]) + (f" (cut; {len(value)} characters)" if len(value) > limit else "")


def where(path: Path, row: int | None = None, column: str | None = None) -> str:
    text = path.name
    if row is not None:
        text += f" row {row}"
    if column is not None:
        text += f", column {column!r}"
    return text


MAX_ROWS = 20_000  # the pinned CSVs hold 348, 93 and 600 rows
INT32_MAX = 2**31 - 1


def read_csv(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, list[str]]], list[Problem]]:
    """Header and (line, cells) rows of a UTF-8 CSV; problems for encoding, emptiness and missing columns."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        return [], [], [Problem(where(path, line), f"not UTF-8: byte {data[error.start]:#04x} at offset "
                                f"{error.start} cannot be decoded")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as error:
        return [], [], [Problem(where(path, 1), f"not a readable CSV row: {error}")]
    if not header or not any(cell.strip() for cell in header):
        return [], [], [Problem(where(path), "empty file: no header row")]
    missing = [c for c in required if c not in header]
    problems = [Problem(where(path, 1, c), "required column is missing") for c in missing]
    # A repeated column name would let the later column silently win over the earlier one.
    problems += [Problem(where(path, 1, c), f"column appears {header.count(c)} times in the header")
                 for c in dict.fromkeys(header) if c and header.count(c) > 1]
    rows = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
                if len(rows) > MAX_ROWS:  # refused before any row is converted
                    problems.append(Problem(where(path), f"more than {MAX_ROWS} data rows, far more than the "
                                            "pinned file; refused"))
                    return header, [], problems
    except csv.Error as error:  # e.g. a cell over the csv module's 128 KiB limit: no real label is that long
        problems.append(Problem(where(path, reader.line_num), f"not a readable CSV row: {error}"))
    if not rows:
        problems.append(Problem(where(path), "no data rows"))
    return header, rows, problems


MAX_ERRORS = 100  # per file: past this the file is plainly not the artifact, and listing more helps no one


def _too_many(problems: list[Problem], path: Path, remaining: int) -> bool:
    """True (with a closing problem) once a file has MAX_ERRORS errors: the rest is not read."""
    if sum(1 for p in problems if p.severity == "error" and p.where.startswith(path.name)) < MAX_ERRORS:
        return False
    problems.append(Problem(where(path), f"stopped after {MAX_ERRORS} errors; {remaining} more rows not read"))
    return True


# A workbook's parts may expand at most this much, and to at most this size, before it is opened.
MAX_XLSX_RATIO, MAX_XLSX_BYTES = 100, 256 << 20


def _zip_bomb(path: Path) -> str | None:
    """Why a .xlsx must not be opened (a zip bomb, or not a zip at all), or None."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        return f"not a readable .xlsx workbook: {error}"
    expanded = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if expanded > MAX_XLSX_BYTES or expanded / packed > MAX_XLSX_RATIO:
        return (f"refused before opening: its parts expand to {expanded} bytes ({expanded / packed:.0f}x); a "
                f"workbook may expand at most {MAX_XLSX_RATIO}x and to {MAX_XLSX_BYTES >> 20} MiB")
    return None


def parse_time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


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


class RowReader:
    """Converts one CSV row's cells, recording a problem (with file, row, column, value) per failure."""

    def __init__(self, path: Path, line: int, cells: dict[str, str], problems: list[Problem]) -> None:
        self.path, self.line, self.cells, self.problems = path, line, cells, problems

    def fail(self, column: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(where(self.path, self.line, column), message, severity))

    def text(self, column: str) -> str:
        return self.cells.get(column, "")

    def label(self, column: str, dimension: str) -> str | None:
        raw = self.text(column)
        try:
            return taxonomy.canonical(dimension, raw)
        except KeyError:
            known = ", ".join(taxonomy.labels(dimension))
            self.fail(column, f"unknown {dimension} label {shown(raw)} (known: {known})")
            return None

    def integer(self, column: str) -> int | None:
        raw = self.text(column).strip()
        try:
            number = float(raw)
        except ValueError:
            self.fail(column, f"not a number: {shown(raw)}")
            return None
        if not number.is_integer():
            self.fail(column, f"not a whole number: {shown(raw)}")
            return None
        if abs(number) > INT32_MAX:
            self.fail(column, f"out of range: {raw[:40]!r} (at most {INT32_MAX})")
            return None
        return int(number)

    def issue_number(self, column: str) -> int | None:
        raw = self.text(column).strip()
        if _ANCHOR.search(raw):
            self.fail(column, f"{shown(raw)} carries a comment anchor; the issue number is {_ANCHOR.sub('', raw)}",
                      "warning")
            self.cells = {**self.cells, column: _ANCHOR.sub("", raw)}
        return self.integer(column)

    def time(self, column: str) -> datetime | None:
        raw = self.text(column)
        try:
            return parse_time(raw)
        except ValueError:
            self.fail(column, f"not an ISO 8601 timestamp: {shown(raw)}")
            return None

    def yes_no(self, column: str) -> bool | None:
        raw = self.text(column).strip().casefold()
        if raw in ("yes", "no"):
            return raw == "yes"
        if raw:
            self.fail(column, f"expected Yes or No, got {shown(raw)}")
        return None


def read_defects(path: Path) -> Rows:
    """One row per labeled defect, canonical labels beside their raw strings."""
    out = Rows()
    header, rows, out.problems = read_csv(path, DEFECT_COLUMNS)
    if errors(out.problems):
        return out
    repos = paper.table4()
    seen_index: dict[str, int] = {}
    for position, (line, cells) in enumerate(rows):
        if _too_many(out.problems, path, len(rows) - position):
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
        if _ANCHOR.search(url):  # a link to the issue's first comment, not to the issue
            r.fail("URL", f"{url!r} carries a comment anchor; it is dropped", "warning")
            url = _ANCHOR.sub("", url)
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
        if _too_many(out.problems, path, len(rows) - position):
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


MAX_SHEET_ROWS, MAX_SHEET_COLUMNS = 10_000, 64  # the workbook's sheets hold about 130 rows of 9 columns


class _SheetTooLargeError(ValueError):
    pass


def _sheet_rows(sheet: Any) -> list[tuple[Any, ...]]:
    """A sheet's rows, never trusting its declared dimension (a sheet may claim A1:XFD1048576): the size is
    measured from the cells themselves, capped; a part that does not parse raises ValueError."""
    try:
        sheet.reset_dimensions()  # read-only sheets otherwise pad every row to the declared size
        rows = []
        for row in sheet.iter_rows(values_only=True, max_col=MAX_SHEET_COLUMNS):
            rows.append(row)
            if len(rows) > MAX_SHEET_ROWS:
                raise _SheetTooLargeError(f"more than {MAX_SHEET_ROWS} rows, far more than the pinned workbook; "
                                          "refused")
        return rows
    except _SheetTooLargeError:
        raise
    except Exception as error:  # XML, entity, number and index errors from inside the sheet
        raise ValueError(f"the sheet cannot be read: {type(error).__name__}: {str(error)[:120]}") from error


def read_agreement(path: Path) -> Rows:
    """The two raters' labels, one row per (phase, rater, item); rows of rater 1 and 2 pair up by order."""
    import openpyxl

    out = Rows()
    refused = _zip_bomb(path)
    if refused:
        out.problems.append(Problem(where(path), refused))
        return out
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many unrelated types for a bad file
        out.problems.append(Problem(where(path), f"not a readable .xlsx workbook: {error}"))
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
                values = _sheet_rows(sheets[title])
            except ValueError as error:  # too large, or a part that does not parse
                out.problems.append(Problem(f"{path.name} sheet {title!r}", str(error)))
                continue
            header = [str(v).strip() if v is not None else "" for v in values[0]] if values else []
            columns = {i: AGREEMENT_COLUMNS[h] for i, h in enumerate(header) if h in AGREEMENT_COLUMNS}
            if "Issue #" not in header or set(columns.values()) != set(taxonomy.ANNOTATED):
                out.problems.append(Problem(f"{path.name} sheet {title!r}", f"unexpected header {header!r}"))
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
                        out.problems.append(Problem(f"{path.name} sheet {title!r} row {number}, column 'Issue #'",
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
