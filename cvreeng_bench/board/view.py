"""The leaderboard as text, JSON, Markdown and HTML, from :class:`~.leaderboard.Ranked` rows. Every cell that
came from a submitter is escaped: control characters never reach a terminal, Markdown cells lose their
HTML, pipes and line breaks, HTML is rendered by jinja2 with autoescape on, and a link is only ever an
http(s) URL."""

from __future__ import annotations

import dataclasses
import html
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from ..annotator import judged as judged_task
from ..scoring.protocol import caveat
from ..scoring.tasks import REGISTRY
from ..text import markdown_cell, printable
from .entries import TIER_MEANINGS, Kind, LeaderboardError, Tier
from .leaderboard import GOLD_NOTE
from .ranking import NEAR_DUPLICATE, Pool, Ranked, Status, stability

if TYPE_CHECKING:
    from ..release import Release

FORMATS = ("table", "json", "markdown")
COLUMNS = ("rank", "name", "kind", "verification", "score", "95% CI", "n", "date", "model", "as annotator", "note")
VERDICT = ("As annotator (study tasks, out-of-fold): the largest change of a cell's share of the paper's figures "
           "for the task's column when these labels replace the analysts', the quoted claims that survive (within "
           "5 points, stated orders kept), and Cohen's kappa with each of the two analysts on the items both "
           "labeled, read against the analysts' kappa with each other; computed from the stored predictions.")
RULE = ("Ranked (protocol v4): reproduced and consistent entries in the main table; self-reported ones apart, ranked "
        "among themselves (the test gold is public); an entry declared trained in-sample never. An entry is ranked "
        "only when the board re-scored its stored predictions to the numbers shown, it scores above every chance "
        "line of the task, and it beats them at 5% (a label-permutation test and a paired permutation test against "
        "the strongest chance line with stored predictions, Holm-adjusted over the table's entries). An entry "
        f"agreeing with a better one on more than {NEAR_DUPLICATE:.0%} of the items is a near-duplicate: shown, not "
        "ranked. Rank = 1 + the number of entries whose 95% interval lies wholly above the entry's (as Chatbot Arena "
        "ranks), so a tie is a tie with the leader, never a chain of neighbours. Reference lines are never ranked. "
        "What the scores measure: the main split's folds keep most repositories on both sides, so a score is about "
        "new issues of repositories the system has seen; for the board's own baselines and chance lines the note "
        "adds the score with whole repositories per fold ('across repositories': repositories never seen), the mean "
        "and sd over 5 dealings of the folds, and whether being ranked or not holds under those dealings ('stable' "
        "or 'unstable over fold seeds').")
TIERS = "Tiers: " + "; ".join(f"{tier}: {meaning}" for tier, meaning in TIER_MEANINGS.items()) + "."


def _note(row: Ranked) -> str:
    notes = [row.reason] if row.reason else []
    entry = row.entry
    if row.verification is Tier.SELF_REPORTED:
        notes.append(f"track {entry.track} self-declared")
    if entry.kind.ranked:
        notes.append(f"trained {entry.trained}" if entry.trained else "training not declared")
    if row.p_vs_chance is not None and row.status is Status.RANKED:
        notes.append(f"p vs chance lines {row.p_vs_chance:.4f} (Holm)")
    if entry.contamination_risk:
        notes.append(f"contamination risk: model cut-off {entry.model_cutoff} on or after the labels were public "
                     f"({entry.labels_public_since})")
    if entry.fold_sd is not None:
        notes.append(f"sd over folds {entry.fold_sd:.3f}")
    if entry.fold_seed_mean is not None and entry.fold_seed_sd is not None and row.verification is Tier.REPRODUCED:
        notes.append(f"over {entry.fold_seeds} fold seeds {entry.fold_seed_mean:.3f} ±{entry.fold_seed_sd:.3f}")
        if entry.repo_fold_score is not None:
            notes.append(f"across repositories (whole repositories per fold) {entry.repo_fold_score:.3f}")
    elif entry.fold_seeds is not None:
        notes.append("fold-seed scores not shown: the board has not confirmed here that it made this entry "
                     "(`cvreeng-bench leaderboard verify`)")
    steady = stability(row)
    if steady:
        notes.append(steady)
    if entry.model:
        notes.append(f"model {entry.model}")
    if entry.notes:
        notes.append(entry.notes)
    return "; ".join(notes)


