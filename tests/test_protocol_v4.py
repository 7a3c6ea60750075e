"""Protocol v4: ranks that a gamed or lucky entry cannot take. Adversaries on a user's board over the synthetic
release: a copy of the gold, the gold with flips, an in-sample rule, a ladder of near-copies, twenty seeds of a
random system."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from cvreeng_bench import api, shipped
from cvreeng_bench.board import leaderboard
from cvreeng_bench.board.entries import LeaderboardError
from cvreeng_bench.board.ranking import Pool, Status, holm, stability
from cvreeng_bench.board.view import cells
from cvreeng_bench.board.view import show as view_show
from cvreeng_bench.release import Release
from cvreeng_bench.scoring import tasks
from cvreeng_bench.scoring.evaluate import evaluate_file

TASK = "stage"


@pytest.fixture(scope="module")
def references(synthetic: Release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A board holding the package's baselines and chance lines for the synthetic release."""
    board = tmp_path_factory.mktemp("v4") / "leaderboard.jsonl"
    shipped.regenerate(synthetic, board)
    return board


def _copy(board: Path, folder: Path) -> Path:
    shutil.copytree(board.parent / "submissions", folder / "submissions")
    copy = folder / "leaderboard.jsonl"
    copy.write_bytes(board.read_bytes())
    return copy


def _gold(release: Release) -> list[dict[str, str]]:
    scored = tasks.items(tasks.get(TASK), release)
    return [{"issue_id": i, "label": p} for i, p in zip(scored["issue_id"], scored["primary"], strict=True)]


def _flip(rows: list[dict[str, str]], positions: range) -> list[dict[str, str]]:
    labels = tasks.get(TASK).labels
    return [{**r, "label": labels[(labels.index(r["label"]) + 1) % len(labels)]} if i in positions else r
            for i, r in enumerate(rows)]


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    pl.DataFrame(rows).write_csv(path)
    return path


def _shown(board: Path, release: Release) -> dict[str, object]:
    return {r.entry.name: r for r in api.leaderboard(board, release) if r.entry.task == TASK}


def test_holm_adjusts_step_down_in_the_input_order() -> None:
    rejected, adjusted = holm([0.01, 0.04, 0.03])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06]) and rejected == [True, False, False]
    assert holm([0.001] * 20)[0] == [True] * 20 and holm([0.049, 0.049])[0] == [False, False]


def test_a_gold_copy_flipped_gold_and_an_in_sample_rule_never_enter_the_main_table(
        synthetic: Release, references: Path, tmp_path: Path) -> None:
    board = _copy(references, tmp_path)
    gold = _gold(synthetic)
    leaderboard.submit(board, _csv(tmp_path / "gold.csv", gold), synthetic, task=TASK, name="gold copy")
    leaderboard.submit(board, _csv(tmp_path / "flips.csv", _flip(gold, range(5))), synthetic, task=TASK,
                       name="gold, 5 flips")
    leaderboard.submit(board, _csv(tmp_path / "rule.csv", _flip(gold, range(5, 20))), synthetic, task=TASK,
                       name="in-sample rule", trained="in-sample")
    shown = _shown(board, synthetic)
    main = [name for name, r in shown.items() if r.pool is Pool.MAIN and r.rank is not None]
    assert not {"gold copy", "gold, 5 flips", "in-sample rule"} & set(main)
    assert shown["gold copy"].pool is Pool.SELF_REPORTED and shown["gold copy"].rank == 1
    assert shown["in-sample rule"].status is Status.IN_SAMPLE and shown["in-sample rule"].rank is None
    text = api.leaderboard(board, synthetic, task=TASK)
    assert any(r.table.endswith("(self-reported)") for r in text)


def test_a_near_copy_of_an_entry_is_refused_at_add(synthetic: Release, references: Path, tmp_path: Path) -> None:
    board = _copy(references, tmp_path)
    gold = _gold(synthetic)
    leaderboard.submit(board, _csv(tmp_path / "gold.csv", gold), synthetic, task=TASK, name="gold copy")
    with pytest.raises(LeaderboardError, match=r"agree with 'gold copy' .* more than 98%"):
        leaderboard.submit(board, _csv(tmp_path / "one.csv", _flip(gold, range(1))), synthetic, task=TASK,
                           name="one flip")


