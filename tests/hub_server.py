"""A real HTTP server on 127.0.0.1 that answers the Hugging Face Hub endpoints an upload uses: repository
creation (409 when it exists), README metadata validation, preupload (text files go in the commit,
parquet through LFS), the LFS batch API with a basic-transfer PUT, the NDJSON commit, and tags. It checks
the bearer token (401 otherwise) and keeps what was committed."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from cvreeng_bench.testing import QuietServer


@dataclass
class Hub:
    token: str = "hf_test_token"
    repos: set[str] = field(default_factory=set)
    files: dict[str, dict[str, bytes]] = field(default_factory=dict)  # repo -> path -> content
    lfs: dict[str, bytes] = field(default_factory=dict)  # oid -> content
    commits: list[dict[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)  # "repo@tag" -> commit oid
    calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # a misbehaving Hub: the LFS PUT answered with this status; the commit redirected to this URL
    lfs_put_status: int | None = None
    commit_redirect: str | None = None


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, as a production server sends them

        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: Any = None) -> None:
            data = json.dumps(body if body is not None else {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-Id", "fake-hub")
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _authorized(self) -> bool:
            if self.headers.get("Authorization") == f"Bearer {hub.token}":
                return True
            self._reply(401, {"error": "Invalid credentials in Authorization header"})
            return False

        def do_PUT(self) -> None:  # LFS basic transfer: the object itself
            body = self._body()
            oid = self.path.rsplit("/", 1)[-1]
            with hub.lock:
                hub.calls.append(f"PUT {self.path}")
                if hub.lfs_put_status is not None:
                    self._reply(hub.lfs_put_status, {"error": "Internal Server Error"})
                    return
                if hashlib.sha256(body).hexdigest() != oid:
                    self._reply(400, {"error": "oid mismatch"})
                    return
                hub.lfs[oid] = body
            self._reply(200)

        def do_POST(self) -> None:
            body = self._body()
            path = self.path.split("?", 1)[0]
            with hub.lock:
                hub.calls.append(f"POST {path}")
            if path == "/api/validate-yaml":
                content = json.loads(body)["content"]
                ok = content.startswith("---\n") and "configs:" in content
                self._reply(200 if ok else 400, {"errors": [] if ok else [{"message": "no configs"}],
                                                 "warnings": []})
                return
            if not self._authorized():
                return
            if path == "/api/repos/create":
                request = json.loads(body)
                repo = f"{request.get('organization') or 'user'}/{request['name']}"
                if request.get("type") != "dataset":
                    self._reply(400, {"error": "expected a dataset repository"})
                elif repo in hub.repos:
                    self._reply(409, {"error": "You already created this dataset repo", "url": f"/datasets/{repo}"})
                else:
                    hub.repos.add(repo)
                    self._reply(200, {"url": f"http://{self.headers['Host']}/datasets/{repo}", "name": repo})
                return
            if path.endswith(".git/info/lfs/objects/batch"):
                request = json.loads(body)
                base = f"http://{self.headers['Host']}"
                objects = [{"oid": o["oid"], "size": o["size"], "authenticated": True,
                            **({} if o["oid"] in hub.lfs else
                               {"actions": {"upload": {"href": f"{base}/lfs-upload/{o['oid']}"}}})}
                           for o in request["objects"]]
                self._reply(200, {"transfer": "basic", "objects": objects})
                return
            parts = path.strip("/").split("/")  # api, datasets, org, name, verb, revision
            if len(parts) < 6 or parts[:2] != ["api", "datasets"]:
                self._reply(404, {"error": "Not Found"})
                return
            repo, verb, revision = f"{parts[2]}/{parts[3]}", parts[4], parts[5]
            if repo not in hub.repos:
                self._reply(404, {"error": "Repository not found"})
                return
            if verb == "preupload":
                files = json.loads(body)["files"]
                self._reply(200, {"files": [{"path": f["path"], "shouldIgnore": False, "oid": None,
                                             "uploadMode": "lfs" if f["path"].endswith(".parquet") else "regular"}
                                            for f in files]})
            elif verb == "commit" and hub.commit_redirect:
                self.send_response(307)
                self.send_header("Location", hub.commit_redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif verb == "commit":
                items = [json.loads(line) for line in body.splitlines() if line.strip()]
                stored = hub.files.setdefault(repo, {})
                for item in items:
                    value = item["value"]
                    if item["key"] == "file":
                        stored[value["path"]] = base64.b64decode(value["content"])
                    elif item["key"] == "lfsFile":
                        if value["oid"] not in hub.lfs:
                            self._reply(422, {"error": f"LFS object {value['oid']} was never uploaded"})
                            return
                        stored[value["path"]] = hub.lfs[value["oid"]]
                oid = hashlib.sha1(body).hexdigest()
                hub.commits.append({"repo": repo, "oid": oid, "header": items[0]["value"]})
                self._reply(200, {"commitUrl": f"http://{self.headers['Host']}/datasets/{repo}/commit/{oid}",
                                  "commitOid": oid, "success": True})
            elif verb == "tag":
                tag = json.loads(body)["tag"]
                if f"{repo}@{tag}" in hub.tags:
                    self._reply(409, {"error": f"Tag {tag} already exists"})
                    return
                hub.tags[f"{repo}@{tag}"] = revision
                self._reply(200, {})
            else:
                self._reply(404, {"error": "Not Found"})

    return Handler


@contextmanager
def serve(hub: Hub) -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), _handler(hub))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
