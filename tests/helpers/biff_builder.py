"""Writing what xlwt cannot into an .xls return: notes, text boxes, data validation, defined
names, chart text (BIFF8 records, as [MS-XLS] lays them out) and document properties (OLE
property sets in their own streams, as [MS-OLEPS] lays them out).

``xls_return`` starts from the valid return ``build_return(fmt="xls")`` writes with xlwt, adds
records to the workbook's globals or to a sheet (moving the sheets' offsets to match) and packs
the streams into a compound file of its own, so property streams can sit beside the workbook.
"""

from __future__ import annotations

import struct
import uuid

from tests.helpers.workbooks import build_return

SUMMARY = uuid.UUID("F29F85E0-4FF9-1068-AB91-08002B27B3D9").bytes_le
DOCUMENT = uuid.UUID("D5CDD502-2E9C-101B-9397-08002B2CF9AE").bytes_le
USER_DEFINED = uuid.UUID("D5CDD505-2E9C-101B-9397-08002B2CF9AE").bytes_le


def record(kind: int, body: bytes) -> bytes:
    return struct.pack("<HH", kind, len(body)) + body


def unicode_string(text: str, count_size: int = 2) -> bytes:
    """An XLUnicodeString (count_size 2) or ShortXLUnicodeString (1), stored one byte a character
    when it can be, as Excel does."""
    try:
        raw, flags = text.encode("latin-1"), 0
    except UnicodeEncodeError:
        raw, flags = text.encode("utf-16-le"), 1
    count = struct.pack("<H", len(text)) if count_size == 2 else bytes([len(text)])
    return count + bytes([flags]) + raw


def ptg_str(text: str) -> bytes:
    return b"\x17" + unicode_string(text, 1)


# ----------------------------------------------------------------------------- records

def note(row: int, col: int, obj_id: int, text: str, author: str = "Robin Placeholder") -> list[bytes]:
    """A cell note: the OBJ and TXO (with its text) in the drawing part, the NOTE at the end."""
    cmo = struct.pack("<HHHHH", 0x15, 0x12, 0x19, obj_id, 0x4011) + bytes(12)
    nts = struct.pack("<HH", 0x0D, 0x16) + bytes(22)
    obj = record(0x005D, cmo + nts + struct.pack("<HH", 0, 0))
    return [obj, *text_object(text), record(0x001C, struct.pack("<HHHH", row, col, 0, obj_id) + unicode_string(author) + b"\x00")]


def text_box(obj_id: int, text: str) -> list[bytes]:
    cmo = struct.pack("<HHHHH", 0x15, 0x12, 0x06, obj_id, 0x6011) + bytes(12)
    return [record(0x005D, cmo + struct.pack("<HH", 0, 0)), *text_object(text)]


def text_object(text: str) -> list[bytes]:
    txo = struct.pack("<HH6sHHH", 0x0212, 0, bytes(6), len(text), 16, 0) + bytes(4)
    runs = struct.pack("<HHHH", 0, 0, 0, 0) + struct.pack("<HHHH", len(text), 0, 0, 0)
    return [record(0x01B6, txo), record(0x003C, b"\x00" + text.encode("latin-1")), record(0x003C, runs)]


def validation(row: int, col: int, *, prompt_title: str = "", prompt: str = "", error_title: str = "",
               error: str = "", choices: list[str] | None = None) -> list[bytes]:
    """A data validation on one cell (a list of choices, or any value), with its messages."""
    dval = record(0x01B2, struct.pack("<HIIII", 0x0004, 0, 0, 0xFFFFFFFF, 1))
    flags = 0x00040000 | 0x00080000 | (0x03 if choices else 0)  # show the messages; a list
    strings = b"".join(unicode_string(t or "\x00") for t in (prompt_title, error_title, prompt, error))
    formula = ptg_str("\x00".join(choices)) if choices else b""
    body = (struct.pack("<I", flags) + strings + struct.pack("<HH", len(formula), 0) + formula
            + struct.pack("<HH", 0, 0) + struct.pack("<HHHHH", 1, row, row, col, col))
    return [dval, record(0x01BE, body)]