def cells(row: Ranked) -> list[str]:
    entry = row.entry
    spread = f" ±{entry.score_sd:.3f}" if entry.score_sd else ""
    interval = "" if entry.ci_low is None or entry.ci_high is None else f"{entry.ci_low:.3f}-{entry.ci_high:.3f}"
    rank = str(row.rank) if row.rank is not None else ("ref" if row.status is Status.REFERENCE else "-")
    score = "" if entry.score is None else f"{entry.score:.3f}{spread}"
    model = entry.model or ""
    if entry.model_cutoff:
        risk = ", after the labels went public" if entry.contamination_risk else ""
        model += f" (cut-off {entry.model_cutoff}{risk})"
    judged = "" if row.verdict is None else f"{row.verdict.text()}; {row.verdict.words}"
    if (row.verdict is None and (entry.seeds or 1) > 1 and entry.predictions_sha256 is None and entry.task in REGISTRY
            and judged_task(REGISTRY.get(entry.task))):
        judged = f"a mean over {entry.seeds} seeds: no one set of labels to judge"
    cells = [rank, entry.name, entry.kind, row.verification, score, interval, str(entry.n or ""), entry.date or "",
             model.strip(), judged, _note(row)]
    return [printable(cell, 10**6) for cell in cells]  # a control character never reaches a page or a terminal


def to_dict(row: Ranked) -> dict[str, Any]:
    return {**row.entry.to_row(), "group": row.group, "status": row.status, "rank": row.rank,
            "verification": row.verification, "p_vs_chance": row.p_vs_chance, "reason": row.reason,
            "pool": row.pool, "stability": stability(row) or None,
            "verdict": None if row.verdict is None else dataclasses.asdict(row.verdict),
            "peers": None if row.peers is None else dataclasses.asdict(row.peers)}


def _md(text: str) -> str:
    return markdown_cell(text)


def beside(members: list[Ranked], current: list[Ranked]) -> str:
    """For a text track's group: the metadata baseline and the strongest chance line on the same items (the task's
    metadata group), so a text system is read against them."""
    first = members[0].entry
    if first.track == "metadata":
        return ""
    same = [r for r in current if (r.entry.task, r.entry.task_version, r.entry.split, r.entry.track)
            == (first.task, first.task_version, first.split, "metadata") and r.entry.score is not None]
    learned = [r.entry.score or 0.0 for r in same if r.entry.kind is Kind.BASELINE]
    chance = [r.entry.score or 0.0 for r in same if r.entry.kind is Kind.TRIVIAL]
    parts = ([f"metadata baseline {max(learned):.3f}"] if learned else []) + (
        [f"strongest chance line {max(chance):.3f}"] if chance else [])
    return f"on the same items (track metadata): {', '.join(parts)}" if parts else ""


def select(rows: list[Ranked], task: str | None, verified_only: bool = False) -> list[Ranked]:
    if task is not None:
        name = REGISTRY.get(task).name  # an unknown task is an error, never an empty board
        rows = [r for r in rows if r.entry.task == name]
    if verified_only:
        rows = [r for r in rows if r.verification is Tier.REPRODUCED]
    return rows


