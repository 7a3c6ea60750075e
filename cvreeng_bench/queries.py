"""The paper's RQ1-RQ4 breakdowns as plain DuckDB files (``queries/*.sql``), loaded by name.

Every SQL file has exactly one :class:`Query` entry here and every entry one file (a test checks both
ways). The SQL reads views named after the release's configs, so the same text runs through this module,
in the DuckDB shell after ``.read views.sql`` in a release folder, and over ``hf://`` paths.

Filters (``repo_type="Zoo"``, ``framework="PyTorch"``, ``family="YOLO"``, ...) narrow the ``defects``,
``issues`` and ``repositories`` views before a query runs, so every breakdown accepts them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import CvreengError
from .resources import resource_dir

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from .release import Release

from .printing import FORMATS

T = TypeVar("T")


class QueryError(CvreengError):
    """An unknown query, filter column or filter value."""


@dataclass(frozen=True)
class Query:
    name: str  # the file's stem
    alias: str | None  # fig5 ... fig10, table4
    title: str
    grouping: str | None = None  # crosstabs: the figure's bars
    dimension: str | None = None  # crosstabs: the stacked segments

    @property
    def is_crosstab(self) -> bool:
        return self.grouping is not None

    @property
    def label(self) -> str:
        """How users name it: the alias (fig9), else the file's stem."""
        return self.alias or self.name

    @property
    def axes(self) -> tuple[str, str]:
        """(bars, stacked segments) of a figure; a table has none."""
        if self.grouping is None or self.dimension is None:
            raise QueryError(f"{self.label} is a table, not a figure; charts exist for fig5-fig10")
        return self.grouping, self.dimension


QUERIES: tuple[Query, ...] = (
    Query("rq1_manifestation_by_project_type", "fig5", "Figure 5: manifestation by project type",
          "project_type", "manifestation"),
    Query("rq1_manifestation_by_reporter", "fig6", "Figure 6: manifestation by reporter type", "reporter",
          "manifestation"),
    Query("rq1_manifestation_by_stage", "fig7", "Figure 7: manifestation by DL stage", "stage", "manifestation"),
    Query("rq2_defect_type_by_stage", "fig8", "Figure 8: defect type by DL stage", "stage", "defect_type"),
    Query("rq3_impact_by_stage", "fig9", "Figure 9: impact by DL stage", "stage", "impact"),
    Query("rq4_root_cause_by_stage", "fig10", "Figure 10: root cause by DL stage", "stage", "root_cause"),
    Query("table4_repositories", "table4", "Table 4: the studied repositories"),
    Query("headline_shares", "shares", "Shares quoted in the text of RQ1-RQ4"),
)
FIGURES = tuple(q for q in QUERIES if q.is_crosstab)
FILTERED_VIEWS = ("defects", "issues", "repositories")
QUERY_CONFIGS = (*FILTERED_VIEWS, "taxonomy")  # what the query files read (a test checks their FROM clauses)


def query_files() -> dict[str, str]:
    """Every ``.sql`` file shipped with the package, by stem."""
    return {p.stem: p.name for p in sorted(resource_dir("queries").glob("*.sql"))}


def find(name: str, *, all_too: bool = False) -> Query:
    """The query called ``name``; ``all_too``: the caller (the command line) also takes ``all``."""
    for query in QUERIES:
        if name in (query.name, query.alias, f"{query.name}.sql"):
            return query
    known = ", ".join(f"{q.alias} ({q.name})" for q in QUERIES)
    if name == "all" and not all_too:
        raise QueryError("rq() returns one figure; for every one: {q.alias: rq(q.alias, ...) for q in "
                         "cvreeng_bench.queries.QUERIES} (the command `cvreeng-bench rq all` prints them all)")
    raise QueryError(f"unknown query {name!r}; available: {known}" + (", or 'all'" if all_too else ""))


