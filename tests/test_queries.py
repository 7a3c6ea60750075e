"""The SQL files: one helper each, plain DuckDB that runs the same in a shell over the release folder,
filters that name what is wrong, and the rq / report commands."""

from __future__ import annotations

import html
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

import cvreeng_bench
from cvreeng_bench import queries
from cvreeng_bench.api import open_release
from cvreeng_bench.report import render
from cvreeng_bench.resources import resource_dir
from tests.conftest import board_of_baselines, cli

ROOT = Path(__file__).resolve().parents[1]


def test_every_sql_file_has_a_helper_and_every_helper_a_file() -> None:
    assert set(queries.query_files()) == {q.name for q in queries.QUERIES}
    assert len({q.alias for q in queries.QUERIES}) == len(queries.QUERIES)


def test_the_sql_runs_unchanged_in_a_plain_duckdb_session_over_the_release(synthetic_release: Path,
                                                                           monkeypatch) -> None:
    monkeypatch.chdir(synthetic_release)  # as `duckdb` started in the synthetic_release folder would see it
    con = duckdb.connect()
    con.execute((synthetic_release / "views.sql").read_text())
    for path in sorted(resource_dir("queries").glob("*.sql")):
        shell = con.sql(path.read_text()).pl()
        api = cvreeng_bench.rq(path.stem, synthetic_release)
        try:
            assert_frame_equal(shell, api)
        except AssertionError as error:
            raise AssertionError(f"{path.name}: {error}") from error


def test_a_filter_narrows_every_breakdown(release: Path) -> None:
    yolo = cvreeng_bench.rq("fig9", release, family="YOLO")
    assert yolo["count"].sum() == 21 + 21 + 13 + 19 + 4
    zoo = cvreeng_bench.rq("fig9", release, repo_type="Zoo")
    assert zoo["count"].sum() == 140
    both = cvreeng_bench.rq("fig7", release, repo_type="Zoo", framework="PyTorch")
    expected = cvreeng_bench.load("defects", release).filter(
        (pl.col("repo_type") == "Zoo") & (pl.col("framework") == "PyTorch")).height
    assert both["count"].sum() == expected > 0
    assert cvreeng_bench.rq("table4", release, family="YOLO").height == 5


def test_an_unknown_filter_column_or_value_is_named(synthetic_release: Path) -> None:
    with pytest.raises(queries.QueryError, match="unknown filter column 'famly'"):
        cvreeng_bench.rq("fig9", synthetic_release, famly="YOLO")
    with pytest.raises(queries.QueryError, match=r"family = 'YOLOv9'; values: CenterNet"):
        cvreeng_bench.rq("fig9", synthetic_release, family="YOLOv9")


def test_an_unknown_query_lists_the_available_ones_and_all_only_where_it_is_taken(synthetic_release: Path) -> None:
    with pytest.raises(queries.QueryError, match="fig5 .*fig10 .*shares[^,]*$"):
        queries.find("fig55")
    with pytest.raises(queries.QueryError, match="fig5 .*fig10 .*or 'all'"):
        queries.find("fig55", all_too=True)
    with pytest.raises(queries.QueryError, match=r"rq\(\) returns one figure; for every one: .*rq all"):
        cvreeng_bench.rq("all", synthetic_release)
    result = cli("rq", "fig55", "--release", str(synthetic_release))
    assert result.returncode == 2 and "or 'all'" in result.stderr


def test_rq_csv_is_long_form_with_count_and_percent(release: Path) -> None:
    result = cli("rq", "fig9", "--release", str(release), "--format", "csv")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "stage,impact,count,percent"
    assert lines[1].startswith("Environment,Crash,130,82.8")


def test_rq_all_prints_every_query_and_draws_charts(synthetic_release: Path, tmp_path: Path) -> None:
    result = cli("rq", "all", "--release", str(synthetic_release), "--format", "markdown", "--chart",
                 str(tmp_path / "fig.svg"))
    assert result.returncode == 0, result.stderr
    for query in queries.QUERIES:
        assert query.title in result.stdout
    svgs = sorted(p.name for p in tmp_path.glob("*.svg"))
    assert svgs == sorted(f"{q.alias}.svg" for q in queries.FIGURES)
    assert "<svg" in (tmp_path / "fig9.svg").read_text()


