"""Issue 13 attacker review: with ENVIRONMENT=production, a missing audit key (or encryption
key) stops the service with a clear message instead of a warning and a key generated next to
the data it protects; development still generates DATA_DIR/audit.key once and reuses it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from app import crypto
from app.audit import keys as audit_keys
from app.config import Environment, Settings
from app.main import create_app
from tests.audit.test_least_privilege import service_url  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
AUDIT_KEY = "k" * 40
FERNET_KEY = "uDLpwMr0V8v9lcLUBYBcHkrjUHrO7cNrAYWQrCNE4Ck="


def _settings(tmp_path: Path, **values: object) -> Settings:
    """Settings from exactly these values (the process's environment and any .env aside)."""
    base: dict[str, object] = {
        "data_dir": tmp_path,
        "audit_keys": None,
        "audit_key_file": None,
        "encryption_keys": None,
        "encryption_key_file": None,
        "database_url": None,
    }
    return Settings(_env_file=None, **{**base, **values})  # type: ignore[call-arg]


DATABASE = "postgresql://aanmeldpunt_app@db.internal/aanmeldpunt"


def test_production_without_the_keys_names_each_missing_setting(tmp_path: Path) -> None:
    problems = _settings(tmp_path, environment="production", database_url=DATABASE).production_problems()
    assert len(problems) == 2
    assert "AUDIT_KEYS or AUDIT_KEY_FILE" in problems[0]
    assert "ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE" in problems[1]
    blank = _settings(
        tmp_path,
        environment="production",
        database_url=DATABASE,
        audit_keys=SecretStr("  "),
        encryption_keys=SecretStr(""),
    )
    assert len(blank.production_problems()) == 2  # set but empty is not set


@pytest.mark.parametrize(
    "values",
    [
        {"audit_keys": SecretStr(AUDIT_KEY), "encryption_keys": SecretStr(FERNET_KEY)},
        {"audit_key_file": Path("/run/secrets/audit"), "encryption_key_file": Path("/run/secrets/enc")},
    ],
)
def test_production_with_the_keys_has_no_problems(tmp_path: Path, values: dict[str, object]) -> None:
    assert _settings(tmp_path, environment="production", database_url=DATABASE, **values).production_problems() == []


def test_production_refuses_the_embedded_database(tmp_path: Path) -> None:
    """Red team: without DATABASE_URL, `serve`, `worker` and `migrate` started the embedded
    PostgreSQL (which trusts every local connection, on the container's own volume) in
    production too."""
    keys = {"audit_keys": SecretStr(AUDIT_KEY), "encryption_keys": SecretStr(FERNET_KEY)}
    problems = _settings(tmp_path, environment="production", **keys).production_problems()
    assert problems == ["DATABASE_URL must be set (the embedded PostgreSQL is for development)"]


def test_production_refuses_the_loopback_webhook_switch(tmp_path: Path) -> None:
    keys = {"audit_keys": SecretStr(AUDIT_KEY), "encryption_keys": SecretStr(FERNET_KEY)}
    problems = _settings(
        tmp_path, environment="production", database_url=DATABASE, webhook_allow_loopback_http=True, **keys
    ).production_problems()
    assert problems == ["WEBHOOK_ALLOW_LOOPBACK_HTTP must not be set in production"]
    assert _settings(tmp_path, webhook_allow_loopback_http=True, **keys).production_problems() == []


def test_development_is_the_default_and_has_no_problems(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert settings.environment == Environment.development
    assert settings.production_problems() == []


def test_production_never_generates_a_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment="production")
    with pytest.raises(audit_keys.AuditKeyError, match="AUDIT_KEYS or AUDIT_KEY_FILE"):
        audit_keys.load(settings)
    with pytest.raises(crypto.EncryptionKeyError, match="ENCRYPTION_KEYS or ENCRYPTION_KEY_FILE"):
        crypto.load_keys(settings)
    assert not (tmp_path / "audit.key").exists() and not (tmp_path / "encryption.key").exists()
    configured = _settings(tmp_path, environment="production", audit_keys=SecretStr(AUDIT_KEY))
    assert audit_keys.load(configured).current[1] == AUDIT_KEY.encode()


def test_development_generates_the_audit_key_once_and_reuses_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = audit_keys.load(settings)
    path = tmp_path / "audit.key"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert audit_keys.load(settings) == first  # the same key on the next start


async def test_the_app_refuses_to_start_in_production_without_the_audit_key(settings: Settings) -> None:
    production = settings.model_copy(
        update={"environment": Environment.production, "audit_keys": None, "audit_key_file": None}
    )
    app = create_app(production)
    with pytest.raises(RuntimeError, match="ENVIRONMENT=production: AUDIT_KEYS or AUDIT_KEY_FILE must be set"):
        async with app.router.lifespan_context(app):
            pass


async def test_the_app_starts_in_production_with_the_keys(
    settings: Settings,
    monkeypatch,
    service_url: str,  # noqa: F811 - the fixture
    database_url: str,
) -> None:
    """The development keys of this checkout, given as production's files, and the service as a
    role that owns nothing (production refuses the owner, tests/audit/test_least_privilege.py): it starts."""
    monkeypatch.setattr(audit_keys, "_keys", audit_keys._keys)  # put back what other tests use
    monkeypatch.setattr(crypto, "_box", crypto._box)
    audit_keys.load(settings), crypto.load_keys(settings)  # development makes the files if this test runs first
    data = Path(settings.data_dir).resolve()
    production = settings.model_copy(
        update={
            "environment": Environment.production,
            "audit_key_file": data / "audit.key",
            "encryption_key_file": data / "encryption.key",
            "webhook_allow_loopback_http": False,  # a development switch that production refuses
            "database_url": service_url,
            "migration_database_url": database_url,
        }
    )
    app = create_app(production)
    async with app.router.lifespan_context(app):
        assert app.state.migration_head


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_", "ENCRYPTION_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**clean, "PYTHONPATH": str(ROOT), "DATA_DIR": str(tmp_path), **env},
        cwd=tmp_path,  # no .env of the checkout
        capture_output=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_the_command_refuses_to_start_in_production_without_the_keys(tmp_path: Path, command: str) -> None:
    done = _cli(tmp_path, command, ENVIRONMENT="production", ENCRYPTION_KEYS=FERNET_KEY, DATABASE_URL=DATABASE)
    assert done.returncode == 2, done.stderr.decode()[-2000:]
    assert done.stderr.decode().strip() == (
        "error: ENVIRONMENT=production: AUDIT_KEYS or AUDIT_KEY_FILE must be set (aanmeldpunt audit generate-key)"
    )
    assert list(tmp_path.iterdir()) == []  # no key generated, no embedded database started


@pytest.mark.parametrize("command", ["serve", "worker", "migrate"])
def test_the_command_refuses_the_embedded_database_in_production(tmp_path: Path, command: str) -> None:
    done = _cli(tmp_path, command, ENVIRONMENT="production", ENCRYPTION_KEYS=FERNET_KEY, AUDIT_KEYS=AUDIT_KEY)
    assert done.returncode == 2, done.stderr.decode()[-2000:]
    assert done.stderr.decode().strip() == (
        "error: ENVIRONMENT=production: DATABASE_URL must be set (the embedded PostgreSQL is for development)"
    )
    assert list(tmp_path.iterdir()) == []  # no embedded database started
