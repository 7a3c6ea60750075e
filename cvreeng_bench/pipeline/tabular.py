"""Reading untrusted tabular files with bounds: CSV (encoding, header, row cap) and xlsx sheets (zip bombs,
declared sizes never trusted, parse errors named), and the row-by-row converter that records a
:class:`~.problems.Problem` with file, row, column and value for every cell it cannot convert. Stage 2's
readers for both sources (``normalize``, ``normalize_posts``) stand on it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import taxonomy
from ..problems import Problem

INT32_MAX = 2**31 - 1
ANCHOR = re.compile(r"#issue-\d+$")  # a link to an issue's first comment rather than to the issue


@dataclass
class Rows:
    """Rows read from one file, with what went wrong on the way."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def shown(value: str, limit: int = 80) -> str:
    """A value as an error message echoes it: quoted, cut to a readable length."""
    return repr(value[:limit]) + (f" (cut; {len(value)} characters)" if len(value) > limit else "")


def where(path: Path, row: int | None = None, column: str | None = None, *, sheet: str | None = None) -> str:
    text = path.name if sheet is None else f"{path.name} sheet {sheet!r}"
    if row is not None:
        text += f" row {row}"
    if column is not None:
        text += f", column {column!r}"
    return text


MAX_ROWS = 20_000  # the pinned CSVs hold 348, 93 and 600 rows


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


def too_many(problems: list[Problem], path: Path, remaining: int) -> bool:
    """True (with a closing problem) once a file has MAX_ERRORS errors: the rest is not read."""
    if sum(1 for p in problems if p.severity == "error" and p.where.startswith(path.name)) < MAX_ERRORS:
        return False
    problems.append(Problem(where(path), f"stopped after {MAX_ERRORS} errors; {remaining} more rows not read"))
    return True


# A workbook's parts may expand at most this much, and to at most this size, before it is opened.
MAX_XLSX_RATIO, MAX_XLSX_BYTES = 100, 256 << 20


def zip_bomb(path: Path) -> str | None:
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


_NEGATIVE_INDEX = re.compile(rb'<(?:\w+:)?c\b[^>]*\bt="s"[^>]*>\s*<(?:\w+:)?v>\s*-')


def _negative_shared_string(path: Path) -> str | None:
    """Why a workbook is refused when a cell names a negative shared-string index (openpyxl would read -1 as the
    table's last string, a silent wrong value); None when none does. Runs after the zip-bomb check."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as book:
            for member in book.namelist():
                if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                    match = _NEGATIVE_INDEX.search(book.read(member))
                    if match:
                        return f"{member}: a cell names a negative shared-string index; refused"
    except (zipfile.BadZipFile, OSError, KeyError, RuntimeError):
        return None  # openpyxl names what is wrong with the file
    return None


def open_workbook(path: Path, problems: list[Problem]) -> Any | None:
    """An untrusted .xlsx opened read-only (values, not formulas) once it passed the zip-bomb check; None, with the
    reason added to ``problems``, when it must not or cannot be opened."""
    import openpyxl

    refused = zip_bomb(path)
    if refused:
        problems.append(Problem(where(path), refused))
        return None
    negative = _negative_shared_string(path)
    if negative:
        problems.append(Problem(where(path), negative))
        return None
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # noqa: BLE001 - openpyxl raises many unrelated types for a bad file
        problems.append(Problem(where(path), f"not a readable .xlsx workbook: {str(error)[:160]}"))
        return None


MAX_SHEET_ROWS, MAX_SHEET_COLUMNS = 10_000, 64  # the workbook's sheets hold about 130 rows of 9 columns


class _SheetTooLargeError(ValueError):
    pass


def sheet_rows(sheet: Any) -> list[tuple[Any, ...]]:
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


def parse_time(value: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


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
        if ANCHOR.search(raw):
            self.fail(column, f"{shown(raw)} carries a comment anchor; the issue number is {ANCHOR.sub('', raw)}",
                      "warning")
            self.cells = {**self.cells, column: ANCHOR.sub("", raw)}
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
