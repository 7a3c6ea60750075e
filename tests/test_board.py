"""Protocol v2 and a board that cannot be gamed: one label per issue, declared label spaces and inputs, a
human ceiling on linked items, ranks that respect uncertainty, and a board that scores what it ranks."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cvreeng_bench import shipped, taxonomy
from cvreeng_bench.api import open_release
from cvreeng_bench.board import leaderboard
from cvreeng_bench.board import view as board_view
from cvreeng_bench.board.entries import LeaderboardError
from cvreeng_bench.release import Release
from cvreeng_bench.scoring import agreement as ceiling
from cvreeng_bench.scoring import tasks
from cvreeng_bench.scoring.evaluate import PredictionError
from cvreeng_bench.scoring.evaluate import evaluate_file as evaluate
from tests.conftest import board_of_baselines, cli, copy_board, ranked_row


@pytest.fixture(scope="module")
def fresh_board(synthetic: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The board as `leaderboard regenerate` writes it for the synthetic release (its own submissions/)."""
    board = tmp_path_factory.mktemp("board") / "leaderboard.jsonl"
    shipped.regenerate(synthetic, board, fold_seeds=False)  # test_protocol_v4 checks the fold-seed scores
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
    scored = tasks.items(task, opened)
    return [{"issue_id": i, "label": p if rng.random() < right else task.labels[rng.integers(len(task.labels))]}
            for i, p in zip(scored["issue_id"], scored["primary"], strict=True)]


# --- tasks and protocol -----------------------------------------------------------------------------------

def test_tasks_json_lists_labels_inputs_tracks_and_no_annotator_made_input() -> None:
    result = cli("tasks", "--format", "json")
    assert result.returncode == 0, result.stderr
    listed = {t["name"]: t for t in json.loads(result.stdout)}
    assert set(listed) >= {"screening", *taxonomy.CLASSIFIED}
    for name, task in listed.items():
        # Protocol v3 gave the study's tasks version 3; the tasks added since start at version 1, and crosswalk v2
        # made the bug kinds version 2.
        expected = 2 if name.endswith("bug_kind") else 1 if name == "so_dl_bugs" or name.startswith("notes_") else 3
        assert task["version"] == expected, name
        assert task["split"] == "fold" and task["main_score"] and task["population"]
        assert set(task) >= {"labels", "merged", "inputs", "tracks", "main_score", "population"}
        assert not set(task["inputs"]) & tasks.ANNOTATOR_MADE, name
        assert {"same_code", "same_data", "project_type", "framework"}.isdisjoint(task["inputs"]), name
    assert all("github_labels" not in task["inputs"] for task in listed.values()), "labels added after filing"
    assert listed["defect_type"]["labels"][-1] == tasks.RARE
    assert listed["stage"]["tracks"]["triage"] == ["title", "body"]
    assert listed["stage"]["tracks"]["full-thread"] == ["title", "body", "comments"]
    assert listed["so_dl_bugs"]["tracks"] == {"metadata": [], "triage": ["text"]}
    assert listed["so_dl_bugs"]["splits"] == ["holdout", "fold"] and listed["so_dl_bugs"]["inputs"] == ["tags"]


def test_the_declared_merges_are_exactly_the_labels_with_fewer_than_five_issues(opened: Release) -> None:
    defects = opened.frame("defects").filter(~pl.col("withdrawn"))
    for task in tasks.REGISTRY.latest():
        if task.dimension == "is_reengineering" or task.mapped or task.source is not tasks.STUDY:
            continue
        issues = Counter(label for _, label in set(defects.select("issue_id", task.dimension).rows()))
        rare = {label for label in taxonomy.labels(task.dimension) if issues[label] < tasks.RARE_THRESHOLD
                and label != tasks.RARE}
        assert rare == set(task.merged) | set(task.kept), task.name
        gold = tasks.items(task, opened, "all")
        assert {label for row in gold["gold"] for label in row} <= set(task.labels), task.name


