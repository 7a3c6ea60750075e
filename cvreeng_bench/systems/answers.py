"""Read a model's answer as one task label: the label alone, JSON ``{"label": ...}``, another case,
surrounding prose that names exactly one label, or one of the taxonomy's aliases. Anything else is no
label (the runner asks once more, then records an abstention)."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from .. import taxonomy

if TYPE_CHECKING:
    from ..scoring.tasks import Task

_OBJECT = re.compile(r"\{[^{}]*\}")
# A label answer is a few words; an answer past this is no label (read whole, a 15 MiB answer cost 15 s of CPU).
MAX_ANSWER_CHARS = 20_000


def _spellings(task: Task) -> dict[str, str]:
    """Every accepted spelling (matching key) -> task label: labels, then the taxonomy's aliases."""
    out = {taxonomy.key(label): label for label in task.labels}
    if task.dimension in taxonomy.dimension_names():
        for entry in taxonomy.LABELS:
            if entry.dimension == task.dimension:
                label = task.task_label(entry.label)
                for spelling in (entry.label, *entry.aliases):
                    out.setdefault(taxonomy.key(spelling), label)
    return {k: v for k, v in out.items() if v in task.labels and k}


def _exact(text: str, spellings: dict[str, str]) -> str | None:
    return spellings.get(taxonomy.key(text.strip().strip(".").strip("`")))


def _named(text: str, spellings: dict[str, str]) -> set[str]:
    """The labels the text names, longest spellings first so 'not reengineering' is not also 'reengineering'."""
    folded, found = taxonomy.key(text), set()
    for spelling in sorted(spellings, key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w-]){re.escape(spelling)}(?![\w-])")
        if pattern.search(folded):
            found.add(spellings[spelling])
            folded = pattern.sub(" ", folded)
    return found


class _RepeatedKeyError(ValueError):
    """A JSON object that gives one key twice (which one counts would be the parser's choice, not the model's)."""


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _RepeatedKeyError(keys)
    return dict(pairs)


def _labels(data: object, depth: int = 0) -> list[object]:
    """Every value of a ``label`` key at any depth (an answer that nests a second label names two)."""
    if depth > 20:
        return [None]
    if isinstance(data, dict):
        own = [data["label"]] if "label" in data else []
        nested = [v for value in data.values() if isinstance(value, (dict, list)) for v in _labels(value, depth + 1)]
        return own + nested
    if isinstance(data, list):
        return [v for value in data for v in _labels(value, depth + 1)]
    return []


def _from_json(text: str, spellings: dict[str, str]) -> tuple[bool, str | None]:
    """(whether ``text`` is JSON naming a label field or a bare string, the label it names if any). Strict: a key
    given twice, or labels named at two places that differ, name no label."""
    try:
        data = json.loads(text, object_pairs_hook=_unique)
    except _RepeatedKeyError:
        return True, None
    except (json.JSONDecodeError, RecursionError):
        return False, None
    if isinstance(data, dict) and isinstance(data.get("label"), str):
        named = {_exact(value, spellings) if isinstance(value, str) else None for value in _labels(data)}
        return True, named.pop() if len(named) == 1 else None
    if isinstance(data, str):
        return True, _exact(data, spellings)
    return False, None


def parse(answer: str | None, task: Task) -> str | None:
    """The one label an answer names, or None (no label, or several in any form: two JSON objects, JSON and
    prose naming another label, prose naming two; or an answer longer than :data:`MAX_ANSWER_CHARS`)."""
    if not answer or not answer.strip() or len(answer) > MAX_ANSWER_CHARS:
        return None
    spellings = _spellings(task)
    whole, label = _from_json(answer.strip(), spellings)
    if whole:
        return label
    found: set[str | None] = set()
    for candidate in _OBJECT.findall(answer):
        parsed, label = _from_json(candidate, spellings)
        if parsed:
            found.add(label)
    if found:
        if None in found:  # a JSON answer naming something that is not a label
            return None
        named = found | _named(_OBJECT.sub(" ", answer), spellings)
        return named.pop() if len(named) == 1 else None
    exact = _exact(answer, spellings)
    if exact:
        return exact
    named_in_prose = _named(answer, spellings)
    return named_in_prose.pop() if len(named_in_prose) == 1 else None
