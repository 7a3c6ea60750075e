"""Turn a hydrate cache into the ``issue_texts`` config: one row per issue with the thread as fields and as
one rendered ``text``, the snapshot date and a content hash. E-mail addresses and access tokens in the
text are redacted unless asked otherwise. The texts belong to their authors under GitHub's terms."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CvreengError
from ..threads import render

if TYPE_CHECKING:
    import polars as pl

# Bounded repetitions and a left boundary: each position is tried against at most 64 characters, so a
# long run without an "@" costs linear time (an unbounded [\w.+-]+ made it quadratic: 80 KB took 18 s).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_TOKEN = re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|AKIA[0-9A-Z]{16}|"
                    r"sk-[A-Za-z0-9]{20,}|xox[baprs]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{20,})\b")


def scrub(text: str | None) -> str:
    """The text with e-mail addresses and access tokens replaced by <email> and <token>."""
    if not text:
        return text or ""
    return _TOKEN.sub("<token>", _EMAIL.sub("<email>", text))


def _time(value: str | None, field: str = "", where: str = "") -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as error:
        raise CvreengError(f"{where}: {field} {value[:40]!r} is not an ISO 8601 time; re-run `cvreeng-bench hydrate` "
                           "into a new cache") from error


def _json(text: str, where: str) -> Any:
    """A cached answer's JSON (strict: duplicate keys refused), or one line naming where it sits."""
    from ..files import strict_json

    try:
        return strict_json(text)
    except ValueError as error:
        raise CvreengError(f"{where}: the cached answer is not JSON ({error}); re-run `cvreeng-bench hydrate` into "
                           "a new cache") from error


def _checked(issue: Any, issue_id: str, cache_path: Path) -> dict[str, Any]:
    """A cached issue object whose fields have the types the GitHub API gives, else one clear error."""
    text_fields = ("title", "body", "state", "author_association", "created_at", "closed_at", "repository_url")
    if not isinstance(issue, dict):
        raise CvreengError(f"{cache_path}: the cached answer for {issue_id} is not an issue object")
    wrong = [f for f in text_fields if not isinstance(issue.get(f), str | None)]
    if not isinstance(issue.get("labels", []), list):
        wrong.append("labels")
    if wrong:
        raise CvreengError(f"{cache_path}: the cached issue {issue_id} has fields of the wrong type "
                           f"({', '.join(wrong)}); re-run `cvreeng-bench hydrate` into a new cache")
    return issue


def issue_texts_table(cache_path: Path, *, redact: bool = True) -> pl.DataFrame:
    """The issue_texts config from a hydrate cache (DuckDB file)."""
    import duckdb

    from ..schema import frame
    from .run import TRUNCATED, check_tables, snapshot_time

    if not Path(cache_path).is_file():
        raise CvreengError(f"no hydrate cache at {cache_path}; run `cvreeng-bench hydrate --cache {cache_path}`")
    try:
        con = duckdb.connect(str(cache_path), read_only=True)
    except duckdb.Error as error:
        raise CvreengError(f"cannot open the hydrate cache at {cache_path}: {str(error).splitlines()[0]}") from error
    try:
        check_tables(con, Path(cache_path), complete=True)
        done = con.execute("SELECT issue_id, status FROM done ORDER BY issue_id").fetchall()
        responses = {k: (s, b, u, m) for k, s, b, u, m in con.execute(
            "SELECT key, status, body, url, moved_from FROM responses").fetchall()}
    finally:
        con.close()
    if not done:
        raise CvreengError(f"the hydrate cache at {cache_path} holds no fetched issue yet; run `cvreeng-bench "
                           f"hydrate --cache {Path(cache_path).parent}` first")
    snapshot = snapshot_time(cache_path)
    clean = scrub if redact else (lambda text: text or "")
    rows = []
    for issue_id, done_status in done:
        repo, _, number = issue_id.partition("#")
        status = "ok" if done_status == TRUNCATED else done_status  # a truncated thread is an ok issue, flagged
        row: dict[str, Any] = {"issue_id": issue_id, "repo": repo, "issue_number": int(number), "status": status,
                               "snapshot_at": snapshot, "comments": [], "comment_author_associations": [],
                               "labels": [], "comments_truncated": done_status == TRUNCATED}
        found = responses.get(f"issue:{issue_id}")
        if status == "ok" and found and found[1]:
            issue = _checked(_json(found[1], f"{cache_path}, issue {issue_id}"), issue_id, cache_path)
            moved = (issue.get("repository_url") or "").split("/repos/")[-1]
            row["current_repo"] = moved if moved and moved != repo else None
            page, comments = 1, []
            while f"comments:{issue_id}:{page}" in responses:
                listed = _json(responses[f"comments:{issue_id}:{page}"][1] or "[]",
                               f"{cache_path}, comment page {page} of {issue_id}")
                if not isinstance(listed, list) or not all(isinstance(c, dict) and isinstance(c.get("body"), str | None)
                                                           for c in listed):
                    raise CvreengError(f"{cache_path}: comment page {page} of {issue_id} is not a list of comments; "
                                       "re-run `cvreeng-bench hydrate` into a new cache")
                comments += listed
                page += 1
            row.update(
                title=clean(issue.get("title")), body=clean(issue.get("body")), state=issue.get("state"),
                labels=[label["name"] if isinstance(label, dict) else str(label) for label in issue.get("labels", [])],
                author_association=issue.get("author_association"),
                created_at=_time(issue.get("created_at"), "created_at", f"{cache_path}, issue {issue_id}"),
                closed_at=_time(issue.get("closed_at"), "closed_at", f"{cache_path}, issue {issue_id}"),
                comments=[clean(c.get("body")) for c in comments],
                comment_author_associations=[c.get("author_association") or "" for c in comments])
            row["text"] = render(row["title"], row["body"], row["comments"])
        row["n_comments"] = len(row["comments"])
        row["content_sha256"] = hashlib.sha256((row.get("text") or "").encode()).hexdigest()
        rows.append(row)
    return frame("issue_texts", rows)
