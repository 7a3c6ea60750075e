"""The crosswalk checked against data: a text baseline trained on the Stack Overflow posts' five DL-bug kinds labels
the analysts' notes on the study's issues, and each root cause's notes are tallied by the kind it gives them, beside
the kind each version of the declared crosswalk (:data:`cvreeng_bench.dlbugs.CROSSWALKS`) maps the cause to.

The posts and the notes share only their text, as in ``transfer``; the tally is evidence to argue a mapping with, not
a gold: the classifier is weak on short notes (read its shares against the spread over every cause).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import dlbugs
from ..scoring.inputs import across
from ..scoring.tasks import ALL, get, items
from .baselines import BaselineError, _embeddings_memo, _predict
from .baselines import get as baseline

if TYPE_CHECKING:
    from ..release import Release

POSTS, NOTES = "so_dl_bugs", "notes_root_cause"
SYSTEMS = ("tfidf", "embeddings", "knn")  # the text baselines that learn from labeled items


@dataclass(frozen=True)
class CrossRow:
    """One study root cause: its noted issues, the share the posts-trained system puts in each kind, and the kind each
    crosswalk version maps it to."""

    root_cause: str
    n: int
    shares: tuple[tuple[str, float], ...]  # (kind, share) in dlbugs.BUG_KINDS order
    mapped: tuple[tuple[int, str | None], ...]  # (crosswalk version, kind or None)

    @property
    def top(self) -> str:
        return max(self.shares, key=lambda pair: pair[1])[0]

    def share(self, kind: str | None) -> float | None:
        return None if kind is None else dict(self.shares)[kind]


def check(release: Release, *, system: str = "tfidf", track: str = "analysis", seed: int = 0) -> list[CrossRow]:
    """Per study root cause (the primary label of each noted issue), the kinds a ``system`` trained on every post of a
    DL-bug kind gives the issue's ``track`` notes; most noted causes first."""
    chosen = baseline(system)
    if not chosen.needs_text or chosen.zero_shot:
        raise BaselineError(f"baseline {system} {'reads no text' if not chosen.needs_text else 'learns nothing'}; the "
                            f"check trains a text baseline on the posts: one of {', '.join(SYSTEMS)}")
    notes, posts = get(NOTES), get(POSTS)
    view = across(posts, notes, release, track, dlbugs.BUG_KINDS)
    if not view.train or not view.test:
        raise BaselineError(f"the check needs posts to learn from and notes to label: {len(view.train)} posts, "
                            f"{len(view.test)} noted issues in this release")
    labels = _predict(chosen, view, seed=seed, memo=_embeddings_memo(release))
    cause = dict(items(notes, release, ALL).select("issue_id", "primary").rows())
    tally: dict[str, Counter[str]] = {}
    for row, kind in zip(view.test, labels, strict=True):
        tally.setdefault(cause[row["issue_id"]], Counter())[kind] += 1
    out = []
    for root_cause, counts in tally.items():
        n = sum(counts.values())
        out.append(CrossRow(root_cause, n, tuple((k, counts[k] / n) for k in dlbugs.BUG_KINDS),
                            tuple((v, {c.root_cause: c.kind for c in walk}.get(root_cause))
                                  for v, walk in sorted(dlbugs.CROSSWALKS.items()))))
    return sorted(out, key=lambda r: (-r.n, r.root_cause))


def overall(rows: list[CrossRow]) -> dict[str, float]:
    """The share of every noted issue the system puts in each kind: what a cause's share is read against."""
    n = sum(r.n for r in rows) or 1
    return {k: sum(dict(r.shares)[k] * r.n for r in rows) / n for k in dlbugs.BUG_KINDS}


def lift(row: CrossRow, rows: list[CrossRow], kind: str | None) -> float | None:
    """How many times more often the system puts this cause's notes in ``kind`` than it does any note (None: the kind
    is None, or the system never says it)."""
    base = overall(rows).get(kind or "", 0.0)
    share = row.share(kind)
    return None if share is None or base == 0.0 else share / base


def table(rows: list[CrossRow], system: str, track: str) -> str:
    """The check as text: one line per cause, the shares, the mapped kinds (v1 -> v2), and the latest kind's share
    with its lift over the share of every note."""
    versions = [v for v, _ in rows[0].mapped] if rows else sorted(dlbugs.CROSSWALKS)
    head = (f"{'root cause':38s} {'n':>3s} " + " ".join(f"{k:>8s}" for k in dlbugs.BUG_KINDS)
            + "  " + " -> ".join(f"v{v}" for v in versions) + "  (latest kind: share, lift)")
    lines = [f"{system} trained on the posts' DL-bug kinds, labeling the analysts' {track} notes of each root cause; "
             "lift = the share over that kind's share of every note (above 1: the notes lean to the mapped kind)",
             head]
    for row in rows:
        mapped = " -> ".join(str(kind) if kind else "(out)" for _, kind in row.mapped)
        kind = row.mapped[-1][1]
        share, times = row.share(kind), lift(row, rows, kind)
        said = "" if share is None else f"  ({share:.2f}, " + ("never said" if times is None else f"x{times:.1f}") + ")"
        lines.append(f"{row.root_cause[:38]:38s} {row.n:3d} " + " ".join(f"{s:8.2f}" for _, s in row.shares)
                     + f"  {mapped}{said}")
    every = overall(rows)
    lines.append(f"{'every noted issue':38s} {sum(r.n for r in rows):3d} "
                 + " ".join(f"{every[k]:8.2f}" for k in dlbugs.BUG_KINDS))
    return "\n".join(lines) + "\n"
