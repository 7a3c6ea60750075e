"""Audit a written release folder: re-read every config and run the same validation as the build."""

from __future__ import annotations

import json
from pathlib import Path

from .release import MANIFEST, content_hash, data_path
from .validate import Problem, validate


def read_tables(folder: Path) -> tuple[dict, list[Problem]]:
    import polars as pl

    info = json.loads((folder / MANIFEST).read_text("utf-8"))
    tables, problems = {}, []
    for name in info["configs"]:
        path = folder / data_path(name)
        if not path.is_file():
            problems.append(Problem(str(path), "listed in the manifest but missing"))
            continue
        tables[name] = pl.read_parquet(path)
    return tables, problems


def audit_release(folder: Path) -> list[Problem]:
    """Every problem of a release: missing files, a content hash that no longer matches, bad tables."""
    info = json.loads((folder / MANIFEST).read_text("utf-8"))
    tables, problems = read_tables(folder)
    if not problems and content_hash(tables) != info["content_sha256"]:
        problems.append(Problem(str(folder / MANIFEST), f"content hash {content_hash(tables)} differs from the "
                                f"recorded {info['content_sha256']}: the data was changed after the build"))
    return problems + validate(tables)