def test_every_label_for_every_issue_is_refused_by_evaluate_and_by_leaderboard_add(
        synthetic_release: Path, synthetic: Release, tmp_path: Path) -> None:
    task = tasks.get("stage")
    ids = tasks.items(task, synthetic)["issue_id"].to_list()
    every = _write(tmp_path / "every.csv", [{"issue_id": i, "label": ";".join(task.labels)} for i in ids])
    with pytest.raises(PredictionError, match="exactly one label per issue"):
        evaluate(every, task, synthetic)
    sets = _write(tmp_path / "sets.jsonl", [{"issue_id": i, "labels": list(task.labels)} for i in ids])
    with pytest.raises(PredictionError, match="exactly one label per issue"):
        evaluate(sets, task, synthetic)
    board = tmp_path / "board.jsonl"
    added = cli("leaderboard", "add", str(every), "--task", "stage", "--name", "everything", "--board", str(board),
                "--release", str(synthetic_release))
    assert added.returncode == 2 and "exactly one label per issue" in added.stderr
    assert not board.exists() and not (tmp_path / "submissions").exists(), "nothing written"


def test_no_trivial_submission_beats_an_informative_one(synthetic: Release, tmp_path: Path) -> None:
    for name in ("stage", "root_cause", "screening"):
        task = tasks.get(name)
        ids = tasks.items(task, synthetic)["issue_id"].to_list()
        good = evaluate(_write(tmp_path / f"{name}-good.csv", _informative(task, synthetic, 0.6)), task, synthetic)
        rng = np.random.default_rng(1)
        trivial = [[{"issue_id": i, "label": label} for i in ids] for label in task.labels]
        trivial.append([{"issue_id": i, "label": task.labels[rng.integers(len(task.labels))]} for i in ids])
        for n, rows in enumerate(trivial):
            other = evaluate(_write(tmp_path / f"{name}-{n}.csv", rows), task, synthetic)
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
    final = rows[("manifestation@v3", "final")]
    assert final["n"] >= 110 and final["gold_follows_rater_2"] == 1.0, "the released gold follows rater 2"
    assert final["rater_1_vs_gold"]["scores"]["accuracy"] < 1.0
    stage = rows[("stage@v3", "final")]
    assert "never uses 'Environment'" in stage["instrument_flag"]
    assert stage["rater_1_vs_gold"]["outside_label_space"] >= 0
    assert [r["paper_kappa"] for r in result["pooled"]] == [0.46, 0.79, 0.70]
    assert result["pooled_note"].startswith("no single pooling rule")


def test_the_agreement_reference_covers_every_linked_item_not_just_a_test_side(opened: Release) -> None:
    found = ceiling.task_ceiling(opened, tasks.get("impact"), "final", n_resamples=0)
    assert found["n"] >= 100, "all linked final-phase items, not the 22-24 of a test side"
    assert shipped._agreement(tasks.get("impact"), opened, "2026-01-01", 0).kind == "agreement"


# --- the board, on the synthetic release: adversaries ------------------------------------------------------------

_copy_board, _status = copy_board, ranked_row


def test_the_regenerated_board_ranks_its_baselines_reproduced_and_references_apart(
        synthetic: Release, fresh_board: Path) -> None:
    rows = ranked_rows(fresh_board, synthetic)
    assert {r.verification for r in rows if r.entry.predictions_sha256} == {"reproduced"}, "re-run to the same digest"
    kinds = {r.entry.kind: r.status for r in rows}
    assert kinds["trivial"] == "reference" and kinds["agreement"] == "reference"
    stratified = [r.entry for r in rows if r.entry.name == "baseline: stratified"]
    assert all(e.score == e.macro_f1 and e.seeds == 20 for e in stratified), "one number for the mean everywhere"
    assert all(isinstance(r.rank, int) or r.rank is None for r in rows)


def ranked_rows(board: Path, release: Release) -> list:
    from cvreeng_bench import api

    return api.leaderboard(board, release)


