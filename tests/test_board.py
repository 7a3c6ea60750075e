"""Protocol v2 and a board that cannot be gamed: one label per issue, declared label spaces and inputs, a
human ceiling on linked items, ranks that respect uncertainty, and a board that scores what it ranks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cvreeng_bench import taxonomy
from cvreeng_bench.api import open_release
from cvreeng_bench.bench import board_view, ceiling, leaderboard, shipped, tasks
from cvreeng_bench.bench.evaluate import PredictionError, evaluate
from cvreeng_bench.release import Release
from tests.conftest import cli


@pytest.fixture(scope="module")
def fresh_board(opened: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped board as `leaderboard regenerate` writes it for this release (current even after an
    erratum bumped the dataset version and left the shipped file to be regenerated)."""
    board = tmp_path_factory.mktemp("board") / "leaderboard.jsonl"
    shipped.regenerate(opened, board)
    return board


def _write(path: Path, rows: list[dict]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    else:
        pl.DataFrame(rows).write_csv(path)
    return path


def _informative(task: tasks.Task, opened: Release, right: float, seed: int = 0) -> list[dict]:
    """Predictions that are right on about ``right`` of the issues and a random label elsewhere."""
    rng = np.random.default_rng(seed)
    scored = tasks.items(task, opened, "holdout")
    return [{"issue_id": i, "label": p if rng.random() < right else task.labels[rng.integers(len(task.labels))]}
            for i, p in zip(scored["issue_id"], scored["primary"], strict=True)]


# --- tasks and protocol -----------------------------------------------------------------------------------

def test_tasks_json_lists_labels_inputs_tracks_and_no_annotator_made_input() -> None:
    result = cli("tasks", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = {t["name"]: t for t in json.loads(result.stdout)}
    assert set(listed) >= {"screening", *taxonomy.CLASSIFIED}
    for name, task in listed.items():
        assert task["version"] == 2 and task["main_score"] and task["population"]
        assert set(task) >= {"labels", "merged", "inputs", "tracks", "main_score", "population"}
        assert not set(task["inputs"]) & tasks.ANNOTATOR_MADE, name
        assert {"same_code", "same_data", "project_type", "framework"}.isdisjoint(task["inputs"]), name
    assert "github_labels" not in listed["screening"]["inputs"]
    assert listed["defect_type"]["labels"][-1] == tasks.RARE
    assert listed["stage"]["tracks"]["triage"] == ["title", "body"]
    assert listed["stage"]["tracks"]["full-thread"] == ["title", "body", "comments"]


def test_the_declared_merges_are_exactly_the_labels_with_fewer_than_five_issues(opened: Release) -> None:
    defects = opened.frame("defects").filter(~pl.col("withdrawn"))
    for task in tasks.REGISTRY.latest():
        if task.dimension == "is_reengineering":
            continue
        issues = Counter(label for _, label in set(defects.select("issue_id", task.dimension).rows()))
        rare = {label for label in taxonomy.labels(task.dimension) if issues[label] < tasks.RARE_THRESHOLD
                and label != tasks.RARE}
        assert rare == set(task.merged) | set(task.kept), task.name
        gold = tasks.items(task, opened, "all")
        assert {label for row in gold["gold"] for label in row} <= set(task.labels), task.name


def test_every_label_for_every_issue_is_refused_by_evaluate_and_by_leaderboard_add(
        release: Path, opened: Release, tmp_path: Path) -> None:
    task = tasks.get("stage")
    ids = tasks.items(task, opened, "holdout")["issue_id"].to_list()
    every = _write(tmp_path / "every.csv", [{"issue_id": i, "label": ";".join(task.labels)} for i in ids])
    with pytest.raises(PredictionError, match="exactly one label per issue"):
        evaluate(every, task, opened)
    sets = _write(tmp_path / "sets.jsonl", [{"issue_id": i, "labels": list(task.labels)} for i in ids])
    with pytest.raises(PredictionError, match="exactly one label per issue"):
        evaluate(sets, task, opened)
    board = tmp_path / "board.jsonl"
    added = cli("leaderboard", "add", str(every), "--task", "stage", "--name", "everything", "--board", str(board),
                "--release", str(release))
    assert added.returncode == 2 and "exactly one label per issue" in added.stderr
    assert not board.exists() and not (tmp_path / "submissions").exists(), "nothing written"


def test_no_trivial_submission_beats_an_informative_one(opened: Release, tmp_path: Path) -> None:
    for name in ("stage", "root_cause", "screening"):
        task = tasks.get(name)
        ids = tasks.items(task, opened, "holdout")["issue_id"].to_list()
        good = evaluate(_write(tmp_path / f"{name}-good.csv", _informative(task, opened, 0.6)), task, opened)
        rng = np.random.default_rng(1)
        trivial = [[{"issue_id": i, "label": label} for i in ids] for label in task.labels]
        trivial.append([{"issue_id": i, "label": task.labels[rng.integers(len(task.labels))]} for i in ids])
        for n, rows in enumerate(trivial):
            other = evaluate(_write(tmp_path / f"{name}-{n}.csv", rows), task, opened)
            assert other.score < good.score, (name, rows[0]["label"], other.score, good.score)


# --- the human ceiling ---------------------------------------------------------------------------------------

def test_workbook_items_are_linked_to_issues_without_guessing(opened: Release) -> None:
    notes = opened.frame("annotations")
    final = notes.filter((pl.col("phase") == "final") & (pl.col("rater") == 1))
    linked = final.filter(pl.col("issue_id").is_not_null())
    assert 110 <= linked.height <= 135
    assert linked.filter(pl.col("link_ambiguous")).height == 0, "an ambiguous item is never linked"
    issues = opened.frame("issues").select("issue_id", "issue_number")
    joined = linked.join(issues, on="issue_id", suffix="_issue")
    assert (joined["issue_number"] == joined["issue_number_issue"]).all()
    assert set(final["link_method"]) <= {"issue number", "issue number + framework/same code/same data",
                                         "ambiguous", "no candidate", "raters name different issues"}


def test_the_ceiling_scores_raters_against_gold_on_linked_items_in_the_task_label_space(opened: Release) -> None:
    result = ceiling.ceiling(opened, n_resamples=50)
    rows = {(r["task"], r["phase"]): r for r in result["per_task"]}
    final = rows[("manifestation@v2", "final")]
    assert final["n"] >= 110 and final["gold_follows_rater_2"] == 1.0, "the released gold follows rater 2"
    assert final["rater_1_vs_gold"]["scores"]["accuracy"] < 1.0
    stage = rows[("stage@v2", "final")]
    assert "never uses 'Environment'" in stage["instrument_flag"]
    assert stage["rater_1_vs_gold"]["outside_label_space"] >= 0
    assert [r["paper_kappa"] for r in result["pooled"]] == [0.46, 0.79, 0.70]
    assert result["pooled_note"].startswith("no single pooling rule")


def test_the_ceiling_on_test_items_is_a_reference_line_on_the_board(opened: Release, fresh_board: Path) -> None:
    found = ceiling.task_ceiling(opened, tasks.get("impact"), "final", split="holdout", n_resamples=0)
    test_ids = set(tasks.items(tasks.get("impact"), opened, "holdout")["issue_id"])
    assert 0 < found["n"] <= len(test_ids)
    board = leaderboard.read(fresh_board)
    humans = [r for r in board if r["kind"] == "human" and r["task"] == "impact"]
    assert len(humans) == 1 and humans[0]["n"] == found["n"]
    text = board_view.show(board, opened, fresh_board, "impact")
    assert "ref" in text and "human ceiling" in text


# --- the board ------------------------------------------------------------------------------------------------

def test_the_shipped_board_reproduces_from_the_baselines_and_ceiling(opened: Release, fresh_board: Path) -> None:
    board = leaderboard.read(leaderboard.SHIPPED)
    assert opened.frame("leaderboard").height == len(board)
    if any(r["dataset_version"] != opened.dataset_version for r in board):  # an erratum since the last regenerate
        assert leaderboard.ranked(board, opened, leaderboard.SHIPPED) == [], "stale numbers are never ranked"
        return
    again = leaderboard.read(fresh_board)
    key = ("name", "task", "task_version", "split", "kind", "score", "score_sd", "predictions_sha256", "n")
    assert [tuple(r[k] for k in key) for r in again] == [tuple(r[k] for k in key) for r in board]
    for row in board:
        if row["kind"] == "baseline":
            assert leaderboard.stored(leaderboard.SHIPPED, row) is not None, "a ranked entry's predictions ship"
        assert row["kind"] != "trivial" or row["name"] != "baseline: stratified" or row["seeds"] == shipped.SEEDS


def test_add_scores_the_predictions_itself_and_an_edited_result_is_refused(
        release: Path, opened: Release, tmp_path: Path) -> None:
    task = tasks.get("impact")
    preds = _write(tmp_path / "p.csv", _informative(task, opened, 0.7))
    out = tmp_path / "result.json"
    assert cli("evaluate", str(preds), "--task", "impact", "--release", str(release), "--out", str(out)).returncode == 0
    edited = json.loads(out.read_text())
    edited["scores"]["macro_f1"] = 0.99
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    board = tmp_path / "board" / "board.jsonl"
    refused = cli("leaderboard", "add", str(tmp_path / "edited.json"), "--predictions", str(preds), "--name", "x",
                  "--board", str(board), "--release", str(release))
    assert refused.returncode == 2 and "does not match its predictions" in refused.stderr
    assert not board.exists()
    without = cli("leaderboard", "add", str(out), "--name", "x", "--board", str(board), "--release", str(release))
    assert without.returncode == 2 and "--predictions" in without.stderr
    added = cli("leaderboard", "add", str(out), "--predictions", str(preds), "--name", "mine", "--url",
                "https://example.org", "--model-cutoff", "2024-06-01", "--board", str(board), "--release", str(release))
    assert added.returncode == 0, added.stderr
    assert "contamination risk" in added.stdout and "2023-08-25" in added.stdout
    row = next(r for r in leaderboard.read(board) if r["name"] == "mine")
    assert row["score"] == pytest.approx(json.loads(out.read_text())["scores"]["macro_f1"])
    assert (board.parent / "submissions" / f"{row['predictions_sha256']}.csv").read_bytes() == preds.read_bytes()
    early = cli("leaderboard", "add", str(preds), "--task", "impact", "--name", "old model", "--model-cutoff",
                "2021-01-01", "--board", str(board), "--release", str(release))
    assert early.returncode == 0 and "contamination" not in early.stdout


def test_names_and_urls_cannot_inject_markup(release: Path, opened: Release, tmp_path: Path) -> None:
    task = tasks.get("stage")
    preds = _write(tmp_path / "p.csv", _informative(task, opened, 0.5))
    board = tmp_path / "board.jsonl"
    bad_url = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "x", "--url", "javascript:alert(1)",
                  "--board", str(board), "--release", str(release))
    assert bad_url.returncode == 2 and "http(s)" in bad_url.stderr and not board.exists()
    piped = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "a | b\n| forged |", "--board",
                str(board), "--release", str(release))
    assert piped.returncode == 2 and not board.exists()
    name = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    added = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", name, "--board", str(board),
                "--release", str(release))
    assert added.returncode == 0, added.stderr
    rendered = cli("leaderboard", "render", "--board", str(board), "--out", str(tmp_path / "site"), "--release",
                   str(release))
    assert rendered.returncode == 0, rendered.stderr
    page = (tmp_path / "site" / "leaderboard.html").read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_show_refuses_an_unknown_task_and_skips_a_malformed_line_with_its_number(
        release: Path, tmp_path: Path, fresh_board: Path) -> None:
    import shutil

    assert cli("leaderboard", "show", "--task", "nosuch", "--release", str(release)).returncode == 2
    board = tmp_path / "board.jsonl"
    shutil.copytree(fresh_board.parent / "submissions", tmp_path / "submissions")
    good = fresh_board.read_text().splitlines()
    board.write_text("\n".join([good[0], "[1, 2]", '{"name": "x", "score": "high"}', "not json", *good[1:]]) + "\n")
    shown = cli("leaderboard", "show", "--board", str(board), "--format", "json", "--release", str(release))
    assert shown.returncode == 0, shown.stderr
    assert all(f"line {n}" in shown.stderr for n in (2, 3, 4))
    assert len(json.loads(shown.stdout)["current"]) == len(good)
    markdown = cli("leaderboard", "show", "--format", "markdown", "--board", str(fresh_board), "--release",
                   str(release))
    before = board.read_bytes()
    preds = _write(tmp_path / "p.csv", _informative(tasks.get("stage"), open_release(release), 0.5))
    refused = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "x", "--board", str(board),
                  "--release", str(release))
    assert refused.returncode == 2 and "cannot be read" in refused.stderr and "line 2" in refused.stderr
    assert board.read_bytes() == before, "a board with unreadable lines is never rewritten"
    assert markdown.stdout.count("| rank |") == len(tasks.REGISTRY.latest())


def test_systems_the_bootstrap_cannot_separate_share_a_rank(opened: Release, tmp_path: Path) -> None:
    task = tasks.get("manifestation")
    board = tmp_path / "board.jsonl"
    rows = _informative(task, opened, 0.6, seed=3)
    twin = [dict(r) for r in rows]
    twin[0]["label"] = next(label for label in task.labels if label != rows[0]["label"])
    strong = _informative(task, opened, 0.95, seed=4)
    for name, data in (("first", rows), ("twin", twin), ("strong", strong)):
        path = _write(tmp_path / f"{name}.csv", data)
        leaderboard.add(board, path, evaluate(path, task, opened), name=name)
    ranks = {r["name"]: r["rank"] for r in leaderboard.ranked(leaderboard.read(board), opened, board)
             if r["task"] == "manifestation" and r["kind"] == "submission"}
    assert ranks["strong"] == "1"
    assert ranks["first"] == ranks["twin"] != "1"
