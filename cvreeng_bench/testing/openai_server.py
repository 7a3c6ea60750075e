"""A real HTTP server on 127.0.0.1 that answers like an OpenAI-compatible chat-completions API
(``POST /v1/chat/completions``): the response shape with ``choices``, ``model`` and ``usage``, errors as
``{"error": {"message", "type", "param"}}``, a 429 with ``Retry-After``, a 500, a server that refuses
``response_format``, and an answer slower than the client's timeout. It records every request."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from . import serving


def echo_first_label(body: dict[str, Any]) -> str:
    """Default behaviour: answer with the first label the system message lists."""
    system = body["messages"][0]["content"]
    first = next(line[2:].split(":")[0] for line in system.splitlines() if line.startswith("- "))
    return json.dumps({"label": first})


@dataclass
class Model:
    answer: Callable[[dict[str, Any]], str] = echo_first_label
    model_id: str = "fake-model-2024-06-01"
    latency_s: float = 0.0
    failures: list[int] = field(default_factory=list)  # statuses answered first, in order (429, 500, ...)
    slow_first_s: float = 0.0  # the first completion sleeps this long (past a client's timeout)
    refuse_response_format: bool = False
    retry_after: str = "1"  # the Retry-After of a 429 (a hostile server sends dates, -1 or nan)
    # a hostile server: rewrites each completion object before it is sent (content as a number, usage as a list)
    reshape: Callable[[dict[str, Any]], Any] | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)  # bodies, in arrival order
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def completions(self) -> int:
        return len(self.requests)


def _handler(model: Model) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
                self.wfile.write(data)

        def _error(self, status: int, message: str, kind: str, param: str | None = None,
                   headers: dict[str, str] | None = None) -> None:
            self._json(status, {"error": {"message": message, "type": kind, "param": param, "code": None}}, headers)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            with model.lock:
                model.requests.append(body)
                model.headers.append(dict(self.headers.items()))
                number = len(model.requests)
                failure = model.failures.pop(0) if model.failures else None
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._error(404, f"unknown path {self.path}", "invalid_request_error")
                return
            if failure == 429:
                self._error(429, "Rate limit reached for requests", "requests",
                            headers={"Retry-After": model.retry_after})
                return
            if failure is not None:
                self._error(failure, "The server had an error while processing your request", "server_error")
                return
            if model.refuse_response_format and "response_format" in body:
                self._error(400, "response_format is not supported by this model", "invalid_request_error",
                            "response_format")
                return
            if number == 1 and model.slow_first_s:
                time.sleep(model.slow_first_s)
            if model.latency_s:
                time.sleep(model.latency_s)
            content = model.answer(body)
            prompt_tokens = sum(len(m["content"].split()) for m in body["messages"])
            answer = {
                "id": f"chatcmpl-{number}", "object": "chat.completion", "created": int(time.time()),
                "model": model.model_id,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content.split()),
                          "total_tokens": prompt_tokens + len(content.split())},
            }
            self._json(200, model.reshape(answer) if model.reshape else answer)

    return Handler


@contextmanager
def serve(model: Model) -> Iterator[str]:
    """Serve until the block ends; yields the API base URL (…/v1)."""
    with serving(_handler(model)) as url:
        yield f"{url}/v1"


if __name__ == "__main__":  # python -m cvreeng_bench.testing.openai_server LATENCY: a server in its own process
    import sys

    with serve(Model(latency_s=float(sys.argv[1]))) as url:
        print(url, flush=True)
        threading.Event().wait()