def test_a_constant_system_is_never_ranked(synthetic: Release, synthetic_release: Path, fresh_board: Path,
                                            tmp_path: Path) -> None:
    board = _copy_board(fresh_board, tmp_path)
    task = tasks.get("stage")
    ids = tasks.items(task, synthetic)["issue_id"].to_list()
    path = _write(tmp_path / "constant.csv", [{"issue_id": i, "label": task.labels[1]} for i in ids])
    added = cli("leaderboard", "add", str(path), "--task", "stage", "--name", "constant", "--board", str(board),
                "--release", str(synthetic_release))
    assert added.returncode == 0, added.stderr
    row = _status(ranked_rows(board, synthetic), "constant", "stage")
    assert row.status == "below chance" and row.rank is None and row.p_vs_chance == 1.0


def test_a_gold_copy_is_self_reported_and_the_same_predictions_under_another_name_are_refused(
        synthetic: Release, synthetic_release: Path, fresh_board: Path, tmp_path: Path) -> None:
    board = _copy_board(fresh_board, tmp_path)
    scored = tasks.items(tasks.get("impact"), synthetic)
    rows = [{"issue_id": i, "label": p} for i, p in zip(scored["issue_id"], scored["primary"], strict=True)]
    gold = _write(tmp_path / "gold.csv", rows)
    added = cli("leaderboard", "add", str(gold), "--task", "impact", "--track", "triage", "--name", "GPT-X zero-shot",
                "--board", str(board), "--release", str(synthetic_release))
    assert added.returncode == 0, added.stderr
    row = _status(ranked_rows(board, synthetic), "GPT-X zero-shot", "impact")
    assert row.verification == "self-reported" and "self-declared" in board_view.cells(row)[-1]
    shuffled = _write(tmp_path / "again.jsonl", rows[::-1])
    again = cli("leaderboard", "add", str(shuffled), "--task", "impact", "--name", "another name", "--board",
                str(board), "--release", str(synthetic_release))
    assert again.returncode == 2 and "already on the board as 'GPT-X zero-shot'" in again.stderr
    shown = cli("leaderboard", "show", "--board", str(board), "--task", "impact", "--release", str(synthetic_release))
    assert "test gold is public" in shown.stdout
    verified = cli("leaderboard", "show", "--board", str(board), "--verified-only", "--format", "json", "--release",
                   str(synthetic_release))
    assert "GPT-X" not in verified.stdout


def test_two_entries_of_one_task_and_track_cannot_share_a_name_in_any_case_or_spacing(
        synthetic: Release, synthetic_release: Path, fresh_board: Path, tmp_path: Path) -> None:
    board = _copy_board(fresh_board, tmp_path)
    before = board.read_bytes()
    for n, name in enumerate(("baseline: metadata", "Baseline:  Metadata ")):
        preds = _write(tmp_path / f"named-{n}.csv", _informative(tasks.get("stage"), synthetic, 0.7, seed=n))
        taken = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", name, "--board", str(board),
                    "--release", str(synthetic_release))
        assert taken.returncode == 2 and "already has an entry named 'baseline: metadata'" in taken.stderr, name
        assert board.read_bytes() == before
    other = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "mine", "--board", str(board),
                "--release", str(synthetic_release))
    assert other.returncode == 0, other.stderr


def test_a_hand_edited_score_or_digest_is_never_ranked(synthetic: Release, fresh_board: Path, tmp_path: Path) -> None:
    board = _copy_board(fresh_board, tmp_path)
    lines = [json.loads(line) for line in board.read_text().splitlines()]
    target = next(i for i, r in enumerate(lines) if r["name"] == "baseline: metadata" and r["task"] == "stage")
    lines[target]["score"] = 0.95
    other = next(i for i, r in enumerate(lines) if r["name"] == "baseline: metadata" and r["task"] == "impact")
    lines[other]["predictions_sha256"] = "0" * 64
    board.write_text("".join(json.dumps(r) + "\n" for r in lines))
    rows = ranked_rows(board, synthetic)
    edited = _status(rows, "baseline: metadata", "stage")
    assert edited.status == "unverified" and edited.rank is None and "differ from the re-score" in edited.reason
    zeroed = _status(rows, "baseline: metadata", "impact")
    assert zeroed.status == "unverified" and "missing or changed" in zeroed.reason


def _stratified(task: tasks.Task, opened: Release, seed: int) -> list[dict]:
    """A chance system: each issue gets a label drawn at the gold's own frequencies."""
    rng = np.random.default_rng(seed)
    scored = tasks.items(task, opened)
    primary = scored["primary"].to_list()
    return [{"issue_id": i, "label": str(label)}
            for i, label in zip(scored["issue_id"], rng.choice(primary, size=len(primary)), strict=True)]


