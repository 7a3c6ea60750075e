"""What the command modules share: adding a command with help and an example, the --release option,
and printing problems."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]
SHOWN_PROBLEMS = 10  # without --verbose, this many problems are listed, then a count


def command(sub: argparse._SubParsersAction, common: argparse.ArgumentParser, name: str, help_text: str, *,
            example: str, handler: Handler) -> argparse.ArgumentParser:
    # The command list formats help with %-placeholders, the description is printed as written.
    parser = sub.add_parser(name, help=help_text.replace("%", "%%"), description=help_text, parents=[common],
                            epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.set_defaults(handler=handler)
    return parser


def release_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", type=Path, default=None,
                        help="release folder (default: the user-cache release, built on first use)")


def print_problems(problems: Sequence[object], verbose: bool, limit: int = SHOWN_PROBLEMS) -> None:
    shown = list(problems) if verbose else list(problems)[:limit]
    for problem in shown:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > len(shown):
        print(f"  ... and {len(problems) - len(shown)} more (--verbose lists all)", file=sys.stderr)