def chart_with_title(title: str) -> list[bytes]:
    """An embedded chart's substream: its own BOF and EOF, with the title's text in SERIESTEXT."""
    bof = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0020, 0x0DBB, 0x07CC, 0, 0x0600))
    return [bof, record(0x1025, bytes(26)), record(0x100D, struct.pack("<H", 0) + unicode_string(title, 1)),
            record(0x000A, b"")]


def first_page_header(text: str) -> bytes:
    """A HEADERFOOTER record (Excel 2007 on): a different first page, whose header holds ``text``."""
    raw = b"\x00" + text.encode("latin-1")
    body = struct.pack("<HH8s16sH4H", 0x089C, 0, bytes(8), bytes(16), 0x0008, 0, 0, len(text), 0) + raw
    return record(0x089C, body)


def defined_name(name: str, text: str, *, hidden: bool = False, sheet: int = 0) -> bytes:
    """A NAME whose formula is a text constant (``="..."``)."""
    rgce = ptg_str(text)
    body = struct.pack("<HBBHHHBBBB", 0x0001 if hidden else 0, 0, len(name), len(rgce), 0, sheet, 0, 0, 0, 0)
    return record(0x0018, body + b"\x00" + name.encode("latin-1") + rgce)


# ----------------------------------------------------------------------------- the workbook stream

def _walk(biff: bytes):
    pos = 0
    while pos + 4 <= len(biff):
        kind, length = struct.unpack_from("<HH", biff, pos)
        yield pos, kind, length
        pos += 4 + length


def with_records(biff: bytes, globals_records=(), sheet_records: dict[int, list[bytes]] | None = None) -> bytes:
    """The workbook stream with records added before the EOF of the globals or of sheet n (from
    0), each BOUNDSHEET's offset moved to where its sheet now starts."""
    sheet_records = sheet_records or {}
    bounds, eofs = [], []
    for pos, kind, _length in _walk(biff):
        if kind == 0x0085:
            bounds.append(pos)
        elif kind == 0x000A:
            eofs.append(pos)
    inserts = {eofs[0]: b"".join(globals_records)}
    for n, records in sheet_records.items():
        inserts[eofs[n + 1]] = inserts.get(eofs[n + 1], b"") + b"".join(records)
    out, last = bytearray(), 0
    for at in sorted(inserts):
        out += biff[last:at] + inserts[at]
        last = at
    out += biff[last:]
    for pos in bounds:  # BOUNDSHEETs lie in the globals, before every insertion
        start = struct.unpack_from("<I", biff, pos + 4)[0]
        moved = sum(len(b) for at, b in inserts.items() if at < start)
        struct.pack_into("<I", out, pos + 4, start + moved)
    return bytes(out)


def xls_return(*, globals_records=(), sheet_records=None, properties: dict[str, bytes] | None = None,
               **build) -> bytes:
    """A valid .xls return (``build_return``'s knobs apply) with records and property streams added."""
    books = []
    build_return(fmt="xls", finish=books.append, **build)
    biff = with_records(books[0].get_biff_data(), globals_records, sheet_records)
    return compound({"Workbook": biff, **(properties or {})})


# ----------------------------------------------------------------------------- the compound file

ENDOFCHAIN, FREESECT, FATSECT, NOSTREAM = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF


