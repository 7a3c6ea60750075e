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
        if splits[name].null_count() == splits.height:  # a split this task's items cannot have
            continue
        out[name] = (set(splits.filter(splits[name] == TRAIN)["issue_id"]),
                     set(splits.filter(splits[name] == TEST)["issue_id"]))
    for fold in range(N_FOLDS):
        out[f"fold{fold}"] = (set(splits.filter(splits["fold"] != fold)["issue_id"]),
                              set(splits.filter(splits["fold"] == fold)["issue_id"]))
    return out


def text_pairs(texts: pl.DataFrame) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """Pairs of issues with identical texts (after case and space folding), and near-identical ones."""
    text_of = {i: t or "" for i, t in zip(texts["issue_id"], texts["text"], strict=True) if (t or "").strip()}
    digest = {i: hashlib.sha256(" ".join(_WORDS.findall(t.casefold())).encode()).hexdigest()
              for i, t in text_of.items()}
    shingles = {i: _shingles(t) for i, t in text_of.items()}
    ids = sorted(text_of)
    identical, near = set(), set()
    for n, a in enumerate(ids):
        for b in ids[n + 1:]:
            if digest[a] == digest[b]:
                identical.add(frozenset((a, b)))
            elif len(shingles[a] & shingles[b]) / len(shingles[a] | shingles[b]) >= NEAR_DUPLICATE:
                near.add(frozenset((a, b)))
    return identical, near


def _crossing(pairs: set[frozenset[str]], train: set[str], test: set[str]) -> list[list[str]]:
    """(test issue, train issue) for every pair with one issue on each side."""
    out = []
    for pair in pairs:
        a, b = sorted(pair)
        if a in test and b in train:
            out.append([a, b])
        if b in test and a in train:
            out.append([b, a])
    return sorted(out)


def report(splits: pl.DataFrame, defects: pl.DataFrame, texts: pl.DataFrame | None = None,
           issues: pl.DataFrame | None = None) -> dict[str, Any]:
    """For each task and split: issues on both sides, defects split from their issue, classes with no test
    issue, (with ``issues``) the test side's repositories that have no train issue, and (with texts) identical
    or near-identical texts across the sides."""
    issue_of = dict(zip(defects["defect_id"], defects["issue_id"], strict=True))
    repo_of = dict(issues.select("issue_id", "repo").rows()) if issues is not None else {}
    identical, near = text_pairs(texts) if texts is not None else (set(), set())
    out: dict[str, Any] = {"near_duplicate_jaccard": NEAR_DUPLICATE, "texts": texts is not None, "splits": {}}
    for (task,), rows in sorted(splits.group_by("task"), key=lambda g: str(g[0][0])):
        stratum = dict(zip(rows["issue_id"], rows["stratum"], strict=True))
        for name, (train, test) in _sides(rows).items():
            stray = sorted(d for d, i in issue_of.items() if i in train and i in test)
            entry: dict[str, Any] = {
                "train": len(train), "test": len(test), "issues_on_both_sides": sorted(train & test),
                "defects_on_both_sides": stray,
                "classes_without_test_issues": sorted({stratum[i] for i in train} - {stratum[i] for i in test})}
            if repo_of and name in ("temporal", "holdout", "repo_holdout"):
                # The temporal split is kept date-only (not repo-aware): a model meets repositories it never saw
                # in training there, as it would after deployment; this list says which.
                seen = {repo_of.get(i) for i in train}
                entry["test_repositories_without_train_issues"] = sorted(
                    {r for i in test if (r := repo_of.get(i)) is not None and r not in seen})
            if texts is not None:
                entry["identical_texts"] = _crossing(identical, train, test)
                entry["near_identical_texts"] = _crossing(near, train, test)
            out["splits"][f"{task}/{name}"] = entry
    return out
