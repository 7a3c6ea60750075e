"""The command line: light imports, help with an example everywhere, every command documented, global
flags that reach every command, clear errors without tracebacks."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from cvreeng_bench import cli as cli_module
from tests.conftest import ROOT, cli


def commands(parser: argparse.ArgumentParser | None = None) -> dict[str, argparse.ArgumentParser]:
    """The subcommands of ``parser`` (default: the whole command line's commands)."""
    parser = parser or cli_module.build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_importing_the_package_and_help_load_no_heavy_library() -> None:
    code = ("import sys, cvreeng_bench, cvreeng_bench.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('datasets', 'altair', 'sklearn', 'polars', 'duckdb', 'pyarrow', 'torch', 'numpy')"
            " if m in sys.modules]\nprint(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_every_command_has_help_with_an_example() -> None:
    found = commands()
    assert {"build", "validate", "publish", "info", "rq", "evaluate", "leaderboard"} <= set(found)
    for name, sub in found.items():
        text = sub.format_help()
        assert "example:" in text and "cvreeng-bench " + name in text, name
        assert "%%" not in text, f"{name}: an unformatted percent sign in its help"


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    documented = set(re.findall(r"cvreeng-bench ([a-z-]+)", readme))
    assert set(commands()) - documented == set()


def test_every_leaderboard_action_is_a_subcommand_with_an_example_and_is_documented() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    actions = commands(commands()["leaderboard"])
    assert set(actions) == {"add", "show", "render", "verify", "regenerate"}
    for name, sub in actions.items():
        assert f"example:\n  cvreeng-bench leaderboard {name}" in sub.format_help(), name
        assert f"cvreeng-bench leaderboard {name}" in readme, name


def test_the_global_verbose_flag_reaches_a_command_given_before_or_after_it() -> None:
    parser = cli_module.build_parser()
    assert parser.parse_args(["-v", "build"]).verbose is True
    assert parser.parse_args(["build", "-v"]).verbose is True
    assert parser.parse_args(["build"]).verbose is False
    assert parser.parse_args(["-q", "tasks"]).quiet is True


def test_verbose_before_the_command_lists_every_build_warning(tmp_path: Path, synthetic_upstream: Path) -> None:
    upstream = str(synthetic_upstream)  # its labels break the paper's rules hundreds of times: warnings
    quiet = cli("build", "--upstream", upstream, "--no-verify", "--out", str(tmp_path / "a"), "-q")
    loud = cli("-v", "build", "--upstream", upstream, "--no-verify", "--out", str(tmp_path / "b"), "-q")
    count = int(re.search(r"(\d+) warning\(s\)", loud.stderr).group(1))
    assert count > 10
    assert loud.stderr.count("  warning: ") == count
    assert quiet.stderr.count("  warning: ") < count and "--verbose lists all" in quiet.stderr


def test_a_user_mistake_is_one_line_without_traceback(tmp_path: Path) -> None:
    result = cli("info", "--release", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "cvreeng-bench build --out" in result.stderr


def test_build_then_validate_from_the_command_line(tmp_path: Path, synthetic_upstream: Path) -> None:
    out = tmp_path / "rel"
    built = cli("build", "--upstream", str(synthetic_upstream), "--no-verify", "--out", str(out), "-q")
    assert built.returncode == 0, built.stderr
    assert "release written to" in built.stdout and "differs from the pinned file (--no-verify)" in built.stderr
    checked = cli("validate", "--release", str(out))
    assert checked.returncode == 0 and "0 error(s)" in checked.stdout


def test_a_wrong_upstream_folder_is_refused_cleanly(tmp_path: Path) -> None:
    result = cli("build", "--upstream", str(tmp_path), "--out", str(tmp_path / "x"))
    assert result.returncode == 2 and "no mirror of" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("flag", ["--version", "--help"])
def test_top_level_flags_work(flag: str) -> None:
    assert cli(flag).returncode == 0


def test_the_module_entry_point_is_the_command() -> None:
    result = subprocess.run([sys.executable, "-m", "cvreeng_bench", "tasks"], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0 and "root_cause@v" in result.stdout


def test_the_command_list_imports_only_the_parser_not_the_benchmarks_registries() -> None:
    code = ("import json, sys, cvreeng_bench.cli as c\n"
            "try:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('cvreeng_bench'))))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert not [m for m in loaded if m.startswith(("cvreeng_bench.scoring.tasks", "cvreeng_bench.systems",
                                                   "cvreeng_bench.board", "cvreeng_bench.taxonomy"))], loaded
    assert len(loaded) <= 15, loaded
    listed = result.stdout
    assert "evaluate" in listed and "leaderboard" in listed and "Run a seeded baseline" in listed


def test_the_completion_script_completes_commands_actions_options_choices_and_task_names(tmp_path: Path) -> None:
    made = cli("completion")
    assert made.returncode == 0 and made.stdout.startswith("# cvreeng-bench tab completion"), made.stderr
    script = tmp_path / "completion.bash"
    script.write_text(made.stdout)
    cases = {"lea": "leaderboard", "leaderboard a": "add", "leaderboard add x.csv --ta": "--task",
             "leaderboard add x.csv --task ro": "root_cause",
             "compare a.csv b.csv --metric ": "accuracy macro_f1 kappa",
             "-v rq fig1": "fig10", "evaluate p.csv --release fig --format ": "table json",
             "transfer knn --train so_dl_bugs --test bug": "bug_kind", "baseline kn": "knn"}
    probe = "".join(f"COMP_WORDS=({shlex.join(['cvreeng-bench', *words.split(), *([''] * words.endswith(' '))])}); "
                    "COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); _cvreeng_bench; echo \"${COMPREPLY[*]}\"\n"
                    for words in cases)
    done = subprocess.run(["bash", "-c", f"source {script}\n{probe}"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert dict(zip(cases, done.stdout.splitlines(), strict=True)) == cases
