"""Hostile and wrong files are refused as a whole, with the right plain sentence, fast.

Each test builds the file it needs (zip bombs, overlapping entries, a hundred thousand parts,
macros, encryption, random bytes, truncation) and asserts the refusal and its wording. Files
that would make the spreadsheet library allocate gigabytes are checked in a child process with a
memory limit, so a regression fails one test instead of taking the whole run down.
"""

from __future__ import annotations

import io
import random
import re
import struct
import subprocess
import sys
import time
import zipfile
import zlib

import pytest

from loaders import check_return
from tests.helpers.workbooks import FIXTURES, ROOT, build_return

FAST = 1.0  # seconds; a refusal is normally a few milliseconds


def refused(data: bytes, code: str, phrase: str, max_bytes: int = 5 * 1024 * 1024):
    start = time.perf_counter()
    report = check_return(data, "upload.xlsx", max_bytes=max_bytes)
    took = time.perf_counter() - start
    assert report.refused, report.problems
    assert not report.valid
    assert [p.code for p in report.problems] == [code]
    assert phrase in report.problems[0].message
    assert report.values == {} and report.leads == []
    assert took < FAST, f"took {took:.2f}s"
    return report


def rezip(data: bytes, add: dict[str, bytes] | None = None, replace: dict[str, bytes] | None = None) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, body in (add or {}).items():
            dst.writestr(name, body)
    return out.getvalue()


def zipped(entries: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    """A zip holding these parts, in this order."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, body in entries.items():
            z.writestr(name, body)
    return out.getvalue()


def xlsx_shell(entries: dict[str, bytes]) -> bytes:
    """A zip that looks like an .xlsx from its part names, holding whatever bytes are given."""
    return zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>", **entries},
                  zipfile.ZIP_DEFLATED)


def patch_central(data: bytes, name: str, *, file_size: int) -> bytes:
    """Rewrite the uncompressed size a zip's central directory declares for one part."""
    buf = bytearray(data)
    at = buf.find(b"PK\x01\x02" + b"")
    while at >= 0:
        name_len = struct.unpack_from("<H", buf, at + 28)[0]
        if buf[at + 46:at + 46 + name_len] == name.encode():
            struct.pack_into("<I", buf, at + 24, file_size)
            return bytes(buf)
        at = buf.find(b"PK\x01\x02", at + 4)
    raise AssertionError(name)


# --------------------------------------------------------------------------- not a spreadsheet

@pytest.mark.parametrize("data, looks", [
    (b"", "empty"),
    (b"school,urn\nOtterbrook,999001\n", "CSV"),
    (b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n", "PDF"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "picture"),
    (random.Random(7).randbytes(50_000), ""),
])
def test_anything_that_is_not_a_spreadsheet_is_refused(data, looks):
    report = refused(data, "not_a_spreadsheet", "not a spreadsheet: save it as .xlsx from Excel or LibreOffice")
    assert looks in report.problems[0].message


def test_a_word_document_is_not_a_spreadsheet():
    word = zipped({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    refused(word, "not_a_spreadsheet", "Word document")


def test_the_name_is_never_trusted():
    report = check_return(b"name,count\n", "return.xlsx")
    assert report.refused and report.problems[0].code == "not_a_spreadsheet"


def test_too_large_says_how_large():
    report = refused(bytes(6 * 1024 * 1024), "file_too_large", "The file is 6.0 MB; a return is normally under 100 KB")
    assert "5.0 MB" in report.problems[0].message


def test_truncated_xlsx_is_damaged():
    data = build_return().data
    refused(data[: len(data) // 2], "damaged", "damaged or incomplete")


def test_truncated_xls_is_damaged():
    data = build_return(fmt="xls").data
    refused(data[:1500], "damaged", "damaged or incomplete")


# --------------------------------------------------------------------------- zip bombs

def test_high_expansion_ratio_is_a_bomb():
    bomb = xlsx_shell({"xl/worksheets/sheet1.xml": bytes(20 * 1024 * 1024)})
    assert len(bomb) < 100_000
    refused(bomb, "zip_bomb", "expands")


def test_huge_declared_sizes_are_refused_without_inflating():
    data = xlsx_shell({"xl/worksheets/sheet1.xml": b"<worksheet/>"})
    refused(patch_central(data, "xl/worksheets/sheet1.xml", file_size=0xFFFF0000), "zip_bomb", "expands to")


def test_a_part_larger_than_it_declares_is_caught_while_inflating():
    data = xlsx_shell({"xl/worksheets/sheet1.xml": b"<row/>" * 200_000})
    refused(patch_central(data, "xl/worksheets/sheet1.xml", file_size=1000), "zip_bomb", "larger than it declares")


def overlapped_zip(copies: int) -> bytes:
    """The overlapped bomb: one compressed blob, many directory entries all pointing at it."""
    blob = zlib.compress(bytes(1_000_000), 9)[2:-4]
    crc = zlib.crc32(bytes(1_000_000))
    name = b"xl/worksheets/sheet1.xml"
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(blob), 1_000_000, len(name), 0)
    body = local + name + blob
    central = b""
    names = [b"[Content_Types].xml", b"xl/workbook.xml"] + [b"xl/worksheets/sheet%d.xml" % i for i in range(copies)]
    for n in names:
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(blob), 1_000_000,
                               len(n), 0, 0, 0, 0, 0, 0) + n
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(names), len(names), len(central), len(body), 0)
    return body + central + end


def test_overlapping_entries_are_refused():
    refused(overlapped_zip(40), "overlapping_parts", "on top of one another")


def tiny_entries(count: int, declared: int | None = None) -> bytes:
    local, central, offset = [], [], 0
    for i in range(count):
        name = b"x/%d" % i
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name),
                                   0, 0, 0, 0, 0, offset) + name)
        local.append(header)
        offset += len(header)
    cd = b"".join(central)
    n = count if declared is None else declared
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(n, 0xFFFF), min(n, 0xFFFF), len(cd), offset, 0)
    return b"".join(local) + cd + end


