"""Development's generated secrets under DATA_DIR (the encryption key, the audit key, the
embedded service role's password): written once (0600), never overwritten, one helper."""

from __future__ import annotations

import stat
from pathlib import Path

from app import crypto, roles
from app.audit import keys as audit_keys


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_once_creates_0600_and_keeps_the_first_value(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "secret"
    assert crypto.write_once(path, lambda: "first") is True
    assert crypto.write_once(path, lambda: "second") is False
    assert path.read_text() == "first\n" and _mode(path) == 0o600


def test_each_generated_secret_is_made_once_and_reused(tmp_path: Path) -> None:
    for make, name in (
        (crypto._generated_key_file, "encryption.key"),
        (audit_keys._generated_key_file, "audit.key"),
    ):
        path = make(tmp_path)
        first = path.read_text()
        assert make(tmp_path) == path == (tmp_path / name).resolve()
        assert path.read_text() == first and first.strip() and _mode(path) == 0o600
    password = roles._password(tmp_path)
    assert password and roles._password(tmp_path) == password
    assert _mode(tmp_path / "service-role.password") == 0o600