def test_chance_systems_pass_the_chance_line_about_five_times_in_a_hundred(synthetic: Release) -> None:
    from cvreeng_bench.scoring.metrics import chance_test

    task = tasks.get("stage")
    gold = tasks.items(task, synthetic)["gold"].to_list()
    passed = [chance_test(gold, [r["label"] for r in _stratified(task, synthetic, seed)], task.labels, "macro_f1",
                          n_rounds=500, seed=seed).p_value < 0.05 for seed in range(60)]
    assert sum(passed) <= 9, f"{sum(passed)} of 60 chance systems beat chance at 5%"  # P(X >= 10) < 0.2%


def test_the_luckiest_of_forty_stratified_seeds_never_shares_rank_one_with_an_informative_system(
        synthetic: Release, synthetic_release: Path, tmp_path: Path) -> None:
    from cvreeng_bench.scoring.evaluate import evaluate as score
    from cvreeng_bench.scoring.predictions import from_frame

    task = tasks.get("stage")
    seeds = {seed: score(from_frame(pl.DataFrame(_stratified(task, synthetic, seed)), f"seed {seed}"), task,
                         synthetic, n_resamples=10).score for seed in range(40)}
    lucky = max(seeds, key=seeds.__getitem__)
    board = tmp_path / "board.jsonl"
    for name, rows in (("lucky seed", _stratified(task, synthetic, lucky)),
                       ("informative", _informative(task, synthetic, 0.6))):
        added = cli("leaderboard", "add", str(_write(tmp_path / f"{name}.csv", rows)), "--task", "stage", "--name",
                    name, "--board", str(board), "--release", str(synthetic_release), "-q")
        assert added.returncode == 0, added.stderr
    rows = ranked_rows(board, synthetic)
    good, chance = _status(rows, "informative", "stage"), _status(rows, "lucky seed", "stage")
    assert good.rank == 1
    assert chance.rank is None or chance.rank > 1, (chance.status, chance.rank, chance.p_vs_chance)


def test_a_label_beside_abstained_true_is_refused_naming_the_row(synthetic: Release, synthetic_release: Path,
                                                                   tmp_path: Path) -> None:
    task = tasks.get("impact")
    rows = [{**r, "abstained": "false"} for r in _informative(task, synthetic, 0.6)]
    rows[3] = {**rows[3], "abstained": "true"}
    path = _write(tmp_path / "abstained.csv", rows)
    result = cli("evaluate", str(path), "--task", "impact", "--release", str(synthetic_release))
    assert result.returncode == 2 and rows[3]["issue_id"] in result.stderr and "abstained=true" in result.stderr
    rows[3] = {**rows[3], "label": ""}
    scored = cli("evaluate", str(_write(tmp_path / "declined.csv", rows)), "--task", "impact", "--format", "json",
                 "--release", str(synthetic_release))
    assert scored.returncode == 0, scored.stderr
    assert json.loads(scored.stdout)["n_abstained"] == 1


def test_the_release_says_the_labels_are_public_since_the_artifacts_first_commit(synthetic: Release) -> None:
    assert synthetic.manifest.labels_public_since == "2022-03-04"
    assert "132ca941" in synthetic.manifest.raw["labels_public_since_source"]


