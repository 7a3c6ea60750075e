"""A real HTTP server on 127.0.0.1 that answers like the GitHub REST API for synthetic issues.

It serves repositories, issues and paginated comments with ETags and honours If-None-Match (304), sends
``Link`` pagination and ``x-ratelimit-*`` headers, moves a repository (301 to ``/repositories/<id>``),
answers 404 and 410 for deleted and hidden issues, and can be scripted to fail: a 403 with
``x-ratelimit-remaining: 0`` and a reset a second away, a 429 with ``retry-after``, a 502. It counts every
request. Used by the tests and by benchmarks/hydrate.py.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from . import serving


@dataclass
class World:
    """What the fake API knows and how it misbehaves."""

    issues: dict[str, dict[int, int]]  # repo -> issue number -> number of comments
    moved: dict[str, str] = field(default_factory=dict)  # old full name -> new full name
    missing: set[str] = field(default_factory=set)  # issue ids answering 404
    gone: set[str] = field(default_factory=set)  # issue ids answering 410
    page_size: int = 2  # comments per page, whatever per_page asks (forces pagination)
    failures: dict[str, list[int]] = field(default_factory=dict)  # path -> statuses to answer first, in order
    latency_s: float = 0.0
    block_after: int | None = None  # the request with this number hangs until released (to kill a client)
    rate_limit: int = 5000
    charged: int = 0  # requests counted against the rate limit
    # hostile answers, to test what a client does with them
    raw: dict[str, tuple[int, bytes, dict[str, str]]] = field(default_factory=dict)  # path -> answer as is
    comments_base: str | None = None  # issues name their comments_url on this (other) origin
    next_links: dict[str, str] = field(default_factory=dict)  # path -> the Link rel="next" it answers with
    # texts that carry signal: issue id -> the words its title and body are drawn from (plus noise), so a test can
    # show that a text system learns, and that it stops learning when texts and labels are shuffled
    signal: dict[str, list[str]] = field(default_factory=dict)
    # bookkeeping
    requests: list[tuple[str, int]] = field(default_factory=list)  # (path?query, status) delivered, in order
    headers: list[dict[str, str]] = field(default_factory=list)  # request headers, in arrival order
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def repo_id(self, name: str) -> int:
        return 1000 + sorted({*self.issues, *self.moved.values()}).index(name)

    def count(self, status: int | None = None) -> int:
        return sum(1 for _, s in self.requests if status is None or s == status)

    def served(self) -> Counter:
        """How many 200 answers each URL (path and query) got."""
        return Counter(p for p, s in self.requests if s == 200)


NOISE = ("please", "help", "error", "code", "python", "output", "result", "value", "running", "strange", "model",
         "script", "version", "thanks", "works", "again")


def _texts(world: World, repo: str, number: int) -> tuple[str, str]:
    """Title and body: from the issue's signal words plus noise (seeded by the issue id), else the fixed text."""
    import random

    words = world.signal.get(f"{repo}#{number}")
    if words is None:
        return (f"Issue {number} of {repo}: training crashes",
                f"Running train.py fails. Contact me at someone{number}@example.com, token ghp_{'a' * 36}.")
    rng = random.Random(hashlib.sha256(f"{repo}#{number}".encode()).hexdigest())  # noqa: S311 (test texts, not secrets)
    title = " ".join(rng.sample(words, min(2, len(words))) + rng.sample(NOISE, 2))
    body = " ".join(rng.choices(words, k=4) + rng.sample(NOISE, 6))
    return title, body


def _issue(world: World, base: str, repo: str, number: int) -> dict[str, Any]:
    current = world.moved.get(repo, repo)
    title, body = _texts(world, repo, number)
    return {
        "number": number, "title": title, "body": body,
        "state": "closed", "labels": [{"name": "bug"}], "author_association": "NONE",
        "created_at": "2019-05-01T10:00:00Z", "closed_at": "2019-06-01T10:00:00Z",
        "comments": world.issues[repo][number],
        "repository_url": f"{base}/repos/{current}",
        "comments_url": f"{world.comments_base or base}/repos/{current}/issues/{number}/comments",
    }


