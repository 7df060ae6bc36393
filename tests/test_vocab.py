"""One StrEnum per vocabulary, and code compares with its members: a bare string literal that is
a vocabulary value (a status, an event type, an organisation kind, a legal basis, …) in a
comparison would silently stay behind when the vocabulary changes."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from enum import StrEnum
from pathlib import Path

import app
from app.vocab import EventType

APP = Path(app.__file__).resolve().parent

# Words that are vocabulary values somewhere but are compared here as something else.
NOT_VOCABULARY: dict[str, set[str]] = {
    "app/http/problems.py": {"email"},  # a field's name in a validation error
    "app/intakes/api.py": {"none"},  # the worklist's ?coordinator=none
    "app/statistics/figures.py": {"self"},  # an old intake source value, read as self_registration
}


def _vocabulary_values() -> dict[str, str]:
    values: dict[str, str] = {}
    for module in pkgutil.walk_packages([str(APP)], "app."):
        mod = importlib.import_module(module.name)
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, StrEnum) and obj.__module__.startswith("app."):
                for member in obj:
                    values.setdefault(member.value, f"{obj.__module__}.{obj.__name__}")
    return values


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.Set | ast.List):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def test_vocabulary_values_are_compared_as_enum_members() -> None:
    vocab = _vocabulary_values()
    found = []
    for path in sorted(APP.rglob("*.py")):
        rel = path.relative_to(APP.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), rel)):
            if not isinstance(node, ast.Compare):
                continue
            for op, right in zip(node.ops, node.comparators, strict=True):
                sides = [node.left, right] if isinstance(op, ast.Eq | ast.NotEq) else [right]
                if not isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn):
                    continue
                for side in sides:
                    for word in _literals(side):
                        if word in vocab and word not in NOT_VOCABULARY.get(rel, set()):
                            found.append(f"{rel}:{node.lineno}: {word!r} is {vocab[word]}")
    assert not found, "compare with the enum member:\n" + "\n".join(found)


# Event type values may stand as text only where they are not an event: the statistics' cell names.
EVENT_TYPE_TEXT = {"app/vocab.py", "app/statistics/figures.py"}


def test_event_types_are_named_by_their_member() -> None:
    """`emit` and `Change.commit` take an `EventType`, so mypy catches a misspelt event; a bare
    string would type-check only where a `str` is still accepted."""
    values = {member.value for member in EventType}
    found = [
        f"{rel}:{node.lineno}: {node.value!r}"
        for path in sorted(APP.rglob("*.py"))
        if (rel := path.relative_to(APP.parent).as_posix()) not in EVENT_TYPE_TEXT
        for node in ast.walk(ast.parse(path.read_text(), rel))
        if isinstance(node, ast.Constant) and node.value in values
    ]
    assert not found, "use the EventType member:\n" + "\n".join(found)