def test_a_hundred_thousand_tiny_entries_are_refused():
    data = tiny_entries(100_000)
    refused(data, "too_many_parts", "holds", max_bytes=len(data) + 1)


def test_an_end_record_that_understates_the_entries_is_still_caught():
    data = tiny_entries(100_000, declared=10)
    refused(data, "too_many_parts", "parts", max_bytes=len(data) + 1)


# --------------------------------------------------------------------------- macros and passwords

def test_a_vba_project_part_is_macro_enabled():
    data = rezip(build_return().data, add={"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0fake"})
    refused(data, "macro_enabled", "macro-enabled; save as .xlsx (Excel Workbook)")


def test_a_macro_enabled_content_type_is_refused():
    data = build_return().data
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    refused(rezip(data, replace={"[Content_Types].xml": types}), "macro_enabled", "macro-enabled")


def test_an_excel_4_macro_sheet_is_macro_enabled():
    data = rezip(build_return().data, add={"xl/macrosheets/sheet1.xml": b"<xm:macrosheet/>"})
    refused(data, "macro_enabled", "macro-enabled")


def test_an_xls_with_an_excel_4_macro_sheet_is_refused():
    data = bytearray(build_return(fmt="xls").data)
    # The first BOUNDSHEET record: type 0x85, a short length, the sheet's offset, visible, worksheet.
    at = re.search(rb"\x85\x00[\x08-\xff]\x00....\x00\x00", bytes(data), re.S).start()
    data[at + 9] = 0x01  # its sheet-type byte: an Excel 4.0 macro sheet
    refused(bytes(data), "macro_enabled", "macro-enabled")


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A minimal OLE2 compound file (512-byte sectors) holding the named streams."""
    sector = 512
    data_sectors, chains, fat = [], {}, {}
    next_sector = 2  # 0 is the FAT, 1 the directory
    for name, body in streams.items():
        body = body.ljust(max(4096, -(-len(body) // sector) * sector), b"\0")
        count = len(body) // sector
        chains[name] = (next_sector, len(body))
        for i in range(count):
            fat[next_sector + i] = next_sector + i + 1 if i < count - 1 else 0xFFFFFFFE
            data_sectors.append(body[i * sector:(i + 1) * sector])
        next_sector += count
    table = [0xFFFFFFFD, 0xFFFFFFFE] + [fat.get(i, 0xFFFFFFFF) for i in range(2, 128)]
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9)
    struct.pack_into("<H", header, 0x20, 6)
    struct.pack_into("<IIII", header, 0x2C, 1, 1, 0, 4096)
    struct.pack_into("<IIII", header, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([0xFFFFFFFF] * 108))
    entries = [("Root Entry", 5, 0xFFFFFFFE, 0)] + [(n, 2, *chains[n]) for n in streams]
    directory = b""
    for name, kind, start, size in entries:
        raw = name.encode("utf-16-le") + b"\0\0"
        entry = bytearray(128)
        entry[:len(raw)] = raw
        struct.pack_into("<HBB", entry, 64, len(raw), kind, 1)
        struct.pack_into("<III", entry, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        struct.pack_into("<II", entry, 116, start, size)
        directory += entry
    directory = directory.ljust(sector, b"\0")
    return bytes(header) + struct.pack("<128I", *table) + directory + b"".join(data_sectors)


def test_an_encrypted_excel_workbook_is_password_protected():
    data = ole_file({"EncryptionInfo": b"\x04\x00\x04\x00" + bytes(200), "EncryptedPackage": bytes(6000)})
    refused(data, "password_protected",
            "password-protected: remove the password (File > Info > Protect Workbook) and upload again")


def test_an_ole_file_without_a_workbook_is_not_a_spreadsheet():
    refused(ole_file({"WordDocument": bytes(5000)}), "not_a_spreadsheet", "Word document")


def test_an_xls_with_macros_is_refused():
    refused(ole_file({"Workbook": bytes(5000), "_VBA_PROJECT_CUR": bytes(10)}), "macro_enabled", "macro-enabled")


def test_an_xls_with_a_filepass_record_is_password_protected():
    data = bytearray(build_return(fmt="xls").data)
    bof = data.find(b"\x09\x08\x10\x00")
    struct.pack_into("<H", data, bof + 20, 0x002F)  # the record after the globals' BOF becomes FILEPASS
    refused(bytes(data), "password_protected", "password-protected")


@pytest.mark.parametrize("name", ["password.xls", "password.ods"])
def test_files_libreoffice_encrypted_are_password_protected(name):
    refused((FIXTURES / name).read_bytes(), "password_protected", "password-protected")


def test_an_xlsb_is_asked_to_be_saved_as_xlsx():
    xlsb = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.bin": b"\x83\x01"})
    refused(xlsb, "unsupported_format", ".xlsb")


# --------------------------------------------------------------------------- sheets that would explode in memory

SPARSE_XLSX = """
import io, openpyxl
wb = openpyxl.Workbook(); ws = wb.active; ws['A1'] = 1; ws['XFD1048576'] = 2
buf = io.BytesIO(); wb.save(buf); data = buf.getvalue()
"""
SPARSE_XLS = """
import io, xlwt
wb = xlwt.Workbook(); ws = wb.add_sheet('About'); ws.write(0, 0, 1); ws.write(65535, 255, 2)
buf = io.BytesIO(); wb.save(buf); data = buf.getvalue()
"""
REPEATED_ODS = """
import io, zipfile
content = ('<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
  '<office:body><office:spreadsheet><table:table table:name="About"><table:table-row table:number-rows-repeated="100000">'
  '<table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="1000"><text:p>1</text:p>'
  '</table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>')
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('mimetype', 'application/vnd.oasis.opendocument.spreadsheet')
    z.writestr('content.xml', content)
    z.writestr('META-INF/manifest.xml', '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
               '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" '
               'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>')
