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
   only when, no cycle of the residual graph passes through it. Where the numbers are tied in
   ways no network can hold (a count in several sums, as when each indicator's trust figure
   pools a different set of schools, or one count no larger than another, as the children
   whose chronology was reviewed are no more than the flagged children), each hidden count is
   bounded instead by linear programming over everything shown, and is given away when its
   lowest and highest possible values leave one whole number. Each such count's equations (and
   orderings) hide one more cell. Steps 2 and 3 repeat until no hidden count can be worked out.
4. Rates built on a hidden count (numerator or denominator) show as "not shown".

What a reader is assumed to know: every shown number, that a row's total is the sum of its
cells (a blank counting as nothing), each group's column totals and any further sums named in
``sums``, the orderings named in ``at_most``, and this method. What cannot be
done here is hide a group's total itself: when it is all that is left to protect a cell, the
result's ``attrs["unprotected"]`` names the group and column, and that total must not be shown
(a trust total of 1 to 4 is itself small and must be suppressed wherever it is shown).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

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
                    rate_columns: Mapping[str, str | Sequence[str]] | None = None,
                    sums: Sequence[tuple[Hashable, str, Sequence[int]]] = (),
                    at_most: Sequence[tuple[str, str]] = ()) -> pd.DataFrame:
    """A copy of ``frame`` with small counts suppressed (see the module docstring for the method).

    ``threshold`` None means the configured one. ``total_column`` is each row's total of the
    count columns; ``group_columns`` mark the rows whose column totals are shown elsewhere;
    ``sums`` are further totals a reader knows, each (label, column, row positions) — the same
    column and rows under several labels are one sum; ``at_most`` pairs (a, b) say that in every
    row a count in column a is no more than the count in column b; ``rate_columns`` maps a rate
    column to the count column(s) it was computed from.
    Suppressed counts, and rates built on them, become text; everything else keeps its value.
    ``attrs["unprotected"]`` lists the totals that would give a hidden count away and so must not
    be shown: (group key, column) for a group's column total, the label for one of ``sums``.
    """
    t = suppression_threshold() if threshold is None else _checked_threshold(threshold)
    counts = [c for c in count_columns if c != total_column]
    columns = counts + ([total_column] if total_column else [])
    table = _Table(_numbers(frame, columns), t)
    if total_column:
        table.add_row_equations(len(counts))
    keys = list(frame.groupby(list(group_columns), dropna=False, sort=False).indices) if group_columns else []
    for key, rows in zip(keys, (frame.groupby(list(group_columns), dropna=False, sort=False).indices.values()
                                if group_columns else ())):
        table.add_column_equations(np.asarray(rows), labels=[(key, c) for c in columns])
    for (column, rows), labels in _merged_sums(sums).items():
        table.add_sum(columns.index(column), np.asarray(rows, dtype=int), labels)
    for a, b in at_most:
        table.add_order(columns.index(a), columns.index(b))
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
    result.attrs["unprotected"] = [label for labels in table.unprotected_labels() for label in labels]
    return result


def _merged_sums(sums) -> dict[tuple[str, tuple[int, ...]], list]:
    merged: dict[tuple[str, tuple[int, ...]], list] = {}
    for label, column, rows in sums:
        merged.setdefault((column, tuple(sorted(int(r) for r in rows))), []).append(label)
    return merged


