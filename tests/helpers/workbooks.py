"""A builder of filled returns, valid by default, with knobs to make them messy or wrong.

The layout is made from the registry, like the real template: a title row and an instructions
row above each table, then a header row, then one row per measure row. ``build_return`` lays it
out as plain grids and writes them as .xlsx (openpyxl), .xls (xlwt) or .ods (odfpy). The
returned ``Built`` knows the bytes and the A1 cell of every measure, so tests can say where a
problem should point without hard-coding a layout.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from loaders import registry
from loaders.scan import a1
from tests.helpers import returns
from tests.helpers.returns import table_numbers

ROOT = Path(__file__).resolve().parents[2]

FIXTURES = ROOT / "tests" / "fixtures"
BLANK = object()  # a value override meaning "leave the cell empty"


@dataclass(frozen=True)
class Formula:
    """A formula cell; ``saved`` is the value a spreadsheet program stored with it (None: none)."""

    text: str
    saved: float | None = None

ABOUT = {
    "template_version": registry.TEMPLATE_VERSION, "urn": 999001,
    "school_name": "Otterbrook Fictional Primary Academy", "phase": "Primary",
    "academic_year": "2025/26", "term": "Spring", "completed_by": "DSL", "date_completed": date(2026, 3, 27),
    "pupils_on_roll": 420, "pupils_fsm": 96, "pupils_ehcp": 11, "pupils_sen_support": 58,
    "looked_after": 4, "cp_plans": 6, "cin": 9, "early_help": 15, "social_worker": 17,
    "cp_policy_reviewed": date(2025, 9, 15), "filtering_reviewed": date(2025, 11, 3),
    "central_record_checked": date(2026, 2, 10),
}
TRAINING = {"whole_staff": (64, 61), "kcsie_part_one": (64, 64), "prevent": (64, 58),
            "online_safety": (64, 60), "safer_recruitment": (9, 7), "governors": (12, 10)}
NEGLECT = {"active_flags": 11, "new_flags": 3, "chronology_reviewed": 9, "persistently_absent": 4,
           "early_help_plan": 5, "cp_plan_neglect": 2, "monitoring_only_2_terms": 3}
# concerns, early_help, social_care, police, prevent, health, not_accepted, escalated
REFERRALS = {
    "neglect": (11, 4, 3, 0, 0, 1, 1, 1), "physical": (5, 1, 2, 1, 0, 0, 0, 0),
    "emotional": (7, 3, 1, 0, 0, 2, 1, 0), "sexual": (1, 0, 1, 1, 0, 0, 0, 0),
    "domestic_abuse": (9, 3, 4, 1, 0, 0, 1, 1), "cse": (1, 0, 1, 1, 0, 0, 0, 0),
    "cce": (2, 0, 1, 1, 0, 0, 0, 0), "child_on_child": (6, 2, 1, 0, 0, 1, 0, 0),
    "online": (8, 2, 0, 1, 0, 1, 0, 0), "radicalisation": (1, 0, 0, 0, 1, 0, 1, 0),
    "mental_health": (14, 4, 1, 0, 0, 7, 2, 1), "missing": (2, 0, 2, 1, 0, 0, 0, 0),
    "other": (3, 1, 0, 0, 0, 0, 0, 0),
}
INCLUSION = {"persistently_absent": 58, "severely_absent": 7, "suspended": 6, "permanently_excluded": 0,
             "part_time_timetable": 2, "alternative_provision": 1, "cme_reported": 1, "ehe_removals": 2,
             "sw_persistently_absent": 5, "private_fostering": 1}
MULTI_AGENCY = {"cp_conferences": (5, 5), "cp_reports": (5, 4), "core_groups": (12, 11),
                "cin_meetings": (8, 8), "strategy": (3, 3), "early_help_reviews": (10, 9),
                "peps": (4, 4), "lado": (1, 1), "low_level": (3, 3)}
LEADS = [
    ("Designated safeguarding lead", "Robin Placeholder", date(2024, 10, 1), date(2025, 9, 20)),
    ("Deputy DSL", "Morgan Testperson", date(2023, 11, 14), date(2025, 6, 2)),
    ("Designated teacher for looked-after children", None, None, date(2025, 1, 9)),
]


def valid_values(version: int = registry.TEMPLATE_VERSION) -> dict[str, object]:
    """Every measure id a return of that template version is asked -> a plausible value that obeys
    every rule (tests.helpers.returns, with this school's numbers)."""
    numbers: dict[str, object] = {f"about.{k}": v for k, v in ABOUT.items() if k != "template_version"}
    for sheet, table in ((registry.TRAINING, TRAINING), (registry.NEGLECT, NEGLECT), (registry.REFERRALS, REFERRALS),
                         (registry.INCLUSION, INCLUSION), (registry.MULTI_AGENCY, MULTI_AGENCY)):
        numbers.update(table_numbers(sheet, table))
    return returns.valid_values(version, numbers=numbers)


@dataclass
class Built:
    data: bytes
    cells: dict[str, tuple[str, str]]  # measure id -> (sheet name, A1)
    sheet_names: dict[str, str]  # sheet id -> name written
    lead_cells: list[dict[str, tuple[str, str]]] = field(default_factory=list)

    def where(self, measure_id: str) -> str:
        return "!".join(self.cells[measure_id])


def build_return(*, version: int = registry.TEMPLATE_VERSION, values: dict | None = None,
                 leads: list | None = None, fmt: str = "xlsx",
                 title_rows: bool = True, drop_sheets=(), drop_rows=(), rename_sheets: dict | None = None,
                 lower_sheet_names: bool = False, reverse_rows: bool = False, spacer_rows: bool = False,
                 notes_column_first: bool = False, text_numbers: bool = False, date_style: str = "date",
                 extra_sheets: dict | None = None, hidden_sheets: dict | None = None,
                 no_value_header: bool = False, finish=None) -> Built:
    """A filled return. ``values`` overrides measure values (BLANK empties a cell); ``drop_rows``
    holds (sheet id, row id) pairs; ``extra_sheets``/``hidden_sheets`` map a name to its rows.
    ``finish`` is called with the writer's own workbook just before it is saved (openpyxl's
    Workbook, odfpy's document, xlwt's Workbook), to add what the grids cannot say: comments,
    headers, names, charts, properties. ``version`` lays out that template version's rows, with
    the labels it printed."""
    vals = valid_values(version)
    vals.update(values or {})
    names = _sheet_names(rename_sheets, lower_sheet_names)
    sheets: list[tuple[str, list[list], str]] = []  # (name, rows, visibility)
    cells: dict[str, tuple[str, str]] = {}
    lead_cells: list[dict[str, tuple[str, str]]] = []
    for spec in registry.SHEETS:
        if spec.id in drop_sheets:
            continue
        name = names[spec.id]
        offset = 1 if notes_column_first else 0  # a Notes column pushed in before the values
        grid: list[list] = []
        if title_rows:
            grid += [[f"{spec.title}: termly safeguarding return"], [spec.instructions], []]
        if spec.kind == "leads":
            _add_leads(grid, name, LEADS if leads is None else leads, date_style, lead_cells)
            sheets.append((name, grid, "visible"))
            continue
        header = [spec.header] + (["Notes"] if notes_column_first else [])
        header += [c.label for c in spec.columns] + (["Notes"] if spec.notes_column else [])
        grid.append(header)
        rows = [r for r in spec.rows_in(version) if (spec.id, r.id) not in drop_rows]
        for i, row in enumerate(reversed(rows) if reverse_rows else rows):
            if spacer_rows and i % 3 == 2:
                grid.append([])
            line = [row.label_in(version)] + ([""] if notes_column_first else [])
            for j, col in enumerate(spec.columns):
                mid = registry.measure_id(spec.id, row.id, col.id if len(spec.columns) > 1 else None)
                line.append(_cell(vals[mid], row.type, text_numbers, date_style))
                cells[mid] = (name, a1(len(grid), 1 + offset + j))
            grid.append(line)
        if no_value_header and spec.kind == "pairs":
            grid = [line for line in grid if line[:2] != [spec.header, "Value"]]
            cells.update({m: (name, _shift_up(ref)) for m, (n, ref) in cells.items() if n == name})
        sheets.append((name, grid, "visible"))
    for name, rows in (extra_sheets or {}).items():
        sheets.append((name, rows, "visible"))
    for name, rows in (hidden_sheets or {}).items():
        sheets.append((name, rows, "hidden"))
    writer = {"xlsx": write_xlsx, "xls": write_xls, "ods": write_ods}[fmt]
    data = writer(sheets, finish)
    if fmt == "xlsx":  # openpyxl saves no formula results: add them as Excel would have
        data = _with_formula_results(data, sheets)
    return Built(data, cells, names, lead_cells)


def _sheet_names(renamed: dict | None, lower: bool) -> dict[str, str]:
    """Sheet id -> the name written: the template's, renamed, maybe in lower case."""
    names = {s.id: s.title for s in registry.SHEETS}
    names.update(renamed or {})
    return {k: v.lower() for k, v in names.items()} if lower else names


def _add_leads(grid: list[list], name: str, leads, date_style: str, lead_cells: list) -> None:
    """The leads sheet's heading and one row a lead, each lead's cells noted in ``lead_cells``."""
    grid.append(["Role", "Name", "Last full DSL training", "Last refresher"])
    for role, person, full, refresher in leads:
        lead_cells.append({k: (name, a1(len(grid), i)) for i, k in enumerate(("role", "name", "full", "refresher"))})
        grid.append([role, person, _date(full, date_style), _date(refresher, date_style)])


def _with_formula_results(data: bytes, sheets: list[tuple[str, list[list], str]]) -> bytes:
    for name, rows, _ in sheets:
        saved = {a1(r, c): _number(v.saved) for r, line in enumerate(rows) for c, v in enumerate(line)
                 if isinstance(v, Formula) and v.saved is not None}
        if saved:
            data = set_saved_values(data, name, saved)
    return data

def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _shift_up(ref: str) -> str:
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    return f"{m.group(1)}{int(m.group(2)) - 1}"


def _date(value, style: str):
    if value is None:
        return None
    if style == "text_uk":
        return value.strftime("%d/%m/%Y")
    if style == "serial":
        return (value - date(1899, 12, 30)).days
    return value


def _cell(value, kind: str, text_numbers: bool, date_style: str):
    if value is BLANK or value is None:
        return None
    if isinstance(value, Formula):
        return value
    if kind == registry.DATE and isinstance(value, date):
        return _date(value, date_style)
    if text_numbers and kind == registry.COUNT and isinstance(value, int):
        return f" {value} "
    return value


def saved(book, finish=None) -> bytes:
    """The bytes of a workbook (openpyxl's, xlwt's or odfpy's), ``finish(book)`` called first when given."""
    if finish:
        finish(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_xlsx(sheets, finish=None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows, state in sheets:
        ws = wb.create_sheet(name)
        for r, line in enumerate(rows, 1):
            for c, v in enumerate(line, 1):
                if isinstance(v, Formula):
                    ws.cell(r, c, "=" + v.text)
                elif v is not None and v != "":
                    ws.cell(r, c, v)
                    if isinstance(v, (date, datetime)):
                        ws.cell(r, c).number_format = "dd/mm/yyyy"
        ws.sheet_state = state
    return saved(wb, finish)


def write_xls(sheets, finish=None) -> bytes:
    import xlwt

    wb = xlwt.Workbook()
    date_style = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for name, rows, state in sheets:
        ws = wb.add_sheet(name)
        ws.visibility = 0 if state == "visible" else 1
        for r, line in enumerate(rows):
            for c, v in enumerate(line):
                if v is None or v == "":
                    continue
                if isinstance(v, date):
                    ws.write(r, c, datetime(v.year, v.month, v.day), date_style)
                else:
                    ws.write(r, c, v)
    return saved(wb, finish)


def write_ods(sheets, finish=None) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for name, rows, _ in sheets:
        table = Table(name=name)
        for line in rows:
            tr = TableRow()
            for v in line:
                if v is None or v == "":
                    tr.addElement(TableCell())
                elif isinstance(v, Formula):
                    kw = {} if v.saved is None else {"valuetype": "float", "value": v.saved}
                    tr.addElement(TableCell(formula="of:=" + v.text, **kw))
                elif isinstance(v, date):
                    tr.addElement(_ods_cell(TableCell(valuetype="date", datevalue=v.isoformat()), v.strftime("%d/%m/%Y"), P))
                elif isinstance(v, (int, float)) and not isinstance(v, bool):
                    tr.addElement(_ods_cell(TableCell(valuetype="float", value=v), str(v), P))
                else:
                    tr.addElement(_ods_cell(TableCell(valuetype="string"), str(v), P))
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    return saved(doc, finish)


def _ods_cell(cell, text, P):
    cell.addElement(P(text=text))
    return cell


def set_saved_values(data: bytes, sheet_name: str, saved: dict[str, str | None]) -> bytes:
    """Rewrite an openpyxl .xlsx so formula cells carry a saved value, as Excel would write them.

    openpyxl writes ``<f>..</f><v/>`` (no saved value); ``saved`` maps A1 -> the text of <v>.
    """
    from openpyxl import load_workbook

    part = _sheet_part(data, sheet_name, load_workbook)
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == part:
                for ref, value in saved.items():
                    body = re.sub(rb'(<c r="' + ref.encode() + rb'"[^>]*>\s*<f>[^<]*</f>)\s*(?:<v\s*/>|<v></v>)',
                                  lambda m, value=value: m.group(1) + b"<v>" + value.encode() + b"</v>", body)
            dst.writestr(info, body)
    return out.getvalue()


def _sheet_part(data: bytes, sheet_name: str, load_workbook) -> str:
    wb = load_workbook(io.BytesIO(data))
    index = wb.sheetnames.index(sheet_name)
    return f"xl/worksheets/sheet{index + 1}.xml"


def with_formula(data: bytes, sheet_name: str, ref: str, formula: str) -> bytes:
    """The same .xlsx with one cell replaced by a formula (no saved value yet)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    wb[sheet_name][ref] = formula
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()

