"""Run any OpenAI-compatible chat model (hosted APIs, vLLM, llama.cpp server, Ollama) on a benchmark task.

Each issue of the split's test side becomes one chat request rendered by a registered prompt; the answer
is read as one label (:mod:`.answers`), asked again once with a stricter reminder when it names none,
and otherwise recorded as an explicit abstention (scored as wrong, counted). Requests go only to
``--api-url``; the key is read from an environment variable, sent in the ``Authorization`` header to
that host alone, and never logged or written. Every answer is kept in a response cache (one SQLite file,
committed per answer: a killed run resumes, and a re-run with the same settings sends nothing).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import sqlite3
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..errors import CvreengError
from ..netio import AnswerError, KeepAlive, retry_after
from ..text import redact
from .answers import parse
from .prompts import Message, Prompt

if TYPE_CHECKING:
    from ..scoring.tasks import Task

MAX_TRIES = 5
MAX_WAIT_S = 120.0  # a Retry-After longer than this is refused rather than slept through
CACHE_SCHEME = "sha256 of the canonical JSON of {model, prompt, messages, params}"
PARAMS = {"temperature": 0, "seed": 0}


class RunnerError(CvreengError):
    """The model server could not be used, or the cost guard stopped the run."""


@dataclass(frozen=True)
class Answer:
    content: str
    model_id: str | None
    usage: dict[str, int]
    cached: bool = False


class ChatClient:
    """POST /chat/completions with retries (429 honouring Retry-After, 5xx, timeouts) on keep-alive
    connections; structured output (a JSON schema whose enum is the label set) where the server takes it."""

    def __init__(self, api_url: str, api_key: str | None = None, *, timeout: float = 60.0, backoff: float = 1.0,
                 max_requests: int | None = None) -> None:
        parts = urllib.parse.urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RunnerError(f"--api-url must be an http(s) URL, got {redact(api_url[:80], api_key)!r}")
        if parts.username is not None or parts.password is not None:
            raise RunnerError("--api-url must not carry credentials (user:password@); put the key in the "
                              "environment variable --api-key-env names")
        self.url = api_url.rstrip("/") + "/chat/completions"
        self._key = api_key
        self.backoff, self.max_requests = backoff, max_requests
        self.structured = True  # until the server refuses response_format
        self.requests = 0
        self._reached = False  # whether any answer came back from the server
        self._lock = threading.Lock()
        self._http = KeepAlive(timeout)

    def _charge(self) -> None:
        with self._lock:
            if self.max_requests is not None and self.requests >= self.max_requests:
                raise RunnerError(f"--max-requests {self.max_requests} reached")
            self.requests += 1

    def complete(self, model: str, messages: list[Message], labels: tuple[str, ...]) -> Answer:
        headers = {"Content-Type": "application/json", "User-Agent": f"cvreeng-bench/{__version__}"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        last = ""
        for attempt in range(MAX_TRIES):
            body: dict[str, Any] = {"model": model, "messages": messages, **PARAMS}
            if self.structured:
                body["response_format"] = response_format(labels)
            self._charge()
            try:
                status, _, head, data = self._http.send("POST", self.url, headers, json.dumps(body).encode())
            except AnswerError as error:
                raise RunnerError(redact(str(error), self._key)) from error
            except (OSError, http.client.HTTPException, ValueError) as error:  # refused, reset, past the deadline
                last = redact(f"{type(error).__name__}: {error}", self._key)
                if not self._reached and isinstance(error, (ConnectionRefusedError, socket.gaierror)):
                    # nothing answers there (no server, or no such host): retrying only delays the same answer
                    raise RunnerError(f"{self.url}: no server answers ({last}); is it running, and is --api-url "
                                      "right?") from error
                time.sleep(self.backoff * 2 ** attempt)
                continue
            self._reached = True
            if status == 401 and not self._key:
                raise RunnerError(f"{self.url}: 401 Unauthorized, and no key was sent: set the variable --api-key-env "
                                  "names (default OPENAI_API_KEY)")
            if status == 200:
                return self._answer(data)
            message = _error_message(data, self._key)
            if status == 400 and "response_format" in body and "response_format" in message:
                self.structured = False  # this server takes free text only: ask again without the schema
                continue
            if status == 429:
                wait = retry_after(head.get("retry-after"), self.backoff * 2 ** attempt)
                if wait > MAX_WAIT_S:
                    raise RunnerError(f"{self.url}: the server asks to wait {wait:.0f} s; run again later")
                last = f"429 {message}"
                time.sleep(wait)
                continue
            if status >= 500:
                last = f"{status} {message}"
                time.sleep(self.backoff * 2 ** attempt)
                continue
            raise RunnerError(f"{self.url}: {status} {message}")
        raise RunnerError(f"{self.url}: gave up after {MAX_TRIES} tries ({last})")

    def _answer(self, data: bytes) -> Answer:
        try:
            body = json.loads(data)
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError, RecursionError) as error:
            raise RunnerError(f"{self.url}: not a chat completion ({str(error)[:80]})") from error
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise RunnerError(f"{self.url}: not a chat completion (message content is {type(content).__name__}, "
                              "not text)")
        usage = body.get("usage") if isinstance(body.get("usage"), dict) else {}
        tokens = {redact(str(k), self._key)[:40]: v for k, v in usage.items()
                  if isinstance(v, int) and not isinstance(v, bool)}
        model = body.get("model") if isinstance(body.get("model"), str) else None
        return Answer(redact(content, self._key), redact(model, self._key)[:200] if model else None, tokens)


def response_format(labels: tuple[str, ...]) -> dict[str, Any]:
    """Structured output: a JSON object whose one field must be one of the task's labels."""
    schema = {"type": "object", "additionalProperties": False, "required": ["label"],
              "properties": {"label": {"type": "string", "enum": list(labels)}}}
    return {"type": "json_schema", "json_schema": {"name": "label", "strict": True, "schema": schema}}


