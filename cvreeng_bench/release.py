"""Stage 4, release: assemble the configs, apply errata, validate, and write the Hugging Face layout.

The release is built in a temporary sibling folder and moved into place only when every table
validated, so a failed build leaves nothing behind. The same folder is what ``load_dataset`` reads,
what ``publish`` pushes, and what DuckDB queries (``views.sql``).

Corrections to upstream labels are one file, ``errata.csv`` (defect_id, field, old_value, new_value,
reason, version), plus one bump of :data:`DATASET_VERSION`; the file ships in the release.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import paper, sources, taxonomy
from ._version import __version__
from .errors import CvreengError
from .normalize import read_agreement, read_defects, read_non_reengineering
from .schema import SCHEMAS
from .validate import Problem, errors, polars_type, validate

if TYPE_CHECKING:
    import polars as pl

DATASET_VERSION = "1.0.0"
ERRATA_FILE = Path(__file__).with_name("errata.csv")
ERRATA_COLUMNS = ("defect_id", "field", "old_value", "new_value", "reason", "version")
MANIFEST = "release.json"
SPLIT = "train"


class BuildError(CvreengError):
    """The build found errors; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"build refused: {len(errors(problems))} error(s)\n{shown}")


def data_path(config: str) -> str:
    return f"data/{config}/{SPLIT}-00000-of-00001.parquet"


def _frame(config: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    import polars as pl

    columns = SCHEMAS[config]
    schema = {c.name: polars_type(c.type) for c in columns}
    return pl.DataFrame([{c.name: row.get(c.name) for c in columns} for row in rows], schema=schema, orient="row")


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split("."))
    except ValueError:
        return (1 << 30,)  # not a version: sorts after every real one, so it is refused