def show(rows: list[Ranked], fmt: str = "table") -> str:
    if fmt not in FORMATS:
        raise LeaderboardError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    current = [r for r in rows if r.status is not Status.OLDER]
    old = [r for r in rows if r.status is Status.OLDER]
    if fmt == "json":
        return json.dumps({"note": GOLD_NOTE, "rule": RULE, "verdict": VERDICT,
                           "tiers": {str(t): m for t, m in TIER_MEANINGS.items()},
                           "current": [to_dict(r) for r in current], "older": [to_dict(r) for r in old]},
                          indent=2, default=str) + "\n"
    out = [GOLD_NOTE, RULE, TIERS, VERDICT, ""]
    for group in dict.fromkeys(r.table for r in current):
        members = [r for r in current if r.table == group]
        metric = members[0].entry.main_score
        title = f"{group} (task/split/track), ranked by {metric}"
        if members[0].pool is Pool.SELF_REPORTED:
            title += "; self-reported entries, ranked among themselves only"
        if members[0].peers is not None:
            title += f"; {members[0].peers.text()}"
        same_items = beside(members, current)
        if same_items:
            title += f"; {same_items}"
        warned = _caveat(members[0])
        if warned:
            title += f"; {warned}"
        if fmt == "markdown":
            out += [f"### {_md(title)}", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
            out += ["| " + " | ".join(_md(c) for c in cells(r)) + " |" for r in members]
        else:
            out += [printable(title, 400)]
            table = [list(COLUMNS), *(cells(r) for r in members)]
            widths = [min(40, max(len(printable(c[i], 40)) for c in table)) for i in range(len(COLUMNS))]
            out += ["  " + "  ".join(printable(c[i], 40).ljust(widths[i]) for i in range(len(COLUMNS))).rstrip()
                    for c in table]
        out.append("")
    if old:
        out.append("Older task or dataset versions (not ranked with the above):")
        out += [f"  {_md(r.entry.name) if fmt == 'markdown' else printable(r.entry.name)}: {r.entry.task}@v"
                f"{r.entry.task_version} {r.entry.split} dataset {r.entry.dataset_version} score "
                f"{(r.entry.score or 0):.3f}" for r in old]
    if not current and not old:
        out.append("no entries")
    return "\n".join(out) + "\n"


def safe_url(url: str | None) -> str | None:
    parsed = urlparse(url or "")
    return url if parsed.scheme in ("http", "https") and parsed.netloc else None


PAGE = Path(__file__).with_name("page.html.j2")


def overview(current: list[Ranked]) -> dict[str, Any]:
    """One table of every system by every task/track of the main tables (MTEB's layout): each cell the main score,
    ``(rank)`` when ranked, ``*`` when below chance, ``ref`` for a reference line; self-reported entries apart."""
    main = [r for r in current if r.pool is Pool.MAIN]
    columns = list(dict.fromkeys(r.group for r in sorted(main, key=lambda r: (r.entry.track != "metadata", r.group))))
    names = list(dict.fromkeys(r.entry.name for r in main))
    by_cell = {(r.entry.name, r.group): r for r in main}

    def cell(row: Ranked | None) -> str:
        if row is None or row.entry.score is None:
            return ""
        mark = (f" ({row.rank})" if row.rank is not None else " ref" if row.status is Status.REFERENCE
                else "*" if row.status is Status.BELOW_CHANCE else f" ({row.status})")
        return f"{row.entry.score:.3f}{mark}"

    tracks = {group: group.rsplit("/", 1)[-1] for group in columns}
    rows = [{"name": printable(name, 80), "tiers": " ".join(sorted({str(r.verification) for r in main
                                                                    if r.entry.name == name})),
             "cells": [cell(by_cell.get((name, group))) for group in columns]} for name in names]
    return {"columns": [(group, tracks[group]) for group in columns], "rows": rows,
            "tracks": sorted(set(tracks.values())), "tiers": [str(t) for t in TIER_MEANINGS]}


def _caveat(row: Ranked) -> str:
    warned = caveat(row.entry.task, row.entry.split)
    return f"caveat: {warned}" if warned else ""


def render(rows: list[Ranked], release: Release, out: Path) -> list[Path]:
    """leaderboard.md and leaderboard.html: per group its table (sortable) beside a chart of its ranked and
    reference entries with their intervals, dates, model details and how to submit."""
    import jinja2

    current = [r for r in rows if r.status is not Status.OLDER]
    groups = []
    for group in dict.fromkeys(r.table for r in current):
        members = [r for r in current if r.table == group]
        groups.append({"name": group, "rows": [(r, cells(r), safe_url(r.entry.url)) for r in members],
                       "chart": _chart(members), "peers": "; ".join(
                           t for t in (members[0].peers.text() if members[0].peers else "", beside(members, current),
                                       _caveat(members[0])) if t)})
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    page = env.from_string(PAGE.read_text("utf-8")).render(
        version=release.dataset_version, groups=groups, columns=COLUMNS, note=GOLD_NOTE, rule=RULE, verdict=VERDICT,
        overview=overview(current),
        tiers=[(str(t), m) for t, m in TIER_MEANINGS.items()], older=[r for r in rows if r.status is Status.OLDER])
    if not out.parent.is_dir():
        raise LeaderboardError(f"{out.parent} is not a folder; create it first")
    out.mkdir(exist_ok=True)
    (out / "leaderboard.md").write_text("# cvreeng-bench leaderboard\n\n" + show(rows, "markdown"), encoding="utf-8")
    (out / "leaderboard.html").write_text(page, encoding="utf-8")
    return [out / "leaderboard.md", out / "leaderboard.html"]


# The interval plot is drawn as plain SVG (no chart library): a board of a thousand entries renders in the time of
# an empty one, and the figure scales with the page (viewBox, max-width 100%).
STATUS_COLOURS = {Status.RANKED: "#1f6fb4", Status.BELOW_CHANCE: "#c0392b", Status.NEAR_DUPLICATE: "#8e44ad",
                  Status.IN_SAMPLE: "#8e44ad", Status.REFERENCE: "#777777", Status.UNVERIFIED: "#e67e22",
                  Status.OLDER: "#aaaaaa"}
LABEL_W, PLOT_W, ROW_H, TOP, BOTTOM = 230, 300, 22, 10, 40


def _chart(members: list[Ranked]) -> str | None:
    """The group's entries that have a point, each a dot at its main score on a whisker of its interval (names
    sanitised and escaped: the SVG is inline in the page)."""
    points = [(r, r.entry.score, r.entry.ci_low if r.entry.ci_low is not None else r.entry.score,
               r.entry.ci_high if r.entry.ci_high is not None else r.entry.score)
              for r in members if r.entry.score is not None]
    if not points:
        return None
    width, height = LABEL_W + PLOT_W + 20, TOP + ROW_H * len(points) + BOTTOM

    def x(value: float) -> str:
        return f"{LABEL_W + PLOT_W * min(1.0, max(0.0, value)):.1f}"

    bottom = TOP + ROW_H * len(points)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'style="max-width:100%;height:auto" role="img" aria-label="main score with its 95% interval, per entry" '
             'font-family="system-ui,sans-serif" font-size="12">']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{x(tick)}" y1="{TOP}" x2="{x(tick)}" y2="{bottom}" stroke="#e3e3e3"/>'
                     f'<text x="{x(tick)}" y="{bottom + 14}" text-anchor="middle" fill="#555">{tick:g}</text>')
    for row, (ranked, score, low, high) in enumerate(points):
        y = TOP + ROW_H * row + ROW_H / 2
        colour = STATUS_COLOURS[ranked.status]
        name = html.escape(printable(ranked.entry.name, 36))
        what = html.escape(f"{printable(ranked.entry.name, 80)}: {score:.3f} ({low:.3f}-{high:.3f}), {ranked.status}")
        parts.append(f'<g><title>{what}</title><text x="{LABEL_W - 8}" y="{y + 4:.1f}" text-anchor="end">{name}</text>'
                     f'<line x1="{x(low)}" y1="{y:.1f}" x2="{x(high)}" y2="{y:.1f}" stroke="{colour}" '
                     'stroke-width="2"/>'
                     f'<circle cx="{x(score)}" cy="{y:.1f}" r="4.5" fill="{colour}"/></g>')
    parts.append(f'<text x="{LABEL_W + PLOT_W / 2}" y="{bottom + 32}" text-anchor="middle" fill="#333">'
                 "main score (95% CI); colour: status</text></svg>")
    return "".join(parts)
