"""Rows as text: an aligned table, CSV, JSON or Markdown, from plain Python rows.

The one formatter for everything the command line prints from a query: a polars frame (the Python API's
result) and the rows of a DuckDB cursor (the print path of ``rq`` and ``sql``, which then needs neither
polars nor pyarrow) give the same text. Text cells are escaped for the terminal (a title carrying an ANSI
sequence prints as its escape, never as a colour change or a window title).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from .text import csv_cell, markdown_cell, printable

FORMATS = ("table", "csv", "json", "markdown")
CELL = 80  # characters of a text cell in the terminal table (Markdown, CSV and JSON never cut)


def _plain(value: Any) -> Any:
    """A cell as JSON holds it: dates as ISO text, nested values kept nested."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _text(value: Any, *, limit: int | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, list | tuple | dict):
        value = json.dumps(_plain(value), ensure_ascii=False)
    text = printable(value, 10**9)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def _table(columns: Sequence[str], cells: list[list[str]]) -> str:
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]

    def line(left: str, fill: str, middle: str, right: str) -> str:
        return left + middle.join(fill * (w + 2) for w in widths) + right

    def row(values: Sequence[str]) -> str:
        return "│ " + " ┆ ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " │"

    lines = [line("┌", "─", "┬", "┐"), row(columns), line("╞", "═", "╪", "╡"), *(row(r) for r in cells),
             line("└", "─", "┴", "┘")]
    return "\n".join(lines) + "\n"


def format_rows(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """``rows`` under ``columns`` in one of :data:`FORMATS`."""
    from .errors import CvreengError

    if fmt == "json":
        records = [dict(zip(columns, (_plain(v) for v in row), strict=True)) for row in rows]
        return json.dumps(records, ensure_ascii=False, separators=(",", ":")) + "\n"
    if fmt == "csv":  # CSV has no nested values: a list or struct cell is written as its JSON text
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([printable(c, 10**9) for c in columns])
        for row in rows:
            writer.writerow(["" if v is None else repr(v) if isinstance(v, float)
                             else csv_cell(_text(v, limit=None)) if isinstance(v, str) else _text(v, limit=None)
                             for v in row])
        return out.getvalue()
    if fmt == "table":
        return _table([printable(c, 10**9) for c in columns], [[_text(v, limit=CELL) for v in row] for row in rows])
    if fmt == "markdown":
        def cell(value: Any) -> str:
            return markdown_cell(_text(value, limit=None))

        lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
        return "\n".join(lines) + "\n"
    raise CvreengError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