def test_a_ladder_of_near_copies_never_lifts_a_weak_entry_to_rank_one(synthetic: Release, references: Path,
                                                                       tmp_path: Path) -> None:
    """Written into the board by hand (add would refuse the closest steps): 15 entries, each 3 labels from the
    next, from the gold down; only entries whose interval reaches the leader's share its rank."""
    board = _copy(references, tmp_path)
    gold = _gold(synthetic)
    lines = []
    for step in range(15):
        path = _csv(tmp_path / f"step{step}.csv", _flip(gold, range(3 * step)))
        entry = leaderboard.from_result(evaluate_file(path, tasks.get(TASK), synthetic), name=f"step {step}")
        shutil.copyfile(path, board.parent / "submissions" / f"{entry.predictions_sha256}.csv")
        lines.append(json.dumps(entry.to_row()))
    with board.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    shown = _shown(board, synthetic)
    ladder = [shown[f"step {i}"] for i in range(15)]
    leader = ladder[0]
    assert leader.rank == 1
    for row in ladder:
        if row.rank == 1:
            assert (row.entry.ci_high or 0) >= (leader.entry.ci_low or 0), row.entry.name
    weakest = ladder[-1]
    assert weakest.rank is None or weakest.rank > 1
    assert {r.status for r in ladder} <= {Status.RANKED, Status.NEAR_DUPLICATE, Status.BELOW_CHANCE}


def test_twenty_seeds_of_a_random_system_buy_no_rank(synthetic: Release, references: Path, tmp_path: Path) -> None:
    board = _copy(references, tmp_path)
    task = tasks.get(TASK)
    scored = tasks.items(task, synthetic)
    counts = np.array([sum(p == label for p in scored["primary"]) for label in task.labels], dtype=float)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        rows = [{"issue_id": i, "label": task.labels[rng.choice(len(task.labels), p=counts / counts.sum())]}
                for i in scored["issue_id"]]
        leaderboard.submit(board, _csv(tmp_path / f"seed{seed}.csv", rows), synthetic, task=TASK,
                           name=f"stratified seed {seed}")
    shown = _shown(board, synthetic)
    seeds = [shown[f"stratified seed {s}"] for s in range(20)]
    assert [r.entry.name for r in seeds if r.rank is not None] == []
    assert all("chance line" in r.reason for r in seeds if r.status is Status.BELOW_CHANCE)


def test_nothing_ranked_scores_at_or_below_a_chance_line_of_its_task(synthetic: Release, references: Path) -> None:
    rows = api.leaderboard(references, synthetic)
    for row in rows:
        if row.rank is None:
            continue
        lines = [r.entry.score or 0.0 for r in rows if r.entry.kind == "trivial" and r.entry.task == row.entry.task
                 and r.entry.split == row.entry.split]
        assert all((row.entry.score or 0.0) > line for line in lines), row.entry.name


@pytest.mark.parametrize(("field", "value"), [
    ("labels_public_since", "2030-01-01"), ("contamination_risk", True), ("score_sd", 0.0), ("seeds", 20),
    ("fold_sd", 0.01), ("model", "gpt-9"), ("prompt", "zero-shot@v2")])
def test_a_hand_edit_of_a_derived_field_shows(synthetic: Release, references: Path, tmp_path: Path, field: str,
                                              value: object) -> None:
    board = _copy(references, tmp_path)
    leaderboard.submit(board, _csv(tmp_path / "gold.csv", _gold(synthetic)), synthetic, task=TASK, name="gold copy",
                       model_cutoff="2021-01-01")
    lines = board.read_text("utf-8").splitlines()
    row = json.loads(lines[-1])
    row[field] = value
    board.write_text("\n".join([*lines[:-1], json.dumps(row)]) + "\n", encoding="utf-8")
    shown = _shown(board, synthetic)["gold copy"]
    assert shown.status is Status.UNVERIFIED and field in shown.reason and shown.rank is None


