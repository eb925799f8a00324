"""Fuzzing the loader: whatever a file holds, checking it gives a report, never an exception.

Three kinds of damage, each starting from real returns (the sample trust's and LibreOffice's):

- the workbook's contents: any kind of value in any cell of any sheet, rows deleted, duplicated
  and moved, columns inserted, sheets deleted, duplicated, renamed, hidden and emptied, a cell far
  away, written again as .xlsx, .xls or .ods;
- the file's bytes: cut short, bits flipped, bytes spliced in, overwritten, deleted, repeated;
- the parts inside the zip of an .xlsx or .ods: the same byte damage to one part's XML (or
  fragments of hostile XML spliced in), parts dropped or duplicated, zipped up again so the
  damage reaches the parsers.

Every outcome must be a well-formed report (the contract in ``_assert_report``), and a file that
is refused or has errors stores nothing but its audit row when imported.

Reproducible: every test runs with ``derandomize=True`` and no example database, so each run
(and CI) tries the same examples; they change only when Hypothesis or the test changes. The
``max_examples`` below add up to 1,550 cases a run.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loaders import check_return, registry
from loaders.report import ERROR, QUERY, Problem, ReturnReport
from tests.helpers.workbooks import saved

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "returns" / "990001_2025-26_Summer.xlsx"
FIXTURES = ROOT / "tests" / "fixtures"
SEEDS = [SAMPLE, FIXTURES / "libreoffice_valid.xlsx", FIXTURES / "libreoffice_valid.xls",
         FIXTURES / "libreoffice_valid.ods", FIXTURES / "libreoffice_template_v2.ods"]

FUZZ = dict(deadline=None, derandomize=True, database=None, print_blob=True,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- what goes into cells ---------------------------------------------------------------------

LABELS = sorted({s.title for s in registry.SHEETS} | {r.label for s in registry.SHEETS for r in s.rows}
                | {c.label for s in registry.SHEETS for c in s.columns} | set(registry.LEAD_ROLES))
TRICKY = [
    "five", "n/a", " 7 ", "12.0", "1e3", "-3", "1/2", "3.5", "£5", "TRUE", "0x1F", "٣", "１２", "12 ",
    "#DIV/0!", "#N/A", "#REF!", "=SUM(B5:B9)", "=1/0", "=A1", "=NOW()", "2025/26", "2025-26", "26/13/2025",
    "31/12/2025", "2025-12-31", "Autumn", "autumn ", "Spring term", "990001", "99000", "9900011",
    "A123456789012", "Pupil name", "UPN", "Date of birth", "DOB", "Child's name", "", " ", "\t", "\n",
    "Designated safeguarding lead", "DSL", "Deputy", "x" * 5000,
]
TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
CELL = st.one_of(
    st.none(), st.booleans(), st.sampled_from(TRICKY), st.sampled_from(LABELS), TEXT,
    st.integers(-10**6, 10**6), st.integers(-2**70, 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-1e6, 1e6),
    st.dates(date(1900, 3, 1), date(9999, 12, 31)),
    st.datetimes(datetime(1900, 3, 1), datetime(9999, 12, 31)),
    TEXT.map(lambda t: "=" + t),
)
SHEET_NAME = st.one_of(st.sampled_from([s.title for s in registry.SHEETS] + [
    "about", " Training ", "REFERRALS", "Multi agency", "Referrals (2)", "Sheet1", "Pupil list", "Notes"]), TEXT)
INDEX = st.integers(0, 10**6)  # taken modulo the size of what it indexes, so it shrinks well

SET_VALUE = st.tuples(st.just("set_value"), INDEX, CELL)  # into a cell the return fills in
SET_ANY = st.tuples(st.just("set"), INDEX, INDEX, st.integers(0, 11), CELL)  # into any cell at all
GRID_MUTATION = st.one_of(  # a branch listed twice is drawn twice as often
    SET_VALUE, SET_VALUE, SET_VALUE, SET_VALUE, SET_ANY, SET_ANY,
    st.tuples(st.just("delete_row"), INDEX, INDEX),
    st.tuples(st.just("duplicate_row"), INDEX, INDEX),
    st.tuples(st.just("move_row"), INDEX, INDEX, INDEX),
    st.tuples(st.just("insert_column"), INDEX, st.integers(0, 5)),
    st.tuples(st.just("delete_sheet"), INDEX),
    st.tuples(st.just("duplicate_sheet"), INDEX, SHEET_NAME),
    st.tuples(st.just("rename_sheet"), INDEX, SHEET_NAME),
    st.tuples(st.just("hide_sheet"), INDEX),
    st.tuples(st.just("empty_sheet"), INDEX),
    st.tuples(st.just("far_cell"), INDEX, st.integers(0, 2000), st.integers(0, 200), CELL),
)

BYTE_MUTATION = st.one_of(
    st.tuples(st.just("truncate"), INDEX),
    st.tuples(st.just("flip"), st.lists(st.integers(0, 2**40), min_size=1, max_size=8)),
    st.tuples(st.just("splice"), INDEX, st.binary(max_size=64)),
    st.tuples(st.just("overwrite"), INDEX, st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("delete"), INDEX, st.integers(1, 512)),
    st.tuples(st.just("repeat"), INDEX, st.integers(1, 512)),
)
XML_FRAGMENTS = [
    b'<c r="XFD1048576"><v>1</v></c>', b'<row r="1048576"><c r="A1048576" t="s"><v>999999</v></c></row>',
    b"</row>", b"</sheetData>", b"<f>SUM(A1:A9)</f>", b' t="e"', b' t="s"', b' t="b"', b' t="str"',
    b"<v>99999999999</v>", b"<v>-1</v>", b"<v>NaN</v>", b"<v></v>", b' uniqueCount="4000000000"',
    b' r="A0"', b' r="ZZZZ9"', b"&amp;", b"&#0;", b"&bogus;", b"<![CDATA[=1+1]]>", b"<?xml version='1.0'?>",
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>', b"&b;",
    b'<table:table-cell table:number-columns-repeated="16384" office:value-type="float" office:value="1"/>',
    b'<table:table-row table:number-rows-repeated="1048576"/>', b'<table:table table:name="Neglect">',
    b'<sheet name="Neglect" sheetId="99" r:id="rId1"/>', b"<si><t>x</t></si>" * 8, b"\xff\xfe", b"\x00",
]
PART_MUTATION = st.one_of(
    st.tuples(st.just("bytes"), INDEX, st.lists(BYTE_MUTATION, min_size=1, max_size=3)),
    st.tuples(st.just("fragment"), INDEX, INDEX, st.sampled_from(XML_FRAGMENTS)),
    st.tuples(st.just("fragment"), INDEX, INDEX, st.sampled_from(XML_FRAGMENTS)),
    st.tuples(st.just("drop"), INDEX),
    st.tuples(st.just("duplicate"), INDEX, st.sampled_from(["xl/worksheets/sheet9.xml", "content.xml",
                                                            "xl/sharedStrings.xml", "xl/vbaProject.bin"])),
    st.tuples(st.just("replace"), INDEX, st.binary(max_size=200)),
)


# --- the contract every outcome must meet ----------------------------------------------------

def _check(data: bytes, name: str = "fuzzed.xlsx") -> ReturnReport:
    report = check_return(data, name)
    _assert_report(report, data)
    return report


def _assert_report(report: ReturnReport, data: bytes) -> None:
    assert isinstance(report, ReturnReport)
    assert report.problems or report.valid
    for p in report.problems:
        assert isinstance(p, Problem)
        assert isinstance(p.code, str) and p.code.strip()
        assert p.severity in (ERROR, QUERY)
        assert isinstance(p.message, str) and p.message.strip()
    if report.refused:
        assert not report.valid and report.errors
    else:
        assert set(report.values) == registry.ASKED_IDS[report.version]
    if report.valid:
        for m in registry.ASKED[report.version]:
            value = report.values[m.id]
            if m.type == registry.COUNT:
                assert value is None or (type(value) is int and value >= 0), (m.id, value)
            elif m.type == registry.DATE:
                assert value is None or isinstance(value, date), (m.id, value)
    json.dumps(report.as_json(), default=str)  # what the command line prints must serialise
    assert isinstance(report.verdict(), str)


# --- building and damaging files ---------------------------------------------------------------

@lru_cache(maxsize=1)
def _base_grid() -> tuple:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(SAMPLE.read_bytes()))
    return tuple((ws.title, tuple(tuple(r) for r in ws.iter_rows(values_only=True)), ws.sheet_state)
                 for ws in wb.worksheets)


@lru_cache(maxsize=1)
def _value_cells() -> tuple[tuple[str, int, int], ...]:
    """(sheet, row, column) of every cell a DSL fills in: numbers and dates, About's values, Leads."""
    cells = []
    for name, rows, _ in _base_grid():
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                filled = isinstance(v, (int, float, date)) and not isinstance(v, bool)
                if filled or (r > 3 and v is not None and (name, c) in {("About", 1), ("Leads", 0), ("Leads", 1)}):
                    cells.append((name, r, c))
    return tuple(cells)


