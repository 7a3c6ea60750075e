"""Local servers that behave like the real APIs (status codes, headers, pagination, rate limits), for the
tests and the benchmarks: nothing here reaches the network."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class QuietServer(ThreadingHTTPServer):
    """A threaded server whose handler errors (a client that hung up mid-answer, as clients refusing a hostile answer
    do) are kept in ``errors`` instead of printed: the socketserver default writes a traceback to ``sys.stderr``,
    which in a test is the captured output of the command under test."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.errors: list[BaseException] = []

    def handle_error(self, request: object, client_address: object) -> None:
        error = sys.exc_info()[1]
        if error is not None:
            self.errors.append(error)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve on 127.0.0.1 (a free port) until the block ends; yields ``http://127.0.0.1:PORT``."""
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