class _Table:
    """The counts as a grid, the equations and orderings that tie them, and which cells are hidden."""

    def __init__(self, values: np.ndarray, threshold: int):
        self.values, self.t = values, threshold
        self.n, self.k = values.shape
        self.primary = (values >= 1) & (values < threshold)
        self.hidden = self.primary.copy()
        self.equations: list[dict[int, int]] = []  # each: flat cell -> its coefficient
        self.margin: list[int | None] = []  # a row equation's total cell, hidden only as a last resort
        self.labels: list[list] = []  # what a total outside the table is called (none for a row equation)
        self.sign: list[int] = []  # turns the equations into a network (see _pinned)
        self.total_j: int | None = None
        self.member_of: dict[int, list[int]] = {}
        self.orders: list[tuple[int, int]] = []  # (a, b): cell a holds no more than cell b
        self.order_of: dict[int, list[int]] = {}
        self.unprotected: set[int] = set()  # equations whose total must not be shown
        # Hidden counts shown able to move (by network flows or linear programming). Hiding more
        # only frees what a reader knows (a shown count becomes unknown; a bound from a shown
        # partner goes, or becomes an ordering the partner may move with), so a count that could
        # move still can: each round of ``protect`` looks again only at the counts not yet shown to move.
        self.moving: set[int] = set()

    def add_row_equations(self, n_counts: int) -> None:
        self.total_j = n_counts
        for i in range(self.n):
            total = i * self.k + n_counts
            if not math.isnan(self.values[i, n_counts]):
                cells = [(i * self.k + j, 1) for j in range(n_counts) if not math.isnan(self.values[i, j])]
                self._add(cells + [(total, -1)], margin=total, labels=[], sign=1)

    def add_column_equations(self, rows: np.ndarray, labels: list) -> None:
        for j in range(self.k):
            cells = [(int(i) * self.k + j, 1) for i in rows if not math.isnan(self.values[i, j])]
            # A count column's equation is turned round: each cell then leaves its row and enters
            # its column, and each row total leaves the total column and enters its row.
            self._add(cells, margin=None, labels=[labels[j]], sign=1 if j == self.total_j else -1)

    def add_sum(self, j: int, rows: np.ndarray, labels: list) -> None:
        cells = [(int(i) * self.k + j, 1) for i in rows if not math.isnan(self.values[i, j])]
        self._add(cells, margin=None, labels=list(labels), sign=-1)

    def add_order(self, a: int, b: int) -> None:
        for i in range(self.n):
            x, y = i * self.k + a, i * self.k + b
            if not (math.isnan(self.values.flat[x]) or math.isnan(self.values.flat[y])):
                self.orders.append((x, y))
                self.order_of.setdefault(x, []).append(len(self.orders) - 1)
                self.order_of.setdefault(y, []).append(len(self.orders) - 1)

    def _add(self, members, *, margin, labels, sign) -> None:
        q = len(self.equations)
        self.sign.append(sign)
        self.equations.append(dict(members))
        self.margin.append(margin)
        self.labels.append(labels)
        for cell, _ in members:
            self.member_of.setdefault(cell, []).append(q)

    def unprotected_labels(self) -> list[list]:
        return [self.labels[q] for q in sorted(self.unprotected)]

    def protect(self) -> None:
        """Hide more cells until no equation, alone or together, gives a hidden count away."""
        pending = set(range(len(self.equations)))
        while True:
            while pending:
                q = pending.pop()
                while self._broken(q):
                    cell = self._next_to_hide([q])
                    if cell is None:
                        self._give_up([q])
                        break
                    pending |= self._hide(cell)
            for cell in self._pinned():
                equations = self.member_of.get(cell, [])
                if pending.intersection(equations):
                    continue  # changed this round: looked at again on the next
                more = self._next_to_hide(equations, self._partners(cell))
                if more is None:
                    self._give_up(equations)
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
        # What a reader knows: "fewer than 5" is 1 to 4; "not shown" is 5 or more (zeros are never
        # hidden); and a count is no more than a shown count it is ordered below (and no less
        # than one ordered below it).
        low, high = (1, self.t - 1) if self.primary.flat[cell] else (self.t, math.inf)
        for o in self.order_of.get(cell, ()):
            a, b = self.orders[o]
            if cell == a and not self.hidden.flat[b]:
                high = min(high, self.values.flat[b])
            elif cell == b and not self.hidden.flat[a]:
                low = max(low, self.values.flat[a])
        return low, high

    def _partners(self, cell: int) -> list[int]:
        return [a if b == cell else b for a, b in (self.orders[o] for o in self.order_of.get(cell, ()))]

    def _next_to_hide(self, equations, partners=()) -> int | None:
        """The smallest shown non-zero member of these equations (or of ``partners``, cells ordered
        against the one at stake); a row total only as a last resort."""
        best = None
        candidates = [(cell, self.margin[q]) for q in equations for cell in self.equations[q]]
        for cell, margin in candidates + [(p, None) for p in partners]:
            value = self.values.flat[cell]
            if self.hidden.flat[cell] or not value > 0:
                continue
            key = (cell == margin, value, cell)
            best = key if best is None or key < best else best
        return None if best is None else best[2]

    def _hide(self, cell: int) -> set[int]:
        self.hidden.flat[cell] = True
        # An ordered partner's bounds, and so its equations, change too.
        touched = set(self.member_of.get(cell, []))
        for partner in self._partners(cell):
            touched |= set(self.member_of.get(partner, []))
        return touched

    def _give_up(self, equations) -> None:
        # Only a total outside the table can run out of cells to hide: that total is not shown.
        for q in equations:
            if self.labels[q] and any(self.hidden.flat[c] for c in self.equations[q]):
                self.unprotected.add(q)

    def _pinned(self) -> list[int]:
        """Hidden cells a reader could work out exactly from everything shown, all equations at once:
        by network flows where the equations form a network, by linear programming where not."""
        cells = [int(c) for c in np.flatnonzero(self.hidden)]
        binding = self._binding()
        groups = self._components(cells, binding)
        bound = {cell for pair in binding for cell in pair}
        network, other = [], []
        for group in groups:
            (network if self._is_network(group, bound) else other).extend(group)
        return self._pinned_network(network) + (self._pinned_lp(other, binding) if other else [])

    def _components(self, cells: list[int], binding) -> list[list[int]]:
        parent = {c: c for c in cells}

        def find(c):
            while parent[c] != c:
                parent[c] = parent[parent[c]]
                c = parent[c]
            return c

        def join(x, y):
            parent[find(x)] = find(y)

        for members in self.equations:
            hidden = [c for c in members if self.hidden.flat[c]]
            for c in hidden[1:]:
                join(hidden[0], c)
        for a, b in binding:
            join(a, b)
        out: dict[int, list[int]] = {}
        for c in cells:
            out.setdefault(find(c), []).append(c)
        return list(out.values())

    def _binding(self) -> list[tuple[int, int]]:
        """Orderings between two hidden counts that hold with equality, so that neither may move
        past the other. An ordering with room to spare does not limit a small change; one with a
        shown side is a bound (see _bounds)."""
        return [(a, b) for a, b in self.orders
                if self.hidden.flat[a] and self.hidden.flat[b] and self.values.flat[a] == self.values.flat[b]]

    def _is_network(self, group: list[int], bound: set[int]) -> bool:
        for cell in group:
            if cell in bound:
                return False
            ends = [self.sign[q] * self.equations[q][cell] > 0 for q in self.member_of.get(cell, [])]
            if sum(ends) > 1 or len(ends) - sum(ends) > 1:
                return False
        return True

    def _pinned_network(self, cells: list[int]) -> list[int]:
        """With each equation's sign chosen so that every count leaves one equation and enters the
        other, the equations are a network and the hidden counts are flows with bounds. A count
        can move, keeping every shown number, exactly when a cycle of the residual graph (each
        count may go up unless at its top, down unless at its bottom) passes through it.
        """
        ends, arcs = {}, {}
        for cell in cells:
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
            if cell in self.moving:
                continue  # shown to move in an earlier round: it still can
            if not (up or down):
                pinned.append(cell)  # its bounds leave one value
                continue
            if tail == head:
                continue  # in no equation: a reader knows only that it is small, or not
            if component.get(tail) != component.get(head):
                pinned.append(cell)
            elif up and down and not (_reaches(arcs, head, tail, cell) or _reaches(arcs, tail, head, cell)):
                pinned.append(cell)
            else:
                self.moving.add(cell)
        return pinned

    def _pinned_lp(self, group: list[int], binding) -> list[int]:
        """The cells of these groups a reader could work out exactly, given every equation, ordering
        and bound they know: those that cannot move at all while every shown number stays.

        The possible tables form a convex polytope around the true one, so a count can take
        another value exactly when some direction of change allowed at the true table moves it.
        Allowed directions form a cone: sums unchanged; a count at its lowest bound may only go
        up, at its highest only down; two ordered counts that are equal may not cross. Linear
        programmes over that cone, first with random weights (each answer shows many counts
        that can move, in every group at once), then one count at a time for any left, find
        every count that cannot."""
        index = {cell: i for i, cell in enumerate(group)}
        n = len(group)
        equal = [[(index[cell], c) for cell, c in self.equations[q].items() if self.hidden.flat[cell]]
                 for q in sorted({q for c in group for q in self.member_of.get(c, [])})]
        crossing = [[(index[a], 1), (index[b], -1)] for a, b in binding if a in index]
        box = []
        for cell in group:
            low, high = self._bounds(cell)
            value = self.values.flat[cell]
            box.append((0.0 if value <= low else -1.0, 0.0 if value >= high else 1.0))
        cone = {"A_eq": _sparse(equal, n), "b_eq": np.zeros(len(equal)) if equal else None,
                "A_ub": _sparse(crossing, n), "b_ub": np.zeros(len(crossing)) if crossing else None,
                "bounds": box, "method": "highs"}
        moves = np.array([cell in self.moving for cell in group], dtype=bool)
        fixed = np.array([low == 0 and high == 0 for low, high in box])
        rng = np.random.default_rng(len(group))
        while True:
            open_ = ~moves & ~fixed
            if not open_.any():
                break
            weights = np.where(open_, rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 1.5, n), 0.0)
            found = _direction(weights, cone)
            if found is None or not (np.abs(found[open_]) > 1e-7).any():
                break
            moves |= np.abs(found) > 1e-7
        # One count at a time, over the counts tied to it only: no equation or ordering joins
        # counts of two parts, so the rest of the cone cannot move this count (any direction of
        # the whole restricted to one part is allowed too), and a part's programme is small.
        parts = _parts(n, equal + crossing)
        rows_of = _rows_by_part(parts, equal, crossing)
        cones: dict[int, tuple[dict[int, int], dict]] = {}
        for i in np.flatnonzero(~moves & ~fixed):
            if self.unprotected.intersection(self.member_of.get(group[i], ())):
                continue  # given away by a total already withheld: nothing more to learn
            if parts[i][0] not in cones:
                cones[parts[i][0]] = _part_cone(parts[i], *rows_of.get(parts[i][0], ([], [])), box)
            at, own = cones[parts[i][0]]
            for way in (1.0, -1.0):
                weights = np.zeros(len(at))
                weights[at[i]] = -way
                found = _direction(weights, own)
                if found is not None and abs(found[at[i]]) > 1e-7:
                    moves[i] = True
                    break
        self.moving.update(cell for i, cell in enumerate(group) if moves[i])
        return [cell for i, cell in enumerate(group) if not moves[i]]