def compound(streams: dict[str, bytes]) -> bytes:
    """An OLE2 compound file (version 3, 512-byte sectors) holding the streams. Every stream is
    padded to 4,096 bytes at least, so none goes in the mini stream."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))  # the directory's order
    assert len(names) <= 3
    fat, sectors, entries = [FATSECT, ENDOFCHAIN], [], []
    for name in names:
        body = streams[name] + bytes(max(0, 4096 - len(streams[name])))
        body += bytes(-len(body) % 512)
        start, count = len(fat), len(body) // 512
        fat += list(range(start + 1, start + count)) + [ENDOFCHAIN]
        sectors.append(body)
        entries.append((name, start, len(body)))
    assert len(fat) <= 128
    fat_sector = struct.pack("<128I", *(fat + [FREESECT] * (128 - len(fat))))
    directory = _entry("Root Entry", 5, ENDOFCHAIN, 0, child=1 if entries else NOSTREAM)
    for i, (name, start, size) in enumerate(entries, 1):
        directory += _entry(name, 2, start, size, right=i + 1 if i < len(entries) else NOSTREAM)
    directory += bytes(512 - len(directory))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH6sIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, bytes(6), 0, 1, 1, 0, 4096,
                            ENDOFCHAIN, 0, ENDOFCHAIN, 0)
              + struct.pack("<109I", 0, *([FREESECT] * 108)))
    return header + fat_sector + directory + b"".join(sectors)


def _entry(name: str, kind: int, start: int, size: int, *, child: int = NOSTREAM, right: int = NOSTREAM) -> bytes:
    raw = (name + "\x00").encode("utf-16-le")
    return (raw + bytes(64 - len(raw)) + struct.pack("<HBBIII", len(raw), kind, 1, NOSTREAM, right, child)
            + bytes(16) + struct.pack("<I", 0) + bytes(16) + struct.pack("<III", start, size, 0))


# ----------------------------------------------------------------------------- document properties

def property_set(*sections: tuple[bytes, dict[int, str], dict[int, str] | None]) -> bytes:
    """A property set stream: each section (FMTID, {property id: text}, {property id: name} for
    user-defined ones) with code page 1252 and the texts as VT_LPSTR."""
    bodies = [_section(values, names) for _, values, names in sections]
    head = struct.pack("<HHI16sI", 0xFFFE, 0, 0x00020006, bytes(16), len(sections))
    offset = len(head) + 20 * len(sections)
    for (fmtid, _, _), body in zip(sections, bodies):
        head += fmtid + struct.pack("<I", offset)
        offset += len(body)
    return head + b"".join(bodies)


def _section(values: dict[int, str], names: dict[int, str] | None) -> bytes:
    props = [(1, struct.pack("<HHH2x", 0x0002, 0, 1252))]
    if names:
        dictionary = struct.pack("<I", len(names))
        for pid, name in names.items():
            raw = name.encode("cp1252") + b"\x00"
            dictionary += struct.pack("<II", pid, len(raw)) + raw
        props.append((0, dictionary + bytes(-len(dictionary) % 4)))
    for pid, text in values.items():
        raw = text.encode("cp1252") + b"\x00"
        props.append((pid, struct.pack("<HHI", 0x001E, 0, len(raw)) + raw + bytes(-len(raw) % 4)))
    table_size = 8 + 8 * len(props)
    table, data, offset = b"", b"", table_size
    for pid, body in props:
        table += struct.pack("<II", pid, offset)
        data += body
        offset += len(body)
    return struct.pack("<II", table_size + len(data), len(props)) + table + data


def summary(**fields: str) -> dict[str, bytes]:
    """The property streams an .xls would carry, from SummaryInformation's title, subject, author,
    keywords, comments, last_author; DocumentSummaryInformation's company, manager, category; and
    custom={name: value}."""
    summary_ids = {"title": 2, "subject": 3, "author": 4, "keywords": 5, "comments": 6, "last_author": 8}
    document_ids = {"category": 2, "manager": 14, "company": 15}
    custom = fields.pop("custom", {}) or {}
    streams = {"\x05SummaryInformation": property_set(
        (SUMMARY, {summary_ids[k]: v for k, v in fields.items() if k in summary_ids}, None))}
    doc_values = {document_ids[k]: v for k, v in fields.items() if k in document_ids}
    sections = [(DOCUMENT, doc_values, None)]
    if custom:
        pids = {name: 2 + i for i, name in enumerate(custom)}
        sections.append((USER_DEFINED, {pids[n]: v for n, v in custom.items()}, {p: n for n, p in pids.items()}))
    streams["\x05DocumentSummaryInformation"] = property_set(*sections)
    return streams