def _mutate_grid(mutations) -> list[list]:
    sheets = [[name, [list(r) for r in rows], state] for name, rows, state in _base_grid()]
    for op, *args in mutations:
        if op == "set_value":  # found by the sheet's name: earlier damage may have moved it
            name, r, c = _value_cells()[args[0] % len(_value_cells())]
            rows = next((sheet[1] for sheet in sheets if sheet[0] == name), [])
            if r < len(rows) and c < len(rows[r]):
                rows[r][c] = args[1]
            continue
        if not sheets:
            break
        sheet = sheets[args[0] % len(sheets)]
        if op == "delete_sheet":
            sheets.remove(sheet)
        elif op == "duplicate_sheet":
            sheets.append([args[1], [list(r) for r in sheet[1]], sheet[2]])
        elif op == "rename_sheet":
            sheet[0] = args[1]
        elif op == "hide_sheet":
            sheet[2] = "hidden"
        elif op == "empty_sheet":
            sheet[1] = []
        else:
            _mutate_rows(sheet[1], op, args)
    return sheets


def _mutate_rows(rows: list[list], op: str, args: list) -> None:
    """A mutation of one sheet's rows (args[0], which chose the sheet, is not read here)."""
    if op == "insert_column":
        for row in rows:
            row.insert(min(args[1], len(row)), None)
    elif op == "far_cell":
        rows.extend([] for _ in range(args[1] + 1 - len(rows)))
        _put(rows[args[1]], args[2], args[3])
    elif not rows:
        return
    elif op == "set":
        _put(rows[args[1] % len(rows)], args[2], args[3])
    elif op == "delete_row":
        del rows[args[1] % len(rows)]
    elif op == "duplicate_row":
        i = args[1] % len(rows)
        rows.insert(i, list(rows[i]))
    elif op == "move_row":
        rows.insert(args[2] % len(rows), rows.pop(args[1] % len(rows)))


