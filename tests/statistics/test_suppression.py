"""Small-cell suppression, property-tested: whatever the counts, no published number lets a
reader work out a suppressed one (checked with a linear program over every suppressed cell),
zero stays zero, every count from 1 to k − 1 is suppressed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from app.statistics.suppression import Constraint, disclosed, share, suppress


def determined_cells(counts: dict[str, int], constraints: list[Constraint], hidden: frozenset[str]) -> list[str]:
    """Hidden cells whose value is fixed by the published cells and constraints, given that
    every hidden cell is at least 1: minimise and maximise each over the reader's polytope."""
    unknown = sorted(hidden)
    if not unknown:
        return []
    index = {key: i for i, key in enumerate(unknown)}
    rows, rhs = [], []
    for c in constraints:
        row = np.zeros(len(unknown))
        value = 0.0
        for cell, sign in [(c.total, 1.0), *((p, -1.0) for p in c.parts)]:
            if cell in index:
                row[index[cell]] += sign
            else:
                value -= sign * counts[cell]
        if row.any():
            rows.append(row)
            rhs.append(value)
    if not rows:
        return []
    a_eq, b_eq = np.array(rows), np.array(rhs)
    bounds = [(1, None)] * len(unknown)
    pinned = []
    for key, i in index.items():
        objective = np.zeros(len(unknown))
        objective[i] = 1
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0, (key, low.message)  # the true counts are a solution
        if high.status == 0 and abs(low.fun + high.fun) < 1e-7:
            pinned.append(key)
    return pinned


@st.composite
def tables(draw: Any) -> tuple[dict[str, int], list[Constraint], int]:
    """Shaped like the statistics: a total split by source, by month and (under one source) by role."""
    k = draw(st.integers(min_value=2, max_value=7))
    small = st.integers(min_value=0, max_value=14)
    roles = draw(st.lists(small, min_size=1, max_size=5))
    others = draw(st.lists(small, min_size=1, max_size=2))
    referral = sum(roles)
    total = referral + sum(others)
    months = draw(st.integers(min_value=1, max_value=6))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=total), min_size=months - 1, max_size=months - 1)))
    bounds = [0, *cuts, total]
    month_counts = [bounds[i + 1] - bounds[i] for i in range(months)]
    counts = {"total": total, "source.referral": referral}
    counts |= {f"source.other{i}": v for i, v in enumerate(others)}
    counts |= {f"role.{i}": v for i, v in enumerate(roles)}
    counts |= {f"month.{i}": v for i, v in enumerate(month_counts)}
    constraints = [
        Constraint("total", ("source.referral", *(f"source.other{i}" for i in range(len(others))))),
        Constraint("total", tuple(f"month.{i}" for i in range(months))),
        Constraint("source.referral", tuple(f"role.{i}" for i in range(len(roles)))),
    ]
    return counts, constraints, k


@settings(max_examples=400, deadline=None)
@given(tables())
def test_no_suppressed_cell_can_be_worked_out(table: tuple[dict[str, int], list[Constraint], int]) -> None:
    counts, constraints, k = table
    hidden = suppress(counts, constraints, k)
    assert all(counts[key] > 0 for key in hidden)  # zero stays zero
    assert {key for key, v in counts.items() if 0 < v < k} <= hidden  # primary
    assert determined_cells(counts, constraints, hidden) == []
    assert disclosed(counts, constraints, set(hidden)) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=6), st.integers(min_value=2, max_value=6))
def test_a_single_group(parts: list[int], k: int) -> None:
    counts = {"total": sum(parts)} | {f"p{i}": v for i, v in enumerate(parts)}
    constraints = [Constraint("total", tuple(f"p{i}" for i in range(len(parts))))]
    hidden = suppress(counts, constraints, k)
    assert determined_cells(counts, constraints, hidden) == []
    assert all(counts[key] > 0 for key in hidden)


def test_known_cases() -> None:
    group = [Constraint("t", ("a", "b", "c"))]
    # One small cell: the next smallest sibling goes too.
    assert suppress({"t": 23, "a": 3, "b": 8, "c": 12}, group, 5) == {"a", "b"}
    # Two small cells that are both 1 would be 1 and 1: a third goes.
    assert suppress({"t": 22, "a": 1, "b": 1, "c": 20}, [Constraint("t", ("a", "b", "c"))], 5) == {"a", "b", "c"}
    # Nothing small: nothing hidden; zeros stay.
    assert suppress({"t": 12, "a": 0, "b": 5, "c": 7}, group, 5) == frozenset()
    # A small total hides its parts.
    assert suppress({"t": 3, "a": 0, "b": 1, "c": 2}, group, 5) == {"t", "b", "c"}


@pytest.mark.parametrize(
    ("count", "total", "hidden", "expected"), [(3, 12, False, 0.25), (3, 12, True, None), (0, 0, False, None)]
)
def test_share(count: int, total: int, hidden: bool, expected: float | None) -> None:
    assert share(count, total, hidden=hidden) == expected
