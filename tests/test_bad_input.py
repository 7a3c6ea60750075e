"""Every command over a corpus of bad inputs: each one ends with exit code 2 and one clear message, and no
traceback ever reaches the user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import cli


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("bad")
    (root / "empty.csv").write_text("")
    (root / "junk.csv").write_bytes(b"\x00\x01garbage\xff\xfe")
    (root / "wrong-columns.csv").write_text("id,prediction\n1,x\n")
    (root / "utf16.csv").write_text("issue_id,label\nx,y\n", encoding="utf-16")
    (root / "nan.jsonl").write_text('{"issue_id": "a/b#1", "label": NaN}\n')
    (root / "list.jsonl").write_text('[1, 2, 3]\n')
    (root / "not-json.json").write_text("issue_id,label\n")
    (root / "no-score.json").write_text(json.dumps({"task": "stage", "scores": {}}))
    (root / "a-file").write_text("x")
    (root / "not-a-release").mkdir()
    (root / "upstream" / "Defect-study").mkdir(parents=True)
    for name in ("CV_Reengineeirng_Defects.csv", "Non_Reengineering_Defects.csv"):
        (root / "upstream" / "Defect-study" / name).write_bytes(b"\x00" * 1000 + b"junk\n" * 5000)
    (root / "upstream" / "Defect-study" / "Cohen's Kappa Calculation.xlsx").write_text("not a zip")
    return root


def bad_inputs(r: Path, synthetic_release: Path) -> list[list[str]]:
    rel = ["--release", str(synthetic_release)]
    nowhere = ["--release", str(r / "not-a-release")]
    return [
        ["build", "--upstream", str(r / "missing")],
        ["build", "--upstream", str(r / "upstream"), "--no-verify", "--out", str(r / "out1")],
        ["build", "--out", str(r / "a-file")],
        ["build", "--with-text", str(r / "missing-cache"), "--out", str(r / "out2")],
        ["validate", *nowhere], ["info", *nowhere], ["report", *nowhere],
        ["report", *rel, "--out", str(r / "a-file" / "x")],
        ["publish", "--repo-id", "not a repo", "--dry-run", *rel],
        ["publish", "--repo-id", "org/bad--name", "--dry-run", *rel],
        ["rq", "fig99", *rel], ["rq", "fig9", "--where", "nothing", *rel],
        ["rq", "fig9", "--where", "repo_type=Zoo", "--where", "repo_type=Solo", *rel],
        ["rq", "fig9", "--where", "issue_created_at=2020", *rel], ["rq", "fig9", "--where", "nosuch=1", *rel],
        ["rq", "fig9", "--chart", str(r / "f.pdf"), *rel], ["rq", "table4", "--chart", str(r / "t.png"), *rel],
        ["sql", "SELEC nonsense", *rel], ["sql", "SELECT * FROM nosuch", *rel],
        ["tasks", "show", "nosuch", *rel], ["tasks", "show", *rel],
        ["template", "nosuch", "--out", str(r / "t.csv"), *rel],
        ["template", "stage", "--out", str(r / "a-file" / "t.csv"), *rel],
        *(["evaluate", str(r / name), "--task", "stage", *rel] for name in (
            "missing.csv", "empty.csv", "junk.csv", "wrong-columns.csv", "utf16.csv", "nan.jsonl", "list.jsonl",
            "not-json.json", "a-file")),
        ["evaluate", str(r / "wrong-columns.csv"), "--task", "stage@vx", *rel],
        ["evaluate", str(r / "wrong-columns.csv"), "--task", "nosuch", *rel],
        ["evaluate", str(r / "wrong-columns.csv"), "--task", "stage@v1", *rel],
        ["evaluate", str(r / "wrong-columns.csv"), "--task", "stage", "--resamples", "-5", *rel],
        ["evaluate", str(r / "wrong-columns.csv"), "--task", "stage", "--split", "nosuch", *rel],
        ["evaluate", str(r / "empty.csv"), "--task", "stage", "--subset", str(r / "missing.txt"), *rel],
        ["compare", str(r / "missing.csv"), str(r / "empty.csv"), "--task", "stage", *rel],
        ["baseline", "nosuch", "--task", "stage", "--out", str(r / "p.csv"), *rel],
        ["baseline", "tfidf", "--task", "stage", "--out", str(r / "p.csv"), *rel],
        ["baseline", "majority", "--task", "stage", "--out", str(r / "a-file" / "p.csv"), *rel],
        ["baseline", "majority", "--task", "stage", "--track", "triage", "--out", str(r / "p.csv"), *rel],
        ["ceiling", "--resamples", "-1", *rel], ["ceiling", *nowhere],
        ["leaderboard", "add", "--name", "x", *rel],
        ["leaderboard", "add", str(r / "empty.csv"), "--task", "stage", "--name", "x", "--board",
         str(r / "b.jsonl"), *rel],
        ["leaderboard", "add", str(r / "not-json.json"), "--predictions", str(r / "empty.csv"), "--name", "x", *rel],
        ["leaderboard", "add", str(r / "no-score.json"), "--predictions", str(r / "empty.csv"), "--name", "x", *rel],
        ["leaderboard", "add", str(r / "missing.json"), "--name", "x", *rel],
        ["leaderboard", "show", "--task", "nosuch", *rel],
        ["leaderboard", "render", "--out", str(r / "a-file"), *rel],
        ["hydrate", "--issues-file", str(r / "missing.txt"), "--cache", str(r / "cache"), *rel],
        ["hydrate", "--api-url", "ftp://example.org", "--cache", str(r / "cache"), *rel],
        ["hydrate", "--cache", str(r / "a-file" / "c"), "--issues-file", str(r / "wrong-columns.csv"),
         "--api-url", "http://127.0.0.1:9"],
    ]


def test_every_command_refuses_bad_input_with_exit_2_and_no_traceback(corpus: Path, synthetic_release: Path) -> None:
    failures = []
    for args in bad_inputs(corpus, synthetic_release):
        try:
            result = cli(*args, "-q")
        except Exception as error:  # noqa: BLE001 - any exception here is a traceback a user would see
            failures.append(f"{' '.join(args)}: raised {type(error).__name__}: {error}")
            continue
        if result.returncode != 2 or "Traceback" in result.stderr or not result.stderr.strip():
            failures.append(f"{' '.join(args)}: exit {result.returncode}, stderr {result.stderr[-300:]!r}")
    assert failures == [], "\n".join(failures)
    assert not (corpus / "out1").exists() and not (corpus / "b.jsonl").exists(), "nothing half-written"


def test_a_flood_of_bad_rows_is_cut_short_with_a_count(tmp_path: Path) -> None:
    from cvreeng_bench.pipeline import sources
    from cvreeng_bench.pipeline.normalize import DEFECT_COLUMNS
    from tests.synthetic import write_upstream

    upstream = write_upstream(tmp_path / "upstream")
    rows = [f"{i}," + ",".join(["junk"] * (len(DEFECT_COLUMNS) - 1)) for i in range(15_000)]
    target = upstream / sources.STUDY.folder / sources.STUDY.commit / sources.FILES[0].path
    target.write_text(",".join(f'"{c}"' for c in DEFECT_COLUMNS) + "\n" + "\n".join(rows) + "\n")
    result = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(tmp_path / "o"), "-q")
    assert result.returncode == 2
    assert "stopped after 100 errors" in result.stderr and len(result.stderr) < 200_000


def test_answers_too_large_or_too_slow_are_refused(monkeypatch) -> None:
    from cvreeng_bench import netio

    class Answer:
        def __init__(self, length: str, chunks: list[bytes]) -> None:
            self.length, self.chunks = length, chunks

        def getheader(self, name: str) -> str:
            return self.length

        def read1(self, n: int) -> bytes:  # one receive at a time, as http.client's answers give them
            return self.chunks.pop(0) if self.chunks else b""

        def close(self) -> None:
            self.chunks = []

    with pytest.raises(netio.AnswerError, match="more than"):
        netio.read_capped(Answer(str(1 << 40), []), "http://x")
    with pytest.raises(netio.AnswerError, match="over 10 bytes"):
        netio.read_capped(Answer("", [b"x" * 8, b"x" * 8]), "http://x", max_body=10)
    clock = iter([0.0, 1.0, 500.0])
    monkeypatch.setattr(netio.time, "monotonic", lambda: next(clock))
    with pytest.raises(netio.AnswerError, match="took over"):  # a server trickling its bytes
        netio.read_capped(Answer("", [b"a", b"b", b"c"]), "http://x")


def test_oversized_predictions_null_ids_and_long_names_are_refused(synthetic_release: Path, tmp_path: Path,
                                                                   monkeypatch) -> None:
    import time

    from cvreeng_bench.board import leaderboard
    from cvreeng_bench.scoring import predictions as harness

    (tmp_path / "p.csv").write_text("issue_id,label\n,Environment\n")
    nulls = cli("evaluate", str(tmp_path / "p.csv"), "--task", "stage", "--release", str(synthetic_release))
    assert nulls.returncode == 2 and "without an issue_id" in nulls.stderr
    monkeypatch.setattr(harness, "MAX_BYTES", 10)
    big = cli("evaluate", str(tmp_path / "p.csv"), "--task", "stage", "--release", str(synthetic_release))
    assert big.returncode == 2 and "may be at most" in big.stderr
    start = time.perf_counter()
    problems = leaderboard.check_fields("x" * 100_000, "", None, "")
    assert problems and "1-120 printable characters" in problems[0] and time.perf_counter() - start < 0.1


def test_zero_resamples_give_strict_json_with_null_intervals(synthetic_release: Path, tmp_path: Path) -> None:
    from cvreeng_bench.api import open_release
    from cvreeng_bench.scoring import tasks

    ids = tasks.items(tasks.get("stage"), open_release(synthetic_release), "holdout")["issue_id"]
    (tmp_path / "p.csv").write_text("issue_id,label\n" + "".join(f"{i},Environment\n" for i in ids))
    result = cli("evaluate", str(tmp_path / "p.csv"), "--task", "stage", "--resamples", "0", "--format", "json",
                 "--split", "holdout", "--release", str(synthetic_release))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert data["ci95"]["accuracy"] == [None, None]
