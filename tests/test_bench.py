"""The classifier benchmark: tasks, splits, scoring, refusals, baselines, human ceiling, leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

import cvreeng_bench
from cvreeng_bench.registry import Registry, RegistryError
from cvreeng_bench.release import Release
from cvreeng_bench.scoring import evaluate, leaks, metrics, tasks
from cvreeng_bench.scoring.predictions import read_predictions
from cvreeng_bench.systems import baselines
from tests.conftest import cli

# --- tasks --------------------------------------------------------------------------------------------

def test_the_registry_refuses_a_duplicate_or_older_version() -> None:
    registry: Registry[tasks.Task] = Registry("task")
    registry.register(tasks.Task("t", "stage", ("a",), "first", version=2))
    with pytest.raises(RegistryError, match="already registered"):
        registry.register(tasks.Task("t", "stage", ("a", "b"), "changed in place", version=2))
    with pytest.raises(RegistryError, match="older"):
        registry.register(tasks.Task("t", "stage", ("a",), "older", version=1))
    registry.register(tasks.Task("t", "stage", ("a", "b"), "changed", version=3))
    assert registry.get("t").version == 3 and registry.get("t@v2").description == "first"


def test_the_registry_refuses_an_entry_changed_in_place() -> None:
    registry: Registry[baselines.Baseline] = Registry("baseline")
    mutable = baselines.Baseline("b", baselines.majority, description="first")
    registry.register(mutable)
    object.__setattr__(mutable, "description", "edited behind the registry's back")
    with pytest.raises(RegistryError, match="changed after it was registered"):
        registry.get("b")


def test_there_is_a_screening_task_and_one_task_per_label_dimension() -> None:
    names = {t.name for t in tasks.REGISTRY.latest()}
    assert names >= {"screening", "stage", "defect_type", "impact", "root_cause", "manifestation", "reporter"}
    with pytest.raises(RegistryError, match="unknown task 'severity'"):
        tasks.get("severity")


def test_gold_is_a_label_set_per_issue(opened: Release) -> None:
    gold = tasks.items(tasks.get("stage"), opened, "all")
    assert gold.height == 334
    multi = gold.filter(pl.col("issue_id") == "ultralytics/yolov5#264")
    defects = opened.frame("defects").filter(pl.col("issue_id") == "ultralytics/yolov5#264")
    assert defects.height == 2 and sorted(multi["gold"][0]) == sorted(defects["stage"]) == ["Modeling", "Training"]
    screening = tasks.items(tasks.get("screening"), opened, "all")
    assert screening.height == 427
    assert screening["primary"].value_counts().sort("primary")["count"].to_list() == [93, 334]


# --- splits -------------------------------------------------------------------------------------------

def test_no_issue_is_on_both_sides_of_any_split(release: Path) -> None:
    report = json.loads((release / "leak_report.json").read_text())
    latest = tasks.REGISTRY.latest()
    assert set(report["splits"]) == {f"{t.name}/{s}" for t in latest for s in
                                     (*(s for s in t.splits if s != "fold"), *(f"fold{i}" for i in range(5)))}
    sizes = {"sampled issues": 427, "reengineering issues": 334, "Stack Overflow posts": 600,
             tasks.get("bug_kind").population: 280, tasks.get("notes_stage").population: 191,
             tasks.get("notes_bug_kind").population: 156}
    for name, entry in report["splits"].items():
        assert entry["issues_on_both_sides"] == [] and entry["defects_on_both_sides"] == [], name
        task = tasks.get(name.partition("/")[0])
        assert entry["train"] + entry["test"] == sizes[task.population], name
    splits = cvreeng_bench.load("splits", release).filter(pl.col("task") == "screening")
    repos = cvreeng_bench.load("issues", release).join(splits, on="issue_id")
    held = repos.group_by("repo").agg(pl.col("repo_holdout").n_unique().alias("sides"))
    assert held["sides"].max() == 1, "a repository must sit wholly on one side"
    late = repos.filter(pl.col("temporal") == "test")["issue_created_at"].min()
    early = repos.filter(pl.col("temporal") == "train")["issue_created_at"].max()
    assert early < late


def test_regenerating_the_splits_gives_the_same_assignment(synthetic: Release) -> None:
    shipped = synthetic.frame("splits")
    configs = {name: synthetic.frame(name) for name in ("issues", "defects", "so_posts", "analyst_notes")}
    again = tasks.splits_table(configs)
    assert_frame_equal(again, shipped)
    other_seed = tasks.splits_table(configs, seed=7)
    with pytest.raises(AssertionError):
        assert_series_equal(other_seed["holdout"], shipped["holdout"])


def test_each_task_is_stratified_on_its_own_label_and_every_class_reaches_the_test_side(
        synthetic_release: Path) -> None:
    release = synthetic_release
    splits = cvreeng_bench.load("splits", release)
    assert set(splits["task"]) == {t.name for t in tasks.REGISTRY.latest()}
    per_stratum = splits.group_by("task", "stratum").agg(pl.len().alias("n"),
                                                         (pl.col("holdout") == "test").sum().alias("test"))
    for n, test in per_stratum.select("n", "test").rows():
        assert abs(test - n / 5) <= 1
        assert test >= 1 if n >= 2 else test == 0
    for task in tasks.REGISTRY.latest():
        assert set(splits.filter(pl.col("task") == task.name)["stratum"]) <= set(task.labels), task.name
        sizes = splits.filter(pl.col("task") == task.name)["fold"].value_counts()["count"]
        assert sizes.max() - sizes.min() <= 1
    report = json.loads((release / "leak_report.json").read_text())["splits"]
    assert all(report[f"{t.name}/holdout"]["classes_without_test_issues"] == [] for t in tasks.REGISTRY.latest())


def test_the_leak_report_finds_identical_and_near_identical_texts() -> None:
    splits = pl.DataFrame({"task": ["t"] * 4, "issue_id": ["a", "b", "c", "d"], "stratum": ["x"] * 4,
                           "holdout": ["train", "test", "train", "test"], "repo_holdout": ["train"] * 4,
                           "temporal": ["train"] * 4, "fold": [0, 1, 2, 3]})
    defects = pl.DataFrame({"defect_id": ["a/1"], "issue_id": ["a"]})
    base = "the loss becomes nan after a few hundred steps when training on my own dataset with two gpus"
    texts = pl.DataFrame({"issue_id": ["a", "b", "c", "d"],
                          "text": [base, base.upper(), base + " please help", "unrelated crash on import of cv2"]})
    report = leaks.report(splits, defects, texts)["splits"]["t/holdout"]
    assert report["identical_texts"] == [["b", "a"]]
    assert report["near_identical_texts"] == [["b", "c"]]


# --- scoring ------------------------------------------------------------------------------------------

def test_scores_equal_scikit_learn_on_single_label_predictions() -> None:
    from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_recall_fscore_support

    rng = np.random.default_rng(3)
    labels = ["a", "b", "c", "d", "e"]
    gold = [labels[i] for i in rng.integers(0, 5, 400)]
    pred = [g if rng.random() < 0.55 else labels[rng.integers(0, 5)] for g in gold]
    result = metrics.score([[g] for g in gold], pred, labels, n_resamples=0)
    assert result.point["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert result.point["macro_f1"] == pytest.approx(f1_score(gold, pred, average="macro"))
    assert result.point["kappa"] == pytest.approx(cohen_kappa_score(gold, pred))
    _, _, f1, support = precision_recall_fscore_support(gold, pred, labels=labels)
    assert [r["f1"] for r in result.per_label] == pytest.approx(list(f1))
    assert [r["support"] for r in result.per_label] == list(support)


def test_the_bootstrap_interval_is_seeded_and_brackets_the_point() -> None:
    gold = [["a"], ["b"], ["a"], ["c"], ["b"], ["a"]] * 30
    pred = ["a", "b", "b", "c", "a", "a"] * 30
    one = metrics.score(gold, pred, ["a", "b", "c"], seed=5)
    two = metrics.score(gold, pred, ["a", "b", "c"], seed=5)
    three = metrics.score(gold, pred, ["a", "b", "c"], seed=6)
    assert one.interval == two.interval != three.interval
    for metric in metrics.METRICS:
        low, high = one.interval[metric]
        assert low <= one.point[metric] <= high and high - low > 0


def test_a_prediction_is_right_when_it_names_any_gold_label_of_the_issue() -> None:
    result = metrics.score([["Environment", "Training"], ["Modeling"]], ["Training", "Modeling"],
                           ["Environment", "Modeling", "Training"], n_resamples=0)
    assert result.point["accuracy"] == 1.0 and result.point["macro_f1"] == 1.0


def test_macro_f1_counts_a_predicted_label_absent_from_gold_but_not_an_unused_one() -> None:
    gold = [["a"], ["a"], ["b"], ["b"]]
    perfect = metrics.score(gold, ["a", "a", "b", "b"], ["a", "b", "c", "d"], n_resamples=0)
    assert perfect.point["macro_f1"] == 1.0, "labels in neither gold nor predictions add no term"
    stray = metrics.score(gold, ["a", "c", "b", "b"], ["a", "b", "c", "d"], n_resamples=0)
    assert stray.point["macro_f1"] == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_the_permutation_test_matches_exact_mcnemar_on_accuracy() -> None:
    from math import comb

    gold = [["a"]] * 60
    a = ["a"] * 50 + ["b"] * 10
    b = ["a"] * 42 + ["b"] * 18  # 8 discordant items, all in A's favour
    result = metrics.permutation_test(gold, a, b, ["a", "b"], "accuracy", n_rounds=20_000, seed=1)
    exact = min(1.0, 2 * sum(comb(8, k) for k in range(1)) / 2**8)  # two-sided exact binomial, 8 of 8
    assert result.p_value == pytest.approx(exact, abs=0.004)
    assert result.test.startswith("paired approximate-randomization")
    same = metrics.permutation_test(gold, a, a, ["a", "b"], "accuracy", n_rounds=200)
    assert same.p_value == 1.0 and same.difference == 0


def test_the_permutation_test_matches_brute_force_enumeration_of_every_swap() -> None:
    import itertools

    labels = ["a", "b", "c"]
    gold = [["a"], ["b"], ["c"], ["a"], ["b"], ["c"], ["a", "b"], ["c"]]
    a = ["a", "b", "c", "a", "c", "c", "b", "a"]
    b = ["b", "b", "a", "a", "b", "a", "c", "c"]

    def macro(pred: list[str]) -> float:
        return metrics.score(gold, pred, labels, n_resamples=0).point["macro_f1"]

    observed = macro(a) - macro(b)
    reached = 0
    for swaps in itertools.product((False, True), repeat=len(gold)):
        left = [y if s else x for x, y, s in zip(a, b, swaps, strict=True)]
        right = [x if s else y for x, y, s in zip(a, b, swaps, strict=True)]
        reached += abs(macro(left) - macro(right)) >= abs(observed) - 1e-12
    exact = reached / 2 ** len(gold)
    result = metrics.permutation_test(gold, a, b, labels, "macro_f1", n_rounds=40_000, seed=3)
    assert result.difference == pytest.approx(observed)
    assert result.p_value == pytest.approx(exact, abs=0.01)


def test_no_p_value_is_below_one_over_rounds_plus_one() -> None:
    gold = [["a"]] * 200
    result = metrics.permutation_test(gold, ["a"] * 200, ["b"] * 200, ["a", "b"], "macro_f1", n_rounds=99)
    assert result.p_value == pytest.approx(1 / 100)
    chance = metrics.chance_test(gold, ["a"] * 200, ["a", "b"], "macro_f1", n_rounds=99)
    assert chance.p_value == 1.0, "a constant system never beats chance"


# --- predictions files --------------------------------------------------------------------------------

def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".csv":
        pl.DataFrame(rows).write_csv(path)
    elif path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pl.DataFrame(rows).write_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_every_prediction_format_scores_the_same(tmp_path: Path, suffix: str, synthetic: Release) -> None:
    task = tasks.get("manifestation")
    rows = [{"issue_id": i, "label": "Basic defects", "score": 0.5}
            for i in tasks.items(task, synthetic, "holdout")["issue_id"]]
    result = evaluate.evaluate_file(_write(tmp_path / f"p{suffix}", rows), task, synthetic, "holdout", n_resamples=50)
    assert result.n == len(rows) and result.scores["kappa"] == 0.0
    reordered = _write(tmp_path / f"r{suffix}", rows[::-1])
    assert result.predictions_sha256 == read_predictions(reordered).digest, "the digest ignores row order"


def test_bad_predictions_are_refused_with_every_reason(tmp_path: Path, synthetic: Release) -> None:
    task = tasks.get("stage")
    ids = tasks.items(task, synthetic, "holdout")["issue_id"].to_list()
    rows = [{"issue_id": ids[0], "label": "Deployment"}, {"issue_id": ids[1], "label": "Training"},
            {"issue_id": ids[1], "label": "Training"}, {"issue_id": "nobody/nothing#1", "label": "Training"}]
    with pytest.raises(evaluate.PredictionError) as caught:
        evaluate.evaluate_file(_write(tmp_path / "p.csv", rows), task, synthetic, "holdout")
    text = str(caught.value)
    assert "'Deployment'" in text and "allowed: Environment" in text
    assert f"predicted more than once: {ids[1]}" in text
    assert "nobody/nothing#1" in text
    assert "have no prediction" in text and "--allow-missing" in text


def test_allow_missing_scores_the_unpredicted_issues_as_wrong(tmp_path: Path, synthetic: Release) -> None:
    task = tasks.get("screening")
    scored = tasks.items(task, synthetic, "holdout")
    rows = [{"issue_id": i, "label": p} for i, p in zip(scored["issue_id"][:10], scored["primary"][:10], strict=True)]
    result = evaluate.evaluate_file(_write(tmp_path / "p.csv", rows), task, synthetic, "holdout", allow_missing=True,
                               n_resamples=0)
    assert result.n == scored.height and result.n_missing == scored.height - 10
    assert result.scores["accuracy"] == pytest.approx(10 / scored.height)


def test_evaluate_refusal_is_one_line_on_the_command_line(synthetic_release: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "p.csv", [{"issue_id": "x", "label": "y"}])
    result = cli("evaluate", str(path), "--task", "stage", "--release", str(synthetic_release))
    assert result.returncode == 2 and result.stderr.startswith("error: p.csv refused")
    assert "Traceback" not in result.stderr


def test_compare_finds_no_difference_between_identical_files_and_one_between_good_and_bad(
        tmp_path: Path, synthetic: Release) -> None:
    task = tasks.get("screening")
    scored = tasks.items(task, synthetic, "holdout")
    pairs = scored.select("issue_id", "primary").rows()
    good = _write(tmp_path / "good.csv", [{"issue_id": i, "label": p} for i, p in pairs])
    bad = _write(tmp_path / "bad.csv", [{"issue_id": i, "label": "not reengineering"} for i in scored["issue_id"]])
    good, bad = read_predictions(good), read_predictions(bad)
    same = evaluate.compare(good, good, task, synthetic, "holdout", metric="accuracy")
    assert same.difference == 0 and same.p_value == 1.0
    diff = evaluate.compare(good, bad, task, synthetic, "holdout", metric="accuracy", n_rounds=999)
    assert diff.difference > 0.5 and diff.p_value == pytest.approx(1 / 1000) and "permutation" in diff.test


# --- baselines ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["majority", "stratified", "metadata"])
def test_baselines_are_reproducible_and_cover_the_test_side(name: str, synthetic: Release) -> None:
    task = tasks.get("root_cause")
    one = baselines.run(name, task, synthetic, "holdout")
    assert_frame_equal(one, baselines.run(name, task, Release(synthetic.folder), "holdout"))  # another object
    assert sorted(one["issue_id"]) == sorted(tasks.items(task, synthetic, "holdout")["issue_id"])
    assert set(one["label"]) <= set(task.labels)


def test_a_kept_run_is_handed_out_as_a_new_frame_each_time(synthetic: Release) -> None:
    task = tasks.get("stage")
    first = baselines.run("metadata", task, synthetic, "fold")
    first.columns = ["id", "guess"]  # a notebook user renaming in place
    again = baselines.run("metadata", task, synthetic, "fold")
    assert again.columns == ["issue_id", "label"] and again["issue_id"].to_list() == first["id"].to_list()


def test_fold_baselines_predict_every_issue_out_of_fold(synthetic: Release) -> None:
    predictions = baselines.run("metadata", tasks.get("screening"), synthetic, "fold")
    assert predictions.height == synthetic.frame("issues").height and predictions["issue_id"].is_unique().all()


def test_text_baselines_refuse_a_release_without_texts(synthetic: Release) -> None:
    with pytest.raises(tasks.TaskError, match="no issue texts"):
        baselines.run("tfidf", tasks.get("stage"), synthetic, "holdout")


def _register(monkeypatch, name: str, predictor) -> None:
    registry: Registry[baselines.Baseline] = Registry("baseline")
    registry.register(baselines.Baseline(name, predictor))
    monkeypatch.setattr(baselines, "BASELINES", registry)


def test_a_baseline_that_reads_an_undeclared_column_fails(synthetic: Release, monkeypatch) -> None:
    def peeks(view, *, seed, memo):  # the annotators' same-code answer defines the reporter type
        return [row["same_code"] for row in view.test]

    _register(monkeypatch, "peek", peeks)
    with pytest.raises(baselines.BaselineError, match="reads 'same_code', which task reporter@v3 does not declare"):
        baselines.run("peek", tasks.get("reporter"), synthetic, "holdout")


@pytest.mark.parametrize("field", ["primary", "gold", "stratum", "label", "labels", "fold", "holdout", "root_cause"])
@pytest.mark.parametrize("split", ["fold", "holdout"])
def test_a_baseline_that_reads_the_gold_of_the_items_it_predicts_fails(synthetic: Release, monkeypatch, field: str,
                                                                       split: str) -> None:
    def peeks(view, *, seed, memo):  # the review's probe: return each test row's own gold
        return [row[field] for row in view.test]

    _register(monkeypatch, "peek", peeks)
    with pytest.raises(baselines.BaselineError, match=f"reads '{field}'"):
        baselines.run("peek", tasks.get("root_cause"), synthetic, split)


def test_nothing_a_system_is_handed_holds_a_label_of_the_items_it_predicts(synthetic: Release, monkeypatch) -> None:
    task = tasks.get("root_cause")
    gold = dict(zip(*tasks.items(task, synthetic, "all").select("issue_id", "primary").to_dict().values(),
                    strict=True))
    seen: list = []

    def probe(view, *, seed, memo):
        assert {n for n in dir(view) if not n.startswith("_")} == {"task", "track", "train", "labels", "test",
                                                                    "test_ids"}
        assert not hasattr(view.task, "release") and not hasattr(view.task, "frame")
        test_ids = set(view.test_ids)
        assert not test_ids & {row["issue_id"] for row in view.train}, "a predicted item is never a train row"
        assert len(view.labels) == len(view.train)
        for row in view.test:
            assert set(row) == {"issue_id", *task.inputs}, "declared inputs only"
            with pytest.raises(TypeError):
                row["primary"] = "x"  # read-only
        assert all(not isinstance(v, (list, tuple, dict)) or not test_ids & set(map(str, v)) for v in memo.values())
        seen.append(len(view.test))
        return [view.labels[0]] * len(view.test)

    _register(monkeypatch, "probe", probe)
    predictions = baselines.run("probe", task, synthetic, "fold")
    assert len(seen) == 5 and sum(seen) == predictions.height == len(gold)


def test_a_subset_of_issues_can_be_scored_on_its_own(synthetic_release: Path, tmp_path: Path,
                                                     synthetic: Release) -> None:
    task = tasks.get("impact")
    scored = tasks.items(task, synthetic, "holdout")
    path = _write(tmp_path / "p.csv", [{"issue_id": i, "label": "Crash"} for i in scored["issue_id"]])
    keep = tmp_path / "subset.txt"
    keep.write_text("\n".join(scored["issue_id"][:10]))
    result = cli("evaluate", str(path), "--task", "impact", "--release", str(synthetic_release), "--subset", str(keep),
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n"] == 10
    keep.write_text("nobody/nothing#1")
    refused = cli("evaluate", str(path), "--task", "impact", "--release", str(synthetic_release), "--subset", str(keep))
    assert refused.returncode == 2 and "nobody/nothing#1" in refused.stderr
