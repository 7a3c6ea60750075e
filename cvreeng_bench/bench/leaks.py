"""Leak report per split: issues on both sides, and (with issue texts) identical or near-identical texts
across sides. Shipped in every release as ``leak_report.json``."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

from .splits import N_FOLDS, SIDED, TEST, TRAIN

if TYPE_CHECKING:
    import polars as pl

NEAR_DUPLICATE = 0.8  # Jaccard similarity of word 3-gram shingles
_WORDS = re.compile(r"\w+")


def _shingles(text: str) -> frozenset[str]:
    words = _WORDS.findall(text.casefold())
    return frozenset(" ".join(words[i:i + 3]) for i in range(max(1, len(words) - 2)))


def _sides(splits: pl.DataFrame) -> dict[str, tuple[set[str], set[str]]]:
    out = {}
    for name in SIDED:
        out[name] = (set(splits.filter(splits[name] == TRAIN)["issue_id"]),
                     set(splits.filter(splits[name] == TEST)["issue_id"]))
    for fold in range(N_FOLDS):
        out[f"fold{fold}"] = (set(splits.filter(splits["fold"] != fold)["issue_id"]),
                              set(splits.filter(splits["fold"] == fold)["issue_id"]))
    return out


def report(splits: pl.DataFrame, defects: pl.DataFrame, texts: pl.DataFrame | None = None) -> dict[str, Any]:
    """For each split: issues on both sides, defects split from their issue, and text overlaps."""
    issue_of = dict(zip(defects["defect_id"], defects["issue_id"], strict=True))
    text_of: dict[str, str] = {}
    if texts is not None:
        text_of = {i: t or "" for i, t in zip(texts["issue_id"], texts["text"], strict=True)}
    shingles = {i: _shingles(t) for i, t in text_of.items() if t.strip()}
    digest = {i: hashlib.sha256(" ".join(_WORDS.findall(t.casefold())).encode()).hexdigest()
              for i, t in text_of.items() if t.strip()}
    out: dict[str, Any] = {"near_duplicate_jaccard": NEAR_DUPLICATE, "texts": texts is not None, "splits": {}}
    for name, (train, test) in _sides(splits).items():
        both = sorted(train & test)
        stray = sorted(d for d, i in issue_of.items() if i in train and i in test)
        entry: dict[str, Any] = {"train": len(train), "test": len(test), "issues_on_both_sides": both,
                                 "defects_on_both_sides": stray}
        if texts is not None:
            by_hash: dict[str, list[str]] = {}
            for issue in train:
                if issue in digest:
                    by_hash.setdefault(digest[issue], []).append(issue)
            identical = sorted((t, s) for t in test if t in digest for s in by_hash.get(digest[t], []))
            near = []
            for t in sorted(test):
                if t not in shingles:
                    continue
                for s in sorted(train):
                    if s in shingles and (t, s) not in identical:
                        a, b = shingles[t], shingles[s]
                        if len(a & b) / len(a | b) >= NEAR_DUPLICATE:
                            near.append((t, s))
            entry["identical_texts"] = [list(p) for p in identical]
            entry["near_identical_texts"] = [list(p) for p in near]
        out["splits"][name] = entry
    return out
