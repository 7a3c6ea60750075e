"""A small GitHub REST client that behaves the way the API asks clients to.

* primary rate limits: when ``x-ratelimit-remaining`` reaches 0 (or a 403/429 says so), every worker
  waits until ``x-ratelimit-reset``;
* secondary rate limits: a 403/429 with ``retry-after`` waits that long;
* 5xx answers and connection errors are retried with exponential backoff;
* 301 (a transferred or renamed repository) is followed by hand so the new location can be recorded;
* each worker thread keeps its connection alive between requests;
* conditional requests: a known ETag is sent as ``If-None-Match``; a 304 costs no rate limit;
* ``Link: <...>; rel="next"`` is exposed so callers can paginate.
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .._version import __version__
from ..errors import CvreengError
from ..netio import AnswerError, KeepAlive, retry_after
from ..text import printable, redact

DEFAULT_API = "https://api.github.com"
MAX_TRIES = 6
MAX_REDIRECTS = 5
MAX_WAIT_S = 3600.0  # a Retry-After or rate-limit reset further away than this is refused, not slept through
MAX_TOTAL_WAIT_S = 7200.0  # all waits of one run together: a server that asks again and again stops the run


def next_link(header: str) -> str | None:
    """The ``rel="next"`` URL of a Link header, read in one pass (a regex over ``<<<...`` is quadratic)."""
    position = 0
    while (start := header.find("<", position)) >= 0:
        end = header.find(">", start + 1)
        if end < 0:
            return None
        following = header.find("<", end + 1)
        params = header[end + 1:following if following >= 0 else len(header)]
        if start + 1 < end and any(p.strip(" \t,") == 'rel="next"' for p in params.split(";")):
            return header[start + 1:end]
        position = end + 1
    return None


class GitHubError(CvreengError):
    """The API could not be used (bad token, exhausted retries, unexpected answer)."""


@dataclass
class Response:
    url: str  # the URL that finally answered (after redirects)
    status: int
    headers: dict[str, str]
    body: Any = None  # parsed JSON, or None for 304/404/410
    redirected_from: str | None = None

    @property
    def next_url(self) -> str | None:
        return next_link(self.headers.get("link", ""))


@dataclass
class RateState:
    """Shared between workers: how many requests were made, and when the next one may go."""

    requests: int = 0
    remaining: int | None = None
    limit: int | None = None
    reset: float | None = None
    not_before: float = 0.0
    waited_s: float = 0.0  # total time all workers were held back
    lock: threading.Lock = field(default_factory=threading.Lock)


def _origin(url: str) -> tuple[str, str]:
    """(scheme, host:port) of a URL; ("", "") for one that cannot be parsed (it matches no origin)."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:  # http://[::1, a port of 99999
        return "", ""
    return parts.scheme.lower(), (parts.hostname or "").lower() + (f":{port}" if port else "")


