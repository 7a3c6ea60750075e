"""The command line: light imports, help with an example everywhere, clear errors without tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cvreeng_bench import cli


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cvreeng_bench", *args], capture_output=True, text=True,
                          env=env, check=False)


def test_importing_the_package_and_help_load_no_heavy_library() -> None:
    code = ("import sys, cvreeng_bench, cvreeng_bench.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('datasets', 'altair', 'sklearn', 'polars', 'duckdb', 'pyarrow', 'torch')"
            " if m in sys.modules]\nprint(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_has_help_with_an_example() -> None:
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"build", "validate", "publish", "info"} <= set(commands)
    for name, sub in commands.items():
        assert "example:" in sub.format_help() and "cvreeng-bench " + name in sub.format_help(), name


def test_a_user_mistake_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = run("info", "--release", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "cvreeng-bench build --out" in result.stderr


def test_build_then_validate_from_the_command_line(tmp_path: Path, mirror: Path) -> None:
    out = tmp_path / "rel"
    built = run("build", "--upstream", str(mirror), "--out", str(out), "-q")
    assert built.returncode == 0, built.stderr
    assert "release written to" in built.stdout and "warning(s) about upstream labels" in built.stderr
    checked = run("validate", "--release", str(out))
    assert checked.returncode == 0 and "0 error(s)" in checked.stdout


def test_a_wrong_upstream_folder_is_refused_cleanly(tmp_path: Path) -> None:
    result = run("build", "--upstream", str(tmp_path), "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "no upstream mirror there" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_top_level_flags_work(flag: str) -> None:
    assert run(flag).returncode == 0
