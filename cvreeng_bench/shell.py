"""``cvreeng-bench sql`` with no query: an interactive SQL shell over a release's views.

DuckDB's own shell when it is installed (``pip install duckdb-cli``, part of the dev extra), started in
the release folder after ``.read views.sql``; otherwise a minimal line loop on the Python package: a
statement runs when a line ends with ``;``, ``.quit`` (or end of input) leaves.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .layout import VIEWS

if TYPE_CHECKING:
    from .release import Release

PROMPT, MORE = "cvreeng> ", "    ...> "


def duckdb_shell() -> str | None:
    return shutil.which("duckdb") or shutil.which("duckdb", path=str(Path(sys.executable).parent))


def interactive(release: Release, *, use_duckdb: bool = True) -> int:
    shell = duckdb_shell() if use_duckdb else None
    if shell is not None:
        return subprocess.call([shell, "-cmd", f".read {VIEWS}"], cwd=release.folder)  # noqa: S603 - our own argv
    import duckdb

    from .queries import format_frame

    con = release.connect()
    print(f"cvreeng-bench SQL over {release.folder} (views: {', '.join(release.configs)}); end a statement with "
          "';', .quit to leave")
    buffer: list[str] = []
    while True:
        try:
            line = input(MORE if buffer else PROMPT)
        except EOFError:
            print()
            return 0
        if not buffer and line.strip() in (".quit", ".exit"):
            return 0
        buffer.append(line)
        if not line.rstrip().endswith(";"):
            continue
        statement, buffer = "\n".join(buffer), []
        try:
            result = con.sql(statement)
            if result is not None:
                sys.stdout.write(format_frame(result.pl(), "table"))
        except duckdb.Error as error:
            print(f"error: {error}", file=sys.stderr)