@cache
def sql_text(name: str) -> str:
    query = find(name)
    return (resource_dir("queries") / f"{query.name}.sql").read_text("utf-8")


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def apply_filters(con: duckdb.DuckDBPyConnection, filters: dict[str, Any], *,
                  sources: dict[str, str] | None = None) -> None:
    """Replace the defects/issues/repositories views by filtered ones; unknown columns or values are named.
    ``sources``: a relation to filter in place of a view's table (a system's relabeled defects)."""
    if not filters:
        return
    described = {view: con.execute(f"DESCRIBE {view}").fetchall() for view in FILTERED_VIEWS}
    columns = {view: [r[0] for r in rows] for view, rows in described.items()}
    kinds = {r[0]: str(r[1]) for rows in described.values() for r in rows}
    # Temporary views belong to this cursor alone and shadow the tables of the same name; they read the
    # originals by their fully qualified names, so nothing is copied.
    found = con.execute("SELECT current_database()").fetchone()
    database = str(found[0] if found else "memory").replace('"', '""')
    source_of = {view: f'"{database}".main.{view}' for view in FILTERED_VIEWS} | (sources or {})
    clauses: dict[str, list[str]] = {view: [] for view in FILTERED_VIEWS}
    for column, value in filters.items():
        owners = [v for v in FILTERED_VIEWS if column in columns[v]]
        if not owners:
            usable = sorted(c for c in {*columns["defects"], *columns["repositories"]} if not c.startswith("raw_"))
            raise QueryError(f"unknown filter column {column!r}; usable: {', '.join(usable)}")
        owner = owners[0]
        if kinds[column].startswith(("TIMESTAMP", "DATE")) or kinds[column].endswith("[]"):
            raise QueryError(f"--where compares equal values; {column} is a {kinds[column].lower()} column: "
                             f"use `cvreeng-bench sql` for ranges or list membership")
        known = [r[0] for r in con.execute(
            f'SELECT DISTINCT "{column}" FROM {source_of[owner]} ORDER BY 1 NULLS LAST').fetchall()]
        if value not in known and str(value) not in [str(k) for k in known]:
            raise QueryError(f"no {owner} have {column} = {value!r}; values: {', '.join(map(str, known))}")
        condition = f'"{column}" = {_literal(value)}'
        for view in FILTERED_VIEWS:
            if column in columns[view]:
                clauses[view].append(condition)
            elif "repo" in columns[view] and column in columns["repositories"]:
                clauses[view].append(f"repo IN (SELECT repo FROM {source_of['repositories']} WHERE {condition})")
            elif "issue_id" in columns[view] and column in columns["defects"]:
                clauses[view].append(f"issue_id IN (SELECT issue_id FROM {source_of['defects']} WHERE {condition})")
    for view, conditions in clauses.items():
        where = " AND ".join(conditions) or "true"
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {source_of[view]} WHERE {where}")


def parse_filters(pairs: list[str] | None) -> dict[str, Any]:
    """``["repo_type=Zoo", "withdrawn=false"]`` -> ``{"repo_type": "Zoo", "withdrawn": False}``."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        column, sep, value = pair.partition("=")
        if not sep or not column.strip():
            raise QueryError(f"--where takes COLUMN=VALUE, got {pair!r}")
        if column.strip() in out:
            raise QueryError(f"--where names {column.strip()!r} twice; give one value per column")
        out[column.strip()] = {"true": True, "false": False}.get(value.strip().lower(), value.strip())
    return out


def run(name: str, release: Release, *, filters: dict[str, Any] | None = None,
        con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """The rows of one query as a polars DataFrame (memoized on the release object, per filters)."""
    query = find(name)
    if con is not None:
        return _execute(query, con, filters or {})
    key = ("query", query.name, tuple(sorted((filters or {}).items(), key=str)))

    def compute() -> pl.DataFrame:
        cursor = release.cursor()
        try:
            return _execute(query, cursor, filters or {})
        finally:
            cursor.close()

    return release.memo(key, compute).clone()


def _run_query(query: Query, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """One query file as a relation on ``con``; a config the release lacks is named."""
    import duckdb

    try:
        return con.sql(sql_text(query.name))
    except duckdb.CatalogException as error:
        raise _lacking(query, error) from error


def _fetch_query(query: Query, con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One query file's columns and rows, executed once (a relation would be planned again to fetch it)."""
    import duckdb

    try:
        con.execute(sql_text(query.name))
    except duckdb.CatalogException as error:
        raise _lacking(query, error) from error
    return [column[0] for column in con.description or ()], con.fetchall()


