"""What every stage reports instead of raising on bad data: a list of :class:`Problem`.

A leaf module, so stage 2 (normalize) can report problems without importing stage 3 (validate).
Errors block a release; warnings are printed and kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SEVERITIES = ("error", "warning")


@dataclass(frozen=True)
class Problem:
    where: str  # file, row and column; or config and id
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.severity}: {self.where}: {self.message}"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]
