"""Publishing a release with huggingface_hub against a local server that answers like the Hub."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cvreeng_bench.layout import DATASET_VERSION
from cvreeng_bench.release import Release
from cvreeng_bench.testing import QuietServer
from tests.hub_server import Hub, serve

# The command as a user runs it, except that the Hub library's retry back-off (1, 2, 4, 8, 8 s per failed request)
# does not wait: every retry still reaches the fake Hub, only the sleeps between them are skipped.
NO_BACKOFF = ("import sys, types, time, huggingface_hub.utils._http as http\n"
              "http.time = types.SimpleNamespace(sleep=lambda s: None, time=time.time, monotonic=time.monotonic)\n"
              "from cvreeng_bench.cli import main\n"
              "sys.exit(main(sys.argv[1:]))")


def publish(synthetic_release: Path, url: str, token: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_TOKEN": token, "HF_HUB_DISABLE_XET": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
           "HF_HUB_OFFLINE": "0",
           "HF_HOME": str(synthetic_release.parent / "hf-home")}
    return subprocess.run([sys.executable, "-c", NO_BACKOFF, "publish", "--release", str(synthetic_release),
                           "--repo-id", "cvreeng/defects", "--endpoint", url, *extra],
                          capture_output=True, text=True, env=env, check=False)


def test_dry_run_prints_the_plan_and_uploads_nothing(synthetic_release: Path) -> None:
    hub = Hub()
    with serve(hub) as url:
        result = publish(synthetic_release, url, hub.token, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert f"tag the commit v{DATASET_VERSION}" in result.stdout
    assert Release(synthetic_release).manifest.configs["defects"] in result.stdout
    assert hub.calls == []


def test_publish_uploads_every_file_in_one_commit_and_tags_it(synthetic_release: Path) -> None:
    release = synthetic_release
    hub = Hub()
    with serve(hub) as url:
        result = publish(release, url, hub.token)
        assert result.returncode == 0, result.stderr
        stored = hub.files["cvreeng/defects"]
        local = {p.relative_to(release).as_posix(): p.read_bytes() for p in release.rglob("*") if p.is_file()}
        views = local.pop("views_hf.sql").decode()
        assert stored.pop("views_hf.sql").decode() == views.replace("ORG/NAME", "cvreeng/defects")
        assert f"hf://datasets/cvreeng/defects@v{DATASET_VERSION}/data/defects/" in views.replace("ORG/NAME",
                                                                                               "cvreeng/defects")
        assert stored == local, "every other file arrives byte for byte"
        assert "queries/rq3_impact_by_stage.sql" in stored, "the figure queries travel with the data"
        assert any(call.startswith("PUT /lfs-upload/") for call in hub.calls), "parquet goes through LFS"
        summary = hub.commits[0]["header"]["summary"]
        assert len(hub.commits) == 1 and summary.startswith(f"cvreeng-bench release {DATASET_VERSION}")
        assert hub.tags == {f"cvreeng/defects@v{DATASET_VERSION}": hub.commits[0]["oid"]}
        again = publish(release, url, hub.token)  # the repository exists (409) and the tag too
    assert again.returncode == 2 and f"Tag v{DATASET_VERSION} already exists" in again.stderr
    assert "Traceback" not in again.stderr


def test_a_bad_token_is_refused_with_a_clear_error(synthetic_release: Path) -> None:
    hub = Hub()
    with serve(hub) as url:
        result = publish(synthetic_release, url, "hf_wrong")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "the Hub refused" in result.stderr and "401" in result.stderr


def test_an_unreachable_hub_is_one_line_without_traceback(synthetic_release: Path) -> None:
    with serve(Hub()) as url:
        pass  # the server is gone: its port now refuses connections
    result = publish(synthetic_release, url, "hf_x")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: cannot reach the Hub at") or "cannot publish" in result.stderr


def test_an_lfs_upload_failure_or_a_redirected_commit_is_one_line_and_the_token_stays_home(
        synthetic_release: Path) -> None:
    import http.server
    import threading
    import time

    seen: list[str | None] = []

    class Elsewhere(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.headers.get("Authorization"))
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    other = QuietServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        for hub in (Hub(lfs_put_status=500),
                    Hub(commit_redirect=f"http://127.0.0.1:{other.server_address[1]}/api/datasets/x/y/commit/main")):
            start = time.monotonic()
            with serve(hub) as url:
                result = publish(synthetic_release, url, hub.token)
            assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
            assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
            assert time.monotonic() - start < 60
            if hub.lfs_put_status is not None:
                puts = [c for c in hub.calls if c.startswith("PUT /lfs-upload/")]
                assert len(puts) > len(set(puts)), "the failed upload was retried (only the waits are skipped)"
    finally:
        other.shutdown()
        other.server_close()
    assert hub.token not in " ".join(str(s) for s in seen), "the token never follows a redirect off the Hub"