def read_errata(path: Path) -> tuple[list[dict[str, str]], list[Problem]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ERRATA_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            return [], [Problem(f"{path.name} row 1", f"missing columns: {', '.join(missing)}")]
        return [dict(row) for row in reader], []


def apply_errata(defects: list[dict[str, Any]], errata: list[dict[str, str]], source: str = "errata.csv",
                 ) -> list[Problem]:
    """Apply reviewed corrections in order; each must name the value it replaces."""
    by_id = {d["defect_id"]: d for d in defects}
    labeled = {c.name: c.dimension for c in SCHEMAS["defects"] if c.dimension}
    problems = []
    for line, fix in enumerate(errata, start=2):
        where = f"{source} row {line}"
        defect = by_id.get(fix["defect_id"])
        if _version(fix["version"]) > _version(DATASET_VERSION):
            problems.append(Problem(f"{where}, column 'version'", f"{fix['version']!r} is newer than the "
                                    f"dataset version {DATASET_VERSION}; bump DATASET_VERSION with it"))
        if defect is None:
            problems.append(Problem(f"{where}, column 'defect_id'", f"unknown defect {fix['defect_id']!r}"))
            continue
        if fix["field"] == "withdrawn":
            defect["withdrawn"], defect["withdrawn_reason"] = True, fix["reason"]
            continue
        if fix["field"] not in labeled:
            problems.append(Problem(f"{where}, column 'field'", f"{fix['field']!r} cannot be corrected; "
                                    f"choose one of {', '.join(labeled)} or withdrawn"))
            continue
        if (defect[fix["field"]] or "") != fix["old_value"]:
            problems.append(Problem(f"{where}, column 'old_value'", f"{fix['old_value']!r} is not the current "
                                    f"value {defect[fix['field']]!r}"))
            continue
        try:
            defect[fix["field"]] = taxonomy.canonical(labeled[fix["field"]], fix["new_value"])
        except KeyError:
            problems.append(Problem(f"{where}, column 'new_value'", f"unknown {labeled[fix['field']]} label "
                                    f"{fix['new_value']!r}"))
        if fix["field"] == "root_cause":
            defect["root_cause_stage"] = taxonomy.root_cause_stage(defect["root_cause"])
    return problems


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
    """All configs of a release from verified upstream files, and every problem met on the way."""
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
    frameworks = _frameworks(defects.rows)
    issues = _issues(defects.rows, others.rows, frameworks)
    tables = {
        "defects": _frame("defects", defects.rows),
        "issues": _frame("issues", issues),
        "repositories": _frame("repositories", _repositories(issues, frameworks)),
        "annotations": _frame("annotations", agreement.rows),
        "taxonomy": _frame("taxonomy", taxonomy_rows()),
    }
    return tables, problems + validate(tables)


# The leaderboard scores the data; hashing it too would make an entry's own hash depend on the entry.
UNHASHED = ("leaderboard",)


def content_hash(tables: dict[str, pl.DataFrame]) -> str:
    """sha256 over every data config's rows (NDJSON, config order fixed), independent of parquet encoding."""
    digest = hashlib.sha256()
    for name in sorted(set(tables) - set(UNHASHED)):
        digest.update(name.encode() + b"\n" + tables[name].write_ndjson().encode())
    return digest.hexdigest()


def write_parquet(frame: pl.DataFrame, path: Path, config: str | None = None) -> None:
    """Parquet with the declared Arrow schema (so every reader sees the same types)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = frame.to_arrow()
    if config in SCHEMAS:
        arrow = {"string": pa.string(), "int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(),
                 "bool": pa.bool_(), "timestamp": pa.timestamp("us", tz="UTC")}
        fields = []
        for c in SCHEMAS[config]:
            kind = pa.list_(arrow[c.type[5:-1]]) if c.type.startswith("list<") else arrow[c.type]
            fields.append(pa.field(c.name, kind, nullable=c.nullable, metadata={"description": c.description}))
        table = table.cast(pa.schema(fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def manifest(tables: dict[str, pl.DataFrame], upstream: sources.Upstream) -> dict[str, Any]:
    return {
        "dataset_version": DATASET_VERSION,
        "package_version": __version__,
        "content_sha256": content_hash(tables),
        "paper_doi": paper.DOI,
        "upstream": {"repository": sources.UPSTREAM_REPO, "commit": sources.UPSTREAM_COMMIT,
                     "verified": upstream.verified,
                     "files": {f.path: upstream.sha256.get(f.key, f.sha256) for f in sources.FILES}},
        "configs": {name: {"rows": frame.height, "path": data_path(name)} for name, frame in sorted(tables.items())},
    }


def write_release(tables: dict[str, pl.DataFrame], info: dict[str, Any], target: Path) -> None:
    from .bench import leaks
    from .card import render_cards

    for name, frame in tables.items():
        write_parquet(frame, target / data_path(name), name)
    shutil.copyfile(ERRATA_FILE, target / "errata.csv")
    texts = tables.get("issue_texts")
    leak = leaks.report(tables["splits"], tables["defects"], texts) if "splits" in tables else None
    if leak is not None:
        (target / "leak_report.json").write_text(json.dumps(leak, indent=2) + "\n", encoding="utf-8")
    for filename, text in render_cards(tables, info).items():
        (target / filename).write_text(text, encoding="utf-8")
    views = "\n".join(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{data_path(name)}');"
                      for name in sorted(tables))
    (target / "views.sql").write_text(views + "\n", encoding="utf-8")
    (target / MANIFEST).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def install(staging: Path, out: Path) -> None:
    """Move a finished release into place, replacing an older release but never other data."""
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise BuildError([Problem(str(out), "exists and is not a release folder; choose another --out")])
    if out.exists():
        retired = out.with_name(f".{out.name}.old")
        shutil.rmtree(retired, ignore_errors=True)
        out.rename(retired)
        staging.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(out)


def build(out: Path, upstream: str | Path | None = None, *, verify: bool = True, progress: bool = True,
          extra: dict[str, pl.DataFrame] | None = None) -> tuple[Path, list[Problem]]:
    """Build the release into ``out``; raise BuildError (nothing written) when any error was found."""
    from .bench import leaderboard
    from .bench.splits import make_splits

    found = sources.resolve(upstream, verify=verify, progress=progress)
    tables, problems = assemble(found)
    if errors(problems):
        raise BuildError(problems)
    tables["splits"] = make_splits(tables["issues"], tables["defects"])
    tables.update(extra or {})
    tables["leaderboard"] = leaderboard.table(leaderboard.read(leaderboard.SHIPPED))
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_release(tables, manifest(tables, found), staging)
        install(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out, problems
