"""A real server process for tests and scripts: `aanmeldpunt serve` on a free loopback port
against a given database, plus the demo clients and their tokens."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    database_url: str
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    log_file: str | None = None  # the server's stdout/stderr (JSON logs) go here when set

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "PORT": str(self.port),
            "RUN_WORKERS": "false",
            "SELF_REGISTRATION_RATE": "1000000",
            "TOKEN_RATE": "1000000",
            "LOG_LEVEL": "WARNING",
            **self.env,
        }

    def start(self, timeout: float = 60) -> LiveServer:
        output: Any = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve"],
            env=self.environment(),
            stdout=output,
            stderr=subprocess.STDOUT if self.log_file else subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("the server exited while starting")
            time.sleep(0.2)
        raise TimeoutError("the server did not become ready")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def demo_tokens(self) -> dict[str, str]:
        """Run `aanmeldpunt demo` against the database and get a token per role."""
        out = subprocess.run(
            [sys.executable, "-m", "app.cli", "demo"],
            env=self.environment(),
            check=True,
            capture_output=True,
        ).stdout
        clients: dict[str, Any] = json.loads(out)
        tokens = {}
        clients.pop("regions", None)  # the first region's clients are also at the top level
        for role, creds in clients.items():
            r = httpx.post(
                f"{self.base}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(creds["clientId"], creds["clientSecret"]),
                timeout=10,
            )
            r.raise_for_status()
            tokens[role] = str(r.json()["access_token"])
        return tokens
