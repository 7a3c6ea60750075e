"""Stage 4, write: a release folder in the Hugging Face layout (one parquet file per config, the cards,
``views.sql`` and the manifest), written into a staging folder and moved into place only when complete.

This stage writes what it is given; :mod:`cvreeng_bench.build` decides what that is.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import paper
from .._version import __version__
from ..errors import CvreengError
from ..layout import (
    DATASET_VERSION,
    ERRATA,
    HUB_PLACEHOLDER,
    LEAK_REPORT,
    MANIFEST,
    QUERIES,
    SPLIT,
    VIEWS,
    VIEWS_HF,
    data_path,
)
from ..problems import Problem, errors
from ..resources import resource_dir
from ..schema import SCHEMAS, arrow_schema
from . import sources
from .errata import ERRATA_FILE
from .sources import sha256_of

if TYPE_CHECKING:
    import polars as pl

HUB_NOTE = ("views over the published release on the Hugging Face Hub; `cvreeng-bench publish` fills in the "
            "repository id. In the DuckDB shell: .read views_hf.sql, then .read queries/rq3_impact_by_stage.sql")
# The leaderboard scores the data; hashing it too would make an entry's own hash depend on the entry.
UNHASHED = ("leaderboard",)


class BuildError(CvreengError):
    """The build found errors; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"build refused: {len(errors(problems))} error(s)\n{shown}")


def content_hash(tables: dict[str, pl.DataFrame]) -> str:
    """sha256 over every data config's rows (NDJSON, config order fixed), independent of parquet encoding."""
    digest = hashlib.sha256()
    for name in sorted(set(tables) - set(UNHASHED)):
        digest.update(name.encode() + b"\n" + tables[name].write_ndjson().encode())
    return digest.hexdigest()


def write_parquet(frame: pl.DataFrame, path: Path, config: str | None = None,
                  class_names: dict[str, list[str]] | None = None) -> None:
    """Parquet with the declared Arrow schema (so every reader sees the same types); ``class_names`` marks
    integer columns as ``datasets`` ClassLabel features (in the schema metadata that ``datasets`` reads)."""
    import pyarrow.parquet as pq

    table = frame.to_arrow()
    if config in SCHEMAS:
        table = table.cast(arrow_schema(config))
    if class_names:
        table = table.cast(_small_types(table.schema))
        table = table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": hf_features(
            table.schema, class_names)}})})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _small_types(schema: Any) -> Any:
    """The schema with polars' large strings and lists as the plain Arrow types ``datasets`` maps to List."""
    import pyarrow as pa

    def small(kind: Any) -> Any:
        if pa.types.is_large_list(kind) or pa.types.is_list(kind):
            return pa.list_(small(kind.value_type))
        return pa.string() if pa.types.is_large_string(kind) else kind

    return pa.schema([pa.field(f.name, small(f.type), f.nullable) for f in schema])


def hf_features(schema: Any, class_names: dict[str, list[str]]) -> dict[str, Any]:
    """The ``datasets`` features of an Arrow schema (Value, List, ClassLabel), as ``datasets`` stores them."""
    import pyarrow as pa

    def feature(name: str, kind: Any) -> dict[str, Any]:
        if pa.types.is_list(kind):
            return {"feature": feature(name, kind.value_type), "_type": "List"}
        if name in class_names:
            return {"names": class_names[name], "_type": "ClassLabel"}
        return {"dtype": {"utf8": "string"}.get(str(kind), str(kind)), "_type": "Value"}

    return {f.name: feature(f.name, f.type) for f in schema}


def _place(folder: Path, staged: Path, config: str, split: str) -> str:
    """Move a written parquet file to its content-named place; returns the path relative to the release."""
    relative = data_path(config, sha256_of(staged), split)
    (folder / relative).parent.mkdir(parents=True, exist_ok=True)
    staged.replace(folder / relative)
    return relative


def manifest(tables: dict[str, pl.DataFrame], upstream: sources.Upstream,
             optional: dict[str, sources.Upstream] | None = None, absent: dict[str, str] | None = None,
             ) -> dict[str, Any]:
    """The manifest without file paths (``write_release`` adds them once the files are named). ``optional``:
    the optional sources that were built in; ``absent``: why the others are not."""
    return {
        "dataset_version": DATASET_VERSION,
        "package_version": __version__,
        "content_sha256": content_hash(tables),
        "paper_doi": paper.DOI,
        "labels_public_since": paper.LABELS_PUBLIC_SINCE,
        "labels_public_since_source": paper.LABELS_PUBLIC_SINCE_SOURCE,
        "upstream": {"repository": sources.UPSTREAM_REPO, "commit": sources.UPSTREAM_COMMIT,
                     "verified": upstream.verified,
                     "files": upstream.file_sha256()},
        "configs": {name: {"rows": frame.height} for name, frame in sorted(tables.items())},
        "sources": {name: {"repository": found.source.repository, "commit": found.source.commit,
                           "verified": found.verified, "license": found.source.license,
                           "files": found.file_sha256()}
                    for name, found in sorted((optional or {}).items())},
        "sources_absent": dict(sorted((absent or {}).items())),
    }


