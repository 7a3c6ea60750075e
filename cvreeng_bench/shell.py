"""``cvreeng-bench sql`` with no query: an interactive SQL shell over a release's configs.

DuckDB's own shell when it is installed (``pip install duckdb-cli``, part of the dev extra), started with tables
the package reads from the files the validated manifest lists (never the folder's own ``views.sql``, which may
have been edited) and then cut off from every file, the release's own included, so nothing can be written;
otherwise a minimal line loop on the Python package over the release's sealed in-memory database: a statement
runs when a line ends with ``;``, ``.quit`` (or end of input) leaves. ``--allow-files`` gives views over the
files and lifts the confinement.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .release import Release

PROMPT, MORE = "cvreeng> ", "    ...> "


def duckdb_shell() -> str | None:
    return shutil.which("duckdb") or shutil.which("duckdb", path=str(Path(sys.executable).parent))


def setup_sql(release: Release, *, allow_files: bool = False) -> str:
    """The statements the shell runs first. With files allowed: the views over the release's files. Sealed: every
    config read into a table first, then no file access at all (the shell can then neither read nor write any file,
    the release's own included), extensions off and the configuration locked."""
    from .pipeline.write import views_sql

    views = views_sql(release.manifest.raw)
    if allow_files:
        return views.replace("\n", " ")
    tables = views.replace("CREATE OR REPLACE VIEW", "CREATE OR REPLACE TABLE").replace("\n", " ")
    return ("SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; " + tables +
            " SET enable_external_access = false; SET lock_configuration = true;")


def interactive(release: Release, *, use_duckdb: bool = True, allow_files: bool = False) -> int:
    shell = duckdb_shell() if use_duckdb else None
    if shell is not None:
        return subprocess.call([shell, "-cmd", setup_sql(release, allow_files=allow_files)],  # noqa: S603
                               cwd=release.folder)
    import duckdb

    from .queries import WRITES, format_frame

    con = release.connect(allow_files=True) if allow_files else release.cursor()
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
            kinds = {s.type.name for s in con.extract_statements(statement)}
            if not allow_files and kinds & WRITES:
                print(f"error: {', '.join(sorted(kinds & WRITES))} writes or attaches files; this prompt only reads "
                      "the release (start it with --allow-files to write)", file=sys.stderr)
                continue
            result = con.sql(statement)
            if result is not None:
                sys.stdout.write(format_frame(result.pl(), "table"))
        except duckdb.Error as error:
            print(f"error: {error}", file=sys.stderr)
