"""The classifier benchmark: tasks, splits, scoring, refusals, baselines, human ceiling, leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

import cvreeng_bench
from cvreeng_bench.bench import baselines, ceiling, evaluate, leaderboard, leaks, metrics, shipped, tasks
from cvreeng_bench.bench.splits import make_splits
from cvreeng_bench.layout import DATASET_VERSION
from cvreeng_bench.release import Release
from tests.conftest import cli

# --- tasks --------------------------------------------------------------------------------------------

def test_the_registry_refuses_a_duplicate_or_older_version() -> None:
    registry = tasks.Registry()
    registry.register(tasks.Task("t", "stage", ("a",), "first", version=2))
    with pytest.raises(tasks.TaskError, match="already registered"):
        registry.register(tasks.Task("t", "stage", ("a", "b"), "changed in place", version=2))
    with pytest.raises(tasks.TaskError, match="older"):
        registry.register(tasks.Task("t", "stage", ("a",), "older", version=1))
    registry.register(tasks.Task("t", "stage", ("a", "b"), "changed", version=3))
    assert registry.get("t").version == 3 and registry.get("t@v2").description == "first"


def test_there_is_a_screening_task_and_one_task_per_label_dimension() -> None:
    names = {t.name for t in tasks.REGISTRY.latest()}
    assert names == {"screening", "stage", "defect_type", "impact", "root_cause", "manifestation", "reporter"}
    with pytest.raises(tasks.TaskError, match="unknown task 'severity'"):
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
    assert set(report["splits"]) == {"holdout", "repo_holdout", "temporal", *(f"fold{i}" for i in range(5))}
    for name, entry in report["splits"].items():
        assert entry["issues_on_both_sides"] == [] and entry["defects_on_both_sides"] == [], name
        assert entry["train"] + entry["test"] == 427
    splits = cvreeng_bench.load("splits", release)
    repos = cvreeng_bench.load("issues", release).join(splits, on="issue_id")
    held = repos.group_by("repo").agg(pl.col("repo_holdout").n_unique().alias("sides"))
    assert held["sides"].max() == 1, "a repository must sit wholly on one side"
    late = repos.filter(pl.col("temporal") == "test")["issue_created_at"].min()
    early = repos.filter(pl.col("temporal") == "train")["issue_created_at"].max()
    assert early < late


def test_regenerating_the_splits_gives_the_same_assignment(release: Path) -> None:
    shipped = cvreeng_bench.load("splits", release)
    again = make_splits(cvreeng_bench.load("issues", release), cvreeng_bench.load("defects", release))
    assert_frame_equal(again, shipped)
    other_seed = make_splits(cvreeng_bench.load("issues", release), cvreeng_bench.load("defects", release), seed=7)
    with pytest.raises(AssertionError):
        assert_series_equal(other_seed["holdout"], shipped["holdout"])


def test_the_holdout_and_folds_are_stratified(release: Path) -> None:
    splits = cvreeng_bench.load("splits", release)
    per_stratum = splits.group_by("stratum").agg(pl.len().alias("n"), (pl.col("holdout") == "test").sum().alias("test"))
    for n, test in per_stratum.select("n", "test").rows():
        assert abs(test - n / 5) <= 1
    sizes = splits["fold"].value_counts()["count"]
    assert sizes.max() - sizes.min() <= 1


def test_the_leak_report_finds_identical_and_near_identical_texts() -> None:
    splits = pl.DataFrame({"issue_id": ["a", "b", "c", "d"], "holdout": ["train", "test", "train", "test"],
                           "repo_holdout": ["train"] * 4, "temporal": ["train"] * 4, "fold": [0, 1, 2, 3]})
    defects = pl.DataFrame({"defect_id": ["a/1"], "issue_id": ["a"]})
    base = "the loss becomes nan after a few hundred steps when training on my own dataset with two gpus"
    texts = pl.DataFrame({"issue_id": ["a", "b", "c", "d"],
                          "text": [base, base.upper(), base + " please help", "unrelated crash on import of cv2"]})
    report = leaks.report(splits, defects, texts)["splits"]["holdout"]
    assert report["identical_texts"] == [["b", "a"]]
    assert report["near_identical_texts"] == [["b", "c"]]


# --- scoring ------------------------------------------------------------------------------------------

def test_scores_equal_scikit_learn_on_single_label_predictions() -> None:
    from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, precision_recall_fscore_support

    rng = np.random.default_rng(3)
    labels = ["a", "b", "c", "d", "e"]
    gold = [labels[i] for i in rng.integers(0, 5, 400)]
    pred = [g if rng.random() < 0.55 else labels[rng.integers(0, 5)] for g in gold]
    result = metrics.score([[g] for g in gold], [[p] for p in pred], labels, n_resamples=0)
    assert result.point["accuracy"] == pytest.approx(accuracy_score(gold, pred))
    assert result.point["macro_f1"] == pytest.approx(f1_score(gold, pred, average="macro"))
    assert result.point["kappa"] == pytest.approx(cohen_kappa_score(gold, pred))
    _, _, f1, support = precision_recall_fscore_support(gold, pred, labels=labels)
    assert [r["f1"] for r in result.per_label] == pytest.approx(list(f1))
    assert [r["support"] for r in result.per_label] == list(support)


def test_the_bootstrap_interval_is_seeded_and_brackets_the_point() -> None:
    gold = [["a"], ["b"], ["a"], ["c"], ["b"], ["a"]] * 30
    pred = [["a"], ["b"], ["b"], ["c"], ["a"], ["a"]] * 30
    one = metrics.score(gold, pred, ["a", "b", "c"], seed=5)
    two = metrics.score(gold, pred, ["a", "b", "c"], seed=5)
    three = metrics.score(gold, pred, ["a", "b", "c"], seed=6)
    assert one.interval == two.interval != three.interval
    for metric in metrics.METRICS:
        low, high = one.interval[metric]
        assert low <= one.point[metric] <= high and high - low > 0


def test_a_prediction_is_right_when_it_names_any_gold_label_of_the_issue() -> None:
    result = metrics.score([["Environment", "Training"], ["Modeling"]], [["Training"], ["Modeling"]],
                           ["Environment", "Modeling", "Training"], n_resamples=0)
    assert result.point["accuracy"] == 1.0
    assert result.mode == "single"


def test_label_set_predictions_are_scored_by_exact_match_and_per_label() -> None:
    result = metrics.score([["a", "b"], ["a"], ["c"]], [["a", "b"], ["a", "c"], ["c"]], ["a", "b", "c"],
                           n_resamples=0)
    assert result.mode == "multi"
    assert result.point["accuracy"] == pytest.approx(2 / 3)
    per = {r["label"]: r for r in result.per_label}
    assert per["c"]["precision"] == pytest.approx(0.5) and per["c"]["recall"] == 1.0


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
def test_every_prediction_format_scores_the_same(tmp_path: Path, suffix: str, opened: Release) -> None:
    task = tasks.get("manifestation")
    rows = [{"issue_id": i, "label": "Basic defects", "score": 0.5}
            for i in tasks.items(task, opened, "holdout")["issue_id"]]
    result = evaluate.evaluate(_write(tmp_path / f"p{suffix}", rows), task, opened, "holdout", n_resamples=50)
    assert result.n == len(rows) and result.scores["kappa"] == 0.0
    assert result.predictions_sha256 == evaluate.sha256_file(tmp_path / f"p{suffix}")


def test_bad_predictions_are_refused_with_every_reason(tmp_path: Path, opened: Release) -> None:
    task = tasks.get("stage")
    ids = tasks.items(task, opened, "holdout")["issue_id"].to_list()
    rows = [{"issue_id": ids[0], "label": "Deployment"}, {"issue_id": ids[1], "label": "Training"},
            {"issue_id": ids[1], "label": "Training"}, {"issue_id": "nobody/nothing#1", "label": "Training"}]
    with pytest.raises(evaluate.PredictionError) as caught:
        evaluate.evaluate(_write(tmp_path / "p.csv", rows), task, opened, "holdout")
    text = str(caught.value)
    assert "'Deployment'" in text and "allowed: Environment" in text
    assert f"predicted more than once: {ids[1]}" in text
    assert "nobody/nothing#1" in text
    assert "have no prediction" in text and "--allow-missing" in text


def test_allow_missing_scores_the_unpredicted_issues_as_wrong(tmp_path: Path, opened: Release) -> None:
    task = tasks.get("screening")
    scored = tasks.items(task, opened, "holdout")
    rows = [{"issue_id": i, "label": p} for i, p in zip(scored["issue_id"][:40], scored["primary"][:40], strict=True)]
    result = evaluate.evaluate(_write(tmp_path / "p.csv", rows), task, opened, "holdout", allow_missing=True,
                               n_resamples=0)
    assert result.n == scored.height and result.n_missing == scored.height - 40
    assert result.scores["accuracy"] == pytest.approx(40 / scored.height)


def test_evaluate_refusal_is_one_line_on_the_command_line(release: Path, tmp_path: Path) -> None:
    path = _write(tmp_path / "p.csv", [{"issue_id": "x", "label": "y"}])
    result = cli("evaluate", str(path), "--task", "stage", "--release", str(release))
    assert result.returncode == 2 and result.stderr.startswith("error: p.csv refused")
    assert "Traceback" not in result.stderr


def test_compare_finds_no_difference_between_identical_files_and_one_between_good_and_bad(
        tmp_path: Path, opened: Release) -> None:
    task = tasks.get("screening")
    scored = tasks.items(task, opened, "holdout")
    pairs = scored.select("issue_id", "primary").rows()
    good = _write(tmp_path / "good.csv", [{"issue_id": i, "label": p} for i, p in pairs])
    bad = _write(tmp_path / "bad.csv", [{"issue_id": i, "label": "not reengineering"} for i in scored["issue_id"]])
    same = evaluate.compare(good, good, task, opened, "holdout", metric="accuracy")
    assert same.difference == 0 and same.p_value == 1.0
    diff = evaluate.compare(good, bad, task, opened, "holdout", metric="accuracy")
    assert diff.difference > 0.5 and diff.p_value < 0.01 and diff.ci95[0] > 0


# --- baselines ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["majority", "stratified", "metadata"])
def test_baselines_are_reproducible_and_cover_the_test_side(name: str, opened: Release) -> None:
    task = tasks.get("root_cause")
    one = baselines.run(name, task, opened, "holdout")
    assert_frame_equal(one, baselines.run(name, task, opened, "holdout"))
    assert sorted(one["issue_id"]) == sorted(tasks.items(task, opened, "holdout")["issue_id"])
    assert set(one["label"]) <= set(task.labels)


def test_fold_baselines_predict_every_issue_out_of_fold(opened: Release) -> None:
    predictions = baselines.run("metadata", tasks.get("screening"), opened, "fold")
    assert predictions.height == 427 and predictions["issue_id"].is_unique().all()


def test_text_baselines_refuse_a_release_without_texts(opened: Release) -> None:
    with pytest.raises(baselines.BaselineError, match="no issue texts"):
        baselines.run("tfidf", tasks.get("stage"), opened, "holdout")


# --- human ceiling ------------------------------------------------------------------------------------

def test_the_ceiling_scores_each_phase_and_dimension_and_sets_the_papers_kappa_beside_it(opened: Release) -> None:
    result = ceiling.ceiling(opened, n_resamples=50)
    assert {(r["phase"], r["dimension"]) for r in result["per_dimension"]} == {
        (p, d) for p in ceiling.PHASES for d in ceiling.TASK_DIMENSIONS}
    pooled = {r["phase"]: r for r in result["pooled"]}
    assert [pooled[p]["paper_kappa"] for p in ceiling.PHASES] == [0.46, 0.79, 0.70]
    for row in pooled.values():  # normalizing spellings can only remove disagreements
        assert row["kappa_raw"] < row["kappa_normalized"] <= row["kappa_canonical"] + 1e-9
    # the revised instrument agreed best, as the paper reports
    assert pooled["pilot-revised"]["kappa_canonical"] > pooled["final"]["kappa_canonical"]


def test_the_ceiling_uses_the_classifier_scorer_and_is_symmetric(release: Path) -> None:
    notes = cvreeng_bench.load("annotations", release)
    a, b = ceiling.pairs(notes, "pilot-revised", "impact")
    forward, backward = ceiling.agreement(a, b, n_resamples=0), ceiling.agreement(b, a, n_resamples=0)
    assert forward["scores"] == pytest.approx(backward["scores"])


# --- leaderboard --------------------------------------------------------------------------------------

def test_the_shipped_board_reproduces_from_the_baselines_and_ceiling(opened: Release) -> None:
    board = leaderboard.read(leaderboard.SHIPPED)
    again = shipped.entries(opened)
    assert [(r["name"], r["task"], r["score"], r["predictions_sha256"]) for r in again] == [
        (r["name"], r["task"], r["score"], r["predictions_sha256"]) for r in board]
    assert opened.frame("leaderboard").height == len(board)


def test_an_entry_records_everything_needed_to_rescore_it(release: Path, opened: Release, tmp_path: Path) -> None:
    baselines.run("majority", tasks.get("impact"), opened, "holdout").write_csv(tmp_path / "p.csv")
    out = tmp_path / "result.json"
    assert cli("evaluate", str(tmp_path / "p.csv"), "--task", "impact", "--release", str(release), "--out",
               str(out)).returncode == 0
    board = tmp_path / "board.jsonl"
    added = cli("leaderboard", "add", str(out), "--name", "llm", "--url", "https://example.org", "--model-cutoff",
                "2024-06-01", "--board", str(board))
    assert added.returncode == 0, added.stderr
    assert "contamination risk" in added.stdout
    row = leaderboard.read(board)[-1]
    for field in ("task", "task_version", "split", "dataset_version", "content_sha256", "package_version", "date",
                  "predictions_sha256"):
        assert row[field] not in (None, ""), field
    again = cli("leaderboard", "add", str(out), "--name", "llm", "--board", str(board))
    assert again.returncode == 2 and "already on the board" in again.stderr


def test_entries_for_an_older_task_version_are_shown_apart() -> None:
    rows = leaderboard.read(leaderboard.SHIPPED)
    old = dict(rows[0], name="legacy system", task_version=0)
    text = leaderboard.show([*rows, old], DATASET_VERSION)
    ranked, _, older = text.partition("Older task or dataset versions")
    assert "legacy system" not in ranked and "legacy system" in older


def test_render_writes_markdown_and_a_chart_page(tmp_path: Path) -> None:
    paths = leaderboard.render(leaderboard.read(leaderboard.SHIPPED), DATASET_VERSION, tmp_path)
    assert (tmp_path / "leaderboard.md").read_text().count("### ") >= 7
    assert "<svg" in (tmp_path / "leaderboard.html").read_text()
    assert len(paths) == 2


def test_a_subset_of_issues_can_be_scored_on_its_own(release: Path, tmp_path: Path, opened: Release) -> None:
    task = tasks.get("impact")
    scored = tasks.items(task, opened, "holdout")
    path = _write(tmp_path / "p.csv", [{"issue_id": i, "label": "Crash"} for i in scored["issue_id"]])
    keep = tmp_path / "subset.txt"
    keep.write_text("\n".join(scored["issue_id"][:10]))
    result = cli("evaluate", str(path), "--task", "impact", "--release", str(release), "--subset", str(keep),
                 "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["n"] == 10
    keep.write_text("nobody/nothing#1")
    refused = cli("evaluate", str(path), "--task", "impact", "--release", str(release), "--subset", str(keep))
    assert refused.returncode == 2 and "nobody/nothing#1" in refused.stderr