def test_eight_concurrent_adds_keep_all_eight(synthetic: Release, synthetic_release: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    task = tasks.get("manifestation")
    board = tmp_path / "board.jsonl"
    processes = []
    for n in range(8):
        path = _write(tmp_path / f"s{n}.csv", _informative(task, synthetic, 0.5, seed=n))
        code = ("import sys; from cvreeng_bench.cli import main; sys.exit(main(sys.argv[1:]))")
        processes.append(subprocess.Popen([sys.executable, "-c", code, "leaderboard", "add", str(path), "--task",
                                           "manifestation", "--name", f"system {n}", "--board", str(board),
                                           "--release", str(synthetic_release), "-q"],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err.decode()
    names = {json.loads(line)["name"] for line in board.read_text().splitlines()}
    assert {f"system {n}" for n in range(8)} <= names


def test_a_malformed_line_is_named_and_a_board_with_one_is_never_rewritten(
        synthetic_release: Path, fresh_board: Path, tmp_path: Path) -> None:
    board = _copy_board(fresh_board, tmp_path)
    good = board.read_text().splitlines()
    board.write_text("\n".join([good[0], "[1, 2]", '{"name": "x", "score": "high"}', "not json", *good[1:]]) + "\n")
    shown = cli("leaderboard", "show", "--board", str(board), "--format", "json", "--release", str(synthetic_release))
    assert shown.returncode == 0, shown.stderr
    assert all(f"line {n}" in shown.stderr for n in (2, 3, 4))
    before = board.read_bytes()
    preds = _write(tmp_path / "p.csv", [{"issue_id": i, "label": "Training"} for i in
                                        tasks.items(tasks.get("stage"), open_release(synthetic_release))["issue_id"]])
    refused = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "x", "--board", str(board),
                  "--release", str(synthetic_release))
    assert refused.returncode == 2 and "cannot be read" in refused.stderr and "line 2" in refused.stderr
    assert board.read_bytes() == before
    missing = cli("leaderboard", "show", "--board", str(tmp_path / "nope.jsonl"), "--release", str(synthetic_release))
    assert missing.returncode == 2 and "no board at" in missing.stderr
    csv = _write(tmp_path / "notaboard.csv", [{"a": 1}])
    wrong = cli("leaderboard", "show", "--board", str(csv), "--release", str(synthetic_release))
    assert wrong.returncode == 2 and "is not a board" in wrong.stderr
    nested = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "y", "--board",
                 str(tmp_path / "new" / "dir" / "b.jsonl"), "--release", str(synthetic_release))
    assert nested.returncode == 2 and not (tmp_path / "new").exists(), "folders are never created silently"


def test_names_and_urls_cannot_inject_markup(synthetic: Release, synthetic_release: Path, tmp_path: Path) -> None:
    task = tasks.get("stage")
    preds = _write(tmp_path / "p.csv", _informative(task, synthetic, 0.5))
    board = tmp_path / "board.jsonl"
    bad_url = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "x", "--url", "javascript:alert(1)",
                  "--board", str(board), "--release", str(synthetic_release))
    assert bad_url.returncode == 2 and "http(s)" in bad_url.stderr and not board.exists()
    piped = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "a | b\n| forged |", "--board",
                str(board), "--release", str(synthetic_release))
    assert piped.returncode == 2 and not board.exists()
    escape = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "red \x1b[31m", "--board",
                 str(board), "--release", str(synthetic_release))
    assert escape.returncode == 2 and not board.exists()
    name = "<img src=x onerror=alert(1)><script>alert(2)</script>"
    added = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", name, "--board", str(board),
                "--release", str(synthetic_release))
    assert added.returncode == 0, added.stderr
    rendered = cli("leaderboard", "render", "--board", str(board), "--out", str(tmp_path / "site"), "--release",
                   str(synthetic_release))
    assert rendered.returncode == 0, rendered.stderr
    page = (tmp_path / "site" / "leaderboard.html").read_text()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "How to submit" in page
    markdown = (tmp_path / "site" / "leaderboard.md").read_text()
    assert "<script>" not in markdown.replace("\\<", "") and "<img" not in markdown.replace("\\<", ""), \
        "every < is backslash-escaped: Markdown shows it as text"