def without_credentials(url: str) -> tuple[str, str | None]:
    """(the URL without user:password@, the password or user it carried): credentials never print or store."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    secret = urllib.parse.unquote(parts.password or parts.username or "")
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)), secret


class Client:
    def __init__(self, api_url: str = DEFAULT_API, token: str | None = None, *, timeout: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep, on_wait: Callable[[str, float], None] | None = None,
                 backoff: float = 1.0, max_total_wait: float = MAX_TOTAL_WAIT_S) -> None:
        api, embedded = without_credentials(api_url.rstrip("/"))
        self.max_total_wait = max_total_wait
        if urllib.parse.urlsplit(api).scheme not in ("http", "https"):
            raise GitHubError(f"--api-url must be an http(s) URL, got {api[:80]!r}")
        self.api = api
        self._reached = False  # whether the server has answered once (later connection errors are retried)
        self.origin = _origin(api)
        self.token = token or embedded
        self.timeout = timeout
        self.sleep = sleep
        self.on_wait = on_wait
        self.backoff = backoff
        self.state = RateState()
        self._http = KeepAlive(timeout)

    def url(self, path: str) -> str:
        """An API path under --api-url; an absolute URL (any scheme) as it is, to be checked by same_origin."""
        return path if "://" in path or path.lower().startswith(("http:", "https:", "ftp:", "file:")) \
            else f"{self.api}/{path.lstrip('/')}"

    def same_origin(self, url: str) -> bool:
        """Whether ``url`` is on the --api-url origin (same scheme, host and port): the only place a request, and
        so the token, ever goes."""
        return _origin(url) == self.origin

    def _wait(self, seconds: float, why: str) -> None:
        if seconds <= 0:
            return
        if seconds > MAX_WAIT_S:
            raise GitHubError(f"the API asks to wait {seconds:.0f} s ({why}), more than {MAX_WAIT_S:.0f} s; run "
                              "hydrate again later (it resumes where it stopped)")
        with self.state.lock:
            waited = self.state.waited_s
        if waited + seconds > self.max_total_wait:
            raise GitHubError(f"the API has asked for {waited:.0f} s of waits in this run and now {seconds:.0f} s more "
                              f"({why}), past the run's budget of {self.max_total_wait:.0f} s; run hydrate again later "
                              "(it resumes where it stopped)")
        with self.state.lock:
            until = time.time() + seconds
            if until > self.state.not_before:  # overlapping waits of several workers count once
                self.state.waited_s += until - max(self.state.not_before, time.time())
                self.state.not_before = until
        if self.on_wait:
            self.on_wait(why, seconds)

    def _gate(self) -> None:
        while True:
            with self.state.lock:
                delay = self.state.not_before - time.time()
            if delay <= 0:
                return
            self.sleep(delay)

    def _note(self, headers: dict[str, str]) -> None:
        with self.state.lock:
            if "x-ratelimit-remaining" in headers:
                try:  # garbage values are ignored, never a crash
                    self.state.remaining = int(headers["x-ratelimit-remaining"])
                    self.state.limit = int(headers.get("x-ratelimit-limit", self.state.limit or 0)) or None
                    reset = float(headers.get("x-ratelimit-reset", 0))
                    self.state.reset = reset if math.isfinite(reset) and reset > 0 else None
                except ValueError:
                    self.state.remaining = None
        if self.state.remaining == 0 and self.state.reset:
            self._wait(self.state.reset - time.time() + 1, "primary rate limit")

    def get(self, path: str, etag: str | None = None) -> Response:
        """GET one URL: retries, rate limits and redirects handled; 304, 404 and 410 returned, not raised."""
        url, origin = self.url(path), None
        for _ in range(MAX_REDIRECTS):
            response = self._get_once(url, etag)
            if response.status not in (301, 302, 307, 308):
                response.redirected_from = origin
                return response
            origin = origin or url
            location = response.headers.get("location", "")
            try:
                url = urllib.parse.urljoin(url, location)
            except ValueError:
                url = location
            if not self.same_origin(url):
                scheme, host = _origin(url)
                raise GitHubError(f"{origin} redirects to {printable(location[:120])} ({scheme or 'no'} scheme, host "
                                  f"{host or 'unreadable'}): not the --api-url origin; not followed, so the token "
                                  "never leaves it")
        raise GitHubError(f"too many redirects from {origin}")

    def _get_once(self, url: str, etag: str | None) -> Response:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28",
                   "User-Agent": f"cvreeng-bench/{__version__}"}
        if self.token and self.same_origin(url):
            headers["Authorization"] = f"Bearer {self.token}"
        if etag:
            headers["If-None-Match"] = etag
        last_error = ""
        for attempt in range(MAX_TRIES):
            self._gate()
            with self.state.lock:
                self.state.requests += 1
            try:
                status, reason, head, data = self._http.send("GET", url, headers)
            except AnswerError as error:
                raise GitHubError(str(error)) from error
            except (OSError, http.client.HTTPException) as error:
                last_error = redact(str(error), self.token)[:200] or type(error).__name__
                if not self._reached and isinstance(error, (ConnectionRefusedError, socket.gaierror)):
                    # no such host (offline) or nothing listening: retrying only delays the same answer
                    raise GitHubError(f"{self.api}: cannot connect ({last_error}); offline, or a wrong --api-url?"
                                      ) from error
                self._wait(self.backoff * 2 ** attempt, "connection error")
                continue
            self._reached = True
            self._note(head)
            if status == 200:
                try:
                    return Response(url, status, head, json.loads(data or b"null"))
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
                    raise GitHubError(f"{url}: 200 but the answer is not JSON ({error})") from error
            if status in (301, 302, 304, 307, 308, 404, 410):
                return Response(url, status, head)
            if status == 401:
                raise GitHubError(f"{url}: 401 Unauthorized; check the token")
            if status in (403, 429):
                if "retry-after" in head:
                    self._wait(retry_after(head["retry-after"], self.backoff * 2 ** attempt * 30),
                               "secondary rate limit")
                    continue
                if head.get("x-ratelimit-remaining") == "0":
                    continue  # _note scheduled the wait until the reset
                if status == 429 or b"rate limit" in data.lower():
                    self._wait(self.backoff * 2 ** attempt * 30, "secondary rate limit")
                    continue
                raise GitHubError(f"{url}: 403 Forbidden")
            if status >= 500:
                last_error = f"{status} {printable(redact(reason, self.token), 80)}"
                self._wait(self.backoff * 2 ** attempt, f"server error {status}")
                continue
            raise GitHubError(f"{url}: unexpected {status} {printable(redact(reason, self.token), 80)}")
        raise GitHubError(f"{url}: gave up after {MAX_TRIES} tries ({last_error})")
