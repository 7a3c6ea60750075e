"""Prompts for language-model classifiers: named, versioned, frozen templates in a registry that refuses
duplicates (as the tasks are). A prompt's text carries the task's label set with each label's definition
and asks for exactly one label; a changed prompt is a new version, and every run records the version.

``zero-shot`` shows the issue only; ``few-shot`` first shows K solved examples drawn, deterministically,
from the train side of the split (never from the side being predicted), spread over the labels.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import CvreengError
from .splits import SEED

if TYPE_CHECKING:
    from .tasks import Task

MAX_TEXT_CHARS = 12_000  # an issue's text beyond this is cut (long threads), and the prompt says so
Message = dict[str, str]


class PromptError(CvreengError):
    """An unknown prompt or version, or a duplicate registration."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    shots: int  # solved examples shown before the issue (0: zero-shot)
    description: str

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"


@dataclass
class PromptRegistry:
    prompts: dict[str, dict[int, Prompt]] = field(default_factory=dict)

    def register(self, prompt: Prompt) -> Prompt:
        versions = self.prompts.setdefault(prompt.name, {})
        if prompt.version in versions or (versions and prompt.version < max(versions)):
            raise PromptError(f"prompt {prompt.key} is already registered or older; a changed prompt needs a new "
                              "version")
        versions[prompt.version] = prompt
        return prompt

    def get(self, name: str) -> Prompt:
        base, _, suffix = name.partition("@v")
        if base not in self.prompts:
            raise PromptError(f"unknown prompt {base!r}; prompts: {', '.join(sorted(self.prompts))}")
        versions = self.prompts[base]
        if suffix and (not suffix.isdigit() or int(suffix) not in versions):
            raise PromptError(f"prompt {base} has no version {suffix!r}; versions: {sorted(versions)}")
        return versions[int(suffix)] if suffix else versions[max(versions)]


PROMPTS = PromptRegistry()
PROMPTS.register(Prompt("zero-shot", 1, 0, "the label set with definitions, then the issue"))
PROMPTS.register(Prompt("few-shot", 1, 4, "the label set with definitions, K solved train-side examples, the issue"))


def system_message(task: Task) -> str:
    labels = "\n".join(f"- {label}: {task.definition(label)}" for label in task.labels)
    return ("You label GitHub issues from open-source computer-vision model repositories, following the defect "
            "taxonomy of Jiang et al., 'Challenges and Practices of Deep Learning Model Reengineering' (EMSE 2024)."
            f"\n\nTask: {task.description}\n\nLabels (choose exactly one):\n{labels}\n\n"
            'Answer with a JSON object {"label": "<one label from the list, spelled exactly>"} and nothing else.')


def issue_message(row: dict[str, Any], text: str, inputs: tuple[str, ...]) -> str:
    facts = "\n".join(f"{column}: {row[column]}" for column in inputs if row.get(column) not in (None, [], ""))
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + f"\n[... cut after {MAX_TEXT_CHARS} characters]"
    return f"Issue {row['issue_id']}\n{facts}\n\n{text}".rstrip()


def examples(train: list[dict[str, Any]], k: int, seed: int = SEED) -> list[dict[str, Any]]:
    """K train-side issues in a seeded order, one label after another so the examples cover the labels."""
    ordered = sorted(train, key=lambda r: hashlib.sha256(f"{seed}:{r['issue_id']}".encode()).hexdigest())
    by_label: dict[str, list[dict[str, Any]]] = {}
    for row in ordered:
        by_label.setdefault(row["primary"], []).append(row)
    chosen: list[dict[str, Any]] = []
    while len(chosen) < k and any(by_label.values()):
        for label in sorted(by_label):
            if by_label[label] and len(chosen) < k:
                chosen.append(by_label[label].pop(0))
    return chosen


def render(prompt: Prompt, task: Task, row: dict[str, Any], text_of: dict[str, str],
           shots: list[dict[str, Any]] | None = None) -> list[Message]:
    """The chat messages for one issue (``text_of``: issue id -> the track's text)."""
    messages = [{"role": "system", "content": system_message(task)}]
    for example in shots or []:
        messages += [{"role": "user", "content": issue_message(example, text_of.get(example["issue_id"], ""),
                                                                task.inputs)},
                     {"role": "assistant", "content": json.dumps({"label": example["primary"]})}]
    messages.append({"role": "user", "content": issue_message(row, text_of.get(row["issue_id"], ""), task.inputs)})
    return messages


REMINDER = ("Your answer did not name exactly one label of the list. Answer again with only "
            '{"label": "<label>"}, the label spelled exactly as in the list.')
