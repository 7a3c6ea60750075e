"""The second source (Stack Overflow DL-bug posts): reading and refusing, the so_dl_bugs and bug_kind tasks, text
systems that learn on texts with signal (and stop when texts and labels are shuffled), and transfer across
sources. All on the synthetic upstream; tests/test_real_data.py checks the real posts."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

from cvreeng_bench import dlbugs, taxonomy
from cvreeng_bench.api import open_release, transfer
from cvreeng_bench.pipeline import sources
from cvreeng_bench.pipeline.normalize_posts import HEADER, read_posts
from cvreeng_bench.release import Release
from cvreeng_bench.scoring import tasks
from cvreeng_bench.scoring.evaluate import evaluate
from cvreeng_bench.scoring.predictions import from_frame
from cvreeng_bench.systems.baselines import BaselineError, run
from cvreeng_bench.testing.openai_server import Model, serve
from tests.conftest import cli, hydrated_release, write_csv
from tests.synthetic import NOISE, POST_WORDS, write_upstream


def _score(name: str, task: str, release: Release, track: str = "metadata") -> float:
    chosen = tasks.get(task)
    frame = run(name, chosen, release, track=track)
    return evaluate(from_frame(frame, name), chosen, release, n_resamples=50, track=track).score


@pytest.mark.parametrize("version", sorted(dlbugs.CROSSWALKS))
def test_every_study_root_cause_has_exactly_one_crosswalk_row_with_a_reason(version: int) -> None:
    walk = dlbugs.CROSSWALKS[version]
    causes = [c.root_cause for c in walk]
    assert sorted(causes) == sorted(taxonomy.labels("root_cause"))
    assert all(c.kind is None or c.kind in dlbugs.BUG_KINDS for c in walk)
    assert all(len(c.reason) > 20 for c in walk)
    assert {c.kind for c in walk} == {*dlbugs.BUG_KINDS, None}, "every kind has a study counterpart"
    assert dict(tasks.REGISTRY.get("bug_kind", version).mapped) == {c.root_cause: c.kind for c in walk}
    assert dict(tasks.REGISTRY.get("notes_bug_kind", version).mapped) == {c.root_cause: c.kind for c in walk}


def test_crosswalk_v2_changes_only_what_it_argues_and_is_the_current_task() -> None:
    changed = {a.root_cause: (a.kind, b.kind) for a, b in zip(dlbugs.CROSSWALK, dlbugs.CROSSWALK_V2, strict=True)
               if a.kind != b.kind}
    assert changed == {"Wrong environment configuration": (None, "gpu")}
    assert dlbugs.FAMILY["Wrong environment configuration"] == "gpu" and dlbugs.FAMILY["API defect"] == "api"
    assert tasks.get("bug_kind").version == 2 and tasks.get("notes_bug_kind").version == 2


def test_the_crosswalk_check_tallies_every_noted_issue_by_cause_beside_each_version(synthetic: Release) -> None:
    from cvreeng_bench import api
    from cvreeng_bench.systems.crosswalk import lift, overall

    rows = api.crosswalk(synthetic)
    assert sum(r.n for r in rows) == tasks.items(tasks.get("notes_root_cause"), synthetic, "all").height
    assert all(abs(sum(s for _, s in r.shares) - 1) < 1e-9 and [v for v, _ in r.mapped] == [1, 2] for r in rows)
    every = overall(rows)
    assert abs(sum(every.values()) - 1) < 1e-9
    for row in rows:
        kind = row.mapped[-1][1]
        if kind is not None and every[kind] > 0:
            assert lift(row, rows, kind) == pytest.approx((row.share(kind) or 0) / every[kind])
    shown = cli("crosswalk", "--release", str(synthetic.folder))
    assert shown.returncode == 0 and "every noted issue" in shown.stdout and " -> " in shown.stdout
    refused = cli("crosswalk", "--system", "definitions", "--release", str(synthetic.folder))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


def test_the_posts_reader_refuses_every_bad_row_naming_file_row_column_and_value(tmp_path: Path) -> None:
    good = ["1", "Keras model fails to load", "|python|keras|", "model", "0"]
    rows = [good,
            ["1", "another text", "|keras|", "tensor", "1"],  # line 3: the same post id again
            ["2", "Keras model fails to load", "|keras|", "model", "0"],  # line 4: the same text again
            ["3", "   ", "|keras|", "gpu", "3"],  # line 5: empty text
            ["4", "a text", "python keras", "api", "4"],  # line 6: tags not |a|b|
            ["5", "b text", "|keras|", "bugs", "4"],  # line 7: unknown label
            ["6", "c text", "|keras|", "gpu", "4"],  # line 8: number does not match the label
            ["7", "d text", "|keras|", "Others", "5"]]
    path = tmp_path / "dataset.csv"
    write_csv(path, list(HEADER), rows)
    read = read_posts(path)
    shown = [str(p) for p in read.problems]
    expected = [("row 3, column 'Id'", "already on row 2"), ("row 4, column 'Text'", "same text as row 2"),
                ("row 5, column 'Text'", "empty text"), ("row 6, column 'Tags'", "'python keras'"),
                ("row 7, column 'Label'", "'bugs'"), ("row 8, column 'LabelNum'", "does not match")]
    for where, what in expected:
        assert any(f"dataset.csv {where}" in line and what in line for line in shown), (where, shown)
    assert [r["post_id"] for r in read.rows] == [1, 7], "only the good rows, and every other row is an error"
    assert read.rows[0]["tags"] == ["python", "keras"] and read.rows[0]["url"] == "https://stackoverflow.com/q/1"
    write_csv(path, ["Id", "Text", "Tags", "Label", "Label", "LabelNum"], [])
    assert any("appears 2 times" in str(p) for p in read_posts(path).problems)


def test_a_build_without_the_second_source_works_and_says_why_it_is_absent(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path / "cache"))  # nothing cached either
    upstream = write_upstream(tmp_path / "upstream")
    shutil.rmtree(upstream / sources.SO_POSTS.folder)
    out = tmp_path / "release"
    built = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(out), "-q")
    assert built.returncode == 0, built.stderr
    info = json.loads(cli("info", "--release", str(out)).stdout)
    assert "so_posts" not in info["configs"] and "so_dl_bugs" not in info["task_configs"]
    assert "DL_bug_classification" in info["sources_absent"]["so-posts"]
    shown = cli("tasks", "show", "so_dl_bugs", "--release", str(out))
    assert shown.returncode == 2 and "so_posts config, absent from this release" in shown.stderr
    assert "Traceback" not in shown.stderr
    assert "does not carry the second source" in (out / "README.md").read_text("utf-8")
    board = cli("leaderboard", "show", "--release", str(out))
    assert board.returncode == 0 and "so_dl_bugs not shown: this release was built without source so-posts" in \
        board.stderr + board.stdout
    assert _score("metadata", "stage", open_release(out)) > 0, "the study's tasks are unaffected"


def test_so_dl_bugs_is_a_six_class_task_over_every_post_with_a_class_label(synthetic_release: Path) -> None:
    datasets = pytest.importorskip("datasets")
    listed = {t["name"]: t for t in json.loads(cli("tasks", "--format", "json").stdout)}
    assert listed["so_dl_bugs"]["labels"] == list(dlbugs.LABELS) and listed["so_dl_bugs"]["split"] == "fold"
    loaded = datasets.load_dataset(str(synthetic_release), "so_dl_bugs")
    assert loaded["train"].features["label"].names == list(dlbugs.LABELS)
    assert loaded["train"].num_rows + loaded["test"].num_rows == 60
    assert set(loaded["test"].column_names) >= {"issue_id", "tags", "text", "label", "fold"}
    with pytest.raises(tasks.TaskError, match="no split 'temporal'"):
        tasks.items(tasks.get("so_dl_bugs"), open_release(synthetic_release), "temporal")


def test_text_systems_learn_the_posts_while_majority_does_not(synthetic: Release) -> None:
    assert _score("majority", "so_dl_bugs", synthetic) < 0.2
    assert _score("tfidf", "so_dl_bugs", synthetic, "triage") > 0.8
    assert _score("metadata", "so_dl_bugs", synthetic) > _score("majority", "so_dl_bugs", synthetic)
    with pytest.raises(BaselineError, match="reads repo"):
        run("repo-majority", tasks.get("so_dl_bugs"), synthetic)


def _signal(release: Release, shuffle: bool) -> dict[str, list[str]]:
    """Issue id -> the post words of its bug kind (noise for an issue with none); optionally shuffled."""
    kinds = dict(tasks.items(tasks.get("bug_kind"), release, "all").select("issue_id", "primary").rows())
    ids = release.frame("issues")["issue_id"].to_list()
    labels = [kinds.get(i) for i in ids]
    if shuffle:
        random.Random(5).shuffle(labels)
    return {i: POST_WORDS[k].split() if k else NOISE for i, k in zip(ids, labels, strict=True)}


@pytest.fixture(scope="module")
def signal_release(tmp_path_factory, synthetic_upstream: Path, no_errata: Path, synthetic: Release) -> Release:
    return open_release(hydrated_release(tmp_path_factory.mktemp("signal"), synthetic_upstream, no_errata,
                                         _signal(synthetic, shuffle=False)))


def test_on_texts_with_signal_tfidf_learns_and_shuffled_texts_teach_it_nothing(
        signal_release: Release, tmp_path_factory, synthetic_upstream: Path, no_errata: Path,
        synthetic: Release) -> None:
    majority = _score("majority", "bug_kind", signal_release)
    learned = _score("tfidf", "bug_kind", signal_release, "triage")
    # Two of the five kinds have 5-6 issues here, so macro-F1 stays well below 1 even with clean signal.
    assert learned > 0.5 > majority + 0.3, (learned, majority)
    shuffled = open_release(hydrated_release(tmp_path_factory.mktemp("shuffled"), synthetic_upstream, no_errata,
                                             _signal(synthetic, shuffle=True)))
    assert _score("tfidf", "bug_kind", shuffled, "triage") < 0.3, "texts that do not match their labels teach nothing"


def test_transfer_scores_a_system_trained_on_posts_against_the_study_and_back(signal_release: Release) -> None:
    frame, result = transfer("tfidf", "so_dl_bugs", "bug_kind", signal_release, n_resamples=50)
    population = tasks.items(tasks.get("bug_kind"), signal_release, "all")
    assert result.task == "bug_kind" and result.n == population.height == frame.height
    assert set(frame["label"]) <= set(dlbugs.BUG_KINDS), "Others is never predicted for a study issue"
    assert result.score > 0.6, "the shared vocabulary transfers"
    back = cli("transfer", "tfidf", "--train", "bug_kind", "--test", "so_dl_bugs", "--release",
               str(signal_release.folder), "--format", "json", "--resamples", "50")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["task"] == "so_dl_bugs" and json.loads(back.stdout)["n"] == 60
    refused = cli("transfer", "tfidf", "--train", "so_dl_bugs", "--test", "stage", "--release",
                  str(signal_release.folder))
    assert refused.returncode == 2 and "share no label" in refused.stderr


def test_the_chat_runner_classifies_posts_with_the_six_definitions(synthetic: Release, tmp_path: Path) -> None:
    from cvreeng_bench.systems.predict import predict

    task = tasks.get("so_dl_bugs")
    gold = dict(tasks.items(task, synthetic, "all").select("issue_id", "primary").rows())

    from tests.test_predict import shapes

    def answer(body: dict) -> str:  # every answer shape, by post: bare, JSON, upper case, prose, fenced, garbage
        text = "\n".join(m["content"] for m in body["messages"][1:])  # a re-ask follows the post's message
        issue = next(i for i in gold if f"Post {i}" in text)
        return shapes(task)[int(issue) % 6].format(label=gold[issue], upper=gold[issue].upper())

    model = Model(answer=answer)
    with serve(model) as url:
        predict(task, synthetic, model="gpt-test", api_url=url, out=tmp_path / "p.jsonl", progress=False)
    system = model.requests[0]["messages"][0]["content"]
    assert all(dlbugs.definition(label) in system for label in dlbugs.LABELS)
    assert "Post " in model.requests[0]["messages"][-1]["content"], "the post's text is in the prompt"
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert len(rows) == 60
    for row in rows:
        garbage = int(row["issue_id"]) % 6 == 5
        assert row["abstained"] is garbage and row["label"] == ("" if garbage else gold[row["issue_id"]])


def test_the_card_states_the_license_and_the_attribution_of_the_texts(synthetic_release: Path) -> None:
    card = (synthetic_release / "README.md").read_text("utf-8")
    assert "Apache-2.0" in card and "CC BY-SA" in card and "https://stackoverflow.com/q/" in card
    assert "60 Stack Overflow questions" in card


def test_validation_names_a_post_label_outside_the_declared_classes(synthetic: Release) -> None:
    import polars as pl

    from cvreeng_bench.pipeline.validate import validate

    posts = synthetic.frame("so_posts").with_columns(
        pl.when(pl.col("post_id") == pl.col("post_id").min()).then(pl.lit("bugs")).otherwise(pl.col("label"))
        .alias("label"))
    problems = [str(p) for p in validate({"so_posts": posts})]
    assert any("so_posts row 0" in p and "label 'bugs' is not in the label table" in p for p in problems), problems


def test_the_scorer_names_the_sources_as_the_source_registry_does() -> None:
    from cvreeng_bench.scoring.populations import POPULATIONS

    assert {p.name for p in POPULATIONS} == set(sources.SOURCES.names())
    assert {t.source.name for t in tasks.REGISTRY} == set(sources.SOURCES.names())
    assert all(isinstance(t.source, type(tasks.STUDY)) for t in tasks.REGISTRY), "a population object, not a string"
