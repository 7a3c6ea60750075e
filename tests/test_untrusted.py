"""Untrusted input: a redirect never carries the token off its origin, a release folder is data and never
code, and SQL over a release reads that release and nothing else."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import cvreeng_bench
from cvreeng_bench.hydrate.client import Client, GitHubError
from cvreeng_bench.release import Release, ReleaseError
from cvreeng_bench.testing.github_server import World, serve
from tests.conftest import cli


@pytest.mark.parametrize("target", ["ftp://127.0.0.1:{port}/steal", "http://127.0.0.1:{port}/steal",
                                    "https://127.0.0.1:{port}/steal", "file:///etc/passwd", "http://[::1",
                                    "http://127.0.0.1:99999/x"])
def test_a_redirect_off_the_api_origin_sends_the_token_nowhere(target: str) -> None:
    evil = World({"a/b": {1: 0}})
    with serve(evil) as elsewhere:
        port = elsewhere.rsplit(":", 1)[1]
        home = World({"a/b": {1: 0}})
        home.raw["/repos/a/b/issues/1"] = (301, b"", {"Location": target.format(port=port)})
        with serve(home) as url:
            client = Client(url, "ghp_topsecret", backoff=0.01)
            with pytest.raises(GitHubError, match="not the --api-url origin"):
                client.get("repos/a/b/issues/1")
    assert evil.requests == [], "the other origin was never asked"


def _copy(release: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "hostile"
    shutil.copytree(release, folder)
    return folder


def _edit(folder: Path, change) -> None:
    manifest = json.loads((folder / "release.json").read_text())
    change(manifest)
    (folder / "release.json").write_text(json.dumps(manifest))


def test_sql_in_a_manifest_config_key_runs_nothing_and_is_named(synthetic_release: Path, tmp_path: Path) -> None:
    folder = _copy(synthetic_release, tmp_path)
    key = "x AS SELECT 1; COPY (SELECT 42) TO 'out.csv'; CREATE TABLE y"

    def inject(manifest: dict) -> None:
        manifest["configs"][key] = manifest["configs"]["defects"]

    _edit(folder, inject)
    for args in (("sql", "SELECT 1"), ("rq", "fig9"), ("validate",), ("info",)):
        result = cli(*args, "--release", str(folder))
        assert result.returncode == 2 and "is not a config name the package declares" in result.stderr, args
    assert not Path("out.csv").exists() and not (folder / "out.csv").exists()
    with pytest.raises(ReleaseError, match="cannot be trusted"):
        Release(folder)


def test_a_data_path_out_of_the_folder_is_refused(synthetic_release: Path, tmp_path: Path) -> None:
    folder = _copy(synthetic_release, tmp_path)

    def escape(manifest: dict) -> None:
        manifest["configs"]["defects"]["path"] = "../other/data/defects/train-0123456789abcdef.parquet"

    _edit(folder, escape)
    result = cli("rq", "fig9", "--release", str(folder))
    assert result.returncode == 2 and "is not data/defects/train-<digest>.parquet" in result.stderr


def test_a_tampered_views_sql_is_never_run_by_the_package(synthetic_release: Path, tmp_path: Path) -> None:
    from cvreeng_bench.shell import setup_sql

    folder = _copy(synthetic_release, tmp_path)
    with (folder / "views.sql").open("a") as views:
        views.write("COPY (SELECT 42) TO 'pwned.csv';\n")
    setup = setup_sql(Release(folder))
    assert "pwned" not in setup and "enable_external_access = false" in setup
    assert cli("sql", "SELECT count(*) FROM defects", "--release", str(folder)).returncode == 0
    assert not (folder / "pwned.csv").exists()


@pytest.mark.parametrize("query", ["SELECT * FROM read_text('/etc/passwd')", "COPY (SELECT 42) TO '{out}'",
                                   "ATTACH '{db}' AS other", "INSTALL httpfs", "LOAD httpfs",
                                   "SELECT * FROM read_csv('https://example.org/x.csv')",
                                   "SELECT 1; COPY (SELECT 42) TO '{out}'", "-- only a comment",
                                   "SET enable_external_access = true"])
def test_sql_over_a_release_reads_that_release_and_nothing_else(synthetic_release: Path, tmp_path: Path,
                                                                query: str) -> None:
    text = query.format(out=tmp_path / "out.csv", db=tmp_path / "other.duckdb")
    result = cli("sql", text, "--release", str(synthetic_release))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "other.duckdb").exists()


def test_allow_files_opts_out_for_a_user_who_wants_to_copy_out(synthetic_release: Path, tmp_path: Path) -> None:
    out = tmp_path / "stages.csv"
    result = cli("sql", f"COPY (SELECT stage, count(*) FROM defects GROUP BY ALL) TO '{out}'", "--allow-files",
                 "--release", str(synthetic_release))
    assert result.returncode == 0, result.stderr
    assert out.is_file()


def test_every_task_config_is_reachable_from_sql(synthetic_release: Path) -> None:
    result = cli("sql", "SELECT count(*) AS n FROM root_cause", "--format", "csv", "--release", str(synthetic_release))
    assert result.returncode == 0 and result.stdout.splitlines()[1].isdigit(), result.stderr


def test_odd_optional_manifest_fields_are_read_as_data_never_trusted_as_types(synthetic_release: Path,
                                                                              tmp_path: Path) -> None:
    folder = _copy(synthetic_release, tmp_path)

    def odd(manifest: dict) -> None:
        manifest["sources_absent"] = ["not", "a", "mapping"]
        manifest["scored_sha256"] = 42
        del manifest["configs"]["so_posts"]
        manifest["task_configs"].pop("so_dl_bugs")

    _edit(folder, odd)
    for args in (("tasks", "show", "so_dl_bugs"), ("leaderboard", "show"), ("rq", "fig9")):
        result = cli(*args, "--release", str(folder))
        assert "Traceback" not in result.stderr and result.returncode in (0, 2), (args, result.stderr)
    assert "the release was built without it" in cli("tasks", "show", "so_dl_bugs", "--release", str(folder)).stderr


@pytest.mark.parametrize("damage", ["empty object", "no dataset_version", "no content_sha256", "version a number",
                                    "no configs", "version with an escape", "hash not hex"])
def test_a_manifest_missing_what_the_package_reads_is_refused_in_one_line_by_every_command(
        synthetic_release: Path, tmp_path: Path, damage: str) -> None:
    folder = _copy(synthetic_release, tmp_path)

    def damaged(manifest: dict) -> None:
        if damage == "empty object":
            manifest.clear()
        elif damage == "version a number":
            manifest["dataset_version"] = 1
        elif damage == "version with an escape":
            manifest["dataset_version"] = "1.0.0 --force\x1b[2J"
        elif damage == "hash not hex":
            manifest["content_sha256"] = "z" * 64
        else:
            del manifest[damage.removeprefix("no ")]

    _edit(folder, damaged)
    preds = tmp_path / "p.csv"
    preds.write_text("issue_id,label\nultralytics/yolov5#1,Training\n")
    for args in (("info",), ("validate",), ("rq", "fig9"), ("sql", "SELECT 1"), ("tasks", "show", "stage"),
                 ("evaluate", str(preds), "--task", "stage"), ("leaderboard", "show"), ("report", "--out",
                                                                                         str(tmp_path / "r"))):
        result = cli(*args, "--release", str(folder))
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr[-800:])
        assert len(result.stderr.strip().splitlines()) <= 3, (args, result.stderr)


def _release_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("query", ["COPY (SELECT 1 AS x) TO '{data}' (FORMAT parquet)",
                                   "COPY (SELECT 1 AS x) TO '{folder}/views.sql'", "ATTACH '{folder}/x.duckdb'",
                                   "EXPORT DATABASE '{folder}/dump'", "COPY (SELECT 1) TO '{folder}/new.csv'"])
def test_the_sealed_sql_cannot_write_inside_the_release(synthetic_release: Path, tmp_path: Path, query: str) -> None:
    folder = _copy(synthetic_release, tmp_path)
    before = _release_bytes(folder)
    data = folder / Release(folder).manifest.configs["defects"]
    result = cli("sql", query.format(data=data, folder=folder), "--release", str(folder))
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert _release_bytes(folder) == before, "nothing in the release changed or appeared"
    assert cli("validate", "--release", str(folder)).returncode == 0


def test_the_duckdb_shell_started_by_the_package_cannot_write_anywhere(synthetic_release: Path,
                                                                       tmp_path: Path) -> None:
    import subprocess

    from cvreeng_bench.shell import duckdb_shell, setup_sql

    shell = duckdb_shell()
    assert shell is not None, "the dev extra installs the DuckDB shell (duckdb-cli)"
    folder = _copy(synthetic_release, tmp_path)
    before = _release_bytes(folder)
    data = folder / Release(folder).manifest.configs["defects"]
    script = (f"SELECT count(*) AS n FROM defects;\nCOPY (SELECT 1 AS x) TO '{data}' (FORMAT parquet);\n"
              f"ATTACH '{folder}/x.duckdb';\nCOPY (SELECT 1) TO '{tmp_path}/out.csv';\n")
    done = subprocess.run([shell, "-cmd", setup_sql(Release(folder)), "-csv"], input=script, cwd=folder,
                          capture_output=True, text=True, timeout=60, check=False)
    assert "n\n" in done.stdout, (done.stdout, done.stderr)
    assert _release_bytes(folder) == before and not (tmp_path / "out.csv").exists(), done.stderr


@pytest.mark.parametrize("kind", ["/dev/zero", "/dev/urandom", "fifo"])
def test_a_manifest_that_is_a_device_or_a_fifo_is_refused_at_once(synthetic_release: Path, tmp_path: Path,
                                                                   kind: str) -> None:
    import os
    import time

    folder = _copy(synthetic_release, tmp_path)
    manifest = folder / "release.json"
    manifest.unlink()
    if kind == "fifo":
        os.mkfifo(manifest)
    else:
        manifest.symlink_to(kind)
    for args in (("info",), ("validate",), ("rq", "fig9"), ("leaderboard", "show")):
        start = time.monotonic()
        result = cli(*args, "--release", str(folder))
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr[-500:])
        assert "not a cvreeng-bench release" in result.stderr and time.monotonic() - start < 10, args


@pytest.mark.parametrize("kind", ["/dev/zero", "fifo"])
def test_a_board_that_is_a_device_or_a_fifo_is_refused_at_once(synthetic_release: Path, tmp_path: Path,
                                                                kind: str) -> None:
    import os

    board = tmp_path / "board.jsonl"
    if kind == "fifo":
        os.mkfifo(board)
    else:
        board.symlink_to(kind)
    shown = cli("leaderboard", "show", "--board", str(board), "--release", str(synthetic_release))
    assert shown.returncode == 2 and "Traceback" not in shown.stderr and "no board at" in shown.stderr
    preds = tmp_path / "majority.csv"
    cvreeng_bench.baseline("majority", "stage", release=synthetic_release, out=preds)
    added = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "m", "--board", str(board),
                "--release", str(synthetic_release))
    assert added.returncode == 2 and "Traceback" not in added.stderr and "cannot read the board" in added.stderr


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "another config's file", "a column renamed"])
def test_a_damaged_data_file_is_one_line_naming_it_from_every_command(synthetic_release: Path, tmp_path: Path,
                                                                      damage: str) -> None:
    import polars as pl

    folder = _copy(synthetic_release, tmp_path)
    release = Release(folder)
    target = folder / release.manifest.configs["defects"]
    data = target.read_bytes()
    if damage == "garbage":
        target.write_bytes(b"not parquet at all" * 100)
    elif damage == "truncated":
        target.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        target.write_bytes(b"")
    elif damage == "another config's file":
        target.write_bytes((folder / release.manifest.configs["repositories"]).read_bytes())
    else:
        pl.read_parquet(target).rename({"stage": "Stage"}).write_parquet(target)
    preds = tmp_path / "p.csv"
    preds.write_text("issue_id,label\nultralytics/yolov5#1,Training\n")
    for args in (("rq", "fig9"), ("rq", "all"), ("sql", "SELECT count(*) FROM defects"),
                 ("evaluate", str(preds), "--task", "stage"), ("report", "--out", str(tmp_path / "r"))):
        result = cli(*args, "--release", str(folder))
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr[-800:])
        assert "defects" in result.stderr and len(result.stderr.strip().splitlines()) <= 3, (args, result.stderr)
    audit = cli("validate", "--release", str(folder))  # the audit lists it among every problem it finds
    assert audit.returncode == 1 and "Traceback" not in audit.stderr
    assert "data/defects/" in audit.stdout + audit.stderr and "rebuild the release" in audit.stdout + audit.stderr


def test_prediction_bombs_are_refused_quickly(synthetic_release: Path, tmp_path: Path) -> None:
    import json
    import time

    import polars as pl

    bomb = tmp_path / "bomb.parquet"
    pl.DataFrame({"issue_id": ["x"] * 2_000_000, "label": ["Training"] * 2_000_000}).write_parquet(bomb)
    assert bomb.stat().st_size < 1 << 20, "a small file that declares millions of rows"
    wide = tmp_path / "wide.jsonl"
    with wide.open("w") as out:
        for i in range(3000):
            out.write(json.dumps({"issue_id": f"i{i}", "label": "Training", **{f"k{i}_{j}": j for j in range(100)}})
                      + "\n")
    for path, said in ((bomb, "declares 2000000 rows"), (wide, "")):
        start = time.monotonic()
        result = cli("evaluate", str(path), "--task", "stage", "--release", str(synthetic_release))
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr[-500:]
        assert said in result.stderr and time.monotonic() - start < 20, (path.name, result.stderr)


def test_a_submitted_name_or_note_is_inert_in_markdown_html_and_the_terminal(synthetic_release: Path,
                                                                              tmp_path: Path) -> None:
    preds = tmp_path / "majority.csv"
    cvreeng_bench.baseline("majority", "stage", release=synthetic_release, out=preds)
    board = tmp_path / "board.jsonl"
    name = "it's [click](javascript:alert(1)) ![x](http://evil.example/t.png) <img src=x onerror=alert(1)>"
    added = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", name, "--notes", "bell \x07 esc \x1b[2J",
                "--board", str(board), "--release", str(synthetic_release))
    assert added.returncode == 0, added.stderr
    site = tmp_path / "site"
    assert cli("leaderboard", "render", "--board", str(board), "--out", str(site), "--release",
               str(synthetic_release)).returncode == 0
    markdown = (site / "leaderboard.md").read_text()
    shown = cli("leaderboard", "show", "--board", str(board), "--format", "markdown", "--release",
                str(synthetic_release)).stdout
    for text in (markdown, shown):  # backslash-escaped Markdown renders as the characters themselves
        assert "](javascript" not in text and "![x](" not in text and not re.search(r"(?<!\\)<img", text)
        assert "\x1b" not in text and "\x07" not in text
        assert "it's" in text and "&#x27;" not in text and "&#39;" not in text, "Markdown is not HTML-escaped"
    page = (site / "leaderboard.html").read_text()
    assert "<img src=x" not in page and "&lt;img src=x" in page and "\x1b" not in page


def test_a_cell_that_starts_like_a_spreadsheet_formula_is_written_inert_to_csv(synthetic_release: Path) -> None:
    result = cli("sql", "SELECT '=cmd|'' /C calc''!A0' AS a, '-0.5' AS b, '@SUM(1)' AS c, 3 AS d", "--format",
                 "csv", "--release", str(synthetic_release))
    assert result.returncode == 0
    assert result.stdout.splitlines()[1] == "'=cmd|' /C calc'!A0,-0.5,'@SUM(1),3"


@pytest.mark.parametrize("plant", ["partial file", "run record", "submissions folder"])
def test_a_link_planted_under_a_board_is_never_followed(synthetic_release: Path, tmp_path: Path, plant: str) -> None:
    from cvreeng_bench.scoring.predictions import read_predictions

    preds = tmp_path / "in" / "majority.csv"
    preds.parent.mkdir()
    cvreeng_bench.baseline("majority", "stage", release=synthetic_release, out=preds)
    digest = read_predictions(preds).digest
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("keep me")
    folder = tmp_path / "board"
    folder.mkdir()
    if plant == "submissions folder":
        (folder / "submissions").symlink_to(outside, target_is_directory=True)
    else:
        (folder / "submissions").mkdir()
        name = f".{digest}.csv.part" if plant == "partial file" else f"{digest}.run.json"
        (folder / "submissions" / name).symlink_to(victim)
    added = cli("leaderboard", "add", str(preds), "--task", "stage", "--name", "m", "--board",
                str(folder / "board.jsonl"), "--release", str(synthetic_release))
    assert "Traceback" not in added.stderr and victim.read_text() == "keep me"
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"], "nothing written outside the board"
    if plant == "submissions folder":
        assert added.returncode == 2 and "is a link" in added.stderr


def test_everyday_mistakes_end_in_one_line_and_exit_2_with_nothing_written(synthetic_release: Path,
                                                                            tmp_path: Path) -> None:
    preds = tmp_path / "m.csv"
    cvreeng_bench.baseline("majority", "stage", release=synthetic_release, out=preds)
    binary = tmp_path / "ids.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    rel = ("--release", str(synthetic_release))
    for args in (("compare", str(preds), str(preds), "--task", "stage", "--metric", "f1"),
                 ("compare", str(preds), str(preds), "--task", "stage", "--rounds", "0"),
                 ("evaluate", str(preds), "--task", "stage", "--subset", str(binary)),
                 ("evaluate", str(preds), "--task", "stage", "--subset", "/dev/zero"),
                 ("template", "stage", "--out", str(tmp_path / "x.json")),
                 ("template", "stage", "--out", str(preds)),
                 ("baseline", "majority", "--task", "stage", "--out", str(tmp_path / "y.json"))):
        before = preds.read_bytes()
        result = cli(*args, *rel)
        assert result.returncode == 2 and "Traceback" not in result.stderr, (args, result.stderr[-500:])
        lines = [line for line in result.stderr.strip().splitlines() if not line.startswith(("usage:", " "))]
        assert len(lines) == 1 and "error: " in lines[0], (args, result.stderr)  # argparse adds its usage lines
        assert preds.read_bytes() == before and not (tmp_path / "x.json").exists()
        assert not (tmp_path / "y.json").exists(), args


@pytest.mark.parametrize("tamper", ["views.sql edited", "card data_files outside", "card data_files absolute",
                                    "data folder a link"])
def test_validate_holds_the_card_views_sql_and_data_paths_to_the_manifest(synthetic_release: Path, tmp_path: Path,
                                                                          tamper: str) -> None:
    folder = _copy(synthetic_release, tmp_path)
    path = Release(folder).manifest.configs["defects"]
    if tamper == "views.sql edited":
        with (folder / "views.sql").open("a") as views:
            views.write("COPY (SELECT 42) TO 'pwned.csv';\n")
    elif tamper.startswith("card"):
        card = folder / "README.md"
        elsewhere = "../../outside.parquet" if tamper.endswith("outside") else "/etc/passwd"
        card.write_text(card.read_text().replace(f"path: {path}", f"path: {elsewhere}", 1))
    else:
        data = folder / "data" / "defects"  # moved inside the folder and linked: the path still resolves inside
        shutil.move(data, folder / "moved")
        data.symlink_to(folder / "moved", target_is_directory=True)
    clean = cli("validate", "--release", str(synthetic_release))
    audited = cli("validate", "--release", str(folder))
    assert clean.returncode == 0 and audited.returncode == 1 and "Traceback" not in audited.stderr
    said = audited.stdout + audited.stderr
    expected = {"views.sql edited": "views.sql: differs from the views the manifest lists",
                "card data_files outside": "the card's data_files differ from the manifest for defects",
                "card data_files absolute": "the card's data_files differ from the manifest for defects",
                "data folder a link": "is a link"}[tamper]
    assert expected in said, said[-1500:]


@pytest.mark.parametrize("slow", ["headers", "body", "chunks"])
def test_a_trickling_server_is_cut_off_at_the_request_deadline(slow: str) -> None:
    """One byte every 0.2 s never lets a socket timeout expire; the request's deadline still ends it."""
    import socket
    import threading
    import time

    from cvreeng_bench.netio import AnswerError, KeepAlive

    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            if slow == "headers":
                head, body = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000, b""
            elif slow == "body":
                head, body = b"", b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 100000
            else:
                head, body = b"", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1\r\nx\r\n" * 10000
            try:
                for byte in (head or body)[: 40 if head else None]:
                    if stop.is_set():
                        return
                    connection.sendall(bytes([byte]))
                    if head or byte in (ord("x"),):
                        time.sleep(0.2)
            except OSError:
                return

    threading.Thread(target=trickle, daemon=True).start()
    client = KeepAlive(timeout=5, deadline_s=1.5)
    start = time.monotonic()
    try:
        with pytest.raises(AnswerError, match="no whole answer within 2 s"):
            client.send("GET", f"http://127.0.0.1:{server.getsockname()[1]}/x", {})
        assert time.monotonic() - start < 4, "ended at the deadline, not when the server stopped"
    finally:
        stop.set()
        server.close()


