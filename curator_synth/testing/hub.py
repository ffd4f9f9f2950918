"""``FakeHub``: a loopback stand-in for the Hugging Face Hub's upload API, for tests of publishing code.

It answers what ``huggingface_hub.HfApi.create_repo`` and ``create_commit`` send for a dataset repository —
``POST /api/repos/create``, ``POST /api/validate-yaml`` (a README's front matter), ``POST
/api/datasets/<repo>/preupload/<revision>`` (every file is uploaded inline, "regular", no LFS) and ``POST
/api/datasets/<repo>/commit/<revision>`` (NDJSON) — checks the bearer token, and
keeps what it received (:attr:`repos`). Point the client at it with ``HF_ENDPOINT`` (set before
``huggingface_hub`` is imported, or pass ``endpoint=``): nothing leaves the machine.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeHub", "HubRepo"]


@dataclass
class HubRepo:
    """One repository the stand-in holds: its visibility, files (path -> bytes) and commit messages."""

    private: bool
    files: dict[str, bytes] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)


class FakeHub:
    """``with FakeHub(token="hf_test") as hub: ...`` — ``hub.endpoint`` is its URL, ``hub.repos`` what arrived."""

    def __init__(self, token: str = "hf_test") -> None:
        self.token = token
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def env(self) -> dict[str, str]:
        """The variables that point huggingface_hub at this stand-in (a process started with them uploads here):
        ``HF_ENDPOINT``, and ``HF_HUB_OFFLINE=0``, as this hub is on loopback even where offline mode is set."""
        return {"HF_ENDPOINT": self.endpoint, "HF_HUB_OFFLINE": "0"}

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # ---------------------------------------------------------------------------------------------- the API
    def answer(self, method: str, path: str, authorization: str, body: bytes) -> tuple[int, dict[str, Any]]:
        self.requests.append(f"{method} {path}")
        if authorization != f"Bearer {self.token}":
            return 401, {"error": "Invalid credentials in Authorization header"}
        parts = path.split("?")[0].strip("/").split("/")
        if method == "POST" and parts == ["api", "repos", "create"]:
            return self._create(json.loads(body))
        if method == "POST" and parts == ["api", "validate-yaml"]:
            return _validate_card(json.loads(body).get("content", ""))
        if method == "POST" and len(parts) == 6 and parts[:2] == ["api", "datasets"]:
            repo_id, action = f"{parts[2]}/{parts[3]}", parts[4]
            if repo_id not in self.repos:
                return 404, {"error": f"Repository {repo_id} not found"}
            if action == "preupload":
                files = json.loads(body).get("files", [])
                return 200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                       for f in files]}  # fmt: skip
            if action == "commit":
                return self._commit(repo_id, body)
        return 404, {"error": f"FakeHub does not answer {method} {path}"}

    def _create(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if request.get("type") != "dataset":
            return 400, {"error": "FakeHub holds dataset repositories only"}
        repo_id = f"{request.get('organization') or 'user'}/{request['name']}"
        if repo_id in self.repos:
            return 409, {"error": "You already created this dataset repo", "url": self._url(repo_id)}
        # "visibility" (huggingface_hub >= 1.x) or "private" (older clients)
        private = request.get("visibility") == "private" or bool(request.get("private"))
        self.repos[repo_id] = HubRepo(private=private)
        return 200, {"url": self._url(repo_id), "name": repo_id}

    def _commit(self, repo_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        repo = self.repos[repo_id]
        for line in body.decode("utf-8").splitlines():
            item = json.loads(line)
            value = item.get("value", {})
            if item.get("key") == "header":
                repo.commits.append(str(value.get("summary", "")))
            elif item.get("key") == "file":
                repo.files[value["path"]] = base64.b64decode(value["content"])
            else:
                return 400, {"error": f"FakeHub does not take commit items of key {item.get('key')!r}"}
        oid = f"{len(repo.commits):040x}"
        return 200, {"success": True, "commitOid": oid, "commitUrl": f"{self._url(repo_id)}/commit/{oid}"}

    def _url(self, repo_id: str) -> str:
        return f"{self.endpoint}/datasets/{repo_id}"


def _validate_card(content: str) -> tuple[int, dict[str, Any]]:
    """The Hub's check of a README's front matter: YAML, a mapping, and a licence if it names one as text."""
    import yaml

    if not content.startswith("---\n") or "\n---" not in content[4:]:
        return 200, {"errors": [], "warnings": [{"message": "empty or missing yaml metadata in repo card"}]}
    try:
        front = yaml.safe_load(content[4 : content.index("\n---", 4)])
    except yaml.YAMLError as error:
        return 400, {"errors": [{"message": f"not YAML: {error}"}]}
    if not isinstance(front, dict) or not isinstance(front.get("license", ""), str):
        return 400, {"errors": [{"message": "the metadata must be a mapping with a text license"}]}
    return 200, {"errors": [], "warnings": []}


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._respond("POST")

        def do_GET(self) -> None:
            self._respond("GET")

        def _respond(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, payload = hub.answer(method, self.path, self.headers.get("Authorization", ""), body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # no access log on stderr
            return

    return Handler