def _handler(world: World) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, as a production server sends them

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            with world.lock:  # like GitHub, a 304 does not count against the rate limit
                world.charged += status != 304
                used = world.charged
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ratelimit-limit", str(world.rate_limit))
            self.send_header("x-ratelimit-remaining", str(max(0, world.rate_limit - used)))
            self.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            try:
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client is gone: nothing was delivered
                status = -status
            with world.lock:
                world.requests.append((self.path, status))

        def _ok(self, body: Any, headers: dict[str, str] | None = None) -> None:
            etag = '"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:20] + '"'
            if self.headers.get("If-None-Match") == etag:
                self._send(304, None, {"ETag": etag})
            else:
                self._send(200, body, {"ETag": etag, **(headers or {})})

        def do_GET(self) -> None:
            with world.lock:
                number = len(world.requests) + 1
                world.headers.append(dict(self.headers.items()))
            if world.block_after is not None and number > world.block_after:
                world.release.wait(30)
            if world.latency_s:
                time.sleep(world.latency_s)
            parts = urllib.parse.urlsplit(self.path)
            path, query = parts.path, urllib.parse.parse_qs(parts.query)
            if path == "/_stats":  # for a client in another process: what was served, by status
                body = json.dumps(Counter(str(s) for _, s in world.requests)).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            base = f"http://{self.headers['Host']}"
            if path in world.raw:
                status, data, extra = world.raw[path]
                self.send_response(status)
                for key, value in {"Content-Length": str(len(data)), **extra}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)
                with world.lock:
                    world.requests.append((self.path, status))
                return
            if path in world.next_links:
                self._ok([], {"Link": f'<{world.next_links[path]}>; rel="next"'})
                return
            scripted = world.failures.get(path)
            if scripted:
                status = scripted.pop(0)
                if status == 403:
                    self._send(403, {"message": "API rate limit exceeded"},
                               {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(time.time()) + 1)})
                elif status == 429:
                    self._send(429, {"message": "You have exceeded a secondary rate limit"}, {"retry-after": "1"})
                else:
                    self._send(status, {"message": "Server Error"})
                return
            segments = path.strip("/").split("/")
            if segments[0] == "repositories":  # where a moved repository's URLs lead
                name = next(n for n in {*world.issues, *world.moved.values()} if world.repo_id(n) == int(segments[1]))
                segments = ["repos", *name.split("/"), *segments[2:]]
            if segments[0] != "repos" or len(segments) < 3:
                self._send(404, {"message": "Not Found"})
                return
            repo = f"{segments[1]}/{segments[2]}"
            if repo in world.moved and segments[0] == "repos" and not path.startswith("/repositories"):
                target = "/repositories/" + str(world.repo_id(world.moved[repo])) + "/" + "/".join(segments[3:])
                self._send(301, {"message": "Moved Permanently", "url": base + target.rstrip("/")},
                           {"Location": base + target.rstrip("/")})
                return
            original = next((old for old, new in world.moved.items() if new == repo), repo)
            if len(segments) == 3:
                self._ok({"full_name": repo, "id": world.repo_id(repo), "stargazers_count": 1234})
                return
            if len(segments) < 5 or segments[3] != "issues" or original not in world.issues:
                self._send(404, {"message": "Not Found"})
                return
            issue, issue_id = int(segments[4]), f"{original}#{segments[4]}"
            if issue_id in world.gone:
                self._send(410, {"message": "This issue was deleted"})
                return
            if issue_id in world.missing or issue not in world.issues[original]:
                self._send(404, {"message": "Not Found"})
                return
            if len(segments) == 5:
                self._ok(_issue(world, base, original, issue))
                return
            total = world.issues[original][issue]
            page = int(query.get("page", ["1"])[0])
            first = (page - 1) * world.page_size
            comments = [{"id": issue * 1000 + i, "body": f"comment {i} on {issue_id}",
                         "author_association": "MEMBER" if i % 2 else "NONE"}
                        for i in range(first, min(total, first + world.page_size))]
            headers = {}
            if first + world.page_size < total:
                headers["Link"] = f'<{base}{path}?per_page={world.page_size}&page={page + 1}>; rel="next"'
            self._ok(comments, headers)

    return Handler


@contextmanager
def serve(world: World) -> Iterator[str]:
    with serving(_handler(world)) as url:
        try:
            yield url
        finally:
            world.release.set()  # a request held back must not keep the server from shutting down


def synthetic(n_issues: int, comments: int = 5, repos: int = 3) -> World:
    names = [f"org{i}/model{i}" for i in range(repos)]
    return World({name: {number: comments for number in range(1, n_issues + 1) if number % repos == r}
                  for r, name in enumerate(names)})


if __name__ == "__main__":  # a server in its own process: python -m cvreeng_bench.testing.github_server N C LATENCY
    import sys

    world = synthetic(int(sys.argv[1]), comments=int(sys.argv[2]), repos=5)
    world.latency_s = float(sys.argv[3])
    world.rate_limit = 1_000_000
    with serve(world) as url:
        print(url, flush=True)
        threading.Event().wait()
