"""Find the return's sheets, rows and columns by their labels, wherever the DSL has moved them.

Labels are compared after normalising (case, spacing, punctuation, ``_``/``-`` and a trailing
"(…)" hint ignored), and a row or sheet may also be named by its id. Title rows, spacer rows,
extra columns and extra sheets are simply not matched. Every value found keeps the A1 address
of its cell so a problem can point at it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from . import registry
from .labels import normalise, plain
from .problems import COLUMN_MISSING, LEADS_HEADING_MISSING, ROW_TWICE, SHEET_TWICE, SHEET_UNRECOGNISED
from .report import Problem
from .scan import a1
from .workbook import Grid, Workbook

LEAD_FIELDS = ("role", "name", "last_full_training", "last_refresher")


class Cell(NamedTuple):
    value: object
    sheet: str  # the sheet's name in the file
    row: int  # counted from 0
    col: int

    @property
    def ref(self) -> str:
        return a1(self.row, self.col)


_new = tuple.__new__  # Cell from a tuple of its fields, without the keyword handling: many are made


@dataclass
class Located:
    """What was found in the file, keyed by the contract's ids."""

    sheets: dict[str, str | None] = field(default_factory=dict)  # sheet id -> name in the file
    cells: dict[str, Cell] = field(default_factory=dict)  # measure id -> its cell
    missing_rows: list[tuple[str, str]] = field(default_factory=list)  # (sheet id, row id)
    unrecognised: set[str] = field(default_factory=set)  # sheet ids present but with none of their rows
    leads: list[dict[str, Cell]] = field(default_factory=list)  # LEAD_FIELDS -> cell
    problems: list[Problem] = field(default_factory=list)
    version: int | None = None  # the template version it is read under, once known

    def title(self, sheet_id: str) -> str:
        return self.sheets.get(sheet_id) or registry.SHEETS_BY_ID[sheet_id].title

    def asked_in(self, version: int) -> None:
        """Keep only what a return of that template version is asked: an earlier version's file is
        neither short of a later version's rows nor read by them."""
        self.version = version
        asked = registry.ASKED_IDS[version]
        if len(asked) < len(registry.MEASURES):
            self.cells = {mid: cell for mid, cell in self.cells.items() if mid in asked}
            self.missing_rows = [(s, r) for s, r in self.missing_rows if _ROWS[s, r].asked_in(version)]


_ROWS = {(spec.id, row.id): row for spec in registry.SHEETS for row in spec.rows}


def locate(book: Workbook) -> Located:
    found = Located()
    grids = match_sheets(book.sheets, found)
    for spec in registry.SHEETS:
        grid = grids.get(spec.id)
        if grid is None:
            continue
        if spec.kind == "leads":
            _locate_leads(grid, found)
        else:
            _locate_rows(spec, grid, found)
    return found


def _sheet_keys() -> dict[str, str]:
    keys = {}
    for spec in registry.SHEETS:
        keys[normalise(spec.title)] = keys[normalise(spec.id)] = spec.id
    return keys


_SHEET_KEYS = _sheet_keys()
_EXACT = {spec.id: (normalise(spec.title), normalise(spec.id)) for spec in registry.SHEETS}


def _rank(pair: tuple[tuple[int, int], Grid]) -> tuple[int, int]:
    return pair[0]


