"""Small-number suppression for trustees and for anything exported for them.

The method, in the order it is applied:

1. Primary: a count from 1 to threshold - 1 (1 to 4 by default) shows as "fewer than 5". A 0
   stays 0 (no child can be picked out of none) and a blank stays blank.
2. Secondary: a suppressed count must not be recoverable from what is shown. The numbers are
   tied together by equations the reader can see: each row's cells add up to its total (when a
   total column is given), and each column adds up, within a group (``group_columns``, e.g. one
   term), to the trust's total, which is taken to be published somewhere. For every equation:
   - it may hide no member, or at least two: one hidden member is its total minus the others;
   - the hidden members' sum must not sit at the least or the most they could add up to, given
     that a "fewer than 5" is 1 to 4 and a "not shown" is 5 or more (two 1s in a row of a shown
     total add up to 2, which only 1 + 1 can make).
   A broken equation hides its smallest shown non-zero member ("not shown"), a row's total only
   when no cell is left; zeros are never hidden, so a "not shown" is always 5 or more.
3. Together: equations can also be solved jointly (a chain of rows and columns), and a range
   can close on one value (a "fewer than 5" beside a 6 in a row of 7, crossed with a column,
   can leave only 1). Turned the right way round, the equations are a network and the hidden
   counts flows within their known bounds; a hidden count can be worked out exactly when, and
   only when, no cycle of the residual graph passes through it. Each such count's equations
   hide one more cell. Steps 2 and 3 repeat until no hidden count can be worked out.
4. Rates built on a hidden count (numerator or denominator) show as "not shown".

What a reader is assumed to know: every shown number, that a row's total is the sum of its
cells (a blank counting as nothing), each group's column totals, and this method. What cannot be
done here is hide a group's total itself: when it is all that is left to protect a cell, the
result's ``attrs["unprotected"]`` names the group and column, and that total must not be shown
(a trust total of 1 to 4 is itself small and must be suppressed wherever it is shown).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

import settings

DEFAULT_THRESHOLD = 5
NOT_SHOWN = "not shown"
GROUND = -1  # the free end of a count that belongs to fewer than two equations


def suppression_threshold() -> int:
    """SUPPRESSION_THRESHOLD (default 5): counts from 1 to one less than it are suppressed."""
    raw = settings.get("SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD)
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"SUPPRESSION_THRESHOLD must be a whole number such as 5, not {raw!r}.") from None
    return _checked_threshold(value)


def fewer_than(threshold: int) -> str:
    """How a suppressed small count shows: "fewer than 5"."""
    return f"fewer than {threshold}"


def suppress_counts(frame: pd.DataFrame, count_columns: Sequence[str], *, threshold: int | None = None,
                    total_column: str | None = None, group_columns: Sequence[str] = (),
                    rate_columns: Mapping[str, str | Sequence[str]] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with small counts suppressed (see the module docstring for the method).

    ``threshold`` None means the configured one. ``total_column`` is each row's total of the
    count columns; ``group_columns`` mark the rows whose column totals are shown elsewhere;
    ``rate_columns`` maps a rate column to the count column(s) it was computed from.
    Suppressed counts, and rates built on them, become text; everything else keeps its value.
    """
    t = suppression_threshold() if threshold is None else _checked_threshold(threshold)
    counts = [c for c in count_columns if c != total_column]
    columns = counts + ([total_column] if total_column else [])
    table = _Table(_numbers(frame, columns), t)
    if total_column:
        table.add_row_equations(len(counts))
    for rows in (frame.groupby(list(group_columns), dropna=False, sort=False).indices.values()
                 if group_columns else ()):
        table.add_column_equations(np.asarray(rows))
    table.protect()

    result = frame.copy()
    for j, column in enumerate(columns):
        shown = result[column].astype(object)
        shown[table.hidden[:, j] & table.primary[:, j]] = fewer_than(t)
        shown[table.hidden[:, j] & ~table.primary[:, j]] = NOT_SHOWN
        result[column] = shown
    hidden = pd.DataFrame(table.hidden, columns=columns, index=frame.index)
    for rate, sources in (rate_columns or {}).items():
        sources = [sources] if isinstance(sources, str) else list(sources)
        touched = hidden[[s for s in sources if s in hidden]].any(axis=1)
        shown = result[rate].astype(object)
        shown[touched] = NOT_SHOWN
        result[rate] = shown
    keys = list(frame.groupby(list(group_columns), dropna=False, sort=False).indices) if group_columns else []
    result.attrs["unprotected"] = [(keys[g], columns[j]) for g, j in sorted(table.unprotected)]
    return result


