"""Checking a return does each piece of work once, and refuses everything it refused before.

Each part of a zip is inflated once, at the door, and the reader is handed those parts stored;
text already found free of child data is not searched again; sheet names are read only when a
message needs them. None of it may let through a file the door or the child-data scan refuses.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

import pytest

from loaders import check_return, guard, personal
from loaders.guard import ONE_GO, screen, unpacked
from tests.helpers.workbooks import FIXTURES, build_return

MAX = 5 * 1024 * 1024


def parts_of(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    z = zipfile.ZipFile(io.BytesIO(data))
    return [(info, z.read(info)) for info in z.infolist()]


def hand_zip(entries: list[tuple[bytes, bytes, int, int]]) -> bytes:
    """A zip of deflated parts written byte by byte: (name, deflate stream, declared size, CRC-32)."""
    local, central = b"", b""
    for name, raw, size, crc in entries:
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(raw), size,
                               len(name), 0, 0, 0, 0, 0, len(local)) + name
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(raw), size, len(name), 0)
        local += name + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(local), 0)
    return local + central + end


def deflate(body: bytes, finish: bool = True) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(body) + packer.flush(zlib.Z_FINISH if finish else zlib.Z_SYNC_FLUSH)


def from_parts(parts: list[tuple[zipfile.ZipInfo, bytes]], change: dict[str, tuple[bytes, int]] | None = None) -> bytes:
    """The parts again as a hand-made zip; ``change`` gives a part another (stream, declared size)."""
    entries = []
    for info, body in parts:
        raw, size = (change or {}).get(info.filename, (deflate(body), len(body)))
        entries.append((info.filename.encode(), raw, size, zlib.crc32(body)))
    return hand_zip(entries)


SOURCES = {
    "xlsx": lambda: build_return().data,
    "libreoffice xlsx": lambda: (FIXTURES / "libreoffice_valid.xlsx").read_bytes(),
    "ods": lambda: (FIXTURES / "libreoffice_valid.ods").read_bytes(),
}


# --------------------------------------------------------------------------- the reader's copy of the parts

@pytest.mark.parametrize("source", SOURCES)
def test_the_reader_is_handed_every_part_as_the_door_inflated_it(source):
    data = SOURCES[source]()
    screened = screen(data, MAX)
    assert screened.problem is None
    given = zipfile.ZipFile(io.BytesIO(unpacked(screened)))
    assert given.testzip() is None  # every part's checksum holds
    original = parts_of(data)
    assert [i.filename for i in given.infolist()] == [i.filename for i, _ in original]
    for (info, body), copy in zip(original, given.infolist()):
        assert copy.compress_type == zipfile.ZIP_STORED and copy.CRC == info.CRC
        assert given.read(copy) == body


@pytest.mark.parametrize("source", SOURCES)
def test_a_return_reads_the_same_whether_its_parts_are_stored_or_deflated(source):
    data = SOURCES[source]()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info, body in parts_of(data):
            z.writestr(info.filename, body)
    deflated, stored = check_return(data, "r"), check_return(out.getvalue(), "r")
    assert deflated.values and stored.values == deflated.values
    assert stored.problems == deflated.problems and stored.leads == deflated.leads


def test_a_part_that_does_not_match_its_checksum_still_fails_it_in_the_readers_copy():
    data = bytearray(build_return().data)
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # spoil the checksum the directory declares for the first sheet
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46:at + 46 + name_len]) == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, at + 16, struct.unpack_from("<I", data, at + 16)[0] ^ 0xFFFF)
        at = data.find(b"PK\x01\x02", at + 4)
    given = zipfile.ZipFile(io.BytesIO(unpacked(screen(bytes(data), MAX))))
    assert given.testzip() == "xl/worksheets/sheet1.xml"


def test_part_names_keep_their_spelling_and_flag():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, body in parts_of(build_return().data):
            z.writestr(info.filename, body)
        z.writestr("docProps/notes_é.xml", b"<notes/>")  # written as UTF-8, flagged
        z.writestr("docProps/plain_X.xml", b"<notes/>")
    data = out.getvalue().replace(b"docProps/plain_X.xml", b"docProps/plain_\x8e.xml")  # an old code page
    given = zipfile.ZipFile(io.BytesIO(unpacked(screen(data, MAX))))
    original = zipfile.ZipFile(io.BytesIO(data))
    assert "docProps/notes_é.xml" in given.namelist() and "docProps/plain_Ä.xml" in given.namelist()
    for mine, theirs in zip(given.infolist(), original.infolist()):
        assert (mine.orig_filename, mine.flag_bits & 0x800) == (theirs.orig_filename, theirs.flag_bits & 0x800)
    assert check_return(data, "r").valid


# --------------------------------------------------------------------------- inflating, small parts and large

def test_a_small_part_larger_than_it_declares_is_a_bomb():
    parts = parts_of(build_return().data)
    body = b"<row/>" * 200_000
    raw = deflate(body)
    assert len(raw) <= ONE_GO  # inflated in one call
    data = from_parts(parts + [(zipfile.ZipInfo("xl/media/extra.xml"), body)],
                      {"xl/media/extra.xml": (raw, 1000)})
    report = check_return(data, "r")
    assert [p.code for p in report.problems] == ["zip_bomb"] and "larger than it declares" in report.problems[0].message


def test_a_large_part_larger_than_it_declares_is_a_bomb():
    parts = parts_of(build_return().data)
    body = random.Random(3).randbytes(40_000)
    raw = deflate(body)
    assert len(raw) > ONE_GO  # inflated in bounded pieces
    data = from_parts(parts + [(zipfile.ZipInfo("xl/media/image1.bin"), body)],
                      {"xl/media/image1.bin": (raw, 1000)})
    report = check_return(data, "r")
    assert [p.code for p in report.problems] == ["zip_bomb"] and "larger than it declares" in report.problems[0].message


@pytest.mark.parametrize("size", [2_000, 60_000])
def test_a_part_cut_short_is_damaged_however_it_is_inflated(size):
    parts = parts_of(build_return().data)
    body = random.Random(size).randbytes(size)
    raw = deflate(body)
    data = from_parts(parts + [(zipfile.ZipInfo("xl/media/image1.bin"), body)],
                      {"xl/media/image1.bin": (raw[: len(raw) // 2], size)})
    assert [p.code for p in check_return(data, "r").problems] == ["damaged"]


@pytest.mark.parametrize("size", [2_000, 60_000])
def test_a_part_whose_stream_is_never_closed_but_holds_every_byte_is_read(size):
    """A deflate stream with no final block, though every byte is there: read, as it always was."""
    parts = parts_of(build_return().data)
    body = random.Random(size).randbytes(size)
    data = from_parts(parts + [(zipfile.ZipInfo("xl/media/image1.bin"), body)],
                      {"xl/media/image1.bin": (deflate(body, finish=False), size)})
    report = check_return(data, "r")
    assert not report.refused and report.valid, report.problems


# --------------------------------------------------------------------------- child data, however often it is seen

def test_a_name_heading_allowed_on_leads_is_still_refused_on_another_sheet_afterwards():
    assert check_return(build_return().data, "r").valid  # "Name" heads the Leads sheet: allowed there
    report = check_return(build_return(extra_sheets={"Working": [["Concern", "Name"]]}).data, "r")
    assert report.refused and (report.problems[0].code, report.problems[0].cell) == ("personal_data", "B1")


def test_the_same_child_data_is_refused_every_time():
    data = build_return(extra_sheets={"Working": [["Ref", "A123456789012"]]}).data
    for _ in range(3):
        report = check_return(data, "r")
        assert report.refused and report.problems[0].code == "personal_data" and not report.keep_bytes


def test_a_upn_in_text_that_reads_as_an_allowed_heading_is_refused():
    leads = [("Designated safeguarding lead", "Name (A123456789012)", None, None)]
    report = check_return(build_return(leads=leads).data, "r")
    assert report.refused and report.problems[0].code == "personal_data"
    assert "Unique Pupil Number" in report.problems[0].message


def test_the_memory_of_clean_text_stays_bounded(monkeypatch):
    monkeypatch.setattr(personal, "_CLEAN", set())
    monkeypatch.setattr(personal, "_CLEAN_MAX", 40)
    for n in range(3):
        assert check_return(build_return(values={"about.school_name": f"School {n}"}).data, "r").valid
        assert 0 < len(personal._CLEAN) <= 40
    assert not any(len(text) > personal._CLEAN_LONGEST for text in personal._CLEAN)


# --------------------------------------------------------------------------- sheet names, read only when needed

def test_a_sheet_too_large_is_named_in_its_refusal():
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Far away"
    book.active["A1"] = 1
    book.active.cell(row=2001, column=1000, value=2)
    out = io.BytesIO()
    book.save(out)
    report = check_return(out.getvalue(), "r")
    assert [p.code for p in report.problems] == ["sheet_too_large"]
    assert "Sheet 'Far away' stretches over 2,001 rows and 1,000 columns" in report.problems[0].message


# --------------------------------------------------------------------------- the zip's directory, read directly

def zipfile_reading(data: bytes):
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - whatever zipfile refuses
        return None
    return [(i.filename, i.orig_filename, i.flag_bits, i.compress_type, i.CRC, i.compress_size, i.file_size,
             i.header_offset) for i in z.infolist()], z.start_dir


def test_a_plain_zip_directory_is_read_as_zipfile_reads_it():
    data = build_return().data
    entries, start = guard._plain_directory(data)
    assert ([tuple(e) for e in entries], start) == zipfile_reading(data)


@pytest.mark.parametrize("change", ["comment", "prefix", "extra"])
def test_any_other_layout_is_left_to_zipfile(change):
    data = build_return().data
    if change == "comment":
        data = data[:-2] + struct.pack("<H", 4) + b"note"
    elif change == "prefix":
        data = b"MZ" * 100 + data
    elif change == "extra":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for info, body in parts_of(data):
                info.extra = struct.pack("<HH", 0x5455, 5) + b"\x01\x00\x00\x00\x00"
                z.writestr(info, body)
        data = out.getvalue()
    assert guard._plain_directory(data) is None
    if change != "prefix":  # (a file that does not start as a zip is no spreadsheet at all)
        assert check_return(data, "r").valid  # zipfile reads it


def test_the_directory_read_directly_agrees_with_zipfile_however_it_is_damaged():
    base = build_return().data
    rng = random.Random(17)
    read_directly = 0
    for _ in range(1500):
        data = bytearray(base)
        for _ in range(rng.randint(1, 3)):  # mostly in the directory and the end record
            data[rng.randrange(len(data) - 1500, len(data))] = rng.randrange(256)
        data = bytes(data)
        mine = guard._plain_directory(data)
        if mine is not None:
            read_directly += 1
            assert ([tuple(e) for e in mine[0]], mine[1]) == zipfile_reading(data)
    assert read_directly > 100


# --------------------------------------------------------------------------- sizing sheets by two quick searches

def sheet_parts(cells: bytes, shared: bytes | None = None) -> dict[str, bytes]:
    parts = {
        "xl/workbook.xml": b'<workbook><sheets><sheet name="Far" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
                                      b'</Relationships>',
        "xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row r=\"1\">" + cells + b"</row></sheetData></worksheet>",
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = b'<sst uniqueCount="1"><si><t>' + shared + b"</t></si></sst>"
    return parts


@pytest.mark.parametrize("far, refused", [
    (b"ZZ999", None), (b"zz999", None), (b"AAA2", None), (b"A9999", None),  # 702 x 999; 703 x 2; 1 x 9,999
    (b"ZZ1500", "1,500 rows and 702 columns"), (b"ABC1000", None), (b"ABC2000", "2,000 rows and 731 columns"),
    (b"XFD1048576", "1,048,576 rows and 16,384 columns"),
])
def test_a_sheet_is_sized_exactly_past_zz999(far, refused):
    from loaders.scan import scan_xlsx

    _, problem = scan_xlsx(sheet_parts(b'<c r="A1"><v>1</v></c><c r="' + far + b'"><v>2</v></c>'))
    if refused is None:
        assert problem is None
    else:
        assert problem.code == "sheet_too_large" and f"Sheet 'Far' stretches over {refused}" in problem.message


def test_shared_text_copied_into_plainly_spelt_cells_is_still_counted():
    from loaders.scan import scan_xlsx

    cells = b"".join(b'<c r="A%d" t="s"><v>0</v></c>' % r for r in range(1, 41))  # 40 copies of 1 MB
    assert scan_xlsx(sheet_parts(cells, b"x" * 1_000_000))[1].code == "too_much_text"
    assert scan_xlsx(sheet_parts(cells[: len(cells) // 2], b"x" * 1_000_000))[1] is None  # 20 MB is allowed
