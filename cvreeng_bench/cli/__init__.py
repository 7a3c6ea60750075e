"""The ``cvreeng-bench`` command: a thin skin over the library.

Each command is a handler registered with ``set_defaults`` in :mod:`.data` (the release and the paper's
figures) or :mod:`.bench` (the benchmark), and ``completion`` here (it walks the whole parser); handlers
import what they need when they run, so ``--help`` is fast. ``-v/--verbose`` and ``-q/--quiet`` are global:
they work before or after the command name.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from .._version import __version__
from ..errors import CvreengError
from ..text import printable
from . import data
from .common import command as add_command

MESSAGE = 50_000  # characters of an error message shown (every problem is listed, each echoed value cut)


def _global_options(parser: argparse.ArgumentParser, default: object) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="list every problem and warning")
    parser.add_argument("-q", "--quiet", action="store_true", default=default, help="no progress bars")


def _command_of(argv: Sequence[str]) -> str | None:
    """The command name in ``argv`` (the first word that is not an option), if any."""
    return next((a for a in argv if not a.startswith("-")), None)


class Parser(argparse.ArgumentParser):
    """argparse with a suggestion for a mistyped choice (a command, a baseline, a format): "did you mean"."""

    def error(self, message: str) -> NoReturn:
        import re

        found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)", message)
        if found:
            from ..registry import did_you_mean

            known = [c.strip().strip("'") for c in found.group(2).split(",")]
            message = message.replace(found.group(0), found.group(0) + did_you_mean(found.group(1), known))
        super().error(message)


def _completion(args: argparse.Namespace) -> int:
    from ..queries import QUERIES
    from ..scoring.tasks import REGISTRY
    from .completion import script

    # These take any string (a name is checked when the command runs); their completions are the known names.
    names = sorted({task.name for task in REGISTRY.latest()})
    values: dict[str, list[str]] = {"--task": names, "--train": names, "--test": names, "template": names,
                                    "rq": [*(q.label for q in QUERIES), "all"]}
    print(script(build_parser(), values=values), end="")
    return 0


def build_parser(command: str | None = None, *, summary: bool = False) -> argparse.ArgumentParser:
    """The command line; when ``command`` is one of the data commands, only those are registered (the printing
    commands then never import the benchmark's registries); ``summary``: the benchmark commands by name and one
    line of help only (the command list that ``cvreeng-bench --help`` prints)."""
    parser = Parser(
        prog="cvreeng-bench",
        description="The CV model-reengineering defect study (Jiang et al., EMSE 2024): dataset, queries, benchmark.",
        epilog="example:\n  cvreeng-bench build --out release && cvreeng-bench rq fig9 --release release",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _global_options(parser, False)
    # The same flags after the command name; SUPPRESS keeps a command from resetting a flag given before it.
    common = Parser(add_help=False)
    _global_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    data.register(sub, common)
    add_command(sub, common, "completion", "Print a tab-completion script for bash (zsh: after bashcompinit) that "
            "completes commands, options, choices and task names.",
            example='eval "$(cvreeng-bench completion)"    # or: cvreeng-bench completion > '
            "~/.local/share/bash-completion/completions/cvreeng-bench", handler=_completion)
    if command not in sub.choices:  # help, a benchmark command or a mistyped one: the whole command line
        from . import bench

        bench.register(sub, common, summary=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_of(words), summary=_command_of(words) is None)
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `cvreeng-bench rq all | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    except CvreengError as error:
        print(f"error: {printable(error, MESSAGE, keep_newlines=True)}", file=sys.stderr)
        return 2
    except OSError as error:  # a path that is a file, a missing folder, no permission: the user's to fix
        where = f"{error.filename}: " if error.filename else ""
        print(f"error: {printable(where, 300)}{printable(error.strerror or error)}", file=sys.stderr)
        return 2