def _error_message(data: bytes, secret: str | None) -> str:
    """The server's error in one short line, the secret replaced before anything is cut."""
    try:
        error = json.loads(data).get("error")
    except (ValueError, AttributeError, RecursionError):
        return redact(data[:4096].decode("utf-8", "replace"), secret)[:200]
    if isinstance(error, dict):
        return (f"{redact(str(error.get('message', '')), secret)[:200]} "
                f"(param {redact(str(error.get('param')), secret)[:60]})")
    return redact(str(error), secret)[:200]


class ResponseCache:
    """Answers by request key in one SQLite file; each answer is committed as it arrives."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, content TEXT, model_id TEXT, "
                          "usage TEXT, at REAL)")
        self._lock = threading.Lock()

    @staticmethod
    def key(model: str, prompt: str, messages: list[Message]) -> str:
        canonical = json.dumps({"model": model, "prompt": prompt, "messages": messages, "params": PARAMS},
                               sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def get(self, key: str) -> Answer | None:
        with self._lock:
            row = self._con.execute("SELECT content, model_id, usage FROM answers WHERE key = ?", [key]).fetchone()
        return None if row is None else Answer(row[0], row[1], json.loads(row[2]), cached=True)

    def put(self, key: str, answer: Answer) -> None:
        with self._lock:
            self._con.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?)",
                              [key, answer.content, answer.model_id, json.dumps(answer.usage), time.time()])

    def close(self) -> None:
        self._con.close()


@dataclass
class Outcome:
    issue_id: str
    label: str | None
    raw: list[str]

    @property
    def abstained(self) -> bool:
        return self.label is None


@dataclass
class Tally:
    requests: int = 0
    cached: int = 0
    abstentions: int = 0
    retries: int = 0
    tokens: dict[str, int] = field(default_factory=dict)
    model_ids: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, answer: Answer) -> None:
        with self.lock:
            if answer.cached:
                self.cached += 1
            else:
                self.requests += 1
            for name, n in answer.usage.items():
                self.tokens[name] = self.tokens.get(name, 0) + n
            if answer.model_id:
                self.model_ids.add(answer.model_id)


def ask(client: ChatClient, cache: ResponseCache, messages: list[Message], *, model: str, prompt: str,
        labels: tuple[str, ...], tally: Tally) -> Answer:
    key = cache.key(model, prompt, messages)
    answer = cache.get(key)
    if answer is None:
        answer = client.complete(model, messages, labels)
        cache.put(key, answer)
    tally.add(answer)
    return answer


def classify(jobs: list[tuple[str, list[Message]]], task: Task, client: ChatClient, cache: ResponseCache, *,
             model: str, prompt: Prompt, concurrency: int = 4, progress: bool = True) -> tuple[list[Outcome], Tally]:
    """One outcome per job (issue id, messages), in job order."""
    from tqdm import tqdm

    tally = Tally()
    bar = tqdm(total=len(jobs), unit="issue", desc=f"predict {task.name}", disable=not progress)

    def one(job: tuple[str, list[Message]]) -> Outcome:
        issue_id, messages = job
        first = ask(client, cache, messages, model=model, prompt=prompt.key, labels=task.labels, tally=tally)
        raw, label = [first.content], parse(first.content, task)
        if label is None:  # once more, with a stricter reminder; then an explicit abstention
            with tally.lock:
                tally.retries += 1
            retry = [*messages, {"role": "assistant", "content": first.content},
                     {"role": "user", "content": prompt.reminder}]
            second = ask(client, cache, retry, model=model, prompt=prompt.key, labels=task.labels, tally=tally)
            raw.append(second.content)
            label = parse(second.content, task)
        if label is None:
            with tally.lock:
                tally.abstentions += 1
        bar.set_postfix(requests=tally.requests, tokens=sum(tally.tokens.get(k, 0) for k in ("total_tokens",)),
                        abstained=tally.abstentions, refresh=False)
        bar.update()
        return Outcome(issue_id, label, raw)

    try:
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            outcomes = list(pool.map(one, jobs))
    finally:
        bar.close()
    return outcomes, tally
