"""A real HTTP webhook receiver on a free loopback port, for tests. It verifies every
delivery with the `standardwebhooks` library and records what arrived.

Paths choose the behaviour: `/ok/<name>`, `/flaky/<name>` (503 for the first `flaky_failures`
requests), `/hang/<name>` (answers only after `hang_seconds`), `/gone/<name>` (410)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Arrival:
    name: str
    webhook_id: str
    body: dict[str, Any]
    raw: bytes
    headers: dict[str, str]
    answered: int
    verified: bool
    arrived_at: float = field(default_factory=time.time)


@dataclass
class Receiver:
    port: int = 0
    secrets: dict[str, list[str]] = field(default_factory=dict)  # name -> secrets that may verify
    arrivals: list[Arrival] = field(default_factory=list)
    flaky_failures: int = 3
    hang_seconds: float = 30.0
    slow_seconds: float = 0.0
    hanging: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _flaky_seen: int = 0

    def url(self, behaviour: str, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{behaviour}/{name}"

    def of(self, name: str) -> list[Arrival]:
        with self.lock:
            return [a for a in self.arrivals if a.name == name]

    def verify(self, name: str, raw: bytes, headers: dict[str, str]) -> bool:
        for secret in self.secrets.get(name, []):
            try:
                Webhook(secret).verify(raw, headers)
                return True
            except WebhookVerificationError:
                continue
        return False


def start(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # http.server's naming
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            behaviour, _, name = self.path.strip("/").partition("/")
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = 200
            if behaviour == "flaky":
                with receiver.lock:
                    receiver._flaky_seen += 1
                    status = 503 if receiver._flaky_seen <= receiver.flaky_failures else 200
            elif behaviour == "gone":
                status = 410
            elif behaviour == "hang":
                with receiver.lock:
                    receiver.hanging += 1
                time.sleep(receiver.hang_seconds)
            if receiver.slow_seconds:
                time.sleep(receiver.slow_seconds)
            arrival = Arrival(
                name,
                headers.get("webhook-id", ""),
                json.loads(raw) if raw else {},
                raw,
                headers,
                status,
                receiver.verify(name, raw, headers),
            )
            with receiver.lock:
                receiver.arrivals.append(arrival)
            answer = b'{"ok":true}'
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the caller gave up (timeout)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