@pytest.mark.parametrize("suffix", [".png", ".html"])
def test_a_chart_can_be_written_without_a_browser(synthetic_release: Path, tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"fig10{suffix}"
    assert cli("rq", "fig10", "--release", str(synthetic_release), "--chart", str(target)).returncode == 0
    data = target.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data


def test_a_user_mistake_in_rq_is_one_line(synthetic_release: Path) -> None:
    result = cli("rq", "fig9", "--release", str(synthetic_release), "--where", "famly=YOLO")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown filter column 'famly'" in result.stderr


def test_the_report_has_six_figures_tables_and_tests(synthetic_release: Path) -> None:
    page = render(open_release(synthetic_release))
    assert page.count("<svg") == 6
    assert page.count("Chi-square test of independence") == 6
    assert "Cram&eacute;r's V" in page and "Unreliable" in page
    assert "tensorflow/models" in page
    assert "http://" not in page.replace("http://www.w3.org", "")  # self-contained: nothing to fetch


def _chromium() -> str:
    """The headless browser the page tests use: required in CI (.ci/run installs it), else skipped with why."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install chromium (see .ci/run)")
        pytest.skip("chromium is not installed")
    return browser


def test_the_report_renders_in_headless_chromium(synthetic_release: Path, tmp_path: Path) -> None:
    browser = _chromium()
    result = cli("report", "--release", str(synthetic_release), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", (tmp_path / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert dom.count("<figure class=\"chart\"><svg") == 6
    assert dom.count("<path") > 100  # bars, axes and legends were parsed as SVG shapes, not left as text
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1200,3000",
                    (tmp_path / "report.html").as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 50_000


def test_the_wheel_ships_the_sql_files_and_cards(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("cvreeng_bench-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for query in queries.QUERIES:
        assert f"cvreeng_bench/queries/{query.name}.sql" in names
    assert "cvreeng_bench/data_cards/dataset_card.md" in names
    assert "cvreeng_bench/errata.csv" in names
    only_the_package = {"cvreeng_bench", f"cvreeng_bench-{cvreeng_bench.__version__}.dist-info"}
    assert {name.split("/")[0] for name in names} <= only_the_package, "no benchmarks or tests in the wheel"


def test_a_chart_is_refused_before_anything_is_printed(synthetic_release: Path, tmp_path: Path) -> None:
    for args in (["table4", "--chart", str(tmp_path / "t4.png")], ["shares", "--chart", str(tmp_path / "s.svg")],
                 ["fig9", "--chart", str(tmp_path / "fig9.pdf")]):
        result = cli("rq", *args, "--release", str(synthetic_release))
        assert result.returncode == 2 and result.stdout == "", args
        assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_chart_files_are_named_without_doubling_and_carry_the_filter(synthetic_release: Path, tmp_path: Path) -> None:
    result = cli("rq", "all", "--release", str(synthetic_release), "--where", "repo_type=Zoo", "--chart",
                 str(tmp_path / "figs" / "fig.svg"), "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == [f"fig{n}.svg" for n in (10, 5, 6, 7, 8, 9)]
    assert "repo_type = Zoo" in (tmp_path / "figs" / "fig9.svg").read_text()
    named = cli("rq", "all", "--release", str(synthetic_release), "--chart", str(tmp_path / "paper.json"), "--format",
                "csv")
    assert named.returncode == 0 and (tmp_path / "paper_fig5.json").is_file()


def test_png_charts_are_exported_at_twice_their_size_and_labels_stay_readable(synthetic_release: Path,
                                                                              tmp_path: Path) -> None:
    import struct

    from cvreeng_bench import charts

    one = cli("rq", "fig8", "--release", str(synthetic_release), "--chart", str(tmp_path / "a.png"), "--scale", "1")
    two = cli("rq", "fig8", "--release", str(synthetic_release), "--chart", str(tmp_path / "b.png"))
    assert one.returncode == two.returncode == 0

    def width(path: Path) -> int:
        return struct.unpack(">I", path.read_bytes()[16:20])[0]

    assert width(tmp_path / "b.png") == 2 * width(tmp_path / "a.png") >= 1500
    assert charts.ink("#eeca3b") == "black" and charts.ink("#4c78a8") == "white"
    spec = json.loads(charts.figure(queries.find("fig8"), cvreeng_bench.rq("fig8", synthetic_release)).to_json())
    inks = {v["ink"] for v in next(iter(spec["datasets"].values()))}
    assert inks == {"black", "white"}, "light segments get dark labels"


def test_the_release_folder_follows_the_umask(tiny_upstream, tmp_path: Path) -> None:
    from cvreeng_bench.build import build

    previous = os.umask(0o022)
    try:
        upstream = tiny_upstream()
        folder, _ = build(tmp_path / "rel", upstream, verify=False, progress=False,
                          errata_path=upstream / "no-errata.csv")
    finally:
        os.umask(previous)
    assert folder.stat().st_mode & 0o777 == 0o755


def test_the_sql_command_runs_a_query_and_its_shell_reads_statements(synthetic_release: Path, monkeypatch,
                                                                     capsys) -> None:
    release = synthetic_release  # 96 defects in 114 sampled issues
    result = cli("sql", "SELECT count(*) AS n FROM defects", "--release", str(release), "--format", "csv")
    assert result.returncode == 0 and result.stdout.splitlines() == ["n", "96"]
    from cvreeng_bench import shell
    from cvreeng_bench.api import open_release

    lines = iter(["SELECT count(*) AS n", "FROM issues;", "SELEC nonsense;", ".quit"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(lines))
    assert shell.interactive(open_release(release), use_duckdb=False) == 0
    captured = capsys.readouterr()
    assert "114" in captured.out and "error:" in captured.err


def test_the_readme_duckdb_snippet_runs_as_written(release: Path) -> None:
    from cvreeng_bench.shell import duckdb_shell

    binary = duckdb_shell()
    if binary is None:
        pytest.skip("the DuckDB shell is not installed (pip install duckdb-cli, part of the dev extra)")
    readme = (ROOT / "README.md").read_text()
    snippet = readme.split("<!-- duckdb-snippet -->")[1].split("```sh")[1].split("```")[0].strip()
    assert snippet.startswith("cd release && ../.venv/bin/duckdb ")
    command = snippet.removeprefix("cd release && ").replace("../.venv/bin/duckdb", shlex.quote(binary), 1)
    result = subprocess.run(command, shell=True, cwd=release, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "Environment" in result.stdout and "Crash" in result.stdout and "130" in result.stdout


# Appended to a copy of a page: after layout, record whether anything widens the page past the window.
OVERFLOW_PROBE = """<script>
const d = document.documentElement;
const out = [...document.querySelectorAll("table, svg, figure, .scroll, .box, pre")]
  .filter(e => !e.closest(".scroll, .box, figure") || e.matches(".scroll, .box, figure"))
  .filter(e => e.getBoundingClientRect().right > d.clientWidth + 1).map(e => e.tagName + "." + e.className);
const first = document.querySelector("table td:first-child");
const rows = [...document.querySelectorAll("table.sortable tbody tr, section table tr")].map(r => r.offsetHeight);
const tall = [...document.querySelectorAll("table.sortable tbody td")].sort((a, b) => b.offsetHeight - a.offsetHeight)
  .slice(0, 2).map(c => c.offsetHeight + ":" + c.offsetWidth + ":" + c.textContent.slice(0, 80));
const labels = [...document.querySelectorAll("figure svg text")].map(t => t.getBoundingClientRect().height)
  .filter(h => h > 0);
document.body.setAttribute("data-probe", JSON.stringify({scroll: d.scrollWidth, client: d.clientWidth, out: out,
  first: first ? getComputedStyle(first).position : null, row: rows.length ? Math.max(...rows) : 0,
  label: labels.length ? Math.min(...labels) : null, tall: tall,
  overview: !!document.querySelector("table.overview")}));
</script>"""


def _overflow(page: Path, browser: str, tmp_path: Path, width: int = 1280) -> dict:
    probed = page.with_name(f"probed-{page.name}")
    probed.write_text(page.read_text("utf-8").replace("</body>", OVERFLOW_PROBE + "</body>"), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--hide-scrollbars", f"--window-size={width},2000",
             f"--user-data-dir={tmp_path / f'profile{width}'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", probed.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, dom[:500]
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.parametrize("page", ["report", "leaderboard"])
def test_at_390_1280_and_1920_px_pages_keep_to_the_window_with_short_rows_and_readable_charts(
        synthetic_release: Path, tmp_path: Path, page: str) -> None:
    """What a reader meets on a phone, a laptop and a wide screen: nothing widens the page past the window, every
    table row stays under 80 px (a wide table scrolls in its box instead of wrapping each cell), chart labels keep
    at least 7 px, and the board opens with its overview of every system on every task. (Headless Chromium
    widens a window narrower than 500 px to 500: the 390 px run measures a 500 px page.)"""
    browser = _chromium()
    args = ["report"]
    if page == "leaderboard":  # a board with current entries of this release, names long enough to wrap
        board = board_of_baselines(synthetic_release, tmp_path / "board.jsonl", "root_cause",
                                   "a system with a rather long descriptive name, {}, to wrap ")
        args = ["leaderboard", "render", "--board", str(board)]
    result = cli(*args, "--release", str(synthetic_release), "--out", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    probes = {width: _overflow(tmp_path / "out" / f"{page}.html", browser, tmp_path, width)
              for width in (390, 1280, 1920)}
    for width, probe in probes.items():
        assert probe["scroll"] <= probe["client"] and probe["out"] == [], (width, probe)
        assert probe["first"] == "sticky", "a wide table scrolls inside its box with its first column in view"
        assert probe["client"] <= max(width, 500)
        assert 0 < probe["row"] < 80, (width, probe)
        assert probe["label"] is not None and probe["label"] >= 7, (width, probe)
        assert probe["overview"] is (page == "leaderboard")


def test_report_tables_align_text_left_numbers_right_and_notes_start_as_sentences(synthetic_release: Path) -> None:
    page = render(open_release(synthetic_release))
    shares = page.split("<section id='shares'>")[1]
    first_row = shares.split("</tr>")[1]
    assert first_row.startswith("<tr><td>") and "<td class='n'>" in first_row, "text left, numbers right"
    notes = re.findall(r"\(n = \d+\)\. (\w)", page)
    assert len(notes) == 6 and all(n.isupper() for n in notes)


def test_a_figure_of_many_categories_gives_each_its_own_colour(synthetic_release: Path) -> None:
    from cvreeng_bench import charts

    query = queries.find("fig10")
    spec = charts.figure(query, cvreeng_bench.rq("fig10", synthetic_release)).to_dict()
    scale = next(layer["encoding"]["color"]["scale"] for layer in spec["layer"] if "domain" in
                 layer["encoding"]["color"].get("scale", {}))
    assert len(scale["domain"]) >= 14 and len(set(scale["range"])) == len(scale["domain"])
