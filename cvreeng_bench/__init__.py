"""cvreeng-bench: the defect study of Jiang et al. (EMSE 2024) as a dataset, queries and a benchmark.

The build is a chain of one module per stage (``build`` runs it):

    sources (fetch + verify) -> normalize (raw strings to the taxonomy) -> errata (reviewed corrections)
    -> validate (problems list) -> write (Hugging Face layout: parquet + cards)

Beside the chain: ``taxonomy`` (the labels, declared once), ``schema`` (every config's columns),
``layout`` (the release's file names) and ``problems``. A built release is opened as one
:class:`~cvreeng_bench.release.Release` object that every layer above takes: ``queries`` (the paper's
RQ1-RQ4 figures in DuckDB), ``charts`` and ``report``, ``bench`` (tasks, splits, evaluation, baselines,
human ceiling, leaderboard) and ``hydrate`` (issue text snapshots from the GitHub API).
See ARCHITECTURE.md for the layers.

Importing this package is cheap: the public functions load their heavy dependencies when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import connect, load, open_release, rq, sql

__all__ = ["__version__", "connect", "load", "open_release", "rq", "sql"]


def __getattr__(name: str) -> Any:
    if name in ("connect", "load", "open_release", "rq", "sql"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'cvreeng_bench' has no attribute {name!r}")
