"""Keep-alive HTTP for the API clients (GitHub, OpenAI-compatible servers): one connection per host and
thread, reused across requests, and answers read with a size cap and an overall deadline, so a huge or
trickling answer is refused instead of filling memory or hanging.

The deadline is a deadline: a socket timeout bounds each wait, but a server that sends one byte a second never
lets it expire, so each request also starts a watchdog that shuts the connection's socket down when the request's
whole time is up (slow headers, slow chunks or a slow body alike); the blocked read then fails and the request is
refused in one line."""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.parse

from .errors import CvreengError

MAX_BODY = 16 << 20  # bytes of one answer
REQUEST_DEADLINE_S = 120.0  # one answer, however slowly the server trickles its bytes


class AnswerError(CvreengError):
    """An answer too large or too slow to accept."""


def retry_after(value: str | None, fallback: float) -> float:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date; anything else: the fallback."""
    import email.utils
    import math

    if value is None:
        return fallback
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return fallback
        seconds = when.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else fallback


def read_capped(answer: http.client.HTTPResponse, url: str, *, max_body: int = MAX_BODY,
                deadline_s: float = REQUEST_DEADLINE_S) -> bytes:
    try:
        declared = int(answer.getheader("content-length") or 0)
    except ValueError as error:  # on a kept-alive connection the body would have no end: refused at once
        raise AnswerError(f"{url}: the answer's Content-Length {str(answer.getheader('content-length'))[:40]!r} "
                          "is not a number; refused") from error
    if declared > max_body:
        raise AnswerError(f"{url}: the answer is {declared} bytes, more than {max_body}")
    start, chunks, size = time.monotonic(), [], 0
    while block := answer.read1(1 << 16):  # one receive at a time: the checks below run between receives
        chunks.append(block)
        size += len(block)
        if size > max_body:
            raise AnswerError(f"{url}: the answer is over {max_body} bytes; refused")
        if time.monotonic() - start > deadline_s:
            raise AnswerError(f"{url}: the answer took over {deadline_s:.0f} s; refused")
    if declared and size < declared:
        raise AnswerError(f"{url}: the answer ended after {size} of its {declared} bytes; refused")
    answer.close()  # read to its end: released, so the kept-alive connection takes the next request (read1 keeps it)
    return b"".join(chunks)


class KeepAlive:
    """Thread-local keep-alive connections; ``send`` retries once on a connection the server closed."""

    def __init__(self, timeout: float, deadline_s: float = REQUEST_DEADLINE_S) -> None:
        self.timeout = timeout
        self.deadline_s = deadline_s
        self._local = threading.local()

    def _connection(self, scheme: str, netloc: str, *, fresh: bool = False) -> http.client.HTTPConnection:
        pool = self._local.__dict__.setdefault("pool", {})
        key = (scheme, netloc)
        if fresh and key in pool:
            pool.pop(key).close()
        if key not in pool:
            kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            pool[key] = kind(netloc, timeout=self.timeout)
        return pool[key]

    def send(self, method: str, url: str, headers: dict[str, str], body: bytes | None = None,
             ) -> tuple[int, str, dict[str, str], bytes]:
        """(status, reason, lower-cased headers, body) of one request."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):  # never a plain-HTTP request to whatever another scheme names
            raise AnswerError(f"{url[:80]}: not an http(s) URL; refused")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        started = time.monotonic()
        for reuse in (True, False):  # a kept-alive connection the server closed meanwhile: retry on a new one
            connection = self._connection(parts.scheme, parts.netloc, fresh=not reuse)
            left = self.deadline_s - (time.monotonic() - started)
            expired = threading.Event()
            watchdog = threading.Timer(max(0.0, left), _cut, args=(connection, expired))
            watchdog.daemon = True
            watchdog.start()
            try:
                connection.request(method, target, body=body, headers=headers)
                answer = connection.getresponse()
                data = read_capped(answer, url, deadline_s=max(0.0, left))
                if expired.is_set():  # the watchdog cut the socket: whatever arrived is not the whole answer
                    raise AnswerError(f"{url}: cut off at the deadline")
            except (OSError, http.client.HTTPException, AnswerError) as error:
                self._connection(parts.scheme, parts.netloc, fresh=True)  # never reuse a broken connection
                if expired.is_set():
                    raise AnswerError(f"{url}: no whole answer within {self.deadline_s:.0f} s; refused") from error
                if reuse and isinstance(error, (http.client.RemoteDisconnected, BrokenPipeError,
                                                ConnectionResetError)):
                    continue
                raise
            finally:
                watchdog.cancel()
            if answer.will_close:
                self._connection(parts.scheme, parts.netloc, fresh=True)
            return answer.status, answer.reason, {k.lower(): v for k, v in answer.getheaders()}, data
        raise ConnectionError(f"{url}: connection closed")


def _cut(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """The watchdog's work: the request's time is up, so its socket is shut down (a blocked read returns)."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return
