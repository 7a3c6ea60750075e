"""The release's fingerprint, so a refactor can prove it changed nothing.

``tests/golden_release.json`` records, for the release built from the pinned upstream with an empty errata file,
each data config's row hash (NDJSON, as the content hash) and Arrow schema, and the data cards' sha256 with
the dataset and package versions masked (so an erratum or a version bump does not touch this file). A change
that is meant to change the data regenerates it, in the same commit, with:

    CVREENG_UPSTREAM=../shared/upstream python -m tests.golden
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).with_name("golden_release.json")
# The data configs and the cards that depend on the data alone: a new benchmark task (new splits, board
# rows, task configs, card sections) leaves them as they are; the benchmark parts have their own tests.
DATA_CONFIGS = ("annotations", "defects", "issues", "repositories", "taxonomy")
TEXT_FILES = ("DATASHEET.md", "TAXONOMY.md")


def fingerprint(upstream: str | Path | None) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from cvreeng_bench._version import __version__
    from cvreeng_bench.build import build
    from cvreeng_bench.layout import DATASET_VERSION
    from cvreeng_bench.release import Release

    with tempfile.TemporaryDirectory() as tmp:
        errata = Path(tmp) / "errata.csv"
        errata.write_text("defect_id,field,old_value,new_value,reason,version\n", encoding="utf-8")
        folder, _ = build(Path(tmp) / "release", upstream, progress=False, errata_path=errata)
        release = Release(folder)
        configs = {}
        for name in DATA_CONFIGS:
            frame = release.frame(name)
            configs[name] = {"rows": frame.height,
                             "rows_sha256": hashlib.sha256(frame.write_ndjson().encode()).hexdigest(),
                             "schema": str(pq.read_schema(release.path(name)).remove_metadata())}
        texts = {}
        for name in TEXT_FILES:
            text = (folder / name).read_text("utf-8")
            text = text.replace(release.content_sha256, "<content>").replace(release.content_sha256[:16], "<content>")
            text = text.replace(__version__, "<package>").replace(DATASET_VERSION, "<dataset>")
            texts[name] = hashlib.sha256(text.encode()).hexdigest()
        return {"configs": configs, "files": texts}


def main() -> int:
    import os

    GOLDEN.write_text(json.dumps(fingerprint(os.environ.get("CVREENG_UPSTREAM")), indent=2, sort_keys=True) + "\n",
                      encoding="utf-8")
    print(f"written {GOLDEN}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