def views_sql(info: Mapping[str, Any], prefix: str = "") -> str:
    """One view per config over its parquet file(s), relative to the release folder (for the DuckDB shell)
    or under ``prefix`` (an hf:// root); a task config's view has both sides with a ``split`` column."""
    lines = [f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{prefix}{meta['path']}');"
             for name, meta in sorted(info["configs"].items())]
    for name, meta in sorted(info.get("task_configs", {}).items()):
        ordered = sorted(meta["files"].items(), key=lambda kv: (kv[0] != "train", kv[0]))  # train first, always
        sides = " UNION ALL ".join(f"SELECT *, '{side}' AS split FROM read_parquet('{prefix}{path}')"
                                   for side, path in ordered)
        lines.append(f"CREATE OR REPLACE VIEW {name} AS {sides};")
    return "\n".join(lines) + "\n"


def write_release(tables: dict[str, pl.DataFrame], info: dict[str, Any], target: Path, *,
                  leak_report: dict[str, Any] | None = None, errata: Path = ERRATA_FILE,
                  task_tables: dict[str, tuple[Any, dict[str, pl.DataFrame]]] | None = None) -> None:
    """Write every file of a release into ``target``. ``task_tables``: per task config, the Task and its
    sides (train, test)."""
    from .card import render_cards

    staged = target / "data" / ".staged.parquet"
    for name, frame in tables.items():
        write_parquet(frame, staged, name)
        info["configs"][name]["path"] = _place(target, staged, name, SPLIT)
    info["task_configs"] = {}
    for name, (task, sides) in sorted((task_tables or {}).items()):
        meta: dict[str, Any] = {"task": task.key, "rows": {}, "files": {}}
        names = {"label": list(task.labels), "labels": list(task.labels)}
        for side, frame in sides.items():
            write_parquet(frame, staged, class_names=names)
            meta["files"][side], meta["rows"][side] = _place(target, staged, name, side), frame.height
        # The card declares these features (both sides share them), so the Hub shows every config's columns.
        meta["features"] = hf_features(_small_types(frame.to_arrow().schema), names)
        info["task_configs"][name] = meta
    shutil.copyfile(errata, target / ERRATA)
    if leak_report is not None:
        (target / LEAK_REPORT).write_text(json.dumps(leak_report, indent=2) + "\n", encoding="utf-8")
    tasks = {name: task for name, (task, _) in (task_tables or {}).items()}
    for filename, text in render_cards(tables, info, tasks).items():
        (target / filename).write_text(text, encoding="utf-8")
    (target / VIEWS).write_text(views_sql(info), encoding="utf-8")
    hub = f"hf://datasets/{HUB_PLACEHOLDER}@v{info['dataset_version']}/"
    (target / VIEWS_HF).write_text(f"-- {HUB_NOTE}\n" + views_sql(info, hub), encoding="utf-8")
    shutil.copytree(resource_dir("queries"), target / QUERIES, ignore=shutil.ignore_patterns("__pycache__"))
    info["files"] = listed_files(target)
    (target / MANIFEST).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def listed_files(folder: Path) -> list[str]:
    """Every file of a release folder but the manifest, as the manifest lists them."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


# What releases built before the manifest listed its files contain (they may be replaced on that evidence).
_LEGACY = re.compile(r"(README|DATASHEET|TAXONOMY)\.md|errata\.csv|leak_report\.json|views(_hf)?\.sql|"
                     r"data/[a-z_]+/[a-z]+-[0-9a-f-]+(-of-\d+)?\.parquet|queries/[\w.-]+\.sql")


def replaceable(out: Path) -> list[str]:
    """Why ``out`` may not be replaced by a new release (empty: it may). Only a folder that holds exactly
    what its manifest lists is a release; a file a user added makes it someone's data."""
    if not out.exists():
        return []
    if not out.is_dir():
        return [f"{out} is a file, not a folder; choose another --out"]
    present = listed_files(out)
    if not present and not (out / MANIFEST).exists():
        return []
    try:
        info = json.loads((out / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError):
        return [f"{out} exists and is not a release folder (no readable {MANIFEST}); choose another --out"]
    listed = info.get("files") if isinstance(info, dict) else None
    extra = (sorted(set(present) - set(listed)) if isinstance(listed, list)
             else [f for f in present if not _LEGACY.fullmatch(f)])
    if extra:
        return [f"{out} holds files its release did not write: {', '.join(extra[:10])}"
                f"{' ...' if len(extra) > 10 else ''}; move them out or choose another --out"]
    return []


STAGING = "cvreeng-build-"  # the build's own sibling names (.<release>.cvreeng-build-*): nothing else is touched
RETIRED = f"{STAGING}retired"


def recover(out: Path) -> None:
    """Put back a release that a build killed between its two renames left aside."""
    retired = out.with_name(f".{out.name}.{RETIRED}")
    if not out.exists() and (retired / MANIFEST).is_file():
        retired.rename(out)


def install(staging: Path, out: Path) -> None:
    """Move a finished release into place, replacing an older release but never other data. Between the two
    renames the old release waits under a name of the build's own, and the next build puts it back."""
    reasons = replaceable(out)
    if reasons:
        raise BuildError([Problem(str(out), reason) for reason in reasons])
    if out.exists():
        retired = out.with_name(f".{out.name}.{RETIRED}")
        shutil.rmtree(retired, ignore_errors=True)
        out.rename(retired)
        staging.rename(out)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(out)