def match_sheets(grids: list[Grid], found: Located) -> dict[str, Grid]:
    """Each contract sheet's grid; a visible, exactly named sheet wins over a hidden or "(2)" copy."""
    candidates: dict[str, list[tuple[tuple[int, int], Grid]]] = {}
    for grid in grids:
        sheet_id = _SHEET_KEYS.get(normalise(grid.name))
        if sheet_id:
            exact = plain(grid.name) in _EXACT[sheet_id]
            candidates.setdefault(sheet_id, []).append(((0 if grid.visible else 1, 0 if exact else 1), grid))
    chosen = {}
    for spec in registry.SHEETS:
        ranked = candidates.get(spec.id, [])
        if len(ranked) > 1:
            ranked.sort(key=_rank)
        found.sheets[spec.id] = ranked[0][1].name if ranked else None
        if not ranked:
            continue
        chosen[spec.id] = ranked[0][1]
        if len(ranked) > 1 and ranked[1][0] == ranked[0][0]:
            names = " and ".join(f"'{g.name}'" for _, g in ranked[:2])
            found.problems.append(SHEET_TWICE(
                f"The file has two sheets that look like {spec.title} ({names}). Delete the one you "
                "do not mean, then upload again.", sheet=ranked[0][1].name))
    return chosen


def _matches(grid: Grid, lookup: dict[str, str], skip_col: int | None = None) -> list[tuple[int, int, str]]:
    return [(r, c, lookup[key]) for r, c, key in grid.labels if key in lookup and c != skip_col]


def _label_lookup(items: tuple) -> dict[str, str]:
    """Normalised label or id -> id, for a sheet's rows or columns (made once for the contract's)."""
    known = _LOOKUPS.get(id(items))
    if known is not None and known[0] is items:
        return known[1]
    lookup = {}
    for item in items:
        lookup[normalise(item.id)] = item.id
        for label in getattr(item, "labels", (item.label,)):  # a row is read by any label it has had
            lookup[normalise(label)] = item.id
    if len(_LOOKUPS) < 64:
        _LOOKUPS[id(items)] = (items, lookup)
    return lookup


_LOOKUPS: dict[int, tuple[tuple, dict[str, str]]] = {}


def _header(grid: Grid, lookup: dict[str, str], skip_col: int | None) -> tuple[int | None, dict[str, int]]:
    """The row naming the most of the wanted columns (the topmost on a tie), and where each is."""
    by_row: dict[int, dict[str, int]] = defaultdict(dict)
    for r, c, key in _matches(grid, lookup, skip_col):
        by_row[r].setdefault(key, c)
    if not by_row:
        return None, {}
    best = max(by_row, key=lambda r: (len(by_row[r]), -r))
    return best, by_row[best]


def _cells_of(spec: registry.Sheet) -> tuple[tuple[registry.Row, tuple[str, ...]], ...]:
    """Each row of a table sheet with the measure id of its cell in each of the sheet's columns."""
    one = len(spec.columns) == 1
    return tuple((row, tuple(registry.measure_id(spec.id, row.id, None if one else col.id) for col in spec.columns))
                 for row in spec.rows)


_CELLS_OF = {spec.id: (spec, _cells_of(spec)) for spec in registry.SHEETS}


def _locate_rows(spec: registry.Sheet, grid: Grid, found: Located) -> None:
    hits = _matches(grid, _label_lookup(spec.rows))
    if not hits:  # a sheet of that name, but none of the return's rows: as good as missing
        found.unrecognised.add(spec.id)
        found.missing_rows += [(spec.id, row.id) for row in spec.rows]
        found.problems.append(SHEET_UNRECOGNISED(
            f"{grid.name} holds none of the return's rows (such as '{spec.rows[0].label}'). Copy the "
            "figures into the same sheet of a new template, then upload again.", sheet=grid.name))
        return
    counts: dict[int, int] = {}
    for _, c, _ in hits:
        counts[c] = counts.get(c, 0) + 1
    most = max(counts.values())
    label_col = min(c for c, n in counts.items() if n == most)  # the most labels; the leftmost on a tie
    rows: dict[str, list[int]] = {}
    for r, c, row_id in hits:
        if c == label_col:
            rows.setdefault(row_id, []).append(r)
    columns = _columns(spec, grid, label_col, found)
    known, layout = _CELLS_OF.get(spec.id, (None, None))
    if known is not spec:
        layout = _cells_of(spec)
    pairs, name, top, left, lines = spec.kind == "pairs", grid.name, grid.top, grid.left, grid.rows
    located, places = found.cells, [columns.get(col.id) for col in spec.columns]
    for row, mids in layout:
        where = rows.get(row.id)
        if not where:
            found.missing_rows.append((spec.id, row.id))
            continue
        if len(where) > 1:
            found.problems.append(ROW_TWICE.at(
                _printed(row, grid.value(where[1], label_col)), name, a1(where[1], label_col),
                f"a second row with this label (the first is at {a1(where[0], label_col)}). Delete one, then "
                "upload again."))
        r = where[0]
        line = lines[r - top] if 0 <= r - top < len(lines) else ()
        width = len(line)
        for mid, c in zip(mids, places):
            if c is None:
                if not pairs:
                    continue  # its column is missing: one error for the column says so
                c = _first_filled_right(grid, r, label_col)
            at = c - left
            located[mid] = _new(Cell, (line[at] if 0 <= at < width else None, name, r, c))


