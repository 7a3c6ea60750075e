"""Prompts for language-model classifiers: named, versioned, frozen templates in a registry that refuses
duplicates (as the tasks are). A prompt's text carries the task's label set with each label's definition
and asks for exactly one label; a changed prompt is a new version, and every run records the version.

``zero-shot`` shows the issue only; ``few-shot`` first shows K solved examples drawn, deterministically,
from the train side of the split (never from the side being predicted), spread over the labels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CvreengError
from ..registry import Registry
from ..scoring.inputs import TEXT
from ..scoring.splits import SEED

if TYPE_CHECKING:
    from ..scoring.tasks import Task

MAX_TEXT_CHARS = 12_000  # an issue's text beyond this is cut (long threads), and the prompt says so
Message = dict[str, str]


class PromptError(CvreengError):
    """A prompt that cannot be rendered."""


# The texts of version 1, kept verbatim: a prompt's content hash covers them, so a change is a new version.
SYSTEM_V1 = ("You label GitHub issues from open-source computer-vision model repositories, following the defect "
             "taxonomy of Jiang et al., 'Challenges and Practices of Deep Learning Model Reengineering' (EMSE 2024)."
             "\n\nTask: {description}\n\nLabels (choose exactly one):\n{labels}\n\n"
             'Answer with a JSON object {{"label": "<one label from the list, spelled exactly>"}} and nothing else.')
LABEL_V1 = "- {label}: {definition}"
ISSUE_V1 = "Issue {issue_id}\n{facts}\n\n{text}"
ANSWER_V1 = '{{"label": "{label}"}}'
REMINDER_V1 = ("Your answer did not name exactly one label of the list. Answer again with only "
               '{"label": "<label>"}, the label spelled exactly as in the list.')
# Version 2: the population's own words (a post is not called an issue) and the task's question, which states no
# count and no class balance.
SYSTEM_V2 = ("You label {items_are}, following {vocabulary}.\n\nQuestion: {question}\n\n"
             "Labels (choose exactly one):\n{labels}\n\n"
             'Answer with a JSON object {{"label": "<one label from the list, spelled exactly>"}} and nothing else.')
ISSUE_V2 = "{item} {issue_id}\n{facts}\n\n{text}"


@dataclass(frozen=True)
class Prompt:
    """A prompt with its own templates: ``system`` ({description}, {labels}), one ``label_line`` per label
    ({label}, {definition}), the ``issue`` message ({issue_id}, {facts}, {text}), the ``answer`` of a solved
    example ({label}) and the ``reminder`` sent once when an answer names no label."""

    name: str
    version: int
    shots: int  # solved examples shown before the issue (0: zero-shot)
    description: str
    system: str = SYSTEM_V1
    label_line: str = LABEL_V1
    issue: str = ISSUE_V1
    answer: str = ANSWER_V1
    reminder: str = REMINDER_V1

    @property
    def key(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def sha256(self) -> str:
        """The content hash of everything the prompt sends (templates and number of shots)."""
        content = [self.shots, self.system, self.label_line, self.issue, self.answer, self.reminder]
        return hashlib.sha256(json.dumps(content).encode()).hexdigest()

    def system_message(self, task: Task) -> str:
        labels = "\n".join(self.label_line.format(label=label, definition=task.definition(label))
                           for label in task.labels)
        return self.system.format(description=task.description, labels=labels, question=task.question or
                                  task.description, items_are=task.source.items_are, vocabulary=task.source.vocabulary)

    def issue_message(self, row: Mapping[str, Any], text: str, inputs: tuple[str, ...], item: str = "Issue") -> str:
        facts = "\n".join(f"{column}: {row[column]}" for column in inputs
                          if column in row and row[column] not in (None, [], ""))
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS] + f"\n[... cut after {MAX_TEXT_CHARS} characters]"
        return self.issue.format(issue_id=row["issue_id"], facts=facts, text=text, item=item).rstrip()


PROMPTS: Registry[Prompt] = Registry("prompt")
PROMPTS.register(Prompt("zero-shot", 1, 0, "the label set with definitions, then the issue"))
PROMPTS.register(Prompt("few-shot", 1, 4, "the label set with definitions, K solved train-side examples, the issue"))
PROMPTS.register(Prompt("zero-shot", 2, 0, "in the population's words, the question, the labels with definitions, "
                        "then the item", system=SYSTEM_V2, issue=ISSUE_V2))
PROMPTS.register(Prompt("few-shot", 2, 4, "in the population's words, the question, the labels with definitions, "
                        "K solved train-side examples, then the item", system=SYSTEM_V2, issue=ISSUE_V2))


Example = tuple[Mapping[str, Any], str]  # a solved example: a view's train row and its label


def examples(train: list[Example], k: int, seed: int = SEED) -> list[Example]:
    """K train-side issues in a seeded order, one label after another so the examples cover the labels."""
    ordered = sorted(train, key=lambda pair: hashlib.sha256(f"{seed}:{pair[0]['issue_id']}".encode()).hexdigest())
    by_label: dict[str, list[Example]] = {}
    for pair in ordered:
        by_label.setdefault(pair[1], []).append(pair)
    chosen: list[Example] = []
    while len(chosen) < k and any(by_label.values()):
        for label in sorted(by_label):
            if by_label[label] and len(chosen) < k:
                chosen.append(by_label[label].pop(0))
    return chosen


def _text(row: Mapping[str, Any]) -> str:
    return row.get(TEXT) or ""


def render(prompt: Prompt, task: Task, row: Mapping[str, Any], shots: list[Example] | None = None) -> list[Message]:
    """The chat messages for one issue: its row (declared inputs and the track's text) after the solved examples."""
    messages = [{"role": "system", "content": prompt.system_message(task)}]
    for example, label in shots or []:
        messages += [{"role": "user", "content": prompt.issue_message(example, _text(example), task.inputs,
                                                                       task.source.item)},
                     {"role": "assistant", "content": prompt.answer.format(label=label)}]
    messages.append({"role": "user", "content": prompt.issue_message(row, _text(row), task.inputs, task.source.item)})
    return messages
