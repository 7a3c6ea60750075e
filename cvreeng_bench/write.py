"""Stage 4, write: a release folder in the Hugging Face layout (one parquet file per config, the cards,
``views.sql`` and the manifest), written into a staging folder and moved into place only when complete.

This stage writes what it is given; :mod:`cvreeng_bench.build` decides what that is.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paper, sources
from ._version import __version__
from .errata import ERRATA_FILE
from .errors import CvreengError
from .layout import DATASET_VERSION, ERRATA, LEAK_REPORT, MANIFEST, VIEWS, data_path
from .problems import Problem, errors
from .schema import SCHEMAS, arrow_schema

if TYPE_CHECKING:
    import polars as pl

# The leaderboard scores the data; hashing it too would make an entry's own hash depend on the entry.
UNHASHED = ("leaderboard",)


class BuildError(CvreengError):
    """The build found errors; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"build refused: {len(errors(problems))} error(s)\n{shown}")


def content_hash(tables: dict[str, pl.DataFrame]) -> str:
    """sha256 over every data config's rows (NDJSON, config order fixed), independent of parquet encoding."""
    digest = hashlib.sha256()
    for name in sorted(set(tables) - set(UNHASHED)):
        digest.update(name.encode() + b"\n" + tables[name].write_ndjson().encode())
    return digest.hexdigest()


def write_parquet(frame: pl.DataFrame, path: Path, config: str | None = None) -> None:
    """Parquet with the declared Arrow schema (so every reader sees the same types)."""
    import pyarrow.parquet as pq

    table = frame.to_arrow()
    if config in SCHEMAS:
        table = table.cast(arrow_schema(config))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def manifest(tables: dict[str, pl.DataFrame], upstream: sources.Upstream) -> dict[str, Any]:
    return {
        "dataset_version": DATASET_VERSION,
        "package_version": __version__,
        "content_sha256": content_hash(tables),
        "paper_doi": paper.DOI,
        "upstream": {"repository": sources.UPSTREAM_REPO, "commit": sources.UPSTREAM_COMMIT,
                     "verified": upstream.verified,
                     "files": {f.path: upstream.sha256.get(f.key, f.sha256) for f in sources.FILES}},
        "configs": {name: {"rows": frame.height, "path": data_path(name)} for name, frame in sorted(tables.items())},
    }


def views_sql(configs: list[str]) -> str:
    """One view per config over its parquet file, relative to the release folder (for the DuckDB shell)."""
    return "\n".join(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{data_path(name)}');"
                     for name in sorted(configs)) + "\n"


def write_release(tables: dict[str, pl.DataFrame], info: dict[str, Any], target: Path,
                  leak_report: dict[str, Any] | None = None, errata: Path = ERRATA_FILE) -> None:
    from .card import render_cards

    for name, frame in tables.items():
        write_parquet(frame, target / data_path(name), name)
    shutil.copyfile(errata, target / ERRATA)
    if leak_report is not None:
        (target / LEAK_REPORT).write_text(json.dumps(leak_report, indent=2) + "\n", encoding="utf-8")
    for filename, text in render_cards(tables, info).items():
        (target / filename).write_text(text, encoding="utf-8")
    (target / VIEWS).write_text(views_sql(list(tables)), encoding="utf-8")
    (target / MANIFEST).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def install(staging: Path, out: Path) -> None:
    """Move a finished release into place, replacing an older release but never other data."""
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise BuildError([Problem(str(out), "exists and is not a release folder; choose another --out")])
    if out.exists():
        retired = out.with_name(f".{out.name}.old")
        shutil.rmtree(retired, ignore_errors=True)
        out.rename(retired)
        staging.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(out)
