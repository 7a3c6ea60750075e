"""Shared fixtures: the real upstream mirror (CVREENG_UPSTREAM), a release built from it once per session,
and a factory for tiny synthetic upstream folders laid out like the authors' artifact."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cvreeng_bench.pipeline import sources

ROOT = Path(__file__).resolve().parents[1]
DEFECT_HEADER = ["", "URL", "Repo owner", "Repo name", "Issue #", "Repo type", "Research Prototype",
                 "Repo creation time", "Issue creation time", "Time Slot/d", "Label", "Framework", "Same Code?",
                 "Same Data?", "Impacts", "Part of Implementation", "Project Type", "Reporter", "Defect types",
                 "Root Causes", "Manifestation"]


OFFLINE = "CVREENG_OFFLINE_TESTS"  # =1: skip the real-data tests (visibly) instead of failing without the data


def mirror_path() -> Path:
    """The real upstream artifact, found the way the package finds it ($CVREENG_UPSTREAM, the download
    cache, then the pinned URLs). Without it the run stops at once with the one-line guidance, unless
    CVREENG_OFFLINE_TESTS=1 asks for the offline subset."""
    try:
        found = sources.resolve(progress=False)
    except sources.UnavailableError as error:
        if os.environ.get(OFFLINE) == "1":
            pytest.skip(f"real-data test skipped ({OFFLINE}=1): no upstream artifact here")
        pytest.exit(f"the real-data tests need the pinned upstream artifact: {error} (or set {OFFLINE}=1 to run "
                    "only the tests that need no data)", returncode=1)
    root = found["defects"].parent.parent
    if root.name == sources.STUDY.commit and root.parent.name == sources.STUDY.folder:
        return root.parent.parent  # the mirror holding both sources, as CVREENG_UPSTREAM names it
    return root


@pytest.fixture(scope="session", autouse=True)
def board_memo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One board memo for the session, never the user's: what a test proves about tiers rests on this run alone."""
    from cvreeng_bench.board.memo import MEMO_ENV

    path = tmp_path_factory.mktemp("memo") / "board-memo.sqlite"
    os.environ[MEMO_ENV] = str(path)
    return path


@pytest.fixture(scope="session")
def mirror() -> Path:
    return mirror_path()


