"""Fetch every studied issue's thread once, commit each response to a DuckDB cache as it arrives, and
make re-runs cheap.

* Interrupted run: the next ``hydrate`` continues the same run and requests nothing it already has.
* Finished run: the next ``hydrate`` starts a new run that revalidates every cached response with its
  ETag (a 304 costs no rate limit); issues recorded as deleted or hidden (404/410) are not asked again.
* A repository that moved (301) is followed, and the new location is recorded and used next time.
"""

from __future__ import annotations

import json
import queue
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .client import Client, GitHubError, Response

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (run INTEGER PRIMARY KEY, api VARCHAR, started_at TIMESTAMPTZ,
                                 finished_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS responses (key VARCHAR PRIMARY KEY, url VARCHAR, status INTEGER, etag VARCHAR,
                                      next_url VARCHAR, body VARCHAR, moved_from VARCHAR, run INTEGER,
                                      fetched_at TIMESTAMPTZ);
CREATE TABLE IF NOT EXISTS done (issue_id VARCHAR PRIMARY KEY, status VARCHAR, run INTEGER);
"""
PER_PAGE = 100
MAX_PAGES = 200  # comment pages of one issue (20,000 comments): the rest of a longer thread is not fetched
TRUNCATED = "truncated"  # the done status of such an issue (issue_texts flags it in comments_truncated)
CACHE_FILE = "hydrate.duckdb"
CACHE_STORAGE = "v1.4.0"
# What each table of a cache must hold (a foreign DuckDB file under the cache's name is refused, not written into).
TABLES = {"runs": ("run", "api", "started_at", "finished_at"),
          "responses": ("key", "url", "status", "etag", "next_url", "body", "moved_from", "run", "fetched_at"),
          "done": ("issue_id", "status", "run")}
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}")
ISSUE_ID = re.compile(REPOSITORY.pattern + r"#[0-9]{1,9}")
MAX_IDS_BYTES = 4 * 1024 * 1024  # an --issues-file: a few hundred thousand ids at most


def check_tables(con: Any, path: Path, *, complete: bool = False) -> None:
    """Refuse a DuckDB file whose tables are not a hydrate cache's (one line naming the table); ``complete``: every
    table must be there too (a cache read, not one about to be created)."""
    found: dict[str, list[str]] = {}
    for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                     "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position").fetchall():
        found.setdefault(table, []).append(column)
    missing = sorted(set(TABLES) - set(found))
    if complete and missing:
        raise GitHubError(f"{path} is not a hydrate cache: no table {', '.join(missing)}")
    for table, columns in TABLES.items():
        if table in found and tuple(found[table]) != columns:
            raise GitHubError(f"{path} is not a hydrate cache: its table {table!r} has columns "
                              f"{', '.join(found[table][:12])!r}, not {', '.join(columns)!r}; give --cache a new "
                              "folder")


def read_ids(path: Path) -> list[str]:
    """Issue ids (owner/repo#number), one per line, from an untrusted file: bounded, UTF-8, every line checked."""
    from ..files import read_bounded

    try:  # a regular file only (a FIFO or a device would block or never end), at most the limit
        raw = read_bounded(path, MAX_IDS_BYTES)
    except OSError as error:
        raise GitHubError(f"{path}: cannot read ({error.strerror or error})") from error
    except ValueError as error:
        raise GitHubError(f"{path}: larger than {MAX_IDS_BYTES // 2**20} MiB; one issue id a line is far "
                          "less") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise GitHubError(f"{path}: not UTF-8 text (byte {error.start})") from error
    ids = []
    for number, line in enumerate(text.splitlines(), 1):
        value = line.strip()
        if value and not ISSUE_ID.fullmatch(value):
            raise GitHubError(f"{path}, line {number}: {value[:80]!r} is not an issue id (owner/repo#number)")
        if value:
            ids.append(value)
    if not ids:
        raise GitHubError(f"{path}: holds no issue id (owner/repo#number, one a line)")
    return ids


def cache_file(folder: Path) -> Path:
    """A hydrate cache is a folder holding hydrate.duckdb (a path to the file itself is accepted too)."""
    return folder if folder.suffix == ".duckdb" else folder / CACHE_FILE


@dataclass
class Summary:
    run: int
    resumed: bool
    issues: int = 0
    skipped: int = 0
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    moved: dict[str, str] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)  # follow-up links to other hosts, not followed
    waited_s: float = 0.0


class Cache:
    """The DuckDB file. A worker's write returns only once it is committed, so a kill loses nothing that a
    worker went on from; a writer thread commits all writes waiting at that moment in one transaction
    (group commit), so parallel workers do not queue behind one another's commits."""

    def __init__(self, path: Path) -> None:
        import duckdb

        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # Written in an older storage format, so the DuckDB shell of the README (duckdb-cli 1.5) opens it too.
        try:
            self.con = duckdb.connect(str(path), config={"storage_compatibility_version": CACHE_STORAGE})
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise GitHubError(f"another hydrate run holds the cache at {path}; wait for it to finish, or "
                                  "give this run another --cache") from error
            raise GitHubError(f"cannot open the hydrate cache at {path}: {error}") from error
        try:
            check_tables(self.con, path)
        except GitHubError:
            self.con.close()
            raise
        self.con.execute(SCHEMA)
        self.lock = threading.Lock()  # guards the reading cursor
        self._reader = self.con.cursor()
        self._queue: queue.Queue = queue.Queue()
        self._writer = threading.Thread(target=self._write_loop, args=(self.con.cursor(),), daemon=True)
        self._writer.start()
        self._index: dict[str, dict[str, Any]] = {}
        self.load_index()

    def _write_loop(self, cursor: Any) -> None:
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            writes = [item for item in batch if item is not None]
            failure: Exception | None = None
            try:
                cursor.execute("BEGIN TRANSACTION")
                self._apply(cursor, [(kind, payload) for kind, payload, _, _ in writes])
                cursor.execute("COMMIT")
            except Exception as error:  # noqa: BLE001 - handed to every waiting worker
                failure = error
                cursor.execute("ROLLBACK")
            for _, _, done, box in writes:
                if failure is not None:
                    box.append(failure)
                done.set()
            if len(writes) < len(batch):
                cursor.close()
                return

    @staticmethod
    def _apply(cursor: Any, writes: list[tuple[str, Any]]) -> None:
        """One statement per kind of write in the batch: DuckDB's cost is per statement, not per row."""
        for kind, payload in writes:
            if kind == "sql":
                cursor.execute(*payload)
        for table, width in (("responses", 8), ("done", 3)):
            rows = {payload[0]: payload for kind, payload in writes if kind == table}  # last write of a key wins
            if rows:
                one = "(" + ", ".join(["?"] * width) + (", now())" if table == "responses" else ")")
                cursor.execute(f"INSERT OR REPLACE INTO {table} VALUES {', '.join([one] * len(rows))}",
                               [value for row in rows.values() for value in row])
        touched: dict[int, list[str]] = {}
        for kind, payload in writes:
            if kind == "touch":
                touched.setdefault(payload[1], []).append(payload[0])
        for run, keys in touched.items():
            marks = ", ".join("?" * len(keys))
            cursor.execute(f"UPDATE responses SET run = ?, fetched_at = now() WHERE key IN ({marks})", [run, *keys])

    def write(self, kind: str, payload: Any) -> None:
        """Queue one write (kind: responses, done, touch or sql) and return when it is committed."""
        done, box = threading.Event(), list[Any]()
        self._queue.put((kind, payload, done, box))
        done.wait()
        if box:
            raise box[0]

    def close(self) -> None:
        self._queue.put(None)
        self._writer.join()
        self._reader.close()
        self.con.close()

    def start(self, api: str) -> tuple[int, bool]:
        with self.lock:
            last = self._reader.execute("SELECT run, finished_at IS NULL FROM runs ORDER BY run DESC LIMIT 1"
                                        ).fetchone()
        if last and last[1]:
            return last[0], True
        run = (last[0] + 1) if last else 1
        self.write("sql", ("INSERT INTO runs VALUES (?, ?, now(), NULL)", [run, api]))
        return run, False

    def finish(self, run: int) -> None:
        self.write("sql", ("UPDATE runs SET finished_at = now() WHERE run = ?", [run]))

    def load_index(self) -> None:
        """Read every cached response's metadata once; bodies are read only when one is reused."""
        with self.lock:
            rows = self._reader.execute("SELECT key, url, status, etag, next_url, run FROM responses").fetchall()
        self._index = {r[0]: dict(zip(("url", "status", "etag", "next_url", "run"), r[1:], strict=True))
                       for r in rows}

    def get(self, key: str) -> dict[str, Any] | None:
        """Metadata of a cached response (url, status, etag, next_url, run), or None."""
        return self._index.get(key)

    def body(self, key: str) -> Any:
        with self.lock:
            row = self._reader.execute("SELECT body FROM responses WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def put(self, key: str, response: Response, run: int, body: Any = None) -> None:
        self.write("responses", (key, response.url, response.status, response.headers.get("etag"),
                                 response.next_url, None if body is None else json.dumps(body),
                                 response.redirected_from, run))
        self._index[key] = {"url": response.url, "status": response.status, "etag": response.headers.get("etag"),
                            "next_url": response.next_url, "run": run}

    def touch(self, key: str, run: int) -> None:
        self.write("touch", (key, run))
        self._index[key] = {**self._index[key], "run": run}

    def mark(self, issue_id: str, status: str, run: int) -> None:
        self.write("done", (issue_id, status, run))

    def _ids(self, sql: str, params: list[Any]) -> set[str]:
        with self.lock:
            return {r[0] for r in self._reader.execute(sql, params).fetchall()}

    def done_in(self, run: int) -> set[str]:
        return self._ids("SELECT issue_id FROM done WHERE run = ?", [run])

    def gone(self) -> set[str]:
        return self._ids("SELECT issue_id FROM done WHERE status IN ('not_found', 'gone')", [])


class Hydrator:
    def __init__(self, client: Client, cache: Cache, run: int) -> None:
        self.client, self.cache, self.run = client, cache, run
        self.foreign: list[str] = []  # follow-up URLs on another origin: never requested, never cached

    def fetch(self, key: str, path: str, *, need_body: bool = True) -> tuple[int, Any, str | None, str]:
        """(status, body, next url, final url) for one logical resource, using the cache where it can.

        A cached body is read back only when ``need_body`` (comment pages are only paged through here)."""
        cached = self.cache.get(key)
        if cached and cached["run"] == self.run:  # already fetched in this (resumed) run
            return cached["status"], self.cache.body(key) if need_body else None, cached["next_url"], cached["url"]
        url = cached["url"] if cached and cached["status"] == 200 else path
        response = self.client.get(url, etag=cached["etag"] if cached and cached["status"] == 200 else None)
        if response.status == 304 and cached:
            self.cache.touch(key, self.run)
            return cached["status"], self.cache.body(key) if need_body else None, cached["next_url"], cached["url"]
        body = response.body if response.status == 200 else None
        if response.next_url and not self.client.same_origin(response.next_url):
            self.foreign.append(response.next_url)
            response.headers = {k: v for k, v in response.headers.items() if k != "link"}  # never cached
        self.cache.put(key, response, self.run, body)
        return response.status, body, response.next_url, response.url

    def repository(self, repo: str) -> str | None:
        status, body, _, _ = self.fetch(f"repo:{repo}", f"repos/{repo}")
        name = body.get("full_name") if status == 200 and isinstance(body, dict) else None
        # A server's answer is data: only an owner/name shaped like GitHub's is taken as the repository's new name.
        return name if isinstance(name, str) and REPOSITORY.fullmatch(name) else None

    def follow(self, url: str | None) -> str | None:
        """A follow-up URL (comments, next page) only when it is on the --api-url origin."""
        if url and not self.client.same_origin(url):
            self.foreign.append(url)
            return None
        return url

    def issue(self, issue_id: str) -> str:
        repo, _, number = issue_id.partition("#")
        status, body, _, _ = self.fetch(f"issue:{issue_id}", f"repos/{repo}/issues/{number}")
        if status in (404, 410):
            outcome = "not_found" if status == 404 else "gone"
            self.cache.mark(issue_id, outcome, self.run)
            return outcome
        if not isinstance(body, dict):
            raise GitHubError(f"issue {issue_id}: the API answered {type(body).__name__}, not an issue object")
        comments = body.get("comments_url")
        url = self.follow(f"{comments}?per_page={PER_PAGE}" if isinstance(comments, str) and comments else None)
        page, seen = 1, set()
        while url:
            if url in seen:  # a next link back to itself: the server is broken, not the thread long
                raise GitHubError(f"issue {issue_id}: comment pages loop at {url}")
            if page > MAX_PAGES:  # an endless thread: keep what was fetched, flag it, and go on
                self.cache.mark(issue_id, TRUNCATED, self.run)
                return TRUNCATED
            seen.add(url)
            _, _, url, _ = self.fetch(f"comments:{issue_id}:{page}", url, need_body=False)
            url = self.follow(url)
            page += 1
        self.cache.mark(issue_id, "ok", self.run)
        return "ok"


def hydrate(issue_ids: list[str], cache_path: Path, client: Client, *, concurrency: int = 4, progress: bool = True,
            refresh_missing: bool = False) -> Summary:
    """Hydrate the issues (and their repositories) into the cache; returns what happened."""
    from tqdm import tqdm

    cache = Cache(cache_path)
    try:
        run, resumed = cache.start(client.api)
        summary = Summary(run, resumed)
        hydrator = Hydrator(client, cache, run)
        finished = cache.done_in(run) if resumed else set()
        skip = finished | (set() if refresh_missing else cache.gone())
        todo = [i for i in issue_ids if i not in skip]
        summary.skipped = len(issue_ids) - len(todo)
        start = client.state.requests
        bar = tqdm(total=len(issue_ids), initial=summary.skipped, unit="issue", desc="hydrate", disable=not progress)

        def waited(why: str, seconds: float) -> None:
            bar.write(f"waiting {seconds:.0f} s: {why}")

        client.on_wait = waited
        repos = sorted({i.partition("#")[0] for i in todo})
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            for repo, name in zip(repos, pool.map(hydrator.repository, repos), strict=True):
                if name and name != repo:
                    summary.moved[repo] = name

            def one(issue_id: str) -> str:
                outcome = hydrator.issue(issue_id)
                state = client.state
                bar.set_postfix(requests=state.requests - start, rate=f"{state.remaining}/{state.limit}", refresh=False)
                bar.update()
                return outcome

            summary.statuses.update(pool.map(one, todo))
        bar.close()
        summary.issues = len(todo)
        summary.requests = client.state.requests - start
        summary.waited_s = client.state.waited_s
        summary.foreign = sorted(set(hydrator.foreign))
        cache.finish(run)
        return summary
    finally:
        cache.close()


def snapshot_time(cache_path: Path) -> datetime:
    import duckdb

    con = duckdb.connect(str(cache_path), read_only=True)
    try:
        row = con.execute("SELECT epoch(max(fetched_at)) FROM responses").fetchone()
        value = row[0] if row else None
    finally:
        con.close()
    return datetime.fromtimestamp(value, UTC) if value is not None else datetime.now(UTC)
