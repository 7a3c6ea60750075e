"""The sentence vectors are cached per (model, text) in the user cache: a second process encodes nothing and does
not import the model's library, and its predictions are the first's; a damaged cache is no cache."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cvreeng_bench.systems import vectors
from cvreeng_bench.systems.baselines import EMBEDDINGS_EXTRA, embeddings_installed

needs_extra = pytest.mark.skipif(not embeddings_installed(), reason=f"the embeddings extra is not installed: "
                                                                   f"{EMBEDDINGS_EXTRA}")
PROBE = ("import sys\nfrom cvreeng_bench.cli import main\ncode = main(sys.argv[1:])\n"
         "print('LOADED', 'sentence_transformers' in sys.modules, code)\n")


@needs_extra
def test_a_second_process_reads_every_vector_from_the_cache_and_predicts_the_same(synthetic_release: Path,
                                                                                  tmp_path: Path) -> None:
    env = {**os.environ, "CVREENG_CACHE": str(tmp_path / "cache")}
    outputs = []
    for run in (1, 2):
        out = tmp_path / f"run{run}.csv"
        done = subprocess.run([sys.executable, "-c", PROBE, "baseline", "knn", "--task", "so_dl_bugs", "--track",
                               "triage", "--release", str(synthetic_release), "--out", str(out)],
                              capture_output=True, text=True, env=env, check=False, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append((done.stdout.strip().splitlines()[-1], out.read_bytes()))
    assert outputs[0][0] == "LOADED True 0" and outputs[1][0] == "LOADED False 0", "the model loads in the first only"
    assert outputs[0][1] == outputs[1][1], "identical predictions"
    assert (tmp_path / "cache" / vectors.CACHE_FILE).is_file()


def test_cached_vectors_are_the_encoded_ones_bit_for_bit_and_only_missing_texts_are_encoded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path))
    asked: list[list[str]] = []

    def encode(texts: list[str]) -> list[np.ndarray]:
        asked.append(texts)
        return [np.array([len(t), 1 / 3, -0.0], dtype=np.float32) for t in texts]

    first = vectors.cached(["a", "bb", "a"], "toy model", encode)
    second = vectors.cached(["bb", "ccc"], "toy model", encode)
    other = vectors.cached(["a"], "another model", encode)
    assert asked == [["a", "bb"], ["ccc"], ["a"]], "a text is encoded once per model"
    assert second["bb"].tobytes() == first["bb"].tobytes() and other["a"].tobytes() == first["a"].tobytes()


def test_a_damaged_cache_is_ignored_and_the_texts_encoded_again(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path))
    (tmp_path / vectors.CACHE_FILE).write_bytes(b"not a database" * 1000)
    found = vectors.cached(["x"], "toy", lambda texts: [np.ones(2, dtype=np.float32) for _ in texts])
    assert found["x"].tolist() == [1.0, 1.0]
    store = vectors.VectorCache("toy")
    store.close()