# scipy's solver and graph search are imported where used: only a reader whose small numbers are
# hidden needs them, and importing them costs a tenth of a second at every server's start.

def _parts(n: int, rows: list[list[tuple[int, int]]]) -> list[list[int]]:
    """For each of ``n`` counts, the counts joined to it by these rows (its own included, in order)."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for row in rows:
        for j, _ in row[1:]:
            parent[find(j)] = find(row[0][0])
    members: dict[int, list[int]] = {}
    for j in range(n):
        members.setdefault(find(j), []).append(j)
    return [members[find(j)] for j in range(n)]


def _rows_by_part(parts: list[list[int]], equal: list, crossing: list) -> dict[int, tuple[list, list]]:
    """Each part's equations and orderings, keyed by the part's first count."""
    rows_of: dict[int, tuple[list, list]] = {}
    for kind, rows in enumerate((equal, crossing)):
        for row in rows:
            if row:
                rows_of.setdefault(parts[row[0][0]][0], ([], []))[kind].append(row)
    return rows_of


def _part_cone(members: list[int], own_equal: list, own_crossing: list, box) -> tuple[dict[int, int], dict]:
    """The cone of allowed directions over one part's counts, given its equations and orderings:
    each count's place in it, and the programme's constraints (as ``_Table._pinned_lp`` builds
    them for every count)."""
    at = {j: k for k, j in enumerate(members)}
    return at, {"A_eq": _sparse(own_equal, len(at), at), "b_eq": np.zeros(len(own_equal)) if own_equal else None,
                "A_ub": _sparse(own_crossing, len(at), at),
                "b_ub": np.zeros(len(own_crossing)) if own_crossing else None,
                "bounds": [box[j] for j in members], "method": "highs"}


def _sparse(rows: list[list[tuple[int, int]]], n: int, at: dict[int, int] | None = None):
    """The rows as a sparse matrix (scipy's csr_matrix), or None when there are none; ``at``
    renumbers the columns (a part of the counts, each count's place in it)."""
    from scipy.sparse import csr_matrix

    if not rows:
        return None
    entries = [(r, j if at is None else at[j], c) for r, row in enumerate(rows) for j, c in row]
    r, j, c = zip(*entries)
    return csr_matrix((np.array(c, dtype=float), (r, j)), shape=(len(rows), n))


def _direction(weights: np.ndarray, cone: dict) -> np.ndarray | None:
    """The allowed direction that minimises ``weights`` · d, or None if the programme fails."""
    from scipy.optimize import linprog

    result = linprog(weights, **cone)
    return result.x if result.status == 0 else None


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
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

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
