"""Reviewed corrections to upstream labels: one file, ``errata.csv``, applied after normalizing.

Adding an erratum is a row here (defect_id, field, old_value, new_value, reason, version) plus one bump of
:data:`cvreeng_bench.layout.DATASET_VERSION` and a changelog line; the file ships in every release. A row
names the value it replaces, so a correction can never silently apply to data that changed under it.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from .. import taxonomy
from ..layout import DATASET_VERSION, version_tuple
from ..problems import Problem
from ..schema import SCHEMAS

ERRATA_FILE = Path(__file__).resolve().parent.parent / "errata.csv"  # at the package top, where README says
COLUMNS = ("defect_id", "field", "old_value", "new_value", "reason", "version")
WITHDRAWN = "withdrawn"  # the field name that withdraws a defect (its row stays, flagged)


def read_errata(path: Path) -> tuple[list[dict[str, str]], list[Problem]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
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
        if version_tuple(fix["version"]) > version_tuple(DATASET_VERSION):
            problems.append(Problem(f"{where}, column 'version'", f"{fix['version']!r} is newer than the "
                                    f"dataset version {DATASET_VERSION}; bump DATASET_VERSION with it"))
        if defect is None:
            problems.append(Problem(f"{where}, column 'defect_id'", f"unknown defect {fix['defect_id']!r}"))
            continue
        if fix["field"] == WITHDRAWN:
            defect["withdrawn"], defect["withdrawn_reason"] = True, fix["reason"]
            continue
        if fix["field"] not in labeled:
            problems.append(Problem(f"{where}, column 'field'", f"{fix['field']!r} cannot be corrected; "
                                    f"choose one of {', '.join(labeled)} or {WITHDRAWN}"))
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
