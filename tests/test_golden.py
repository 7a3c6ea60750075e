"""The release built from the pinned upstream matches its recorded fingerprint (see tests/golden)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.golden import GOLDEN, fingerprint


def test_the_release_matches_its_recorded_fingerprint_config_by_config(mirror: Path) -> None:
    recorded = json.loads(GOLDEN.read_text("utf-8"))
    built = fingerprint(mirror)
    assert set(built["configs"]) == set(recorded["configs"])
    for name, expected in recorded["configs"].items():
        assert built["configs"][name] == expected, f"config {name} changed; regenerate with python -m tests.golden"
    assert built["files"] == recorded["files"]
