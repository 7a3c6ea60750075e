"""Building a release from tiny synthetic upstream files: bad input is refused with every problem listed
(file, row, column, value) and nothing is written; good input gives a reproducible release."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cvreeng_bench import build as builder
from cvreeng_bench.layout import DATASET_VERSION, MANIFEST, version_tuple
from cvreeng_bench.pipeline import write as rel
from cvreeng_bench.release import Release
from tests.conftest import DEFECT_HEADER, defect_row, non_reengineering_row

NEWER_VERSION = f"{version_tuple(DATASET_VERSION)[0] + 1}.0.0"


def build(upstream: Path, out: Path, errata: Path | None = None) -> Path:
    """Build from a tiny upstream; the shipped errata name real defects, so these builds use none."""
    folder, _ = builder.build(out, upstream, verify=False, progress=False,
                              errata_path=errata or upstream / "no-errata.csv")
    return folder


def audit_release(folder: Path) -> list:
    return Release(folder).audit()


def data_path(folder: Path, config: str) -> Path:
    return Release(folder).path(config)


def test_a_tiny_upstream_builds_a_release_with_canonical_labels(tiny_upstream, tmp_path: Path) -> None:
    folder = build(tiny_upstream(), tmp_path / "out")
    defects = pl.read_parquet(data_path(folder, "defects"))
    assert defects["defect_id"].to_list() == ["ultralytics/yolov3#1/1", "ultralytics/yolov3#1/2",
                                              "tensorflow/models#5/1"]
    assert defects["impact"].to_list() == ["Crash", "Numerical error", "Crash"]
    assert defects["raw_impact"].to_list() == ["Crash", "Numerical Instability", "Crash"]
    assert defects["framework"].to_list() == ["PyTorch", "PyTorch", "TensorFlow"]
    assert defects["root_cause_stage"].to_list() == ["Environment"] * 3
    issues = pl.read_parquet(data_path(folder, "issues"))
    assert issues.sort("issue_id")["n_defects"].to_list() == [1, 2, 0]  # tensorflow#5, yolov3#1, yolov3#9
    assert not (folder / "README.md").read_text().count("${")


def test_build_refuses_an_unknown_impact_label(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream([defect_row(0, Impacts="Explodes")])
    with pytest.raises(rel.BuildError) as caught:
        build(upstream, tmp_path / "out")
    message = str(caught.value)
    assert "CV_Reengineeirng_Defects.csv row 2, column 'Impacts'" in message
    assert "'Explodes'" in message
    assert not (tmp_path / "out").exists()


def test_build_lists_every_problem_not_just_the_first(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream([defect_row(0, Impacts="Explodes"), defect_row(1, number=2, Reporter="Tourist"),
                              defect_row(2, number=3, **{"Part of Implementation": "Deployment"})])
    with pytest.raises(rel.BuildError) as caught:
        build(upstream, tmp_path / "out")
    wheres = [p.where for p in caught.value.problems if p.severity == "error"]
    assert wheres == ["CV_Reengineeirng_Defects.csv row 2, column 'Impacts'",
                      "CV_Reengineeirng_Defects.csv row 3, column 'Reporter'",
                      "CV_Reengineeirng_Defects.csv row 4, column 'Part of Implementation'"]


def test_build_refuses_a_missing_column(tiny_upstream, tmp_path: Path) -> None:
    header = [c for c in DEFECT_HEADER if c != "Root Causes"]
    with pytest.raises(rel.BuildError, match="column 'Root Causes': required column is missing"):
        build(tiny_upstream(header=header), tmp_path / "out")


def test_build_refuses_an_empty_file(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream()
    next(upstream.rglob("CV_Reengineeirng_Defects.csv")).write_bytes(b"")
    with pytest.raises(rel.BuildError, match="CV_Reengineeirng_Defects.csv: empty file"):
        build(upstream, tmp_path / "out")


def test_build_refuses_a_file_that_is_not_utf8_and_names_the_row(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream([defect_row(0), defect_row(1, number=4, Label="caf\u00e9")])
    path = next(upstream.rglob("CV_Reengineeirng_Defects.csv"))
    path.write_bytes(path.read_bytes().replace("café".encode(), "café".encode("latin-1")))
    with pytest.raises(rel.BuildError, match=r"CV_Reengineeirng_Defects.csv row 3: not UTF-8: byte 0xe9"):
        build(upstream, tmp_path / "out")


def test_build_refuses_a_duplicated_defect(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream([defect_row(0), defect_row(0, number=2)])
    with pytest.raises(rel.BuildError, match=r"row 3, column '': duplicated defect: upstream row id '0' also on row 2"):
        build(upstream, tmp_path / "out")


def test_build_refuses_a_repository_outside_table4(tiny_upstream, tmp_path: Path) -> None:
    with pytest.raises(rel.BuildError, match="'someone/else' is not one of the paper's 27"):
        build(tiny_upstream([defect_row(0, "someone/else")]), tmp_path / "out")


def test_a_non_reengineering_file_in_another_layout_is_refused(tiny_upstream, tmp_path: Path) -> None:
    row = non_reengineering_row(0, "ultralytics/yolov3", 9)
    row[5] = "Solo Repository"  # a corrected file would put the repo type here: our reader must notice
    with pytest.raises(rel.BuildError, match="layout check failed"):
        build(tiny_upstream(non_reengineering=[row]), tmp_path / "out")


def test_a_failed_build_leaves_the_previous_release_untouched(tiny_upstream, tmp_path: Path) -> None:
    folder = build(tiny_upstream(), tmp_path / "out")
    before = (folder / MANIFEST).read_bytes()
    with pytest.raises(rel.BuildError):
        build(tiny_upstream([defect_row(0, Impacts="Explodes")]), tmp_path / "out")
    assert (folder / MANIFEST).read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_build_will_not_replace_a_folder_that_is_not_a_release(tiny_upstream, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(rel.BuildError, match="is not a release folder"):
        build(tiny_upstream(), tmp_path / "mine")
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


def test_rebuilding_gives_the_same_bytes_and_content_hash(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream()
    a, b = build(upstream, tmp_path / "a"), build(upstream, tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for name in files:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_validate_detects_data_changed_after_the_build(tiny_upstream, tmp_path: Path) -> None:
    folder = build(tiny_upstream(), tmp_path / "out")
    assert [p for p in audit_release(folder) if p.severity == "error"] == []
    path = data_path(folder, "defects")
    frame = pl.read_parquet(path).with_columns(pl.lit("Hang").alias("impact"))
    rel.write_parquet(frame, path, "defects")
    problems = [str(p) for p in audit_release(folder) if p.severity == "error"]
    assert any("content hash" in p for p in problems)


def test_validate_names_a_label_outside_the_taxonomy(tiny_upstream, tmp_path: Path) -> None:
    folder = build(tiny_upstream(), tmp_path / "out")
    path = data_path(folder, "defects")
    rel.write_parquet(pl.read_parquet(path).with_columns(pl.lit("Explodes").alias("impact")), path, "defects")
    assert any("defects.impact" in p.where and "Explodes" in p.message for p in audit_release(folder))


def test_an_erratum_changes_one_label_and_ships_in_the_release(tiny_upstream, tmp_path: Path) -> None:
    errata = tmp_path / "errata.csv"
    errata.write_text("defect_id,field,old_value,new_value,reason,version\n"
                      f"ultralytics/yolov3#1/2,impact,Numerical error,Crash,re-read the thread,{DATASET_VERSION}\n"
                      f"tensorflow/models#5/1,withdrawn,,,not a reengineering defect,{DATASET_VERSION}\n")
    folder = build(tiny_upstream(), tmp_path / "out", errata)
    defects = pl.read_parquet(data_path(folder, "defects"))
    assert defects["impact"].to_list() == ["Crash", "Crash", "Crash"]
    assert defects["raw_impact"][1] == "Numerical Instability"
    assert defects["withdrawn"].to_list() == [False, False, True]
    assert defects.height == 3, "a withdrawn defect stays"
    assert (folder / "errata.csv").read_text() == errata.read_text()


def test_an_erratum_that_does_not_match_the_current_value_is_refused(tiny_upstream, tmp_path: Path) -> None:
    errata = tmp_path / "errata.csv"
    errata.write_text("defect_id,field,old_value,new_value,reason,version\n"
                      f"ultralytics/yolov3#1/1,impact,Hang,Crash,typo,{DATASET_VERSION}\n"
                      f"ultralytics/yolov3#1/1,stage,Environment,Training,moved,{NEWER_VERSION}\n")
    with pytest.raises(rel.BuildError) as caught:
        build(tiny_upstream(), tmp_path / "out", errata)
    text = str(caught.value)
    assert "errata.csv row 2, column 'old_value'" in text
    assert "errata.csv row 3, column 'version'" in text


def test_the_manifest_records_versions_upstream_and_hash(tiny_upstream, tmp_path: Path) -> None:
    info = json.loads((build(tiny_upstream(), tmp_path / "out") / MANIFEST).read_text())
    assert info["dataset_version"] == DATASET_VERSION
    assert info["upstream"]["commit"].startswith("4cb1d7ee")
    assert info["upstream"]["verified"] is False
    assert len(info["content_sha256"]) == 64


def test_an_issue_in_both_upstream_files_is_refused(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream(non_reengineering=[non_reengineering_row(0, "ultralytics/yolov3", 1)])
    with pytest.raises(rel.BuildError, match=r"Defects.csv row 2: issue ultralytics/yolov3#1 is also"):
        build(upstream, tmp_path / "out")


def test_a_rebuild_never_deletes_a_file_the_user_added(tiny_upstream, tmp_path: Path) -> None:
    folder = build(tiny_upstream(), tmp_path / "out")
    (folder / "my-notes.txt").write_text("precious")
    with pytest.raises(rel.BuildError, match="holds files its release did not write: my-notes.txt"):
        build(tiny_upstream(), folder)
    assert (folder / "my-notes.txt").read_text() == "precious"


def test_a_folder_with_a_stray_release_json_is_not_a_release(tiny_upstream, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "release.json").write_text('{"name": "my own project"}')
    (tmp_path / "mine" / "data.csv").write_text("a,b\n")
    with pytest.raises(rel.BuildError, match=r"did not write: data.csv"):
        build(tiny_upstream(), tmp_path / "mine")
    assert (tmp_path / "mine" / "data.csv").exists()


def test_out_on_a_file_or_under_a_read_only_folder_is_refused_cleanly(tiny_upstream, tmp_path: Path) -> None:
    import os

    (tmp_path / "file").write_text("x")
    with pytest.raises(rel.BuildError, match="is a file"):
        build(tiny_upstream(), tmp_path / "file")
    with pytest.raises(rel.BuildError, match="cannot write the release there"):
        build(tiny_upstream(), tmp_path / "file" / "rel")  # a parent that is a file: no folder can go there
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # root writes anywhere; everyone else is refused
            with pytest.raises(rel.BuildError, match="cannot write the release there"):
                build(tiny_upstream(), locked / "rel")
    finally:
        locked.chmod(0o700)


def test_stale_staging_folders_are_cleaned_and_a_concurrent_build_is_told(tiny_upstream, tmp_path: Path) -> None:
    import fcntl

    (tmp_path / ".out.cvreeng-build-abc123").mkdir()  # what a killed build leaves
    (tmp_path / ".out.cvreeng-build-abc123" / "half.parquet").write_text("x")
    (tmp_path / ".out.backup").mkdir()  # a user's own folder that merely looks like a staging name
    build(tiny_upstream(), tmp_path / "out")
    assert not (tmp_path / ".out.cvreeng-build-abc123").exists()
    assert (tmp_path / ".out.backup").is_dir(), "a name the build did not make is never touched"
    with (tmp_path / ".out.lock").open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(rel.BuildError, match="another build is writing this release"):
            build(tiny_upstream(), tmp_path / "out")


def test_the_manifest_lists_every_file_of_the_release(tiny_upstream, tmp_path: Path) -> None:
    folder = build(tiny_upstream(), tmp_path / "out")
    info = json.loads((folder / MANIFEST).read_text())
    assert info["files"] == sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                                   if p.is_file() and p.name != MANIFEST)


def test_a_zip_bomb_workbook_is_refused_before_it_is_opened(tiny_upstream, tmp_path: Path) -> None:
    import zipfile

    upstream = tiny_upstream()
    book = next(upstream.rglob("*.xlsx"))
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (20 << 20))  # 20 MiB that pack to kilobytes
    with pytest.raises(rel.BuildError, match="refused before opening"):
        build(upstream, tmp_path / "out")


def test_a_giant_cell_is_a_row_error_not_a_crash(tiny_upstream, tmp_path: Path) -> None:
    upstream = tiny_upstream([defect_row(0, Impacts="x" * 200_000)])
    with pytest.raises(rel.BuildError, match=r"row 2: not a readable CSV row: field larger than field limit"):
        build(upstream, tmp_path / "out")


def test_the_shipped_errata_apply_cleanly_to_the_pinned_artifact(mirror: Path, tmp_path: Path) -> None:
    from cvreeng_bench.pipeline.errata import ERRATA_FILE, read_errata

    folder, problems = builder.build(tmp_path / "rel", mirror, progress=False)  # the shipped errata.csv
    assert [p for p in problems if p.severity == "error"] == []
    assert (folder / "errata.csv").read_bytes() == ERRATA_FILE.read_bytes()
    assert json.loads((folder / MANIFEST).read_text())["dataset_version"] == DATASET_VERSION
    fixes, _ = read_errata(ERRATA_FILE)
    defects = pl.read_parquet(data_path(folder, "defects"))
    for fix in fixes:  # each correction is in the release
        row = defects.filter(pl.col("defect_id") == fix["defect_id"]).row(0, named=True)
        assert row["withdrawn"] if fix["field"] == "withdrawn" else row[fix["field"]] == fix["new_value"]
