"""Hostile upstream files and careless arguments from issue #19's traceback corpus, each replayed: every one
ends in one line naming the file, row or argument, exit 2, no traceback, and no release written."""

from __future__ import annotations

import re
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cvreeng_bench.pipeline import sources
from cvreeng_bench.pipeline.normalize import DEFECT_COLUMNS
from cvreeng_bench.testing import QuietServer
from tests.conftest import cli, write_csv
from tests.synthetic import HEADER, defects, write_upstream

STUDY = Path(sources.STUDY.folder) / sources.STUDY.commit / "Defect-study"
WORKBOOK = "Cohen's Kappa Calculation.xlsx"


def _refused(upstream: Path, tmp_path: Path, *expected: str) -> str:
    out = tmp_path / "release"
    result = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(out), "-q")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and not out.exists()
    for text in expected:
        assert text in result.stderr, (text, result.stderr[-2000:])
    return result.stderr


def _with_defects(tmp_path: Path, change: Callable[[list[dict[str, str]]], list[str] | None]) -> Path:
    """The synthetic upstream with its defects CSV rewritten (``change`` edits the rows, may return a header)."""
    upstream = write_upstream(tmp_path / "upstream")
    rows = defects()
    header = change(rows) or HEADER
    write_csv(upstream / STUDY / "CV_Reengineeirng_Defects.csv", header, rows)
    return upstream


def _with_sheet(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    """The synthetic upstream with the first sheet's XML of its workbook edited."""
    upstream = write_upstream(tmp_path / "upstream")
    book = upstream / STUDY / WORKBOOK
    with zipfile.ZipFile(book) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = edit(parts[sheet].decode()).encode()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return upstream


def test_a_huge_time_slot_is_out_of_range_not_a_crash(tmp_path: Path) -> None:
    def change(rows: list[dict[str, str]]) -> None:
        rows[3]["Time Slot/d"] = "1e30"

    _refused(_with_defects(tmp_path, change), tmp_path, "row 5, column 'Time Slot/d'", "out of range")


@pytest.mark.parametrize("value", ["[---1]", "[[[[" * 50 + "]]]]" * 50, "[1, 2]", "[" + "'a'," * 5000 + "]"])
def test_a_label_list_that_is_not_a_list_of_names_is_named(tmp_path: Path, value: str) -> None:
    def change(rows: list[dict[str, str]]) -> None:
        rows[0]["Label"] = value

    stderr = _refused(_with_defects(tmp_path, change), tmp_path, "row 2, column 'Label'", "cannot read the label list")
    assert len(stderr) < 5000, "the echoed value is cut"


def test_a_repeated_header_column_is_refused_instead_of_silently_winning(tmp_path: Path) -> None:
    def change(rows: list[dict[str, str]]) -> list[str]:
        return [*HEADER, "Impacts"]

    _refused(_with_defects(tmp_path, change), tmp_path, "row 1, column 'Impacts'", "appears 2 times")


def test_a_flood_of_rows_is_refused_before_any_row_is_converted(tmp_path: Path) -> None:
    upstream = write_upstream(tmp_path / "upstream")
    target = upstream / STUDY / "CV_Reengineeirng_Defects.csv"
    line = ",".join(["1"] * len(DEFECT_COLUMNS))
    target.write_text(",".join(DEFECT_COLUMNS) + "\n" + "\n".join([line] * 25_000) + "\n", encoding="utf-8")
    start = time.monotonic()
    _refused(upstream, tmp_path, "more than 20000 data rows")
    assert time.monotonic() - start < 20


@pytest.mark.parametrize(("value", "said"), [
    ("1e400", "row 2, column 'Issue #'"), ("-3", "row 2, column 'Issue #'"), ("3.5", "row 2, column 'Issue #'"),
    ("nan", "the sheet cannot be read")])
def test_an_issue_number_in_the_workbook_that_is_no_number_is_named(tmp_path: Path, value: str, said: str) -> None:
    def edit(xml: str) -> str:  # the first data row's Issue # cell (A2) becomes a number cell holding value
        return re.sub(r'<c r="A2"[^>]*>.*?</c>', f'<c r="A2" t="n"><v>{value}</v></c>', xml, count=1)

    _refused(_with_sheet(tmp_path, edit), tmp_path, f"{WORKBOOK} sheet 'Pilot1'", said)


def test_a_declared_sheet_size_is_never_trusted(tmp_path: Path) -> None:
    upstream = _with_sheet(tmp_path, lambda xml: re.sub(r'<dimension ref="[^"]*"/>',
                                                        '<dimension ref="A1:XFD1048576"/>', xml))
    start = time.monotonic()
    result = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(tmp_path / "release"), "-q")
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - start < 30, "the sheet is read by its cells, not its claimed size"


@pytest.mark.parametrize("attack", ["entity", "laughs", "index", "negative"])
def test_a_sheet_that_does_not_parse_is_named_not_a_traceback(tmp_path: Path, attack: str) -> None:
    def edit(xml: str) -> str:
        if attack in ("index", "negative"):  # a shared-string cell pointing past the table, or before it
            index = 99999 if attack == "index" else -1
            return re.sub(r'<c r="B2"[^>]*>.*?</c>', f'<c r="B2" t="s"><v>{index}</v></c>', xml, count=1)
        if attack == "entity":  # an external entity (XXE)
            doctype = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            body = re.sub(r'<c r="B2"[^>]*>.*?</c>', '<c r="B2" t="inlineStr"><is><t>&e;</t></is></c>', xml, count=1)
        else:  # billion laughs
            levels = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
            doctype = f'<!DOCTYPE x [<!ENTITY l0 "ha">{levels}]>'
            body = re.sub(r'<c r="B2"[^>]*>.*?</c>', '<c r="B2" t="inlineStr"><is><t>&l9;</t></is></c>', xml, count=1)
        return body.replace("?>", "?>" + doctype, 1)

    upstream = _with_sheet(tmp_path, edit)
    result = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(tmp_path / "release"), "-q")
    assert "Traceback" not in result.stderr and "root:x:0:0" not in result.stdout + result.stderr
    assert result.returncode in (0, 2), result.stderr
    if result.returncode == 2:
        assert WORKBOOK in result.stderr
    if attack == "negative":  # openpyxl alone reads index -1 as the table's last string: a silent wrong value
        assert result.returncode == 2 and "negative shared-string index" in result.stderr


@pytest.mark.parametrize("args", [
    ["compare", "{a}", "{a}", "--task", "stage", "--rounds", "100000000"],
    ["evaluate", "{a}", "--task", "stage", "--seed", "-1"],
    ["evaluate", "{a}", "--task", "stage", "--resamples", "100000000"],
    ["sql", "-- only a comment"],
    ["sql", "SELECT 1; SELECT 2"],
])
def test_careless_arguments_get_one_line_and_exit_2(synthetic_release: Path, tmp_path: Path, args: list[str]) -> None:
    predictions = tmp_path / "a.csv"
    predictions.write_text("issue_id,label\n", encoding="utf-8")
    result = cli(*(a.format(a=predictions) for a in args), "--release", str(synthetic_release))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr


def test_a_non_json_hub_answer_is_one_line(synthetic_release: Path, tmp_path: Path) -> None:
    import http.server
    import threading

    class Html(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = b"<html>maintenance</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer  # noqa: N815 - the names http.server dispatches to

        def log_message(self, *args: object) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        copy = tmp_path / "release"
        shutil.copytree(synthetic_release, copy)
        result = cli("publish", "--repo-id", "org/name", "--endpoint", f"http://127.0.0.1:{server.server_address[1]}",
                     "--release", str(copy))
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
