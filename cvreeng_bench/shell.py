"""``cvreeng-bench sql`` with no query: an interactive SQL shell over a release's views.

DuckDB's own shell when it is installed (``pip install duckdb-cli``, part of the dev extra), started with
views the package writes from the validated manifest (never the folder's own ``views.sql``, which may have
been edited) and then confined to the release folder; otherwise a minimal line loop on the Python package
over the same confined views: a statement runs when a line ends with ``;``, ``.quit`` (or end of input)
leaves. ``--allow-files`` lifts the confinement.
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
    """The statements the shell runs first: the views, then (unless allowed) the confinement."""
    from .pipeline.write import views_sql

    folder = str(release.folder).replace("'", "''")
    confine = ("SET autoinstall_known_extensions = false; SET autoload_known_extensions = false; "
               f"SET allowed_directories = ['{folder}/']; SET enable_external_access = false; "
               "SET lock_configuration = true;")
    return views_sql(release.manifest.raw).replace("\n", " ") + ("" if allow_files else " " + confine)


def interactive(release: Release, *, use_duckdb: bool = True, allow_files: bool = False) -> int:
    shell = duckdb_shell() if use_duckdb else None
    if shell is not None:
        return subprocess.call([shell, "-cmd", setup_sql(release, allow_files=allow_files)],  # noqa: S603
                               cwd=release.folder)
    import duckdb

    from .queries import format_frame

    con = release.connect(allow_files=allow_files)
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
