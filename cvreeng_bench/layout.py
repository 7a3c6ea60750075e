"""The release's layout on disk, declared once: dataset version, manifest name, config data paths.

A leaf module (it imports nothing of the package), so every layer can name a release's files without
importing the layer that writes them.
"""

from __future__ import annotations

import os
from pathlib import Path

# The data's own version, independent of the package version: an erratum bumps it (see errata.csv).
DATASET_VERSION = "1.2.0"
MANIFEST = "release.json"
ERRATA = "errata.csv"
LEAK_REPORT = "leak_report.json"
VIEWS = "views.sql"  # DuckDB views over the release's files, relative to the release folder
VIEWS_HF = "views_hf.sql"  # the same over hf://datasets/<repo id>, once published
HUB_PLACEHOLDER = "ORG/NAME"  # the repository id in views_hf.sql until `publish` writes the real one
QUERIES = "queries"  # the paper's figure queries, shipped inside the release
SPLIT = "train"  # every config is one table, published as the Hub's single "train" split


DIGEST_CHARS = 16


def data_path(config: str, digest: str, split: str = SPLIT) -> str:
    """The parquet file of one config (and split), relative to the release folder.

    The name carries a digest of the file's rows: ``datasets`` keys its cache of a local folder on the
    data file names and the card's YAML, not on the data, so a rebuilt release with other data must have
    other names, or ``load_dataset`` serves the old rows."""
    return f"data/{config}/{split}-{digest[:DIGEST_CHARS]}.parquet"


def version_tuple(text: str) -> tuple[int, ...]:
    """'1.10.0' -> (1, 10, 0); a string that is not a version sorts after every real one."""
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (1 << 30,)


def cache_dir() -> Path:
    """Where downloads, default releases and the board's memo live: $CVREENG_CACHE, else the XDG cache folder."""
    if os.environ.get("CVREENG_CACHE"):
        return Path(os.environ["CVREENG_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "cvreeng-bench"