@pytest.fixture(scope="session")
def no_errata(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty errata file: the release as the authors published it."""
    path = tmp_path_factory.mktemp("errata") / "errata.csv"
    path.write_text("defect_id,field,old_value,new_value,reason,version\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory, mirror: Path, no_errata: Path) -> Path:
    """The release built from the pinned artifact as published (no errata), which is what the paper's
    figures describe; tests/test_build.py checks that the shipped errata apply to it."""
    from cvreeng_bench.build import build

    folder, _ = build(tmp_path_factory.mktemp("rel") / "release", mirror, progress=False, errata_path=no_errata)
    return folder


@pytest.fixture(scope="session")
def opened(release: Path):
    """The session's release as a :class:`Release` object (what the library's layers take)."""
    from cvreeng_bench.api import open_release

    return open_release(release)


def defect_row(index: int, repo: str = "ultralytics/yolov3", number: int = 1, **labels: str) -> dict[str, str]:
    owner, name = repo.split("/")
    row = {
        "": str(index), "URL": f"https://github.com/{repo}/issues/{number}", "Repo owner": owner,
        "Repo name": name, "Issue #": str(number), "Repo type": "Solo Repository", "Research Prototype": "No",
        "Repo creation time": "2018-08-26T08:57:20Z", "Issue creation time": "2019-01-02T00:00:00Z",
        "Time Slot/d": "128.0", "Label": "['bug']", "Framework": "Pytorch", "Same Code?": "Yes",
        "Same Data?": "Yes", "Impacts": "Crash", "Part of Implementation": "Environment",
        "Project Type": 'User "fork"', "Reporter": "Re-user", "Defect types": "External interface",
        "Root Causes": "API defects", "Manifestation": "Basic defects",
    }
    row.update(labels)
    return row


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]] | list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(c, "") for c in header] if isinstance(row, dict) else row)


def write_agreement(path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    header = ["Issue #", "Framework", "same code", "same data", "DL Stage", "Impacts", "General Code Error Type",
              "DL Specific Error Type", "Manifestation"]
    rows = {1: [[7, "pytorch", "yes", "no", "Training", "Crash", "Logic", "Optimizer", "Basic defects"],
                [8, "keras", "no", "yes", "Modeling", "crash", "Checking", "Model/weight", "Evolutionary defects"]],
            2: [[7, "PyTorch", "yes", "no", "Training", "Crash", "Logic", "Loss function", "Basic defects"],
                [8, "Keras", "no", "Yes", "Modeling", "Hang", "Checking", "Model/weight", "Evolutionary defects"]]}
    for prefix in ("Pilot", "Pilot-re", "Final"):
        for rater in (1, 2):
            sheet = book.create_sheet(f"{prefix}{rater}")
            sheet.append(header if prefix != "Final" else [*header[:7], "Root Causes", header[8]])
            for row in rows[rater]:
                sheet.append(row)
    book.save(path)


def non_reengineering_row(index: int, repo: str, number: int) -> list[str]:
    owner, name = repo.split("/")
    return [str(index), f"https://github.com/{repo}/issues/{number}", owner, name, str(number), str(number), "No",
            "2018-08-26T08:57:20Z", "2018-08-26T08:57:20Z", "2019-01-02T00:00:00Z", "128"]


@pytest.fixture
def tiny_upstream(tmp_path: Path):
    """Factory: write a small artifact-shaped folder; returns the folder (pass it as ``upstream``)."""

    def make(defects: list[dict[str, str]] | None = None, non_reengineering: list[list[str]] | None = None,
             header: list[str] | None = None) -> Path:
        root = tmp_path / "upstream" / "EMSE-CVReengineering-Artifact" / sources.UPSTREAM_COMMIT / "Defect-study"
        if defects is None:
            defects = [defect_row(0, number=1), defect_row(1, number=1, Impacts="Numerical Instability"),
                       defect_row(2, "tensorflow/models", 5, Framework="tensorflow", **{"Repo type": "Zoo Repository"})]
        if non_reengineering is None:
            non_reengineering = [non_reengineering_row(0, "ultralytics/yolov3", 9)]
        write_csv(root / "CV_Reengineeirng_Defects.csv", header or DEFECT_HEADER, defects)
        from cvreeng_bench.pipeline.normalize import NON_REENGINEERING_HEADER

        write_csv(root / "Non_Reengineering_Defects.csv", list(NON_REENGINEERING_HEADER), non_reengineering)
        write_agreement(root / "Cohen's Kappa Calculation.xlsx")
        # An empty errata file for builds from this tiny artifact (the shipped errata name real defects).
        (tmp_path / "upstream" / "no-errata.csv").write_text("defect_id,field,old_value,new_value,reason,version\n")
        return tmp_path / "upstream"

    return make


@pytest.fixture
def mirror_copy(tmp_path: Path, mirror: Path) -> Path:
    """A writable copy of the real mirror's three files."""
    found = sources.resolve(mirror, progress=False)
    root = tmp_path / "copy"
    for f in sources.FILES:
        (root / f.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(found[f.key], root / f.path)
    return root


@dataclass(frozen=True)
class Outcome:
    """What a command did: exit code and the text it wrote (the names subprocess uses)."""

    returncode: int
    stdout: str
    stderr: str


def cli(*args: str) -> Outcome:
    """Run ``cvreeng-bench ARGS`` in this process through ``cli.main`` and capture what it prints."""
    from cvreeng_bench.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as done:  # argparse's own exits: --help, --version, usage errors
            code = done.code if isinstance(done.code, int) else 0
    return Outcome(code, out.getvalue(), err.getvalue())


def copy_board(board: Path, folder: Path) -> Path:
    """A copy of a board and its stored predictions in ``folder`` (a test edits the copy, never a fixture)."""
    shutil.copytree(board.parent / "submissions", folder / "submissions")
    copy = folder / "leaderboard.jsonl"
    copy.write_bytes(board.read_bytes())
    return copy


def ranked_row(rows: list, name: str, task: str) -> Any:
    """The shown row of the entry ``name`` on ``task``."""
    return next(r for r in rows if r.entry.name == name and r.entry.task == task)


def board_of_baselines(release: Path, board: Path, task: str, name: str, *extra: str) -> Path:
    """A board holding the metadata and majority baselines of ``task`` as submissions (``name`` formats each
    entry's name from the baseline's), added through the command line; returns the board."""
    for baseline in ("metadata", "majority"):
        preds = board.with_name(f"{baseline}.csv")
        made = cli("baseline", baseline, "--task", task, "--release", str(release), "--out", str(preds))
        assert made.returncode == 0, made.stderr
        added = cli("leaderboard", "add", str(preds), "--task", task, "--board", str(board), "--name",
                    name.format(baseline), *extra, "--release", str(release))
        assert added.returncode == 0, added.stderr
    return board


def hydrated_release(folder: Path, upstream: Path, errata: Path, signal: dict[str, list[str]] | None = None) -> Path:
    """A release of the synthetic artifact with issue threads hydrated from the fake GitHub API (one comment
    each); ``signal``: issue id -> the words the fake API writes its title and body from."""
    from cvreeng_bench.build import build
    from cvreeng_bench.hydrate.client import Client
    from cvreeng_bench.hydrate.run import hydrate
    from cvreeng_bench.release import Release
    from cvreeng_bench.testing.github_server import World, serve

    with contextlib.redirect_stderr(io.StringIO()):
        plain, _ = build(folder / "plain", upstream, verify=False, progress=False, errata_path=errata)
    ids = Release(plain).frame("issues")["issue_id"].to_list()
    world = World({}, signal=signal or {})
    for issue_id in ids:
        repo, _, number = issue_id.partition("#")
        world.issues.setdefault(repo, {})[int(number)] = 1
    with serve(world) as url:
        hydrate(ids, folder / "cache" / "hydrate.duckdb", Client(url), concurrency=8, progress=False)
    out = folder / "text-release"
    result = cli("build", "--upstream", str(upstream), "--no-verify", "--out", str(out), "--with-text",
                 str(folder / "cache"), "-q")
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="session")
def text_release(tmp_path_factory: pytest.TempPathFactory, synthetic_upstream: Path, no_errata: Path) -> Path:
    """The synthetic release plus synthetic issue threads hydrated from the fake GitHub API (one comment each)."""
    return hydrated_release(tmp_path_factory.mktemp("text"), synthetic_upstream, no_errata)


@pytest.fixture(scope="session")
def synthetic_upstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny synthetic artifact (tests/synthetic.py), written once per session."""
    from tests.synthetic import write_upstream

    return write_upstream(tmp_path_factory.mktemp("synthetic") / "upstream")


@pytest.fixture(scope="session")
def synthetic_release(tmp_path_factory: pytest.TempPathFactory, synthetic_upstream: Path, no_errata: Path) -> Path:
    """A release built from the synthetic artifact: every config, task and baseline, no real data needed."""
    from cvreeng_bench.build import build

    with contextlib.redirect_stderr(io.StringIO()):  # the expected "differs from the pinned file" warnings
        folder, _ = build(tmp_path_factory.mktemp("synrel") / "release", synthetic_upstream, verify=False,
                          progress=False, errata_path=no_errata)
    return folder


@pytest.fixture(scope="session")
def synthetic(synthetic_release: Path):
    """The synthetic release as a :class:`Release` object."""
    from cvreeng_bench.api import open_release

    return open_release(synthetic_release)
