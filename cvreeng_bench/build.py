"""The build: the whole chain from the pinned artifact to a release folder.

    sources.resolve -> normalize.read_* (each other population's reader for its optional source) -> errata.apply_errata
    -> validate.validate
    -> scoring.tasks.splits_table / scoring.leaks / the shipped board (what the release carries for the benchmark)
    -> write.write_release into a staging folder -> write.install

It sits above the data pipeline, the scorer and the board: the release *contains* the splits and the shipped
leaderboard, so whatever assembles them must be above them, never below.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paper, taxonomy
from .pipeline import sources
from .pipeline.errata import ERRATA_FILE, apply_errata, read_errata
from .pipeline.link import link
from .pipeline.normalize import read_agreement, read_defects, read_non_reengineering
from .pipeline.validate import validate
from .pipeline.write import STAGING, BuildError, install, manifest, recover, replaceable, write_release
from .problems import Problem, errors
from .schema import frame

if TYPE_CHECKING:
    import polars as pl


def _issues(defects: list[dict[str, Any]], others: list[dict[str, Any]], frameworks: dict[str, str | None],
            ) -> list[dict[str, Any]]:
    table4 = paper.table4()
    issues: dict[str, dict[str, Any]] = {}
    for d in defects:
        issue = issues.setdefault(d["issue_id"], {
            key: d[key] for key in ("issue_id", "repo", "issue_number", "issue_url", "repo_created_at",
                                    "issue_created_at", "days_since_repo_creation", "github_labels")
        } | {"is_reengineering": True, "n_defects": 0, "source": "defects", "source_rows": []})
        issue["n_defects"] += 1
        issue["source_rows"].append(d["source_row"])
    for o in others:
        issues[o["issue_id"]] = {**o, "is_reengineering": False, "n_defects": 0, "source": "non_reengineering",
                                 "github_labels": None, "source_rows": [o["source_row"]]}
    for issue in issues.values():
        row4 = table4.get(issue["repo"])
        issue["repo_type"] = row4.repo_type if row4 else None
        issue["framework"] = frameworks.get(issue["repo"])
    return sorted(issues.values(), key=lambda i: (i["repo"].casefold(), i["issue_number"] or 0))


def _frameworks(defects: list[dict[str, Any]]) -> dict[str, str | None]:
    """Each repository's main framework: the most frequent among its defects (ties by taxonomy order)."""
    order = {label: i for i, label in enumerate(taxonomy.labels("framework"))}
    frameworks: dict[str, str | None] = {}
    for row in paper.TABLE4:
        counts = Counter(d["framework"] for d in defects if d["repo"] == row.repo and d["framework"])
        frameworks[row.repo] = min(counts, key=lambda f: (-counts[f], order[f])) if counts else None
    return frameworks


def _repositories(issues: list[dict[str, Any]], frameworks: dict[str, str | None]) -> list[dict[str, Any]]:
    out = []
    for position, row in enumerate(paper.TABLE4, start=1):
        mine = [i for i in issues if i["repo"] == row.repo]
        out.append({**row.__dict__, "table4_row": position, "framework": frameworks[row.repo], "n_sampled": len(mine),
                    "n_reengineering_issues": sum(i["is_reengineering"] for i in mine),
                    "n_defects": sum(i["n_defects"] for i in mine)})
    return out


def taxonomy_rows() -> list[dict[str, Any]]:
    positions: Counter[str] = Counter()
    rows = []
    for entry in taxonomy.LABELS:
        positions[entry.dimension] += 1
        rows.append({"dimension": entry.dimension, "label": entry.label, "stage": entry.stage,
                     "definition": entry.definition, "aliases": list(entry.aliases), "source": entry.source,
                     "position": positions[entry.dimension]})
    return rows