class _Table:
    """The counts as a grid, the equations that tie them, and which cells are hidden."""

    def __init__(self, values: np.ndarray, threshold: int):
        self.values, self.t = values, threshold
        self.n, self.k = values.shape
        self.primary = (values >= 1) & (values < threshold)
        self.hidden = self.primary.copy()
        self.equations: list[dict[int, int]] = []  # each: flat cell -> its coefficient
        self.margin: list[int | None] = []  # a row equation's total cell, hidden only as a last resort
        self.group_of: list[tuple[int, int] | None] = []  # (group, column) of a column equation
        self.sign: list[int] = []  # turns the equations into a network (see _pinned)
        self.total_j: int | None = None
        self.member_of: dict[int, list[int]] = {}
        self.unprotected: set[tuple[int, int]] = set()
        self._groups = 0

    def add_row_equations(self, n_counts: int) -> None:
        self.total_j = n_counts
        for i in range(self.n):
            total = i * self.k + n_counts
            if not math.isnan(self.values[i, n_counts]):
                cells = [(i * self.k + j, 1) for j in range(n_counts) if not math.isnan(self.values[i, j])]
                self._add(cells + [(total, -1)], margin=total, group=None, sign=1)

    def add_column_equations(self, rows: np.ndarray) -> None:
        for j in range(self.k):
            cells = [(int(i) * self.k + j, 1) for i in rows if not math.isnan(self.values[i, j])]
            # A count column's equation is turned round: each cell then leaves its row and enters
            # its column, and each row total leaves the total column and enters its row.
            self._add(cells, margin=None, group=(self._groups, j), sign=1 if j == self.total_j else -1)
        self._groups += 1

    def _add(self, members, *, margin, group, sign) -> None:
        q = len(self.equations)
        self.sign.append(sign)
        self.equations.append(dict(members))
        self.margin.append(margin)
        self.group_of.append(group)
        for cell, _ in members:
            self.member_of.setdefault(cell, []).append(q)

    def protect(self) -> None:
        """Hide more cells until no equation, alone or together, gives a hidden count away."""
        pending = set(range(len(self.equations)))
        while True:
            while pending:
                q = pending.pop()
                while self._broken(q):
                    cell = self._next_to_hide([q])
                    if cell is None:
                        self._give_up(q)
                        break
                    pending |= self._hide(cell)
            for cell in self._pinned():
                equations = self.member_of.get(cell, [])
                if pending.intersection(equations):
                    continue  # changed this round: looked at again on the next
                more = self._next_to_hide(equations)
                if more is None:
                    for q in equations:
                        self._give_up(q)
                else:
                    pending |= self._hide(more)
            if not pending:
                return

    def _broken(self, q: int) -> bool:
        hidden = [(cell, c) for cell, c in self.equations[q].items() if self.hidden.flat[cell]]
        if not hidden:
            return False
        if len(hidden) == 1:
            return True
        total = lowest = highest = 0.0
        for cell, c in hidden:
            low, high = self._bounds(cell)
            total += c * self.values.flat[cell]
            lowest += c * (low if c > 0 else high)
            highest += c * (high if c > 0 else low)
        return total <= lowest or total >= highest

    def _bounds(self, cell: int) -> tuple[float, float]:
        # What a reader knows: "fewer than 5" is 1 to 4; "not shown" is 5 or more (zeros are never hidden).
        return (1, self.t - 1) if self.primary.flat[cell] else (self.t, math.inf)

    def _next_to_hide(self, equations) -> int | None:
        """The smallest shown non-zero member of these equations; a row total only as a last resort."""
        best = None
        for q in equations:
            for cell in self.equations[q]:
                value = self.values.flat[cell]
                if self.hidden.flat[cell] or not value > 0:
                    continue
                key = (cell == self.margin[q], value, cell)
                best = key if best is None or key < best else best
        return None if best is None else best[2]

    def _hide(self, cell: int) -> set[int]:
        self.hidden.flat[cell] = True
        return set(self.member_of.get(cell, []))

    def _give_up(self, q: int) -> None:
        # Only a column equation can run out: its total is outside the table.
        if self.group_of[q] is not None and any(self.hidden.flat[c] for c in self.equations[q]):
            self.unprotected.add(self.group_of[q])

    def _pinned(self) -> list[int]:
        """Hidden cells a reader could work out exactly from everything shown, all equations at once.

        With each equation's sign chosen so that every count leaves one equation and enters the
        other, the equations are a network and the hidden counts are flows with bounds. A count
        can move, keeping every shown number, exactly when a cycle of the residual graph (each
        count may go up unless at its top, down unless at its bottom) passes through it.
        """
        ends, arcs = {}, {}
        for cell in map(int, np.flatnonzero(self.hidden)):
            low, high = self._bounds(cell)
            value = self.values.flat[cell]
            tail, head = GROUND, GROUND
            for q in self.member_of.get(cell, []):
                if self.sign[q] * self.equations[q][cell] > 0:
                    tail = q
                else:
                    head = q
            ends[cell] = (tail, head, value < high, value > low)
            if value < high:
                arcs.setdefault(tail, []).append((head, cell))
            if value > low:
                arcs.setdefault(head, []).append((tail, cell))
        component = _strong_components(arcs)
        pinned = []
        for cell, (tail, head, up, down) in ends.items():
            if tail == head:
                continue  # in no equation: a reader knows only that it is small, or not
            if component.get(tail) != component.get(head):
                pinned.append(cell)
            elif up and down and not (_reaches(arcs, head, tail, cell) or _reaches(arcs, tail, head, cell)):
                pinned.append(cell)
        return pinned