data = buf.getvalue()
"""
LYING_SHARED_STRINGS = """
import io, re, zipfile
src = zipfile.ZipFile('tests/fixtures/libreoffice_valid.xlsx')
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w', zipfile.ZIP_DEFLATED) as z:
    for n in src.namelist():
        body = src.read(n)
        if n == 'xl/sharedStrings.xml':
            body = re.sub(rb'uniqueCount="[0-9]+"', b'uniqueCount="4000000000"', body)
        z.writestr(n, body)
data = buf.getvalue()
"""
LYING_XLS_COUNTS = """
import io, struct, xlwt
wb = xlwt.Workbook(); ws = wb.add_sheet('About'); ws.write(0, 0, 'School name'); ws.write(0, 1, 4)
buf = io.BytesIO(); wb.save(buf); data = bytearray(buf.getvalue())
at = data.find(bytes.fromhex('00020e00'))  # DIMENSIONS: a first row after the last wraps round
struct.pack_into('<I', data, at + 4, 0xCC000000)
data = bytes(data)
"""
LYING_SST_COUNT = r"""
import io, struct, xlwt
wb = xlwt.Workbook(); ws = wb.add_sheet('About'); ws.write(0, 0, 'School name')
buf = io.BytesIO(); wb.save(buf); data = bytearray(buf.getvalue())
import re
at = re.search(rb'\xfc\x00..\x01\x00\x00\x00\x01\x00\x00\x00', bytes(data), re.S).start()  # SST: 1 string
struct.pack_into('<i', data, at + 8, 0x7FFFFFFF)
data = bytes(data)
"""
ODD_XLSX = """
import io, re, zipfile, openpyxl
wb = openpyxl.Workbook(); ws = wb.active; ws['A1'] = 1; ws['B2'] = 2
buf = io.BytesIO(); wb.save(buf); src = zipfile.ZipFile(buf)
out = io.BytesIO()
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for n in src.namelist():
        body = src.read(n)
        if n == 'xl/worksheets/sheet1.xml':  # single quotes, a prefix, and a part outside worksheets/
            body = body.replace(b'</sheetData>', b"<row r='1048576'><c r = 'XFD1048576'><v>3</v></c></row></sheetData>")
            n = 'xl/elsewhere.bin'
        body = body.replace(b'worksheets/sheet1.xml', b'elsewhere.bin')
        z.writestr(n, body)
