"""A built release as one object: its folder, manifest, lazily read frames and one DuckDB database.

Every layer above the build takes a :class:`Release` and passes it down; nothing re-resolves a path
string at the bottom of a call chain. Results computed from a release (query results, baseline inputs)
are memoized on the object itself, so they live exactly as long as it and never outlive a rebuild.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import CvreengError
from .files import read_bounded, strict_json
from .layout import MANIFEST

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from .problems import Problem

T = TypeVar("T")
# No extension is installed or loaded behind the user's back; seal() then closes file and network access.
SEALED: dict[str, str | bool | int | float | list[str]] = {"autoinstall_known_extensions": False,
                                                           "autoload_known_extensions": False}


def _select(paths: dict[str, Path]) -> str:
    """SELECT over a config's files; a task config's sides (train, test) gain a ``split`` column."""
    def one(side: str, path: Path) -> str:
        extra = "" if len(paths) == 1 else f", '{side}' AS split"
        return f"SELECT *{extra} FROM read_parquet('{path.as_posix().replace(chr(39), chr(39) * 2)}')"

    return " UNION ALL BY NAME ".join(one(side, path) for side, path in paths.items())


def seal(con: duckdb.DuckDBPyConnection, allowed: list[str] | None = None) -> None:
    """Confine a connection: only ``allowed`` folders readable (none by default), configuration locked."""
    if allowed:
        con.execute("SET allowed_directories = ?", [allowed])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


class ReleaseError(CvreengError):
    """No usable release at the given place, or a config it does not hold."""


_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DATA = re.compile(r"data/(?P<config>[a-z][a-z0-9_]{0,63})/(?P<split>[a-z]+)-[0-9a-f]{16}\.parquet")
MAX_MANIFEST_BYTES = 1 << 20
_VERSION = re.compile(r"[0-9]{1,4}(\.[0-9]{1,4}){1,3}")  # it names a Hub tag and a directory: nothing else passes
_SHA256 = re.compile(r"[0-9a-f]{64}")


def manifest_problems(folder: Path, manifest: Any, known: frozenset[str]) -> list[str]:
    """Why a manifest cannot be trusted: a folder is data, never code, so every config name must be one the
    package declares and every data path a release file inside the folder (empty list: none)."""
    if not isinstance(manifest, dict):
        return ["the manifest is not a JSON object"]
    problems = []
    for section, sided in (("configs", False), ("task_configs", True)):
        entries = manifest.get(section, {})
        if not isinstance(entries, dict):
            problems.append(f"{section} is not an object")
            continue
        for name, meta in entries.items():
            shown = repr(str(name)[:60])
            if not isinstance(name, str) or not _NAME.fullmatch(name) or name not in known:
                problems.append(f"{section}: {shown} is not a config name the package declares")
                continue
            paths = (meta.get("files") if sided else {"train": meta.get("path")}) if isinstance(meta, dict) else None
            if not isinstance(paths, dict) or not paths:
                problems.append(f"{section}.{name}: no data file listed")
                continue
            for side, relative in paths.items():
                match = _DATA.fullmatch(relative) if isinstance(relative, str) else None
                if match is None or match["config"] != name or match["split"] != side:
                    problems.append(f"{section}.{name}: data path {str(relative)[:80]!r} is not "
                                    f"data/{name}/{side}-<digest>.parquet")
                elif not (folder / relative).resolve().is_relative_to(folder):
                    problems.append(f"{section}.{name}: data path {relative!r} leads outside the release folder")
    return problems


def known_configs() -> frozenset[str]:
    """Every config name a release of this package may hold: the data configs and the task configs."""
    from . import schema

    return frozenset(schema.SCHEMAS) | frozenset(schema.TASK_CONFIGS)


def _texts(raw: Mapping[str, Any], name: str) -> Mapping[str, str]:
    """A section of name -> text (for an older release, or a value of another type: empty, never trusted)."""
    value = raw.get(name)
    if not isinstance(value, dict):
        return MappingProxyType({})
    return MappingProxyType({k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)})


@dataclass(frozen=True)
class Manifest:
    """A release's ``release.json`` as a checked record: what the package reads of it, each field of its declared
    type (``raw`` is the JSON object as read, for ``cvreeng-bench info``; no package code reads it)."""

    dataset_version: str
    package_version: str  # empty for a release older than the field
    content_sha256: str
    configs: Mapping[str, str]  # config -> its data file, relative to the folder
    task_configs: Mapping[str, Mapping[str, str]]  # task config -> side -> its data file
    scored_sha256: Mapping[str, str]  # population -> the content hash of what its tasks are scored on
    sources_absent: Mapping[str, str]  # optional source -> why the build left it out
    labels_public_since: str | None
    files: tuple[str, ...] | None  # every file of the release (None: a release older than the list)
    raw: Mapping[str, Any]

    @classmethod
    def parse(cls, raw: Any, where: str) -> Manifest:
        """The record of a manifest already checked by :func:`manifest_problems`; a missing or mistyped field the
        package reads is refused in one line naming it."""
        missing = [name for name, kind in (("dataset_version", str), ("content_sha256", str), ("configs", dict))
                   if not isinstance(raw.get(name), kind) or not raw[name]]
        missing += [f"{name} ({str(raw[name])[:40]!r} is not {what})" for name, pattern, what in (
            ("dataset_version", _VERSION, "a version such as 1.0.0"), ("content_sha256", _SHA256, "a sha256"))
            if name not in missing and not pattern.fullmatch(raw[name])]
        if missing:
            raise ReleaseError(f"{where}: {', '.join(missing)} missing, empty or of another type; this release was "
                               "built by another version or edited by hand: rebuild it with `cvreeng-bench build`")
        files = raw.get("files")
        public = raw.get("labels_public_since")
        package = raw.get("package_version")
        return cls(
            dataset_version=raw["dataset_version"], package_version=package if isinstance(package, str) else "",
            content_sha256=raw["content_sha256"],
            configs=MappingProxyType({name: meta["path"] for name, meta in raw.get("configs", {}).items()}),
            task_configs=MappingProxyType({name: MappingProxyType(dict(meta["files"]))
                                           for name, meta in raw.get("task_configs", {}).items()}),
            scored_sha256=_texts(raw, "scored_sha256"), sources_absent=_texts(raw, "sources_absent"),
            labels_public_since=public if isinstance(public, str) else None,
            files=tuple(files) if isinstance(files, list) and all(isinstance(f, str) for f in files) else None,
            raw=MappingProxyType(raw))


def _unreadable(path: Path, why: str) -> ReleaseError:
    return ReleaseError(f"{path}: {why[:200]}; the file was replaced or damaged after the build: rebuild the release "
                        "with `cvreeng-bench build`")


def _declared(config: str, columns: list[str], path: Path) -> None:
    """A data config's file must hold the columns its schema declares (a renamed or dropped column, another
    config's file in its place)."""
    from .schema import SCHEMAS

    missing = [c.name for c in SCHEMAS.get(config, ()) if c.name not in columns]
    if missing:
        raise _unreadable(path, f"config {config} lacks its column(s) {', '.join(missing[:5])}")