def test_add_scores_the_predictions_itself_and_an_edited_result_is_refused(
        synthetic: Release, synthetic_release: Path, tmp_path: Path) -> None:
    task = tasks.get("impact")
    preds = _write(tmp_path / "p.csv", _informative(task, synthetic, 0.7))
    out = tmp_path / "result.json"
    release = str(synthetic_release)
    assert cli("evaluate", str(preds), "--task", "impact", "--release", release, "--out", str(out)).returncode == 0
    edited = json.loads(out.read_text())
    edited["scores"]["macro_f1"] = 0.99
    (tmp_path / "edited.json").write_text(json.dumps(edited))
    board = tmp_path / "board.jsonl"
    refused = cli("leaderboard", "add", str(tmp_path / "edited.json"), "--predictions", str(preds), "--name", "x",
                  "--board", str(board), "--release", release)
    assert refused.returncode == 2 and "does not match its predictions" in refused.stderr
    assert not board.exists()
    without = cli("leaderboard", "add", str(out), "--name", "x", "--board", str(board), "--release", release)
    assert without.returncode == 2 and "--predictions" in without.stderr
    added = cli("leaderboard", "add", str(out), "--predictions", str(preds), "--name", "mine", "--url",
                "https://example.org", "--model-cutoff", "2023-01-01", "--board", str(board), "--release", release)
    assert added.returncode == 0, added.stderr
    assert "contamination risk" in added.stdout and "2022-03-04" in added.stdout
    early = _write(tmp_path / "early.csv", _informative(task, synthetic, 0.6, seed=9))
    old = cli("leaderboard", "add", str(early), "--task", "impact", "--name", "old model", "--model-cutoff",
              "2021-06-01", "--board", str(board), "--release", release)
    assert old.returncode == 0 and "contamination" not in old.stdout


def test_a_rank_counts_the_entries_clearly_better_and_a_near_duplicate_is_shown_not_ranked(
        synthetic: Release, tmp_path: Path) -> None:
    task = tasks.get("manifestation")
    board = tmp_path / "board.jsonl"
    rows = _informative(task, synthetic, 0.7, seed=3)
    twin = [dict(r) for r in rows]
    twin[0]["label"] = next(label for label in task.labels if label != rows[0]["label"])
    strong = _informative(task, synthetic, 1.0, seed=4)
    for name, data in (("first", rows), ("strong", strong)):
        leaderboard.submit(board, _write(tmp_path / f"{name}.csv", data), synthetic, task="manifestation", name=name)
    with pytest.raises(LeaderboardError, match=r"agree with 'first' .* on 9\d\.\d% of the items"):
        leaderboard.submit(board, _write(tmp_path / "twin.csv", twin), synthetic, task="manifestation", name="twin")
    # A twin written into the board by hand (not through add) is shown as a near-duplicate, never ranked.
    twin_entry = leaderboard.from_result(evaluate(_write(tmp_path / "twin.csv", twin), task, synthetic), name="twin")
    shutil.copyfile(tmp_path / "twin.csv", board.parent / "submissions" / f"{twin_entry.predictions_sha256}.csv")
    with board.open("a", encoding="utf-8") as out:
        out.write(json.dumps(twin_entry.to_row()) + "\n")
    shown = {r.entry.name: r for r in ranked_rows(board, synthetic)
             if r.entry.task == "manifestation" and r.entry.kind == "submission"}
    assert shown["strong"].rank == 1
    assert shown["first"].rank == 2, "one entry's interval lies wholly above it"
    assert shown["twin"].status == "near-duplicate" and shown["twin"].rank is None
    assert "agrees with 'first'" in shown["twin"].reason


def test_the_page_sets_each_table_beside_its_chart_of_the_entries_with_a_point_with_dates_and_models(
        synthetic_release: Path, tmp_path: Path) -> None:
    board = board_of_baselines(synthetic_release, tmp_path / "board.jsonl", "impact", "system {}",
                               "--model-cutoff", "2023-01-01")
    assert cli("leaderboard", "render", "--board", str(board), "--out", str(tmp_path / "site"), "--release",
               str(synthetic_release)).returncode == 0
    page = (tmp_path / "site" / "leaderboard.html").read_text()
    impact = next(part for part in page.split('<div class="group">')[1:] if "system metadata" in part)
    table, _, rest = impact.partition("</table>")
    chart = rest.split("</figure>")[0]
    assert "<figure><svg" in chart, "the chart sits in the same row as its table"
    header = table.split("</thead>")[0]
    assert "<th>date</th>" in header and "<th>model</th>" in header and 'class="sortable"' in table
    assert "cut-off 2023-01-01, after the labels went public" in table
    assert "system metadata" in chart and "baseline: stratified" not in chart, "only this group's entries"
    assert "How to submit" in page
