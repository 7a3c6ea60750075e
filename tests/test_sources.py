"""Finding, downloading and verifying the pinned artifact: a real HTTP server on 127.0.0.1 stands in for
raw.githubusercontent.com."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cvreeng_bench.pipeline import sources
from cvreeng_bench.testing import QuietServer


@contextmanager
def serve(root: Path, *, corrupt: str | None = None) -> Iterator[tuple[str, list[str]]]:
    """Serve ``root`` like raw.githubusercontent.com (Content-Length, 404s); optionally corrupt one file."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urllib.parse.unquote(self.path.lstrip("/"))
            seen.append(path)
            target = root / path
            if not target.is_file():
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"404: Not Found")
                return
            body = target.read_bytes()
            if corrupt and path.endswith(corrupt):
                body = body[:-1] + b"!"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()
        server.server_close()


def test_the_mirror_is_found_from_the_shared_folder_or_the_commit_folder(mirror: Path) -> None:
    found = sources.resolve(mirror, progress=False)
    again = sources.resolve(found["defects"].parent.parent, progress=False)
    assert found.paths == again.paths
    assert found.verified
    assert found.sha256["defects"] == sources.FILES[0].sha256


@pytest.fixture
def pinned(tmp_path: Path) -> tuple[Path, sources.Source]:
    """A synthetic mirror and a source (never registered) that pins its files' hashes, so the resolver's checks
    run without the real artifact."""
    from tests.synthetic import write_upstream

    root = write_upstream(tmp_path / "mirror")
    base = root / sources.STUDY.folder / sources.STUDY.commit
    files = tuple(sources.SourceFile(f.key, f.path, sources.sha256_of(base / f.path), f.description)
                  for f in sources.STUDY.files)
    return root, sources.Source("synthetic", 1, "tests/" + sources.STUDY.folder, sources.STUDY.commit, "2026-01-01",
                                files, license="test data", citation="none")


def test_a_modified_file_is_refused_with_its_name_and_both_hashes(pinned: tuple[Path, sources.Source]) -> None:
    root, source = pinned
    assert sources.resolve(root, progress=False, source=source).verified
    target = root / source.folder / source.commit / source.files[0].path
    target.write_bytes(target.read_bytes().replace(b"Crash", b"crash", 1))
    with pytest.raises(sources.SourceError) as caught:
        sources.resolve(root, progress=False, source=source)
    message = str(caught.value)
    assert "CV_Reengineeirng_Defects.csv" in message
    assert source.files[0].sha256 in message
    assert sources.sha256_of(target) in message
    assert "--no-verify" in message


def test_no_verify_accepts_a_modified_copy_and_reports_its_real_hash(pinned: tuple[Path, sources.Source],
                                                                      capsys) -> None:
    root, source = pinned
    target = root / source.folder / source.commit / source.files[0].path
    target.write_bytes(target.read_bytes() + b"\n")
    found = sources.resolve(root, verify=False, progress=False, source=source)
    assert not found.verified
    assert found.sha256["defects"] == sources.sha256_of(target)
    assert "differs from the pinned file" in capsys.readouterr().err


def test_a_file_far_larger_than_any_pinned_one_is_refused_before_it_is_hashed(
        pinned: tuple[Path, sources.Source], monkeypatch) -> None:
    root, source = pinned
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 1000)
    with pytest.raises(sources.SourceError, match="far larger than the pinned file"):
        sources.resolve(root, progress=False, source=source)


def test_a_folder_without_the_files_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(sources.SourceError, match="CV_Reengineeirng_Defects.csv"):
        sources.resolve(tmp_path, progress=False)


def test_download_verifies_and_caches_then_reuses_the_cache(mirror_copy: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path / "cache"))
    with serve(mirror_copy) as (url, seen):
        found = sources.resolve(url, progress=False)
        assert found.verified and found.origin == url
        assert len(seen) == 3
        sources.resolve(url, progress=False)
        assert len(seen) == 3, "a verified cache must not be downloaded again"
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_a_corrupted_download_is_refused_and_never_cached(mirror_copy: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path / "cache"))
    with serve(mirror_copy, corrupt=".xlsx") as (url, _), pytest.raises(sources.SourceError, match="sha256 mismatch"):
        sources.resolve(url, progress=False)
    assert not list((tmp_path / "cache").rglob("*.xlsx*"))


def test_a_missing_remote_file_names_the_url(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path / "cache"))
    with serve(tmp_path / "empty") as (url, _), pytest.raises(sources.SourceError, match="404"):
        sources.resolve(url, progress=False)


def test_the_environment_variable_is_used_when_no_folder_is_given(pinned: tuple[Path, sources.Source],
                                                                   monkeypatch) -> None:
    root, source = pinned
    monkeypatch.setenv(sources.ENV_VAR, str(root))
    found = sources.resolve(progress=False, source=source)
    assert found.verified and found.origin == str(root / source.folder / source.commit)


def test_offline_without_a_mirror_the_error_names_the_three_ways_to_supply_the_data(tmp_path, monkeypatch) -> None:
    from tests.conftest import cli

    monkeypatch.delenv(sources.ENV_VAR, raising=False)
    monkeypatch.setenv("CVREENG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sources, "RAW_BASE_URL", "http://127.0.0.1:9/nothing/")  # a port nothing listens on
    for args in (["build", "--out", str(tmp_path / "rel")], ["rq", "fig9"]):
        result = cli(*args)
        assert result.returncode == 2, args
        line = result.stderr.strip().splitlines()[-1]
        assert "--upstream DIR" in line and sources.ENV_VAR in line and "network" in line, line
        assert "Traceback" not in result.stderr


def test_a_second_source_downloads_verified_through_the_same_fetch(tmp_path: Path) -> None:
    from tests.synthetic import write_posts

    posts = write_posts(tmp_path / "mirror")
    served = posts.parent  # <mirror>/DL_bug_classification/<commit>/, as raw.githubusercontent.com lays it out
    pinned = sources.SourceFile("posts", "dataset.csv", sources.sha256_of(posts), "synthetic posts")
    source = sources.Source("posts-test", 1, sources.SO_POSTS.repository, sources.SO_POSTS.commit, "2026-01-01",
                            (pinned,), license="test", citation="none", required=False)
    with serve(served) as (url, seen):
        fetched = sources.fetch(url, tmp_path / "cache", progress=False, source=source)
        assert (fetched / "dataset.csv").read_bytes() == posts.read_bytes() and seen == ["dataset.csv"]
        sources.fetch(url, tmp_path / "cache", progress=False, source=source)
        assert seen == ["dataset.csv"], "a verified copy is not downloaded again"
    with serve(served, corrupt=".csv") as (url, _), pytest.raises(sources.SourceError, match="sha256 mismatch"):
        sources.fetch(url, tmp_path / "other", progress=False, source=source)
    assert not (tmp_path / "other" / "dataset.csv").exists()