def assemble(upstream: sources.Upstream, errata_path: Path | None = None,
             ) -> tuple[dict[str, pl.DataFrame], list[Problem]]:
    """The data configs of a release from verified upstream files, and every problem met on the way."""
    errata_path = errata_path or ERRATA_FILE
    defects = read_defects(upstream["defects"])
    others = read_non_reengineering(upstream["non_reengineering"])
    agreement = read_agreement(upstream["agreement"])
    errata, problems = read_errata(errata_path)
    problems = defects.problems + others.problems + agreement.problems + problems
    labeled = {d["issue_id"] for d in defects.rows}
    problems += [Problem(f"{upstream['non_reengineering'].name} row {o['source_row']}", f"issue {o['issue_id']} "
                         "is also in the defects file: an issue is either a reengineering defect or not")
                 for o in others.rows if o["issue_id"] in labeled]
    if errors(problems):
        return {}, problems
    for d in defects.rows:
        d.update(withdrawn=False, withdrawn_reason=None, root_cause_stage=taxonomy.root_cause_stage(d["root_cause"]))
    problems += apply_errata(defects.rows, errata, errata_path.name)
    link(agreement.rows, [d for d in defects.rows if not d["withdrawn"]])
    frameworks = _frameworks(defects.rows)
    issues = _issues(defects.rows, others.rows, frameworks)
    tables = {
        "defects": frame("defects", defects.rows),
        "issues": frame("issues", issues),
        "repositories": frame("repositories", _repositories(issues, frameworks)),
        "annotations": frame("annotations", agreement.rows),
        "taxonomy": frame("taxonomy", taxonomy_rows()),
    }
    return tables, problems + validate(tables)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def build(out: Path, upstream: str | Path | None = None, *, verify: bool = True, progress: bool = True,
          extra: dict[str, pl.DataFrame] | None = None, errata_path: Path | None = None,
          ) -> tuple[Path, list[Problem]]:
    """Build the release into ``out``; raise BuildError (nothing written) when any error was found."""
    from .board.entries import SHIPPED, read_strict
    from .scoring import leaks
    from .scoring.populations import POPULATIONS
    from .scoring.task_data import task_frames
    from .scoring.tasks import REGISTRY, splits_table

    errata_path = errata_path or ERRATA_FILE
    found = sources.resolve(upstream, verify=verify, progress=progress)
    optional, absent = sources.resolve_optional(upstream, verify=verify, progress=progress)
    tables, problems = assemble(found, errata_path)
    for population in POPULATIONS:  # every other source of items: its reader, its config, its validation
        if population.read is None or population.name not in optional:
            continue
        read = population.read(optional[population.name].paths)
        problems += read.problems
        if not errors(read.problems) and population.link is not None and "defects" in tables:
            population.link(read.rows, tables)
        if not errors(read.problems):
            tables[population.config] = frame(population.config, read.rows)
            problems += validate({population.config: tables[population.config]})
    if errors(problems):
        raise BuildError(problems)
    tables["splits"] = splits_table(tables)
    tables.update(extra or {})
    tables["leaderboard"] = frame("leaderboard", [e.to_row() for e in read_strict(SHIPPED)])
    leak = leaks.report(tables["splits"], tables["defects"], tables.get("issue_texts"), tables["issues"])
    out = Path(out).resolve()
    reasons = replaceable(out)  # checked before any work; checked again when the release moves in
    if reasons:
        raise BuildError([Problem(str(out), reason) for reason in reasons])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _exclusive(out):
            recover(out)  # a build killed between its two renames left the old release aside: put it back
            for stale in out.parent.glob(f".{out.name}.{STAGING}*"):  # only our own names (we hold the lock)
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.{STAGING}", dir=out.parent))
            staging.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the release follows the umask
            try:
                task_tables = {task.name: (task, task_frames(task, tables)) for task in REGISTRY.latest()
                               if task.source.config in tables}
                info = manifest(tables, found, optional, absent) | {"scored_sha256": scored_hashes(tables)}
                write_release(tables, info, staging, leak_report=leak, errata=errata_path, task_tables=task_tables)
                install(staging, out)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as error:  # a read-only parent, a full disk: one line, nothing half-written
        raise BuildError([Problem(str(out), f"cannot write the release there: {error.strerror or error}")]) from error
    return out, problems


def scored_hashes(tables: dict[str, pl.DataFrame]) -> dict[str, str]:
    """Per source, the content hash of what its tasks are scored on (its configs and its tasks' split rows), so
    a board entry stays current on any release holding the same data for its task, whatever else it holds."""
    import polars as pl

    from .pipeline.write import content_hash
    from .scoring.populations import POPULATIONS
    from .scoring.tasks import REGISTRY

    out = {}
    for population in POPULATIONS:
        names = population.scored_configs
        if not all(name in tables for name in names):
            continue
        mine = sorted({t.name for t in REGISTRY if t.source is population})
        out[population.name] = content_hash({name: tables[name] for name in names}
                                            | {"splits": tables["splits"].filter(pl.col("task").is_in(mine))})
        for task in mine:  # per task too: a new version of one task leaves the others' entries current
            rows = tables["splits"].filter(pl.col("task") == task)
            out[f"{population.name}/{task}"] = content_hash({name: tables[name] for name in names} | {"splits": rows})
    return out


@contextmanager
def _exclusive(out: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside the release while building it; a second build is told, not raced."""
    import fcntl

    path = out.with_name(f".{out.name}.lock")
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise BuildError([Problem(str(out), "another build is writing this release right now; wait for it "
                                      "to finish or choose another --out")]) from error
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # still held: a build that opened it meanwhile was refused
