"""A bare HTTP client for a running Gradio app: log in, call an event as the page does (with event data).

gradio_client cannot send event data (the thumb of a like, the index of the rated message) nor pick
the client's source address, so the tests that attack the chat talk HTTP themselves, on 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import secrets
import time
from urllib.parse import urlencode


class GradioSession:
    """One browser-like session of a Gradio app at 127.0.0.1:port, from `source` (another loopback address)."""

    def __init__(self, port: int, source: str | None = None, timeout: float = 60.0):
        self.port = port
        self.source = source
        self.timeout = timeout
        self.cookies = ""
        self.session_hash = secrets.token_hex(6)
        self._config: dict | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, bytes, dict]:
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=self.timeout, source_address=(self.source, 0) if self.source else None
        )
        try:
            all_headers = dict(headers or {})
            if self.cookies:
                all_headers["Cookie"] = self.cookies
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return (
                response.status,
                response.read(),
                {k.lower(): v for k, v in response.getheaders()}
                | {"set-cookie-all": [v for k, v in response.getheaders() if k.lower() == "set-cookie"]},
            )
        finally:
            conn.close()

    def login(self, user: str, password: str) -> tuple[int, dict]:
        """POST the login form; on success the session keeps the cookies. Returns (status, JSON body)."""
        status, body, headers = self.request(
            "POST",
            "/login",
            urlencode({"username": user, "password": password}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status == 200:
            self.cookies = "; ".join(c.split(";")[0] for c in headers["set-cookie-all"])
        try:
            return status, json.loads(body or b"{}")
        except ValueError:
            return status, {"raw": body.decode("utf-8", "replace")}

    def config(self) -> dict:
        if self._config is None:
            status, body, _ = self.request("GET", "/config")
            assert status == 200, f"the app's config must be readable in this session (HTTP {status})"
            self._config = json.loads(body)
        return self._config

    def fn_index(self, api_name: str) -> int:
        for dep in self.config()["dependencies"]:
            if dep.get("api_name") == api_name:
                return dep["id"]
        raise KeyError(f"no event named {api_name!r} in the app")

    def call(self, api_name: str, data: list, event_data: dict | None = None) -> list:
        """Run one event through the queue as the page does; returns its final outputs."""
        body = json.dumps(
            {
                "data": data,
                "event_data": event_data,
                "fn_index": self.fn_index(api_name),
                "session_hash": self.session_hash,
            }
        ).encode()
        status, answer, _ = self.request("POST", "/gradio_api/queue/join", body, {"Content-Type": "application/json"})
        assert status == 200, f"joining the queue must succeed: HTTP {status} {answer[:200]!r}"
        event_id = json.loads(answer)["event_id"]
        conn = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=self.timeout, source_address=(self.source, 0) if self.source else None
        )
        deadline = time.monotonic() + self.timeout
        try:
            conn.request(
                "GET",
                f"/gradio_api/queue/data?session_hash={self.session_hash}",
                headers={"Cookie": self.cookies} if self.cookies else {},
            )
            response = conn.getresponse()
            while time.monotonic() < deadline:
                line = response.readline()
                if not line:
                    break
                if not line.startswith(b"data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") not in (None, event_id):
                    continue
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if not message.get("success", True) or "error" in output:
                        raise RuntimeError(f"{api_name} failed: {output.get('error')}")
                    return output["data"]
        finally:
            conn.close()
        raise TimeoutError(f"{api_name} did not complete within {self.timeout} s")
