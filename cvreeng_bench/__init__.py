"""cvreeng-bench: the defect study of Jiang et al. (EMSE 2024) as a dataset, queries and a benchmark.

The build is a chain of one module per stage:

    sources (fetch + verify) -> normalize (raw strings to the taxonomy) -> validate (problems list)
    -> release (Hugging Face layout: parquet + cards)

On top of a release: ``queries`` (the paper's RQ1-RQ4 figures in DuckDB), ``charts`` and ``report``,
``bench`` (tasks, splits, evaluation, baselines, human ceiling, leaderboard) and ``hydrate`` (issue text
snapshots from the GitHub API). The taxonomy is data, declared once in ``taxonomy``.

Importing this package is cheap: the public functions load their heavy dependencies when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import connect, load, rq, sql

__all__ = ["__version__", "connect", "load", "rq", "sql"]


def __getattr__(name: str) -> Any:
    if name in ("connect", "load", "rq", "sql"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'cvreeng_bench' has no attribute {name!r}")
