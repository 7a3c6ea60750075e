"""The public library: every command of the command line is a thin skin over a function here.

Each function accepts a :class:`~cvreeng_bench.release.Release`, a folder, or nothing (the user-cache release,
built on first use) and works on the same opened object: a folder opened once stays open for the process
until it is rebuilt, so its frames, database and query results are read and computed once. ``data`` holds the
release and the paper's figures, ``bench`` the benchmark, ``board`` the leaderboard.
"""

from __future__ import annotations

from ..release import Release, ReleaseError
from .bench import (
    agreement,
    baseline,
    compare,
    crosswalk,
    describe,
    evaluate,
    predict,
    prompt,
    tasks,
    template,
    transfer,
    verdict,
)
from .board import leaderboard, regenerate, submit, verify
from .data import ReleaseLike, connect, default_release, load, open_release, rq, sql

__all__ = ["Release", "ReleaseError", "ReleaseLike", "agreement", "baseline", "compare", "connect", "crosswalk",
           "default_release", "describe", "evaluate", "leaderboard", "load", "open_release", "predict", "prompt",
           "regenerate", "rq", "sql", "submit", "tasks", "template", "transfer", "verdict", "verify"]