def _parquet(path: Path, config: str) -> pl.DataFrame:
    """A config's parquet file as a frame, or one line naming the file and what is wrong with it."""
    import polars as pl

    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as error:
        raise _unreadable(path, f"not a readable parquet file ({str(error).splitlines()[0]})") from error
    _declared(config, frame.columns, path)
    return frame


def _table(con: duckdb.DuckDBPyConnection, name: str, paths: dict[str, Path]) -> None:
    """One config read into a table of ``con``, or one line naming its file and what is wrong with it."""
    import duckdb

    try:
        con.execute(f"CREATE TABLE {name} AS {_select(paths)}")
        columns = [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]
    except duckdb.Error as error:
        raise _unreadable(next(iter(paths.values())), f"not a readable parquet file "
                          f"({str(error).splitlines()[0]})") from error
    _declared(name, columns, next(iter(paths.values())))


class Release:
    """An opened release folder (built by ``cvreeng-bench build``)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder).resolve()
        path = self.folder / MANIFEST
        try:
            raw = strict_json(read_bounded(path, MAX_MANIFEST_BYTES).decode("utf-8"))
            self._stamp = path.stat().st_mtime_ns
        except (OSError, ValueError, RecursionError) as error:
            raise ReleaseError(f"{folder} is not a cvreeng-bench release (no readable {MANIFEST}); build one with "
                               f"`cvreeng-bench build --out {folder}`") from error
        problems = manifest_problems(self.folder, raw, known_configs())
        if problems:
            raise ReleaseError(f"{path} cannot be trusted, refused:\n  " + "\n  ".join(problems[:20]))
        self.manifest = Manifest.parse(raw, str(path))
        self._frames: dict[str, pl.DataFrame] = {}
        self._db: duckdb.DuckDBPyConnection | None = None
        self._memo: dict[Hashable, Any] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Release({str(self.folder)!r}, dataset {self.dataset_version})"

    @property
    def dataset_version(self) -> str:
        return self.manifest.dataset_version

    @property
    def content_sha256(self) -> str:
        return self.manifest.content_sha256

    def scored_sha256(self, source: str, task: str | None = None) -> str:
        """The content hash of what a source's tasks are scored on (its configs and its tasks' split rows); with
        ``task``, of what that one task is scored on (its source's configs and its own split rows), so a new version
        of another task leaves its entries current. Older releases hash per source only."""
        found = self.manifest.scored_sha256
        return found.get(f"{source}/{task}") or found.get(source, self.content_sha256)

    def why_absent(self, source: str) -> str:
        """Why the build left an optional source out (as ``release.json`` records it; text only)."""
        return self.manifest.sources_absent.get(source, "the release was built without it")[:300]

    @property
    def configs(self) -> list[str]:
        return sorted(self.manifest.configs)

    def has(self, config: str) -> bool:
        return config in self.manifest.configs

    def is_stale(self) -> bool:
        """True when the folder was rebuilt (or removed) since this object read its manifest."""
        try:
            return (self.folder / MANIFEST).stat().st_mtime_ns != self._stamp
        except OSError:
            return True

    def path(self, config: str) -> Path:
        if not self.has(config):
            known = [*self.configs, *sorted(self.manifest.task_configs)]
            raise ReleaseError(f"config {config[:60]!r} is not in the release at {self.folder} (configs: "
                               f"{', '.join(known)}); a release built by another version may lack it: "
                               f"rebuild with `cvreeng-bench build --out {self.folder}`")
        path = self.folder / self.manifest.configs[config]
        if not path.is_file():
            raise ReleaseError(f"{path} is listed in {MANIFEST} but missing; rebuild the release")
        return path

    def frame(self, config: str) -> pl.DataFrame:
        """One config as a polars DataFrame, read once; each call returns its own copy."""
        import polars as pl

        if config not in self._frames:
            task_configs = self.manifest.task_configs
            if config in task_configs and not self.has(config):  # both sides, with a split column (as in SQL)
                sides = []
                for side, relative in sorted(task_configs[config].items(), key=lambda kv: kv[0] != "train"):
                    path = self.folder / relative
                    if not path.is_file():
                        raise ReleaseError(f"{path} is listed in {MANIFEST} but missing; rebuild the release")
                    sides.append(_parquet(path, config).with_columns(pl.lit(side).alias("split")))
                self._frames[config] = pl.concat(sides, how="vertical_relaxed")
            else:
                self._frames[config] = _parquet(self.path(config), config)
        return self._frames[config].clone()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on this release's in-memory database: every config (task configs too) a table, read once;
        then the database is sealed (no file, network or extension access, configuration locked), so SQL run
        on it reads this release and nothing else."""
        import duckdb

        with self._lock:
            if self._db is None:
                db = duckdb.connect(":memory:", config=SEALED)
                for name, paths in self.tables().items():
                    _table(db, name, paths)
                seal(db)
                self._db = db
            return self._db.cursor()

    def tables(self) -> dict[str, dict[str, Path]]:
        """Every config and task config with its files by split (validated names and paths)."""
        out = {name: {"train": self.path(name)} for name in self.configs}
        for name, files in sorted(self.manifest.task_configs.items()):
            out[name] = {side: self.folder / path for side, path in files.items()}
        return out

    def connect(self, database: str = ":memory:", *, allow_files: bool = False, only: tuple[str, ...] | None = None,
                ) -> duckdb.DuckDBPyConnection:
        """A new DuckDB connection with one view per config over the parquet files (nothing copied), confined to
        the release folder unless ``allow_files``. ``only``: these configs, each read once into a table (the
        print path runs several queries over a few small configs)."""
        import duckdb

        con = duckdb.connect(database, config={} if allow_files else SEALED)
        for name, paths in self.tables().items():
            if only is None:
                con.execute(f"CREATE OR REPLACE VIEW {name} AS {_select(paths)}")
            elif name in only:
                _table(con, name, paths)
        if not allow_files:
            seal(con, allowed=[str(self.folder) + "/"])
        return con

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key for this release object (results derived from its data)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def audit(self) -> list[Problem]:
        """Every problem of the written release: missing files, a changed content hash, bad tables."""

        from .pipeline.validate import validate
        from .pipeline.write import content_hash
        from .problems import Problem

        tables, problems = {}, []
        for name in self.configs:
            path = self.folder / self.manifest.configs[name]
            if not path.is_file():
                problems.append(Problem(str(path), "listed in the manifest but missing"))
                continue
            try:
                tables[name] = _parquet(path, name)
            except ReleaseError as error:
                problems.append(Problem(str(path), str(error).removeprefix(f"{path}: ")))
        if not problems and content_hash(tables) != self.content_sha256:
            problems.append(Problem(str(self.folder / MANIFEST), f"content hash {content_hash(tables)} differs "
                                    f"from the recorded {self.content_sha256}: the data was changed after the build"))
        from .pipeline.published import problems as published

        return problems + published(self.folder, self.manifest.raw) + validate(tables)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
