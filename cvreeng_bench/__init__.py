"""cvreeng-bench: the defect study of Jiang et al. (EMSE 2024) as a dataset, queries and a benchmark.

The build is a chain of one module per stage in ``pipeline`` (``build`` runs it):

    sources (fetch + verify) -> normalize (raw strings to the taxonomy) -> errata (reviewed corrections)
    -> validate (problems list) -> write (Hugging Face layout: parquet + cards)

Beside the chain: ``taxonomy`` (the labels, declared once), ``schema`` (every config's columns),
``layout`` (the release's file names) and ``problems``. A built release is opened as one
:class:`~cvreeng_bench.release.Release` object that every layer above takes: ``queries`` (the paper's
RQ1-RQ4 figures in DuckDB), ``charts`` and ``report``, ``scoring`` (tasks, splits, evaluation, agreement), ``board``
(the leaderboard), ``systems`` (baselines, the chat-model runner) and ``hydrate`` (issue text snapshots).
See ARCHITECTURE.md for the layers.

Importing this package is cheap: the public functions load their heavy dependencies when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from .api import (
        agreement,
        baseline,
        compare,
        connect,
        crosswalk,
        describe,
        evaluate,
        leaderboard,
        load,
        open_release,
        predict,
        prompt,
        regenerate,
        rq,
        sql,
        submit,
        tasks,
        template,
        transfer,
        verdict,
        verify,
    )

__all__ = ["__version__", "agreement", "baseline", "compare", "connect", "crosswalk", "describe", "evaluate",
           "leaderboard", "load", "open_release", "predict", "prompt", "regenerate", "rq", "sql", "submit", "tasks",
           "template", "transfer", "verdict", "verify"]


def __getattr__(name: str) -> Any:
    if name in __all__ and name != "__version__":
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'cvreeng_bench' has no attribute {name!r}")
