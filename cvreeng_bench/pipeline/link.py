"""Link the agreement workbook's items to the dataset's issues.

The workbook names an issue number but no repository, and a third of the numbers occur in several
sampled repositories. An item (one row per rater, paired by position) is linked to the reengineering
issue with its number when exactly one candidate fits; where several do, the candidates are narrowed by
the item's context fields, framework, same code and same data (a candidate fits when one of its defects
carries, for each field, a value either rater wrote). The task dimensions (stage, impact, ...) are never
used to link, so linking cannot favour either rater's labels, and nothing is guessed: an item that still
fits several issues, or none, stays unlinked and says why.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

CONTEXT = ("framework", "same_code", "same_data")
BY_NUMBER = "issue number"
BY_FIELDS = "issue number + framework/same code/same data"
AMBIGUOUS, NO_CANDIDATE, MISPAIRED = "ambiguous", "no candidate", "raters name different issues"


def _fits(defect: dict[str, Any], raters: list[dict[str, Any]]) -> bool:
    for field in CONTEXT:
        written = {r[field] for r in raters if r[field] is not None}
        if written and defect[field] not in written:
            return False
    return True


def link(annotations: list[dict[str, Any]], defects: list[dict[str, Any]]) -> None:
    """Set issue_id, link_method, link_candidates and link_ambiguous on every annotation row, in place."""
    by_number: dict[int, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for defect in defects:
        by_number[defect["issue_number"]][defect["issue_id"]].append(defect)
    items: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for row in annotations:
        items[(row["phase"], row["item"])].append(row)
    for raters in items.values():
        numbers = {r["issue_number"] for r in raters}
        candidates = by_number.get(next(iter(numbers)), {}) if len(numbers) == 1 else {}
        fitting = [issue for issue, found in candidates.items() if any(_fits(d, raters) for d in found)]
        if len(numbers) != 1:
            issue, method = None, MISPAIRED
        elif len(fitting) == 1:
            issue, method = fitting[0], BY_NUMBER if len(candidates) == 1 else BY_FIELDS
        else:
            issue, method = None, AMBIGUOUS if fitting else NO_CANDIDATE
        for row in raters:
            row.update(issue_id=issue, link_method=method, link_candidates=len(candidates),
                       link_ambiguous=len(fitting) > 1)
