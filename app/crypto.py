"""Encryption at rest of the secrets the service must be able to use again: the private
token-signing keys and the webhook signing secrets (Fernet: AES-128-CBC + HMAC-SHA256).

The keys come from `ENCRYPTION_KEYS` (comma-separated, newest first) or `ENCRYPTION_KEY_FILE`
(one key a line, newest first); MultiFernet encrypts with the first and decrypts with any,
so a new key is introduced in front and `aanmeldpunt rotate-encryption-key` re-encrypts every
stored value with it before the old one is removed. Without either setting (development,
the embedded database) a key is generated into `DATA_DIR/encryption.key` once and reused;
with ENVIRONMENT=production nothing is generated and the service refuses to start (README, SECURITY.md).

The database never holds a clear value: `EncryptedText` columns encrypt on the way in and
decrypt on the way out; the key is not in the database."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import structlog
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from app.config import Environment

log = structlog.get_logger("app.crypto")

# Every column encrypted with EncryptedText: (table, column). `rotate-encryption-key` and the
# migration that encrypted the existing rows walk this list.
ENCRYPTED_COLUMNS = (
    ("signing_keys", "private_pem", "kid"),
    ("webhook_subscriptions", "secret", "id"),
    ("webhook_subscriptions", "previous_secret", "id"),
)


class EncryptionKeyError(RuntimeError):
    """No usable encryption key, or a stored value no configured key can open."""


def _parse(lines: list[str]) -> list[Fernet]:
    keys = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    if not keys:
        raise EncryptionKeyError("no encryption key configured")
    try:
        return [Fernet(key.encode()) for key in keys]
    except ValueError as exc:
        raise EncryptionKeyError("an encryption key is not a Fernet key (32 url-safe base64 bytes)") from exc


def write_once(path: Path, make: Callable[[], str]) -> bool:
    """Create `path` (0600) holding `make()` unless it exists; True when this call created it.
    O_EXCL: processes starting together never overwrite each other's secret (development's
    generated keys and passwords under DATA_DIR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as out:
        out.write(make() + "\n")
    return True


def _generated_key_file(data_dir: Path) -> Path:
    """DATA_DIR/encryption.key, created (0600) with a new key when it does not exist."""
    path = (data_dir / "encryption.key").resolve()
    if write_once(path, lambda: Fernet.generate_key().decode()):
        log.warning("encryption_key_generated", path=str(path), hint="production must set ENCRYPTION_KEYS")
    return path


def load_keys(settings: Any) -> MultiFernet:
    configured = settings.encryption_keys.get_secret_value() if settings.encryption_keys else ""
    if configured.strip():
        return MultiFernet(_parse(configured.split(",")))
    if not settings.encryption_key_file and settings.environment == Environment.production:
        raise EncryptionKeyError("ENVIRONMENT=production: ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE must be set")
    path = settings.encryption_key_file or _generated_key_file(Path(settings.data_dir))
    try:
        return MultiFernet(_parse(Path(path).read_text().splitlines()))
    except OSError as exc:
        raise EncryptionKeyError(f"cannot read ENCRYPTION_KEY_FILE ({type(exc).__name__})") from exc


_box: MultiFernet | None = None


def configure(settings: Any) -> MultiFernet:
    """Load this process's keys (done with the engine; every process that touches the
    database calls it)."""
    global _box
    _box = load_keys(settings)
    return _box


def box_or_load() -> MultiFernet:
    """This process's keys, loaded from the settings when not yet (a migration run alone)."""
    if _box is not None:
        return _box
    from app.config import get_settings

    return configure(get_settings())


def is_encrypted(value: str, keys: MultiFernet) -> bool:
    try:
        keys.decrypt(value.encode())
    except InvalidToken:
        return False
    return True


def box() -> MultiFernet:
    if _box is None:
        raise EncryptionKeyError("encryption keys not loaded")
    return _box


def encrypt(value: str) -> str:
    return box().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return box().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise EncryptionKeyError("a stored secret cannot be decrypted with the configured keys") from exc


class EncryptedText(TypeDecorator[str]):
    """A text column whose value is stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)