data = out.getvalue()
"""
PREFIXED_XLSX = """
import io, re, zipfile, openpyxl
wb = openpyxl.Workbook(); ws = wb.active; ws['A1'] = 1; ws['B2'] = 'x'
buf = io.BytesIO(); wb.save(buf); src = zipfile.ZipFile(buf)
out = io.BytesIO()
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for n in src.namelist():
        body = src.read(n)
        if n == 'xl/worksheets/sheet1.xml':  # every element written with a namespace prefix
            body = body.replace(b'</sheetData>', b'<row r="1048576"><c r="XFD1048576"><v>3</v></c></row></sheetData>')
            body = re.sub(rb'<(/?)(\\w+)', rb'<\\1x:\\2', body).replace(b'<x:worksheet xmlns=', b'<x:worksheet xmlns:x=')
        z.writestr(n, body)
data = out.getvalue()
"""
POSITIONAL_XLSX = """
import io, zipfile, openpyxl
wb = openpyxl.Workbook(); ws = wb.active; ws['A1'] = 1
buf = io.BytesIO(); wb.save(buf); src = zipfile.ZipFile(buf)
out = io.BytesIO()
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for n in src.namelist():
        body = src.read(n)
        if n == 'xl/worksheets/sheet1.xml':  # cells with no reference, placed by position in a far row
            body = body.replace(b'</sheetData>', b'<row r="1048576">' + b'<c><v>1</v></c>' * 200 + b'</row></sheetData>')
        z.writestr(n, body)