def test_each_population_carries_its_own_labels_public_date(synthetic: Release) -> None:
    posts = api.evaluate(api.baseline("majority", "so_dl_bugs", release=synthetic), "so_dl_bugs", synthetic,
                         n_resamples=0)
    study = api.evaluate(api.baseline("majority", "stage", release=synthetic), "stage", synthetic, n_resamples=0)
    assert posts.labels_public_since == "2026-04-07" and study.labels_public_since == "2022-03-04"


# --- fold seeds and the repository-grouped dealing -----------------------------------------------------------------

def test_dealing_the_folds_again_with_the_release_seed_gives_the_release_folds(synthetic: Release) -> None:
    from cvreeng_bench.scoring.inputs import views
    from cvreeng_bench.scoring.splits import SEED

    for task in tasks.REGISTRY.latest():
        if not synthetic.has(task.source.config):
            continue
        frozen = views(task, synthetic, "fold", "metadata")
        again = views(task, synthetic, "fold", "metadata", SEED)
        assert [[r["issue_id"] for r in v.test] for v in frozen] == [[r["issue_id"] for r in v.test] for v in again]
        other = views(task, synthetic, "fold", "metadata", SEED + 1)
        assert [[r["issue_id"] for r in v.test] for v in frozen] != [[r["issue_id"] for r in v.test] for v in other]


def test_the_repository_dealing_never_puts_a_repository_on_both_sides(synthetic: Release) -> None:
    from cvreeng_bench.scoring.inputs import views
    from cvreeng_bench.scoring.splits import BY_REPOSITORY, grouped_folds

    task = tasks.get(TASK)
    rounds = views(task, synthetic, "fold", "metadata", BY_REPOSITORY)
    assert sum(len(v.test) for v in rounds) == tasks.items(task, synthetic, "all").height
    for view in rounds:
        assert not {r["repo"] for r in view.test} & {r["repo"] for r in view.train}
    assert grouped_folds(["a", "b", "c", "d"], ["x", "x", "y", "z"], 2) == {"a": 0, "b": 0, "c": 1, "d": 1}
    with pytest.raises(tasks.TaskError, match="no repository"):
        views(tasks.get("so_dl_bugs"), synthetic, "fold", "triage", BY_REPOSITORY)


def test_the_boards_own_entries_carry_fold_seed_scores_and_a_stability_note(synthetic: Release,
                                                                            references: Path) -> None:
    import statistics

    from cvreeng_bench.board.entries import read_strict
    from cvreeng_bench.scoring.splits import FOLD_SEEDS
    from cvreeng_bench.systems.baselines import run

    made = [e for e in read_strict(references) if e.kind in ("baseline", "trivial") and e.split == "fold"
            and e.trained != "zero-shot"]
    assert made and all(e.fold_seeds == len(FOLD_SEEDS) and e.fold_seed_sd is not None for e in made)
    assert all((e.beats_chance_folds is None) == (e.kind == "trivial") for e in made)
    study = [e for e in made if e.task == TASK]
    assert study and all(e.repo_fold_score is not None for e in study)
    assert all(e.repo_fold_score is None for e in made if e.task == "so_dl_bugs"), "posts have no repository"
    majority = next(e for e in study if e.baseline == "majority@v1")
    dealt = [api.evaluate(run("majority", tasks.get(TASK), synthetic, fold_seed=seed), TASK, synthetic,
                          n_resamples=0).score for seed in FOLD_SEEDS]
    assert majority.fold_seed_mean == pytest.approx(statistics.fmean(dealt), abs=1e-12)
    assert majority.fold_seed_sd == pytest.approx(statistics.stdev(dealt), abs=1e-12)
    assert dealt[0] == pytest.approx(majority.score, abs=1e-12), "the first dealing is the release's own"
    rows = [r for r in api.leaderboard(references, synthetic) if r.entry.kind == "baseline" and r.entry.split == "fold"
            and r.entry.beats_chance_folds is not None and r.status in (Status.RANKED, Status.BELOW_CHANCE)]
    assert rows
    for row in rows:
        beats = row.entry.beats_chance_folds
        steady = beats == 5 if row.status is Status.RANKED else beats == 0
        assert stability(row).startswith("stable" if steady else "unstable"), row.entry.name
        assert stability(row) in cells(row)[-1], "the note shows it"


