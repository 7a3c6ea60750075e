"""Stage 2 for the second source: Stack Overflow's ``dataset.csv`` to typed rows of the ``so_posts`` config.

Nothing raises on bad data: every row comes back with every problem (file, row, column, value), as the study's
readers do, and a bad row is an error, never dropped silently.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..dlbugs import KINDS, LABELS, POST_URL
from ..problems import Problem
from .tabular import RowReader, Rows, read_csv, shown, where

HEADER = ("Id", "Text", "Tags", "Label", "LabelNum")
_TAGS = re.compile(r"^\|(?:[^|\s]+\|)+$")


def parse_tags(value: str) -> list[str] | None:
    """``|python|keras|`` -> ['python', 'keras']; None when the cell is not of that form."""
    value = value.strip()
    if not _TAGS.match(value):
        return None
    return value.strip("|").split("|")


def read_posts(path: Path) -> Rows:
    """Every post of ``dataset.csv`` as a typed row, with every problem (a row is never dropped silently: a bad
    row is an error naming its line, column and value)."""
    header, lines, problems = read_csv(path, HEADER)
    out = Rows(problems=problems)
    if problems:
        return out
    numbers = {k.label: k.number for k in KINDS}
    seen_ids: dict[int, int] = {}
    seen_texts: dict[str, int] = {}
    for line, cells in lines:
        if len(cells) != len(header):
            out.problems.append(Problem(where(path, line), f"{len(cells)} cells where the header has {len(header)}"))
            continue
        row = RowReader(path, line, dict(zip(header, cells, strict=True)), out.problems)
        before = len(out.problems)
        post_id = row.integer("Id")
        if post_id is not None and post_id <= 0:
            row.fail("Id", f"not a Stack Overflow post id: {shown(row.text('Id'))}")
        text = row.text("Text").strip()
        if not text:
            row.fail("Text", "empty text")
        tags = parse_tags(row.text("Tags"))
        if tags is None:
            row.fail("Tags", f"expected tags as |a|b|, got {shown(row.text('Tags'))}")
        label = row.text("Label").strip()
        if label not in numbers:
            row.fail("Label", f"unknown label {shown(label)} (known: {', '.join(LABELS)})")
        number = row.integer("LabelNum")
        if label in numbers and number is not None and number != numbers[label]:
            row.fail("LabelNum", f"{number} does not match Label {label!r} (expected {numbers[label]})")
        if post_id is not None and post_id in seen_ids:
            row.fail("Id", f"post {post_id} already on row {seen_ids[post_id]}")
        if text and text in seen_texts:
            row.fail("Text", f"the same text as row {seen_texts[text]}")
        if len(out.problems) > before:
            continue
        assert post_id is not None
        assert tags is not None
        assert number is not None
        seen_ids[post_id], seen_texts[text] = line, line
        record: dict[str, Any] = {"post_id": post_id, "url": POST_URL.format(post_id), "text": text, "tags": tags,
                                  "label": label, "label_num": number, "source_row": line}
        out.rows.append(record)
    return out