def _lacking(query: Query, error: Exception) -> QueryError:
    """A release from another version that lacks a config the query reads."""
    return QueryError(f"{query.name}.sql cannot run on this release ({error}); rebuild it with `cvreeng-bench build`")


def _execute(query: Query, con: duckdb.DuckDBPyConnection, filters: dict[str, Any]) -> pl.DataFrame:
    apply_filters(con, filters)
    return _run_query(query, con).pl()


def run_all(release: Release, *, filters: dict[str, Any] | None = None) -> dict[str, pl.DataFrame]:
    """Every query, keyed by alias."""
    return {q.alias or q.name: run(q.name, release, filters=filters) for q in QUERIES}


def crosstab(frame: pl.DataFrame, rows: str, columns: str) -> tuple[list[str], list[str], list[list[int]]]:
    """Wide counts (row labels, column labels, matrix) from a long-form figure result, order kept."""
    row_labels = list(dict.fromkeys(frame[rows].to_list()))
    col_labels = list(dict.fromkeys(frame[columns].to_list()))
    lookup = {(r, c): n for r, c, n in frame.select(rows, columns, "count").iter_rows()}
    return row_labels, col_labels, [[lookup.get((r, c), 0) for c in col_labels] for r in row_labels]


def format_frame(frame: pl.DataFrame, fmt: str) -> str:
    """A result frame as text, exactly as the print path formats the same rows (:mod:`.printing`)."""
    from .printing import format_rows

    if fmt not in FORMATS:
        raise QueryError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return format_rows(frame.columns, frame.rows(), fmt)


def print_rows(selected: list[Query], release: Release, *, filters: dict[str, Any] | None = None,
               ) -> list[tuple[Query, list[str], list[tuple[Any, ...]]]]:
    """Each selected query's columns and rows, from one confined DuckDB connection over the release's files:
    the print path, which needs neither polars nor pyarrow."""
    con = release.connect(only=QUERY_CONFIGS)
    try:
        apply_filters(con, filters or {})
        return [(query, *_fetch_query(query, con)) for query in selected]
    finally:
        con.close()


# Statements that write or attach files, or load code: the sealed SQL of a release only reads (the release's folder
# is readable to it, so without this check a COPY could replace the release's own data files).
WRITES = frozenset({"COPY", "COPY_DATABASE", "ATTACH", "DETACH", "EXPORT", "LOAD", "UPDATE_EXTENSIONS"})


def one_statement(con: duckdb.DuckDBPyConnection, query: str, fetch: Callable[[duckdb.DuckDBPyRelation], T],
                  empty: T, *, sealed: bool = True) -> T:
    """``fetch`` of ``query``'s result on ``con`` when it is exactly one statement; ``empty`` for a statement
    without rows (SET, CREATE VIEW ...). ``sealed``: a statement that writes or attaches files is refused. DuckDB's
    errors, at planning or while fetching, become one line. The user's SQL runs here and only here."""
    import duckdb

    try:
        statements = con.extract_statements(query)
        if len(statements) != 1:
            raise CvreengError(f"one SQL statement at a time, got {len(statements)}")
        kind = statements[0].type.name
        if sealed and kind in WRITES:
            raise CvreengError(f"{kind} writes or attaches files; the SQL over a release only reads it (pass "
                               "--allow-files, or allow_files=True, to write or read files of your own)")
        relation = con.sql(query)
        return fetch(relation) if relation is not None else empty
    except duckdb.Error as error:
        said = str(error).splitlines()[0]
        if sealed and ("disabled" in said or "file system" in said.lower()):
            said += " (the SQL over a release reads the release only; pass --allow-files, or allow_files=True, to " \
                    "read files of your own)"
        raise CvreengError(said) from error


def sql_rows(query: str, release: Release, *, allow_files: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
    """One SQL statement over the release (confined to its folder unless ``allow_files``): columns and rows."""
    # Sealed: the release's in-memory database, which reaches no file at all (not even the release's own).
    con = release.connect(allow_files=True) if allow_files else release.cursor()
    try:
        nothing: tuple[list[str], list[tuple[Any, ...]]] = ([], [])
        return one_statement(con, query, lambda relation: (list(relation.columns), relation.fetchall()), nothing,
                             sealed=not allow_files)
    finally:
        con.close()