def test_fold_seed_fields_only_the_board_makes_are_flagged_elsewhere(synthetic: Release, references: Path,
                                                                     tmp_path: Path) -> None:
    board = _copy(references, tmp_path)
    leaderboard.submit(board, _csv(tmp_path / "gold.csv", _flip(_gold(synthetic), range(40))), synthetic,
                       task=TASK, name="claims folds")
    lines = board.read_text("utf-8").splitlines()
    row = json.loads(lines[-1])
    row |= {"fold_seeds": 5, "fold_seed_mean": 0.9, "fold_seed_sd": 0.001, "beats_chance_folds": 5}
    board.write_text("\n".join([*lines[:-1], json.dumps(row)]) + "\n", encoding="utf-8")
    shown = _shown(board, synthetic)["claims folds"]
    assert shown.status is Status.UNVERIFIED and "fold_seeds" in shown.reason and shown.rank is None


def test_a_hand_edited_fold_seed_spread_of_a_baseline_fails_verify(synthetic: Release, references: Path,
                                                                   tmp_path: Path) -> None:
    from cvreeng_bench.board.entries import read_strict

    board = _copy(references, tmp_path)
    rows = [json.loads(line) for line in board.read_text("utf-8").splitlines()]
    target = next(i for i, r in enumerate(rows) if r["kind"] == "baseline" and r["task"] == TASK
                  and r["track"] == "metadata")
    rows[target]["fold_seed_sd"] = 0.0
    board.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    shown = next(r for r in api.leaderboard(board, synthetic) if r.entry.name == rows[target]["name"]
                 and r.entry.task == TASK and r.entry.track == "metadata" and r.entry.fold_seed_sd == 0.0)
    assert shown.verification == "self-reported", "an edited entry is not the one the board made"
    assert "fold-seed scores not shown" in cells(shown)[-1]
    from cvreeng_bench.provenance import rederive  # what `leaderboard verify` runs for each entry

    assert rederive(shown.entry, leaderboard.stored(board, shown.entry), synthetic) is False
    original = next(e for e in read_strict(references) if e.key == shown.entry.key and e.name == shown.entry.name
                    and e.baseline == shown.entry.baseline)
    assert rederive(original, leaderboard.stored(references, original), synthetic) is True


def test_a_new_version_of_one_task_leaves_the_other_tasks_entries_current(synthetic: Release) -> None:
    """Each task's entries are keyed by the hash of its source's configs and its own split rows: a changed split of
    bug_kind (as crosswalk v2 made) changes bug_kind's hash and the source's, never stage's."""
    import polars as pl

    from cvreeng_bench.build import scored_hashes

    tables = {name: synthetic.frame(name) for name in synthetic.configs}
    before = scored_hashes(tables)
    splits = tables["splits"]
    changed = splits.with_columns(pl.when(pl.col("task") == "bug_kind").then(1 - pl.col("fold").clip(0, 1))
                                  .otherwise(pl.col("fold")).alias("fold"))
    after = scored_hashes({**tables, "splits": changed})
    assert after["study/stage"] == before["study/stage"]
    assert after["study/bug_kind"] != before["study/bug_kind"] and after["study"] != before["study"]
    assert synthetic.scored_sha256("study", "stage") == before["study/stage"]


def test_a_tasks_calibration_caveat_is_printed_with_its_scores_and_matches_the_readme(synthetic: Release,
                                                                                    references: Path) -> None:
    import re

    from cvreeng_bench.scoring.protocol import CAVEATS

    reporter = api.evaluate(api.baseline("majority", "reporter", release=synthetic), "reporter", synthetic,
                            n_resamples=0)
    stage = api.evaluate(api.baseline("majority", "stage", release=synthetic), "stage", synthetic, n_resamples=0)
    assert f"caveat: {CAVEATS['reporter']}" in reporter.table() and "caveat" not in stage.table()
    shown = view_show(api.leaderboard(references, synthetic, task="reporter"))
    assert f"caveat: {CAVEATS['reporter']}" in shown
    readme = " ".join((Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8").split())
    for text in CAVEATS.values():
        for number in re.findall(r"\d+(?:\.\d+)?%", text):
            assert number in readme, number
