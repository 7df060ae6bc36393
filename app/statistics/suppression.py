"""Small-cell suppression (statistical disclosure control), pure.

Cells are counts, named by key; constraints say that a total equals the sum of its parts
(`registrations.total` = referral + self-registration = the sum of the months, …). A reader
sees every published count and knows the constraints, and knows that a suppressed count is
at least 1 (zero is always published as 0).

- Primary: every count from 1 to k − 1 is suppressed.
- Secondary: while some suppressed count can be worked out — the bounds that the published
  counts and the constraints force on it (each hidden count at least 1, propagated through
  every constraint) meet, or a linear combination of the constraints isolates it — the
  smallest published non-zero count that shares a constraint with it is suppressed too
  (parts before totals), and the check starts again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Constraint:
    """`total` = sum of `parts` (keys of cells)."""

    total: str
    parts: tuple[str, ...]

    @property
    def cells(self) -> tuple[str, ...]:
        return (self.total, *self.parts)


def primary(counts: Mapping[str, int], k: int) -> set[str]:
    return {key for key, value in counts.items() if 0 < value < k}


def _rref_unit_rows(rows: list[list[Fraction]], width: int) -> set[int]:
    """Columns whose unit vector lies in the row space (variables the equations pin down)."""
    matrix = [row[:] for row in rows]
    pivots: list[int] = []
    r = 0
    for col in range(width):
        pivot = next((i for i in range(r, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[r], matrix[pivot] = matrix[pivot], matrix[r]
        lead = matrix[r][col]
        matrix[r] = [v / lead for v in matrix[r]]
        for i in range(len(matrix)):
            if i != r and matrix[i][col] != 0:
                factor = matrix[i][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[r], strict=True)]
        pivots.append(col)
        r += 1
        if r == len(matrix):
            break
    return {col for i, col in enumerate(pivots) if all(v == 0 for j, v in enumerate(matrix[i]) if j != col)}


def _bounds(
    counts: Mapping[str, int], constraints: Sequence[Constraint], hidden: set[str]
) -> dict[str, tuple[float, float]]:
    """What a reader can bound each hidden cell to: at least 1, and whatever the constraints
    force (interval propagation to a fixed point)."""
    inf = float("inf")
    low: dict[str, float] = {}
    high: dict[str, float] = {}
    for c in constraints:
        for cell in c.cells:
            known = cell not in hidden
            low[cell] = counts[cell] if known else 1
            high[cell] = counts[cell] if known else inf
    for _ in range(200):
        changed = False
        for c in constraints:
            parts_low = sum(low[p] for p in c.parts)
            parts_high = sum(high[p] for p in c.parts)
            if parts_low > low[c.total]:
                low[c.total], changed = parts_low, True
            if parts_high < high[c.total]:
                high[c.total], changed = parts_high, True
            for part in c.parts:
                others_low = sum(low[p] for p in c.parts if p != part)
                others_high = sum(high[p] for p in c.parts if p != part)
                if high[c.total] - others_low < high[part]:
                    high[part], changed = high[c.total] - others_low, True
                if low[c.total] - others_high > low[part]:
                    low[part], changed = low[c.total] - others_high, True
        if not changed:
            break
    return {cell: (low[cell], high[cell]) for cell in hidden if cell in low}


def disclosed(counts: Mapping[str, int], constraints: Sequence[Constraint], hidden: set[str]) -> str | None:
    """A hidden cell a reader could work out, or None: pinned by the bounds the constraints
    and the published cells force, or by a linear combination of the constraints."""
    relevant = [c for c in constraints if any(cell in hidden for cell in c.cells)]
    for cell, (low, high) in sorted(_bounds(counts, relevant, hidden).items()):
        if low == high:
            return cell
    unknowns = sorted({cell for c in relevant for cell in c.cells if cell in hidden})
    if not unknowns:
        return None
    index = {key: i for i, key in enumerate(unknowns)}
    rows = []
    for c in relevant:
        row = [Fraction(0)] * len(unknowns)
        if c.total in index:
            row[index[c.total]] += 1
        for part in c.parts:
            if part in index:
                row[index[part]] -= 1
        if any(row):
            rows.append(row)
    pinned = _rref_unit_rows(rows, len(unknowns))
    return unknowns[min(pinned)] if pinned else None


def suppress(counts: Mapping[str, int], constraints: Iterable[Constraint], k: int) -> frozenset[str]:
    """The keys to publish as null: primary and secondary suppression."""
    constraints = [c for c in constraints if all(cell in counts for cell in c.cells)]
    hidden = primary(counts, k)
    while (leak := disclosed(counts, constraints, hidden)) is not None:
        around = [c for c in constraints if leak in c.cells]
        parts = {p for c in around for p in c.parts if p not in hidden and counts[p] > 0}
        totals = {c.total for c in around if c.total not in hidden and counts[c.total] > 0}
        candidates = parts or totals
        if not candidates:  # pinned through other constraints: widen to every constraint with a hidden cell
            candidates = {
                cell
                for c in constraints
                if any(x in hidden for x in c.cells)
                for cell in c.cells
                if cell not in hidden and counts[cell] > 0
            }
        if not candidates:  # pragma: no cover - nothing published is left that could pin a cell
            break
        hidden.add(min(candidates, key=lambda key: (counts[key], key)))
    return frozenset(hidden)


def share(count: int, total: int, *, hidden: bool) -> float | None:
    """A share is published only when its count and its total are."""
    if hidden or total <= 0:
        return None
    return round(count / total, 4)
