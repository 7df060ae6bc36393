"""An embedded PostgreSQL (the `pgserver` wheel) for `make run` without DATABASE_URL.

It lives as long as the command that started it: `embedded_lifetime()` turns SIGTERM
into a normal exit (uvicorn re-raises the signal it caught after its graceful shutdown; with
the default disposition the process would die on the spot, skipping every cleanup) and stops
the server when the last process using it ends, on SIGINT, SIGTERM or a normal return."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any


def _forget_dead_handles(pgdata: Path) -> None:
    """pgserver counts the processes using a server in `.handle_pids.json` and stops it when
    the last one leaves; a process that was SIGKILLed never leaves, so the server would
    outlive every later run. Drop the ids of processes that no longer exist."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    if isinstance(pids, list):
        alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_embedded(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) the server kept in data_dir/pg; returns its URL and the server handle."""
    import pgserver  # imported lazily: production never needs it

    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with pgserver.PostgresServer._lock:
        _forget_dead_handles(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    uri: str = server.get_uri()
    return uri, server


def stop_embedded(server: Any) -> None:
    """Let go of the server; it stops when no other live process uses it."""
    if server is not None:
        server.cleanup()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    del frame
    sys.exit(128 + signum)


@contextlib.contextmanager
def embedded_lifetime(server: Any) -> Iterator[None]:
    """Run the body; on its end (return, SIGINT, SIGTERM) stop the embedded server."""
    if server is None:
        yield
        return
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop_embedded(server)
