"""The analysts' notes: the study's 2022 analysis workbook (``Bug Study/CV Reengineering Defects.xlsx`` at commit
043ea29a of the artifact), one row per analysed defect with three free-text columns written during the analysis
(``Bugs``: the symptom; ``Comments``: what the analyst found; ``Fix``: how it was fixed) beside that version's labels.

:func:`read_notes` turns the workbook into rows (every problem named by sheet, row, column and value);
:func:`link_notes` links a note to a final defect only where that cannot be wrong: the same issue (owner/name#number,
compared case-insensitively as GitHub does), the same number of defects in the workbook and in the final dataset,
and the note's position among its issue's rows equal to the defect's position within its issue. Anything else stays
unlinked with the reason; nothing is guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from ..problems import Problem
from .tabular import Rows, open_workbook, sheet_rows, shown, where

SHEET = "Sheet1"
# Workbook column -> config column. The texts, then that version's raw labels (its instrument's names).
TEXTS = {"Bugs": "bugs", "Comments": "comments", "Fix": "fix"}
LABELS = {"DL Stage": "raw_dl_stage", "Part of Implementation": "raw_part_of_implementation", "Impacts": "raw_impact",
          "Defect Type": "raw_defect_type", "Root Cause": "raw_root_cause", "Manifestation": "raw_manifestation",
          "Reporter": "raw_reporter", "Project Type": "raw_project_type"}
REQUIRED = ("URL", "Issue #", *TEXTS, *LABELS)
EMPTY = frozenset({"", "n/a", "na", "none"})  # how the workbook writes "no note" (case-insensitive)
MAX_NOTE_CHARS = 20_000  # the longest note of the pinned workbook has about 2,000 characters
ISSUE_URL = re.compile(r"https://github\.com/([A-Za-z0-9_.-]{1,100})/([A-Za-z0-9_.-]{1,100})/issues/(\d{1,9})"
                       r"(?:#[\w-]*)?/?")
# link_status values: why a note has, or has not, a defect_id
LINKED, COUNT_DIFFERS, NOT_FINAL, NOT_REENGINEERING = "linked", "defect count differs", "not in the final dataset", \
    "not a reengineering issue"
LINK_STATUSES = (LINKED, COUNT_DIFFERS, NOT_FINAL, NOT_REENGINEERING)
# What a system reads on each of the notes' text tracks (the benchmark declares the tracks; the card says this).
NOTE_TRACK_MEANINGS = {
    "symptom": "the analyst's note of the symptom (Bugs): close to what a reporter writes at filing",
    "analysis": "post-hoc: the analyst's notes of the symptom, the findings and the fix (Bugs, Comments, Fix), "
                "written while labeling, so they can name the cause; a score here answers whether a system can "
                "assign the label given an analyst's notes",
}
RULE = ("a note links to a final defect only when its issue (owner/name#number, compared case-insensitively) holds "
        "as many rows in the workbook as defects in the final dataset, and then by position within the issue")


def _text(value: Any) -> str | None:
    """A note cell as text; None for an empty cell or the workbook's placeholders (N/A, None)."""
    if value is None:
        return None
    text = str(value).strip()
    return None if text.casefold() in EMPTY else text


def read_notes(path: Path) -> Rows:
    """Every row of the workbook's sheet that names an issue URL, in sheet order, with its texts and raw labels."""
    out = Rows()
    book = open_workbook(path, out.problems)
    if book is None:
        return out
    if SHEET not in book.sheetnames:
        out.problems.append(Problem(where(path), f"sheet {SHEET!r} is missing (sheets: {book.sheetnames[:5]})"))
        return out
    try:
        values = sheet_rows(book[SHEET])
    except ValueError as error:
        out.problems.append(Problem(where(path, sheet=SHEET), str(error)))
        return out
    header = [str(v).strip() if v is not None else "" for v in values[0]] if values else []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        out.problems.append(Problem(where(path, 1, sheet=SHEET), f"columns missing: {', '.join(missing)}"))
        return out
    index = {name: header.index(name) for name in REQUIRED}
    positions: Counter[str] = Counter()
    for number, row in enumerate(values[1:], start=2):
        cells = list(row) + [None] * (len(header) - len(row))
        url = _text(cells[index["URL"]])
        if url is None:
            if any(_text(v) for v in cells[: len(header)]):
                out.problems.append(Problem(where(path, number, "URL", sheet=SHEET), "a row without an issue URL is "
                                            "not a defect row; skipped", "warning"))
            continue
        found = ISSUE_URL.fullmatch(url)
        if found is None:
            out.problems.append(Problem(where(path, number, "URL", sheet=SHEET), f"not a GitHub issue URL: "
                                        f"{shown(url)}"))
            continue
        owner, name, issue = found.groups()
        said = cells[index["Issue #"]]
        if str(said).strip() not in (issue, f"{issue}.0"):
            out.problems.append(Problem(where(path, number, "Issue #", sheet=SHEET), f"issue number {shown(str(said))} "
                                        f"differs from the URL's {issue}"))
            continue
        record: dict[str, Any] = {"note_id": len(out.rows) + 1, "sheet_row": number,
                                  "issue_id": f"{owner}/{name}#{int(issue)}", "issue_number": int(issue)}
        bad = False
        for column, key in (*TEXTS.items(), *LABELS.items()):
            value = _text(cells[index[column]])
            if value is not None and len(value) > MAX_NOTE_CHARS:
                out.problems.append(Problem(where(path, number, column, sheet=SHEET), f"{len(value)} characters, "
                                            f"more than {MAX_NOTE_CHARS}: {shown(value)}"))
                bad = True
            record[key] = value
        if bad:
            continue
        positions[record["issue_id"].casefold()] += 1
        record["position"] = positions[record["issue_id"].casefold()]
        out.rows.append(record)
    for record in out.rows:
        record["notes_in_issue"] = positions[record["issue_id"].casefold()]
    if not out.rows and not out.problems:
        out.problems.append(Problem(where(path, sheet=SHEET), "no row names an issue"))
    return out