def test_a_label_outside_the_taxonomy_or_with_a_control_character_is_drawn_not_crashed_on(
        synthetic_release: Path, tmp_path: Path) -> None:
    import polars as pl

    folder = _copy(synthetic_release, tmp_path)
    target = folder / Release(folder).manifest.configs["defects"]
    frame = pl.read_parquet(target)
    odd = ["Nonsense stage", "Bell \x07 and escape \x1b[2J"]
    frame = frame.with_columns(pl.when(pl.int_range(pl.len()) < 2).then(
        pl.Series(odd * (frame.height // 2) + odd[: frame.height % 2])).otherwise(pl.col("stage")).alias("stage"))
    frame.write_parquet(target)
    charted = cli("rq", "fig9", "--chart", str(tmp_path / "fig9.svg"), "--release", str(folder))
    assert charted.returncode == 0 and "Traceback" not in charted.stderr, charted.stderr[-800:]
    svg = (tmp_path / "fig9.svg").read_text()
    assert "Nonsense stage" in svg and "\x1b" not in svg and "\x07" not in svg
    reported = cli("report", "--out", str(tmp_path / "report"), "--release", str(folder))
    assert reported.returncode == 0 and "Traceback" not in reported.stderr, reported.stderr[-800:]


# --- round three, item 13-15 remainders: foreign caches, odd id files, tiny populations, seeded results ------------

def _cache_kind(folder: Path, kind: str) -> None:
    import duckdb

    folder.mkdir()
    if kind == "garbage":
        (folder / "hydrate.duckdb").write_bytes(b"\x00not a database" * 500)
        return
    con = duckdb.connect(str(folder / "hydrate.duckdb"))
    con.execute("CREATE TABLE runs (y INTEGER)")  # another program's DuckDB file under the cache's name
    con.close()


@pytest.mark.parametrize("kind", ["garbage", "foreign"])
def test_a_cache_that_is_not_a_hydrate_cache_is_named_by_build_and_hydrate(synthetic_upstream: Path, tmp_path: Path,
                                                                            kind: str) -> None:
    cache = tmp_path / "cache"
    _cache_kind(cache, kind)
    before = (cache / "hydrate.duckdb").read_bytes()
    built = cli("build", "--upstream", str(synthetic_upstream), "--no-verify", "--out", str(tmp_path / "rel"),
                "--with-text", str(cache), "-q")
    ids = tmp_path / "ids.txt"
    ids.write_text("ultralytics/yolov5#1\n", encoding="utf-8")
    fetched = cli("hydrate", "--cache", str(cache), "--issues-file", str(ids), "--api-url", "http://127.0.0.1:9")
    for result in (built, fetched):
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "hydrate.duckdb" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "rel").exists()
    assert (cache / "hydrate.duckdb").read_bytes() == before, "a foreign file is never written into"


def test_a_cached_issue_with_a_time_that_is_no_time_is_named_by_build(synthetic_upstream: Path,
                                                                      tmp_path: Path) -> None:
    from cvreeng_bench.hydrate.run import hydrate

    w = World({"ultralytics/yolov5": {1: 0}})
    issue = {"number": 1, "title": "t", "body": "b", "state": "closed", "labels": [], "created_at": "yesterday",
             "closed_at": None, "comments": 0, "author_association": "NONE",
             "repository_url": "https://api.github.com/repos/ultralytics/yolov5"}
    w.raw["/repos/ultralytics/yolov5/issues/1"] = (200, json.dumps(issue).encode(), {})
    with serve(w) as url:
        hydrate(["ultralytics/yolov5#1"], tmp_path / "cache" / "hydrate.duckdb", Client(url, backoff=0.01),
                progress=False)
    result = cli("build", "--upstream", str(synthetic_upstream), "--no-verify", "--out", str(tmp_path / "rel"),
                 "--with-text", str(tmp_path / "cache"), "-q")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "ultralytics/yolov5#1" in result.stderr and "'yesterday' is not an ISO 8601 time" in result.stderr
    assert not (tmp_path / "rel").exists()


@pytest.mark.parametrize(("content", "said"), [
    (bytes(range(256)) * 4, "not UTF-8 text (byte 128)"),
    (b"ultralytics/yolov5#1\n'; DROP TABLE done; --\n", "line 2"),
    (b"\n\n", "holds no issue id"),
])
def test_an_issues_file_that_is_not_issue_ids_is_named_before_any_request(tmp_path: Path, content: bytes,
                                                                          said: str) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes(content)
    w = World({"ultralytics/yolov5": {1: 0}})
    with serve(w) as url:
        result = cli("hydrate", "--cache", str(tmp_path / "c"), "--issues-file", str(ids), "--api-url", url)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert said in result.stderr and str(ids) in result.stderr
    assert w.requests == [] and not (tmp_path / "c").exists()


@pytest.mark.parametrize("name", [12345, "\x1b[2Jevil/name", ["a/b"]])
def test_a_repository_name_from_the_server_is_taken_only_when_it_looks_like_one(tmp_path: Path,
                                                                                  name: object) -> None:
    from cvreeng_bench.hydrate.run import hydrate

    w = World({"ultralytics/yolov5": {1: 0}})
    w.raw["/repos/ultralytics/yolov5"] = (200, json.dumps({"id": 1, "full_name": name}).encode(), {})
    with serve(w) as url:
        summary = hydrate(["ultralytics/yolov5#1"], tmp_path / "c.duckdb", Client(url, backoff=0.01), progress=False)
    assert summary.moved == {} and summary.statuses == {"ok": 1}


def test_a_population_too_small_to_split_is_one_line_from_every_baseline(synthetic_upstream: Path,
                                                                         tmp_path: Path) -> None:
    import csv

    from cvreeng_bench.pipeline import sources

    upstream = tmp_path / "upstream"
    shutil.copytree(synthetic_upstream, upstream)
    posts = upstream / sources.SO_POSTS.folder / sources.SO_POSTS.commit / "dataset.csv"
    with posts.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[:2]  # the header and one post
    with posts.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    built = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(tmp_path / "rel"), "-q")
    assert built.returncode == 0, built.stderr
    for name in ("majority", "stratified", "metadata", "tfidf"):
        track = ["--track", "triage"] if name == "tfidf" else []
        result = cli("baseline", name, "--task", "so_dl_bugs", "--release", str(tmp_path / "rel"),
                     "--out", str(tmp_path / f"{name}.csv"), *track)
        assert result.returncode == 2 and "Traceback" not in result.stderr, name
        assert "too few items" in result.stderr and not (tmp_path / f"{name}.csv").exists(), name


def test_a_result_scored_with_another_seed_and_resamples_is_checked_at_those(synthetic_release: Path,
                                                                             tmp_path: Path) -> None:
    predictions, result = tmp_path / "p.csv", tmp_path / "result.json"
    rel = ["--release", str(synthetic_release)]
    assert cli("baseline", "majority", "--task", "stage", "--out", str(predictions), *rel).returncode == 0
    scored = cli("evaluate", str(predictions), "--task", "stage", "--seed", "3", "--resamples", "200",
                 "--format", "json", *rel)
    result.write_text(scored.stdout, encoding="utf-8")
    board = tmp_path / "b" / "leaderboard.jsonl"
    board.parent.mkdir()
    added = cli("leaderboard", "add", str(result), "--predictions", str(predictions), "--name", "seeded",
                "--board", str(board), *rel)
    assert added.returncode == 0, added.stderr
    forged = json.loads(scored.stdout)
    forged["ci95"]["macro_f1"][0] -= 0.01  # the same seed, a hand-made interval: refused
    result.write_text(json.dumps(forged), encoding="utf-8")
    again = cli("leaderboard", "add", str(result), "--predictions", str(predictions), "--name", "forged",
                "--board", str(tmp_path / "b" / "other.jsonl"), *rel)
    assert again.returncode == 2 and "does not match its predictions" in again.stderr


def test_a_key_given_twice_in_any_untrusted_json_is_refused_not_silently_won_by_the_last(
        synthetic_release: Path, tmp_path: Path) -> None:
    rel = ["--release", str(synthetic_release)]
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"issue_id": "ultralytics/yolov3#1", "label": "Training", "label": "Modeling"}\n',
                     encoding="utf-8")
    scored = cli("evaluate", str(preds), "--task", "stage", "--allow-missing", *rel)
    assert scored.returncode == 2 and "given twice" in scored.stderr and "Traceback" not in scored.stderr
    copy = _copy(synthetic_release, tmp_path)
    text = (copy / "release.json").read_text(encoding="utf-8")
    (copy / "release.json").write_text(text.replace("{", '{"dataset_version": "9.9.9", ', 1), encoding="utf-8")
    opened = cli("info", "--release", str(copy))
    assert opened.returncode == 2 and "Traceback" not in opened.stderr
