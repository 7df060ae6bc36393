"""An embedded PostgreSQL (the `pgserver` wheel) for `make run` without DATABASE_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def start_embedded(data_dir: Path) -> tuple[str, Any]:
    """Start (or reuse) the server kept in data_dir/pg; returns its URL and the server handle."""
    import pgserver  # imported lazily: production never needs it

    pgdata = (data_dir / "pg").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    uri: str = server.get_uri()
    return uri, server