data = out.getvalue()
"""
SHARED_COPIES_XLSX = """
import io, re, zipfile, openpyxl
wb = openpyxl.Workbook(); ws = wb.active; ws['A1'] = 'x'
buf = io.BytesIO(); wb.save(buf); src = zipfile.ZipFile(buf)
sst = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3000" uniqueCount="1">'
       b'<si><t>' + b'A' * 1_000_000 + b'</t></si></sst>')  # one long string, used by 3,000 cells
cells = b''.join(b'<row r="%d"><c r="A%d" t="s"><v>0</v></c></row>' % (i, i) for i in range(1, 3001))
out = io.BytesIO()
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    for n in src.namelist():
        body = src.read(n)
        if n == 'xl/worksheets/sheet1.xml':
            body = re.sub(rb'<sheetData>.*</sheetData>', b'<sheetData>' + cells + b'</sheetData>', body, flags=re.S)
        if n == '[Content_Types].xml':
            body = body.replace(b'</Types>', b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        if n == 'xl/_rels/workbook.xml.rels':
            body = body.replace(b'</Relationships>', b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                                b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        z.writestr(n, body)
    z.writestr('xl/sharedStrings.xml', sst)
data = out.getvalue()
"""
REPEATED_TEXT_ODS = REPEATED_ODS.replace(  # a row of 1,000 copies of a megabyte of text, three times
    'table:number-rows-repeated="100000"', 'table:number-rows-repeated="3"').replace(
    """office:value-type="float" office:value="1" table:number-columns-repeated="1000"><text:p>1</text:p>""",
    """office:value-type="string" table:number-columns-repeated="1000"><text:p>' + 'x' * 1_000_000 + '</text:p>""")
SHARED_COPIES_XLS = """
import io, xlwt
wb = xlwt.Workbook(); ws = wb.add_sheet('About')
for r in range(5000):  # one 30,000-character string in 5,000 cells: xlwt stores it once
    ws.write(r, 0, 'y' * 30_000)
buf = io.BytesIO(); wb.save(buf); data = buf.getvalue()
"""
CHECK_IN_CHILD = """
import resource, time
resource.setrlimit(resource.RLIMIT_AS, (1500 * 1024 * 1024, 1500 * 1024 * 1024))
from loaders import check_return
start = time.perf_counter()
report = check_return(data, 'bomb')
print(report.refused, report.problems[0].code, round(time.perf_counter() - start, 3), len(data))
"""
CRAFTED = {"xlsx": SPARSE_XLSX, "xls": SPARSE_XLS, "ods": REPEATED_ODS, "xlsx_odd_part": ODD_XLSX,
           "xlsx_shared_strings": LYING_SHARED_STRINGS, "xls_dimensions": LYING_XLS_COUNTS,
           "xls_sst": LYING_SST_COUNT, "xlsx_prefixed": PREFIXED_XLSX, "xlsx_positional": POSITIONAL_XLSX,
           "xlsx_shared_copies": SHARED_COPIES_XLSX, "ods_repeated_text": REPEATED_TEXT_ODS,
           "xls_shared_copies": SHARED_COPIES_XLS}


@pytest.mark.parametrize("name", CRAFTED)
def test_a_tiny_file_that_would_make_the_reader_allocate_gigabytes_is_refused(name):
    """Unguarded, most of these make calamine ask for gigabytes and abort the whole process (the
    rest cost it hundreds of megabytes), though none is bigger than a couple of hundred kilobytes."""
    run = subprocess.run([sys.executable, "-c", CRAFTED[name] + CHECK_IN_CHILD], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    was_refused, code, took, size = run.stdout.split()
    assert was_refused == "True" and code in {"sheet_too_large", "damaged", "too_much_text"}
    assert int(size) < 250_000 and float(took) < FAST
