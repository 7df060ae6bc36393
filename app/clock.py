"""The one source of 'now', so tests can move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def today_local() -> datetime:
    return now().astimezone(AMSTERDAM)


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def iso_z(moment: datetime) -> str:
    """The one timestamp format on the wire: RFC 3339 in UTC with `Z`, as the response models
    write it (microseconds when there are any)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
