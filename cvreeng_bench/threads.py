"""How an issue thread becomes one text: the one rendering that the ``issue_texts`` config stores and
that every text system reads (a leaf, so the data pipeline and the scorer share it without importing
each other)."""

from __future__ import annotations


def render(title: str, body: str, comments: list[str]) -> str:
    parts = [f"# {title}".strip(), body.strip()]
    parts += [f"--- comment {i}\n{c.strip()}" for i, c in enumerate(comments, 1)]
    return "\n\n".join(p for p in parts if p)