def link_notes(notes: list[dict[str, Any]], defects: list[dict[str, Any]], others: list[dict[str, Any]]) -> None:
    """Fill each note's ``defect_id`` (or None), ``link_status`` and ``link_reason`` by the stated rule (:data:`RULE`);
    ``issue_id`` takes the final dataset's spelling where the issue is there."""
    final: dict[str, list[dict[str, Any]]] = {}
    for defect in defects:
        final.setdefault(defect["issue_id"].casefold(), []).append(defect)
    negatives = {o["issue_id"].casefold(): o["issue_id"] for o in others}
    for note in notes:
        key = note["issue_id"].casefold()
        mine = sorted(final.get(key, []), key=lambda d: d["defect_index"])
        note["defect_id"] = None
        if not mine:
            status = NOT_REENGINEERING if key in negatives else NOT_FINAL
            note["issue_id"] = negatives.get(key, note["issue_id"])
            note["link_status"] = status
            note["link_reason"] = ("the final dataset lists the issue among the sampled issues without a "
                                   "reengineering defect" if status == NOT_REENGINEERING else
                                   "the issue is not in the final dataset")
            continue
        note["issue_id"] = mine[0]["issue_id"]
        if len(mine) != note["notes_in_issue"]:
            note["link_status"] = COUNT_DIFFERS
            note["link_reason"] = (f"the workbook has {note['notes_in_issue']} row(s) for the issue, the final dataset "
                                   f"{len(mine)} defect(s): which row is which defect cannot be told")
            continue
        note["defect_id"] = mine[note["position"] - 1]["defect_id"]
        note["link_status"] = LINKED
        note["link_reason"] = f"same issue and number of defects; position {note['position']} of {len(mine)}"


# The 2022 column that became each final dimension (the workbook's "DL Stage" is another notion: where in the
# pipeline the defect showed; "Part of Implementation" is the final stage), and 2022 names that are plain renames.
DRIFT_COLUMNS = {"stage": "raw_part_of_implementation", "impact": "raw_impact", "defect_type": "raw_defect_type",
                 "root_cause": "raw_root_cause", "manifestation": "raw_manifestation", "reporter": "raw_reporter",
                 "project_type": "raw_project_type"}
RENAMED_2022 = {"manifestation": {"basic errors": "Basic defects", "evolutionary bugs": "Evolutionary defects",
                                  "reproducibility bugs": "Reproducibility defects"}}


def label_2022(dimension: str, raw: str | None) -> str | None:
    """The final label a 2022 value names (the taxonomy's spellings, or a declared rename); None when it names
    none (an older instrument's category)."""
    from .. import taxonomy

    if raw is None:
        return None
    renamed = RENAMED_2022.get(dimension, {}).get(raw.strip().casefold())
    if renamed is not None:
        return renamed
    try:
        return taxonomy.canonical(dimension, raw)
    except KeyError:
        return None


def drift(notes: list[dict[str, Any]], defects: list[dict[str, Any]]) -> None:
    """Fill each note's 2022 labels in final names (``<dimension>_2022``) and, for a linked note, ``changed``: the
    dimensions whose final label differs from the one the 2022 value names (null when unlinked)."""
    by_id = {d["defect_id"]: d for d in defects}
    for note in notes:
        for dimension, column in DRIFT_COLUMNS.items():
            note[f"{dimension}_2022"] = label_2022(dimension, note[column])
        final = by_id.get(note["defect_id"]) if note["defect_id"] else None
        note["changed"] = None if final is None else [
            d for d in DRIFT_COLUMNS if note[f"{d}_2022"] is not None and note[f"{d}_2022"] != final[d]]
