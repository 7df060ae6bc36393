"""What changed between two policy documents, as a list of `{path, from, to}` (pure)."""

from __future__ import annotations

from typing import Any

MISSING: Any = None


def changes(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Every leaf that differs, with its dotted path (list items by index)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in list(old) + [k for k in new if k not in old]:
            out += changes(old.get(key, MISSING), new.get(key, MISSING), f"{path}.{key}" if path else str(key))
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            out += changes(a, b, f"{path}.{index}" if path else str(index))
        return out
    if old == new:
        return []
    return [{"path": path or "(policy)", "from": old, "to": new}]