def _printed(row: registry.Row, typed) -> str:
    """The label a template printed for the row that the file's label matches (a row may have had
    more than one); its newest when the file names it otherwise (by its id)."""
    key = normalise(typed)
    return next((label for label in row.labels if normalise(label) == key), row.label)


def _columns(spec: registry.Sheet, grid: Grid, label_col: int, found: Located) -> dict[str, int]:
    _, columns = _header(grid, _label_lookup(spec.columns), label_col)
    if spec.kind == "pairs":
        return columns  # no "Value" heading: each value is the first filled cell right of its label
    if len(spec.columns) == 1 and not columns:
        return {spec.columns[0].id: label_col + 1}  # Measure | Count with the heading row deleted
    lost = [f"'{col.label}'" for col in spec.columns if col.id not in columns]
    if lost:  # one error a sheet, naming every missing heading
        listed = lost[0] if len(lost) == 1 else ", ".join(lost[:-1]) + " and " + lost[-1]
        found.problems.append(COLUMN_MISSING(
            f"{grid.name} has no column headed {listed}. Put the heading back above its numbers "
            "(a new template shows where), then upload again.", sheet=grid.name))
    return columns


def _first_filled_right(grid: Grid, row: int, label_col: int) -> int:
    width = grid.left + max((len(line) for line in grid.rows), default=0)
    for c in range(label_col + 1, width):
        v = grid.value(row, c)
        if v is not None and v != "":
            return c
    return label_col + 1


_LEAD_HEADINGS = {
    "role": ("Role", "Lead role"),
    "name": ("Name", "Full name", "Staff name"),
    "last_full_training": ("Last full DSL training", "Last full training", "Full DSL training",
                           "Last DSL training", "Date of last full DSL training"),
    "last_refresher": ("Last refresher", "Last refresher training", "Refresher", "Date of last refresher"),
}


def _lead_lookup() -> dict[str, str]:
    lookup = {normalise(key): key for key in LEAD_FIELDS}
    for key, labels in _LEAD_HEADINGS.items():
        lookup.update({normalise(label): key for label in labels})
    return lookup


_LEAD_LOOKUP = _lead_lookup()


def _locate_leads(grid: Grid, found: Located) -> None:
    header, columns = _header(grid, _LEAD_LOOKUP, None)
    if header is None or "role" not in columns:
        found.problems.append(LEADS_HEADING_MISSING(
            f"{grid.name} has no column headed 'Role'. Keep the headings Role, Name, Last full DSL "
            "training and Last refresher above the list of leads, then upload again.", sheet=grid.name))
        return
    last = grid.top + len(grid.rows)
    for r in range(header + 1, last):
        row = {key: Cell(grid.value(r, c), grid.name, r, c) for key, c in columns.items()}
        if all(cell.value is None or str(cell.value).strip() == "" for cell in row.values()):
            continue  # a spacer row
        found.leads.append(row)
