"""The release as `datasets` users load it: cache-safe across rebuilds, and one ready-to-train config per task."""

from __future__ import annotations

import contextlib
import csv
import io
from pathlib import Path

import pytest

from cvreeng_bench.api import open_release
from cvreeng_bench.build import build
from cvreeng_bench.pipeline import sources
from cvreeng_bench.scoring import tasks
from cvreeng_bench.scoring.task_data import describe


def _first_impact(load_dataset, folder: Path, cache: Path) -> str:
    ds = load_dataset(str(folder), "defects", split="train", cache_dir=str(cache))
    return ds.features["impact"].int2str(ds.sort("source_row")[0]["impact"])  # a ClassLabel, by name


def test_two_same_named_releases_with_different_data_load_correctly_through_one_datasets_cache(
        tmp_path: Path, no_errata: Path) -> None:
    from tests.synthetic import write_upstream

    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    mirror_copy = write_upstream(tmp_path / "upstream")
    with contextlib.redirect_stderr(io.StringIO()):
        a, _ = build(tmp_path / "a" / "release", mirror_copy, verify=False, progress=False, errata_path=no_errata)
    path = mirror_copy / sources.STUDY.folder / sources.STUDY.commit / sources.FILES[0].path
    rows = list(csv.reader(io.StringIO(path.read_text("utf-8"), newline="")))
    column = rows[0].index("Impacts")
    before = rows[1][column]
    rows[1][column] = "Hang" if before != "Hang" else "Crash"
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    with contextlib.redirect_stderr(io.StringIO()):
        b, _ = build(tmp_path / "b" / "release", mirror_copy, verify=False, progress=False, errata_path=no_errata)
    cache = tmp_path / "hf-cache"
    assert _first_impact(datasets.load_dataset, a, cache) != _first_impact(datasets.load_dataset, b, cache)
    assert _first_impact(datasets.load_dataset, b, cache) == rows[1][column]
    with contextlib.redirect_stderr(io.StringIO()):
        rebuilt, _ = build(a, mirror_copy, verify=False, progress=False, errata_path=no_errata)  # in place
    assert _first_impact(datasets.load_dataset, rebuilt, cache) == rows[1][column]


def test_every_task_config_loads_with_class_labels_and_declared_inputs_only(synthetic_release: Path) -> None:
    datasets = pytest.importorskip("datasets")
    synthetic = open_release(synthetic_release)
    for task in tasks.REGISTRY.latest():
        test = datasets.load_dataset(str(synthetic_release), task.name, split="test")
        train = datasets.load_dataset(str(synthetic_release), task.name, split="train")
        label = test.features["label"]
        assert isinstance(label, datasets.ClassLabel) and label.names == list(task.labels), task.name
        assert test.features["labels"].feature.names == list(task.labels)
        # A post carries its text, a noted issue its notes; a study issue's text needs a hydrated release.
        carried = {tasks.SO_POSTS.name: ("text",), tasks.NOTES.name: ("bugs", "comments", "fix")}
        texts = carried.get(task.source.name, ())
        assert set(test.column_names) == {"issue_id", *task.inputs, *texts, "label", "labels", "label_text", "fold"}
        info = describe(task, synthetic)
        assert test.num_rows == info["split_sizes"]["holdout"]["test"], task.name
        assert train.num_rows == info["split_sizes"]["holdout"]["train"]
        assert sorted(test["issue_id"]) == sorted(tasks.items(task, synthetic, "holdout")["issue_id"])
        assert len(info["to_predict"]) == tasks.items(task, synthetic, "all").height, "out-of-fold: every issue"
        gold = dict(zip(tasks.items(task, synthetic, "all")["issue_id"], tasks.items(task, synthetic, "all")["gold"],
                        strict=True))
        for row in test.select(range(5)):
            assert [label.names[i] for i in row["labels"]] == list(gold[row["issue_id"]])


def test_the_card_declares_the_features_of_every_config_tables_and_tasks_alike(synthetic_release: Path) -> None:
    import yaml

    datasets = pytest.importorskip("datasets")
    header = (synthetic_release / "README.md").read_text("utf-8").split("---\n")[1]
    declared = {d["config_name"]: d["features"] for d in yaml.safe_load(header)["dataset_info"]}
    release = open_release(synthetic_release)
    assert set(declared) == set(release.configs) | set(release.manifest.task_configs)
    stage = {f["name"]: f for f in declared["stage"]}
    assert stage["label"]["dtype"]["class_label"]["names"]["0"] == tasks.get("stage").labels[0]
    loaded = datasets.load_dataset(str(synthetic_release), "stage", split="test")
    assert list(loaded.features) == [f["name"] for f in declared["stage"]], "the declared columns are the loaded ones"