def _put(row: list, column: int, value) -> None:
    row.extend([None] * (column + 1 - len(row)))
    row[column] = value


def _titles(sheets) -> list[str]:
    """Names every writer accepts: no [ ] : * ? / \\, 1 to 31 characters, unique in any case."""
    taken, out = set(), []
    for i, (name, _, _) in enumerate(sheets):
        title = "".join(ch for ch in str(name) if ch not in "[]:*?/\\").strip().strip("'")[:31] or f"S{i}"
        while title.lower() in taken:
            title = f"{title[:27]}~{i}"[:31]
            i += 1000
        taken.add(title.lower())
        out.append(title)
    return out


def _write(sheets, fmt: str) -> bytes:
    return {"xlsx": _write_xlsx, "xls": _write_xls, "ods": _write_ods}[fmt](sheets, _titles(sheets))


def _write_xlsx(sheets, titles) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for (_, rows, state), title in zip(sheets, titles):
        ws = wb.create_sheet(title)
        ws.sheet_state = state
        for row in rows:
            ws.append(row)
    if not sheets:
        wb.create_sheet("Empty")
    return saved(wb)


def _write_xls(sheets, titles) -> bytes:
    import xlwt

    wb = xlwt.Workbook()
    dated = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for (_, rows, state), title in zip(sheets, titles):
        ws = wb.add_sheet(title)
        ws.visibility = 0 if state == "visible" else 1
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53:
                    v = float(v)
                if isinstance(v, date):
                    ws.write(r, c, v, dated)
                elif v is not None:
                    ws.write(r, c, v)
    if not sheets:
        wb.add_sheet("Empty")
    return saved(wb)


