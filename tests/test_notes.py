"""The analysts' notes: the 2022 workbook as a pinned optional source, a note linked to a final defect only where
that cannot be wrong, two text tracks on the study's dimensions, and a symptom track that reads nothing else."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from cvreeng_bench import api
from cvreeng_bench.pipeline import sources
from cvreeng_bench.pipeline.notes import LINKED, link_notes, read_notes
from cvreeng_bench.scoring.inputs import views
from cvreeng_bench.scoring.populations import TEXT
from cvreeng_bench.scoring.tasks import get
from tests.conftest import cli
from tests.synthetic import NOTED, write_upstream


def notes_of(release) -> pl.DataFrame:
    return api.load("analyst_notes", release)


def test_a_note_links_to_a_final_defect_only_where_it_cannot_be_wrong(synthetic) -> None:
    notes = notes_of(synthetic)
    status = dict(notes.group_by("link_status").len().rows())
    assert status == {"linked": NOTED + 4, "defect count differs": 1, "not in the final dataset": 1,
                      "not a reengineering issue": 1}, "59 issues with one defect, two with two, 1007 with one row"
    two = notes.filter(pl.col("issue_id") == "tensorflow/models#1000").sort("position")
    assert two["defect_id"].to_list() == ["tensorflow/models#1000/1", "tensorflow/models#1000/2"], "by position"
    changed = notes.filter(pl.col("issue_number") == 1007).row(0, named=True)
    assert changed["defect_id"] is None and "1 row(s) for the issue, the final dataset 2" in changed["link_reason"]
    cased = notes.filter(pl.col("issue_number") == 1008).row(0, named=True)
    assert cased["issue_id"] == "tensorflow/models#1008" and cased["link_status"] == LINKED, "GitHub ignores case"
    assert notes.filter(pl.col("issue_number") == 5000)["issue_id"].to_list() == ["tensorflow/models#5000"]
    assert notes.filter(pl.col("link_status") != LINKED)["defect_id"].null_count() == 3
    defects = api.load("defects", synthetic)
    linked = notes.filter(pl.col("defect_id").is_not_null()).join(defects, on="defect_id", suffix="_final")
    assert (linked["stage_2022"] == linked["stage"]).all(), "the synthetic 2022 stage is the final one"
    assert set(notes["manifestation_2022"].drop_nulls()) == {"Basic defects"}, "'Basic errors' is a plain rename"
    assert linked.filter(pl.col("manifestation") != "Basic defects")["changed"].to_list()[0] == ["manifestation"]


def test_an_issue_whose_defect_count_changed_is_never_linked() -> None:
    notes = [{"issue_id": "a/b#1", "position": p, "notes_in_issue": 2} for p in (1, 2)]
    defects = [{"issue_id": "a/b#1", "defect_id": "a/b#1/1", "defect_index": 1}]
    link_notes(notes, defects, [])
    assert [n["defect_id"] for n in notes] == [None, None]
    assert {n["link_status"] for n in notes} == {"defect count differs"}
    notes = [{"issue_id": "A/B#1", "position": 1, "notes_in_issue": 1}]
    link_notes(notes, defects, [])
    assert notes[0]["defect_id"] == "a/b#1/1" and notes[0]["issue_id"] == "a/b#1"


def test_the_workbooks_problems_name_sheet_row_column_and_value(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "notes.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sheet1"
    sheet.append(["URL", "Issue #", "Bugs", "Comments", "Fix", "DL Stage", "Part of Implementation", "Impacts",
                  "Defect Type", "Root Cause", "Manifestation", "Reporter", "Project Type"])
    sheet.append(["https://example.com/a/b/issues/1", 1, "x", None, None, *[None] * 8])
    sheet.append(["https://github.com/a/b/issues/2", 3, "x", None, None, *[None] * 8])
    sheet.append(["https://github.com/a/b/issues/4", 4, "y" * 30_000, None, None, *[None] * 8])
    sheet.append(["https://github.com/a/b/issues/5", 5, "N/A", "none", "fixed", *[None] * 8])
    book.save(path)
    read = read_notes(path)
    shown = [str(p) for p in read.problems]
    assert any("sheet 'Sheet1' row 2, column 'URL'" in s and "not a GitHub issue URL" in s for s in shown)
    assert any("row 3, column 'Issue #'" in s and "differs from the URL's 2" in s for s in shown)
    assert any("row 4, column 'Bugs'" in s and "30000 characters" in s for s in shown)
    assert [(r["issue_id"], r["bugs"], r["comments"], r["fix"]) for r in read.rows] == [("a/b#5", None, None, "fixed")]
    path.write_bytes(b"PK\x03\x04 not a workbook")
    assert "not a readable .xlsx workbook" in str(read_notes(path).problems[0])


def test_a_build_without_the_notes_succeeds_and_says_why(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path / "cache"))
    upstream = write_upstream(tmp_path / "upstream")
    shutil.rmtree(upstream / sources.NOTES.folder / sources.NOTES.commit)
    out = tmp_path / "release"
    built = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(out), "-q")
    assert built.returncode == 0, built.stderr
    info = json.loads(cli("info", "--release", str(out)).stdout)
    assert "analyst_notes" not in info["configs"] and "notes_stage" not in info["task_configs"]
    assert "043ea29a" in info["sources_absent"]["study-notes"]
    shown = cli("tasks", "show", "notes_stage", "--release", str(out))
    assert shown.returncode == 2 and "analyst_notes config, absent from this release" in shown.stderr


def test_a_modified_or_truncated_workbook_is_refused_naming_the_file_and_nothing_is_written(
        tmp_path: Path, mirror: Path) -> None:
    copy = tmp_path / "mirror"
    shutil.copytree(mirror, copy)
    workbook = copy / sources.NOTES.folder / sources.NOTES.commit / sources.NOTES.files[0].path
    workbook.chmod(0o644)
    data = workbook.read_bytes()
    out = tmp_path / "release"
    for damaged in (data[: len(data) // 2], data[:5000] + bytes([data[5000] ^ 1]) + data[5001:]):
        workbook.write_bytes(damaged)
        built = cli("build", "--upstream", str(copy), "--out", str(out), "-q")
        assert built.returncode == 2 and "CV Reengineering Defects.xlsx: sha256 mismatch" in built.stderr
        assert not out.exists(), "nothing written"
    workbook.write_bytes(data[: len(data) // 2])
    built = cli("build", "--upstream", str(copy), "--no-verify", "--out", str(out), "-q")
    assert built.returncode == 2 and "CV Reengineering Defects.xlsx" in built.stderr
    assert "not a readable" in built.stderr
    assert not out.exists()


def test_the_symptom_track_reads_the_bugs_note_and_nothing_else(synthetic) -> None:
    task = get("notes_root_cause")
    notes = notes_of(synthetic).filter(pl.col("defect_id").is_not_null())
    bugs = dict(notes.group_by("issue_id").agg(pl.col("bugs").unique(maintain_order=True)).rows())
    for view in views(task, synthetic, "fold", "symptom"):
        for row in (*view.train, *view.test):
            assert set(row) == {"issue_id", *task.inputs, TEXT}
            assert row[TEXT] == "\n\n".join(bugs[row["issue_id"]])
            assert "the analyst found" not in row[TEXT] and "changed the code" not in row[TEXT]
    analysis = views(task, synthetic, "fold", "analysis")[0]
    assert any("the analyst found" in row[TEXT] for row in analysis.test), "the analysis track reads the findings"
    with pytest.raises(Exception, match="has no track 'triage'"):
        views(task, synthetic, "fold", "triage")


def test_text_and_metadata_systems_are_scored_on_the_same_noted_issues(synthetic) -> None:
    ids = {}
    for name, track in (("metadata", "metadata"), ("majority", "metadata"), ("tfidf", "symptom"),
                        ("tfidf", "analysis")):
        preds = api.baseline(name, "notes_stage", release=synthetic, track=track)
        ids[(name, track)] = set(preds["issue_id"])
        result = api.evaluate(preds, "notes_stage", synthetic, track=track, n_resamples=0)
        assert result.n == NOTED - 1, "the issues whose notes link (1007's do not)"
    assert len({frozenset(v) for v in ids.values()}) == 1
    text = api.evaluate(api.baseline("tfidf", "notes_stage", release=synthetic, track="symptom"), "notes_stage",
                        synthetic, track="symptom", n_resamples=0)
    assert text.score > 0.9, "the synthetic symptom names the stage"


def test_transfer_trains_on_the_posts_text_and_scores_the_notes_symptom(synthetic) -> None:
    frame, result = api.transfer("tfidf", "so_dl_bugs", "notes_bug_kind", synthetic, track="symptom", n_resamples=0)
    population = api.describe("notes_bug_kind", synthetic)["population_size"]
    assert result.task == "notes_bug_kind" and result.track == "symptom" and result.n == frame.height == population
    assert set(frame["label"]) <= set(get("notes_bug_kind").labels)
