"""The audit key: seals the access log (app.audit.chain) and signs its checkpoints.

From `AUDIT_KEYS` (comma-separated, newest first) or `AUDIT_KEY_FILE` (one key a line, newest
first). The first seals new rows; every key listed verifies the rows it sealed (each row names
its key's id), so a rotation puts a new key in front and keeps the old ones for as long as
their rows are kept. Without either setting (development, the embedded database) a key is
generated into `DATA_DIR/audit.key` once and reused; with ENVIRONMENT=production nothing is
generated and the service refuses to start (SECURITY.md).
The database never holds the key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from app.audit.chain import key_id
from app.config import Environment
from app.crypto import write_once

log = structlog.get_logger("app.audit")


class AuditKeyError(RuntimeError):
    """No usable audit key."""


@dataclass(frozen=True)
class AuditKeys:
    keys: tuple[tuple[str, bytes], ...]  # (key id, key), newest first

    @property
    def current(self) -> tuple[str, bytes]:
        return self.keys[0]

    def by_id(self, wanted: str) -> bytes | None:
        return next((key for kid, key in self.keys if kid == wanted), None)


def _parse(lines: list[str]) -> AuditKeys:
    raw = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not raw:
        raise AuditKeyError("no audit key configured")
    if any(len(value) < 32 for value in raw):
        raise AuditKeyError("an audit key must be at least 32 characters (e.g. `aanmeldpunt audit generate-key`)")
    return AuditKeys(tuple((key_id(value.encode()), value.encode()) for value in raw))


def _generated_key_file(data_dir: Path) -> Path:
    path = (data_dir / "audit.key").resolve()
    if write_once(path, new_key):
        log.warning("audit_key_generated", path=str(path), hint="production must set AUDIT_KEYS or AUDIT_KEY_FILE")
    return path


def new_key() -> str:
    return secrets.token_urlsafe(48)


def load(settings: Any) -> AuditKeys:
    configured = settings.audit_keys.get_secret_value() if settings.audit_keys else ""
    if configured.strip():
        return _parse(configured.split(","))
    if not settings.audit_key_file and settings.environment == Environment.production:
        # Never generated in production: a key next to the data it seals protects nothing.
        raise AuditKeyError("ENVIRONMENT=production: AUDIT_KEYS or AUDIT_KEY_FILE must be set")
    path = settings.audit_key_file or _generated_key_file(Path(settings.data_dir))
    try:
        return _parse(Path(path).read_text().splitlines())
    except OSError as exc:
        raise AuditKeyError(f"cannot read AUDIT_KEY_FILE ({type(exc).__name__})") from exc


_keys: AuditKeys | None = None


def configure(settings: Any) -> AuditKeys:
    """Load this process's audit keys (with the engine, like the encryption keys)."""
    global _keys
    _keys = load(settings)
    return _keys


def keys() -> AuditKeys:
    if _keys is None:
        from app.config import get_settings

        return configure(get_settings())
    return _keys