def _reaches(arcs: dict[int, list[tuple[int, int]]], start: int, goal: int, without: int) -> bool:
    """Is there a path from start to goal that does not use the arcs of count ``without``?"""
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        for neighbour, cell in arcs.get(node, ()):
            if cell != without and neighbour not in seen:
                if neighbour == goal:
                    return True
                seen.add(neighbour)
                todo.append(neighbour)
    return False


def _strong_components(arcs: dict[int, list[tuple[int, int]]]) -> dict[int, int]:
    """Each node's strongly connected component (a label), by scipy's compiled search."""
    nodes = sorted(set(arcs) | {head for out in arcs.values() for head, _ in out})
    index = {node: i for i, node in enumerate(nodes)}
    pairs = [(index[tail], index[head]) for tail, out in arcs.items() for head, _ in out]
    if not pairs:
        return {node: i for i, node in enumerate(nodes)}
    rows, cols = zip(*pairs)
    graph = csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(len(nodes), len(nodes)))
    _, labels = connected_components(graph, directed=True, connection="strong")
    return {node: int(labels[i]) for node, i in index.items()}


def _numbers(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    grid = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        raw = frame[column]
        numbers = pd.to_numeric(raw, errors="coerce")
        if (numbers.isna() & raw.notna()).any():
            raise ValueError(f"Column {column!r} holds something other than counts: suppress counts only once.")
        grid[:, j] = numbers.to_numpy(dtype=float, na_value=np.nan)
    return grid


def _checked_threshold(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 3:
        raise ValueError(f"The suppression threshold must be a whole number of at least 3, not {value!r}: "
                         "below 3, 'fewer than' would give the count away.")
    return int(value)