def _write_ods(sheets, titles) -> bytes:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    for (_, rows, _), title in zip(sheets, titles):
        table = Table(name=title)
        for row in rows:
            tr = TableRow()
            for v in row:
                if v is None:
                    cell = TableCell()
                elif isinstance(v, bool):
                    cell = TableCell(valuetype="boolean", booleanvalue=str(v).lower())
                elif isinstance(v, (int, float)):
                    cell = TableCell(valuetype="float", value=v if math.isfinite(v) else str(v))
                elif isinstance(v, date):
                    cell = TableCell(valuetype="date", datevalue=v.isoformat())
                else:
                    cell = TableCell(valuetype="string")
                if v is not None:
                    cell.addElement(P(text=str(v)))
                tr.addElement(cell)
            table.addElement(tr)
        doc.spreadsheet.addElement(table)
    return saved(doc)


def _damage(data: bytes, mutations) -> bytes:
    buf = bytearray(data)
    for op, *args in mutations:
        at = args[0] % (len(buf) + 1) if op != "flip" else 0
        if op == "truncate":
            del buf[at:]
        elif op == "flip" and buf:
            for bit in args[0]:
                buf[(bit // 8) % len(buf)] ^= 1 << (bit % 8)
        elif op == "splice":
            buf[at:at] = args[1]
        elif op == "overwrite":
            buf[at:at + len(args[1])] = args[1]
        elif op == "delete":
            del buf[at:at + args[1]]
        elif op == "repeat":
            buf[at:at] = buf[at:at + args[1]]
    return bytes(buf)


@lru_cache(maxsize=None)
def _seed(i: int) -> bytes:
    return SEEDS[i].read_bytes()


@lru_cache(maxsize=None)
def _parts(i: int) -> tuple[tuple[str, bytes], ...]:
    with zipfile.ZipFile(io.BytesIO(_seed(i))) as zf:
        return tuple((info.filename, zf.read(info)) for info in zf.infolist())


ZIP_SEEDS = [i for i, p in enumerate(SEEDS) if p.suffix in (".xlsx", ".ods")]


def _damage_parts(seed: int, mutations) -> bytes:
    parts = [list(p) for p in _parts(seed)]
    for op, *args in mutations:
        if not parts:
            break
        part = parts[args[0] % len(parts)]
        if op == "bytes":
            part[1] = _damage(part[1], args[1])
        elif op == "fragment":
            at = args[1] % (len(part[1]) + 1)
            part[1] = part[1][:at] + args[2] + part[1][at:]
        elif op == "drop":
            parts.remove(part)
        elif op == "duplicate" and args[1] not in {n for n, _ in parts}:
            parts.append([args[1], part[1]])
        elif op == "replace":
            part[1] = args[1]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in parts:
            # ODS wants its mimetype first and stored; keep it so, or the damage stops at the door
            zf.writestr(name, body, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return out.getvalue()


FORMAT = st.sampled_from(["xlsx", "xlsx", "xls", "ods"])
GRID_CASE = st.tuples(st.lists(GRID_MUTATION, min_size=1, max_size=6), FORMAT)
BYTES_CASE = st.tuples(st.integers(0, len(SEEDS) - 1), st.lists(BYTE_MUTATION, min_size=1, max_size=4))
PARTS_CASE = st.tuples(st.sampled_from(ZIP_SEEDS), st.lists(PART_MUTATION, min_size=1, max_size=4))


# --- the tests ------------------------------------------------------------------------------

def test_the_seeds_are_valid_returns():
    """The damage starts from good files, so what the fuzzers find is the damage's doing."""
    for i, path in enumerate(SEEDS):
        assert _check(_seed(i), path.name).valid, path.name
    for fmt in ("xlsx", "xls", "ods"):
        assert _check(_write(_mutate_grid([]), fmt), f"rewritten.{fmt}").valid, fmt


@settings(max_examples=550, **FUZZ)
@given(GRID_CASE)
def test_any_content_in_any_cell_or_sheet_gives_a_report(case):
    mutations, fmt = case
    _check(_write(_mutate_grid(mutations), fmt), f"fuzzed.{fmt}")


@settings(max_examples=600, **FUZZ)
@given(BYTES_CASE)
def test_damaged_bytes_give_a_report(case):
    seed, mutations = case
    _check(_damage(_seed(seed), mutations), SEEDS[seed].name)


@settings(max_examples=380, **FUZZ)
@given(PARTS_CASE)
def test_damaged_parts_inside_the_zip_give_a_report(case):
    seed, mutations = case
    _check(_damage_parts(seed, mutations), SEEDS[seed].name)


IMPORT_CASE = st.lists(st.one_of(GRID_CASE.map(lambda c: ("grid", c)), BYTES_CASE.map(lambda c: ("bytes", c)),
                                 PARTS_CASE.map(lambda c: ("parts", c))), min_size=2, max_size=5)


@settings(max_examples=20, **{**FUZZ, "suppress_health_check": FUZZ["suppress_health_check"]
                               + [HealthCheck.function_scoped_fixture]})
@given(IMPORT_CASE)
def test_a_refused_or_rejected_file_stores_nothing_but_its_audit_row(sqlite_engine, cases):
    """One database across the examples: each example only ever adds audit rows to it."""
    from store.importer import import_paths
    from store.schema import audit, drafts, leads, return_queries, return_values, returns, schools

    files = []
    for kind, case in cases:
        if kind == "grid":
            data, name = _write(_mutate_grid(case[0]), case[1]), f"fuzzed.{case[1]}"
        elif kind == "bytes":
            data, name = _damage(_seed(case[0]), case[1]), SEEDS[case[0]].name
        else:
            data, name = _damage_parts(case[0], case[1]), SEEDS[case[0]].name
        if not _check(data, name).valid:
            files.append((data, name))
    assume(files)
    with sqlite_engine.connect() as conn:
        audited_before = conn.execute(sa.select(sa.func.count()).select_from(audit)).scalar()
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, (data, name) in enumerate(files):
            path = Path(folder) / f"{i}_{name}"
            path.write_bytes(data)
            paths.append(str(path))
        outcomes = import_paths(paths, engine=sqlite_engine, user="fuzz")
    assert all(o.saved is None and not o.report.valid for o in outcomes)
    with sqlite_engine.connect() as conn:
        for table in (returns, return_values, leads, return_queries, schools, drafts):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0, table.name
        rows = conn.execute(sa.select(audit).where(audit.c.id > audited_before)).mappings().all()
    assert len(rows) == len(files)
    assert {r["outcome"] for r in rows} <= {"refused", "rejected"}
    by_file = {Path(o.file).name: o.report for o in outcomes}
    for row in rows:
        report = by_file[Path(row["file_name"]).name]
        assert row["outcome"] == ("refused" if report.refused else "rejected")
        if not report.keep_bytes:  # child-level data: not even the messages are kept
            assert "message" not in json.dumps(row["detail"])
