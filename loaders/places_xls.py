"""The places an .xls keeps text outside its cells: notes and text boxes, page headers and
footers, defined names, data-validation messages, chart text, sheet names, and the document's
properties (their own streams beside the workbook). See places.py for what a place is.

Records are walked within a budget, charts' nested substreams included; a record too short for
what it claims is passed over, never trusted.
"""

from __future__ import annotations

import codecs
import struct
from typing import Iterator

from .places import FREE, LABEL, PAIR, PROPERTIES_FIX, SHEET, Place, Text, fixed, header_text, sheet_name_place
from .scan import a1

MAX_RECORDS = 300_000
_BOF, _EOF, _CONTINUE = 0x0809, 0x000A, 0x003C
_BOUNDSHEET, _NAME, _HEADER, _FOOTER = 0x0085, 0x0018, 0x0014, 0x0015
_NOTE, _OBJ, _TXO, _DV, _SERIESTEXT = 0x001C, 0x005D, 0x01B6, 0x01BE, 0x100D
_DRAWING = 0x00EC  # read only so that a TXO's text is never taken from a drawing's CONTINUE
_HEADER_FOOTER = 0x089C  # Excel 2007's first-page and even-page headers and footers
_HEADER_FIX = "remove it (Page Setup > Header/Footer)"
_VALIDATION_FIX = "remove it (Data > Data Validation)"


def _string(body: bytes, pos: int, count_size: int) -> tuple[str, int]:
    """An XLUnicodeString (count_size 2) or ShortXLUnicodeString (1) at pos: (text, where it ends)."""
    if pos + count_size + 1 > len(body):
        return "", len(body)
    count = body[pos] if count_size == 1 else struct.unpack_from("<H", body, pos)[0]
    return _chars(body, pos + count_size, count)


def _chars(body: bytes, pos: int, count: int) -> tuple[str, int]:
    """``count`` characters after a flags byte (bit 0: two bytes each): (text, where they end)."""
    if pos >= len(body):
        return "", len(body)
    wide, pos = body[pos] & 1, pos + 1
    end = pos + count * (2 if wide else 1)
    raw = body[pos:end]
    return (raw.decode("utf-16-le", "replace") if wide else raw.decode("latin-1")), end


_HEAD = struct.Struct("<HH")
_GLOBAL_KINDS = frozenset({_BOUNDSHEET, _NAME})
_SHEET_KINDS = frozenset({_HEADER, _FOOTER, _HEADER_FOOTER, _NOTE, _OBJ, _TXO, _CONTINUE, _DV, _SERIESTEXT, _DRAWING})


def _records(biff: bytes, pos: int, budget: list[int], wanted: frozenset) -> list[tuple[int, bytes]]:
    """(type, body) of the wanted records from pos to the end of its substream, nested substreams
    (charts) included; the others are stepped over unread."""
    out, depth, size, unpack, left = [], 0, len(biff), _HEAD.unpack_from, budget[0]
    while pos + 4 <= size and left > 0:
        left -= 1
        kind, length = unpack(biff, pos)
        if kind in wanted:
            out.append((kind, biff[pos + 4:pos + 4 + length]))
        pos += 4 + length
        if kind == _BOF:
            depth += 1
        elif kind == _EOF:
            depth -= 1
            if depth <= 0:
                break
    budget[0] = left
    return out


def xls_sheets(biff: bytes) -> list[tuple[int, str, int, int]]:
    """(offset, name, visibility, type) of each BOUNDSHEET, in tab order."""
    return _globals(biff, [MAX_RECORDS])[0]


def _globals(biff: bytes, budget: list[int]) -> tuple[list[tuple[int, str, int, int]], list[bytes]]:
    """The sheets (as xls_sheets) and the NAME records' bodies, from one walk of the globals."""
    sheets, names = [], []
    for kind, body in _records(biff, 0, budget, _GLOBAL_KINDS):
        if kind == _BOUNDSHEET and len(body) >= 8:
            offset, state, sheet_type = struct.unpack_from("<IBB", body)
            sheets.append((offset, _string(body, 6, 1)[0], state & 3, sheet_type))
        elif kind == _NAME and len(body) >= 14:
            names.append(body)
    return sheets, names


def xls_texts(biff: bytes, properties: dict[str, bytes] | None = None) -> Iterator[Text]:
    """Every text an .xls keeps outside its cells, with its place."""
    budget = [MAX_RECORDS]
    sheets, names = _globals(biff, budget)
    for n, (_, name, _, _) in enumerate(sheets, 1):
        yield Text(name, fixed(sheet_name_place(n, len(sheets))), SHEET)
    for body in names:
        yield from _name_texts(body, [name for _, name, _, _ in sheets])
    for offset, name, _, _ in sheets:
        yield from _sheet_texts(biff, offset, name, budget)
    for stream, body in (properties or {}).items():
        yield from property_texts(stream, body)


def _name_texts(body: bytes, sheets: list[str]) -> Iterator[Text]:
    flags, _, length, size, _, tab = struct.unpack_from("<HBBHHH", body)
    sheet = sheets[tab - 1] if 0 < tab <= len(sheets) else None
    hidden = flags & 0x0001
    what = ("a hidden defined name" if hidden else "a defined name") + (f" on {sheet}" if sheet else "")
    fix = ("delete it (it is hidden, so Name Manager does not list it: copy the return's sheets into a new "
           "workbook instead)" if hidden else "delete it (Formulas > Name Manager)")
    place = fixed(Place(what, sheet, None, fix))
    name, end = _chars(body, 14, length)
    if not flags & 0x0020:  # a built-in name (a print area) is one code character
        yield Text(name, place, LABEL)
    constants = _formula_strings(body[end:end + size])
    if constants:
        yield Text(" ".join(constants), place)


def _formula_strings(rgce: bytes) -> list[str]:
    """The text constants (ptgStr tokens) in a formula's tokens, read where they plainly sit."""
    out, pos = [], rgce.find(b"\x17")
    while 0 <= pos < len(rgce) - 2:
        text, end = _string(rgce, pos + 1, 1)
        if text:
            out.append(text)
        pos = rgce.find(b"\x17", max(end, pos + 1))
    return out


def _sheet_texts(biff: bytes, offset: int, sheet: str, budget: list[int]) -> Iterator[Text]:
    notes: dict[int, str] = {}  # obj id -> the note's cell
    boxes: list[tuple[int, str]] = []  # (obj id, text) of each TXO, in order
    last_obj, pending = None, None  # pending: [obj id, characters still to read, pieces]
    for kind, body in _records(biff, offset, budget, _SHEET_KINDS):
        if pending and kind == _CONTINUE:
            _read_piece(pending, body)
            continue
        if pending:
            boxes.append((pending[0], "".join(pending[2])))
            pending = None
        if kind == _OBJ and len(body) >= 8 and struct.unpack_from("<H", body)[0] == 0x0015:
            _, last_obj = struct.unpack_from("<HH", body, 4)
        elif kind == _TXO and len(body) >= 12:
            pending = [last_obj, struct.unpack_from("<H", body, 10)[0], []]
        elif kind == _NOTE and len(body) >= 8:
            row, col, _, oid = struct.unpack_from("<HHHH", body)
            notes[oid] = a1(row, col)
        else:
            yield from _record_texts(kind, body, sheet)
    if pending:
        boxes.append((pending[0], "".join(pending[2])))
    for oid, text in boxes:
        cell = notes.get(oid)
        if cell:
            yield Text(text, fixed(Place(f"a cell comment on {sheet}!{cell}", sheet, cell, "delete it")))
        else:
            yield Text(text, fixed(Place(f"a text box or shape on {sheet}", sheet)))


def _read_piece(pending: list, body: bytes) -> None:
    """A CONTINUE of a text box's text: a flags byte first in each piece; then formatting."""
    if pending[1] > 0 and body:
        room = (len(body) - 1) // 2 if body[0] & 1 else len(body) - 1
        text, _ = _chars(body, 0, min(pending[1], room))
        pending[2].append(text)
        pending[1] -= max(len(text), 1)


def _record_texts(kind: int, body: bytes, sheet: str) -> Iterator[Text]:
    """The texts a sheet record holds in itself: a page header or footer, a data validation's
    messages, a chart's title or labels."""
    if kind in (_HEADER, _FOOTER) and len(body) >= 3:
        what = "the page header" if kind == _HEADER else "the page footer"
        yield Text(header_text(_string(body, 0, 2)[0]), fixed(Place(f"{what} of {sheet}", sheet, None, _HEADER_FIX)))
    elif kind == _HEADER_FOOTER and len(body) >= 38:
        yield from _first_and_even(body, sheet)
    elif kind == _DV and len(body) >= 4:
        yield from _validation_texts(body, sheet)
    elif kind == _SERIESTEXT and len(body) >= 4:
        yield Text(_string(body, 2, 1)[0], fixed(Place(f"a chart's title or labels on {sheet}", sheet)))


def _first_and_even(body: bytes, sheet: str) -> Iterator[Text]:
    """The even-page header and footer, then the first-page ones, of a HEADERFOOTER record."""
    counts, pos = struct.unpack_from("<4H", body, 30), 38
    for count, what in zip(counts, ("the page header", "the page footer") * 2):
        if count:
            text, pos = _chars(body, pos, count)
            yield Text(header_text(text), fixed(Place(f"{what} of {sheet}", sheet, None, _HEADER_FIX)))


def _validation_texts(body: bytes, sheet: str) -> Iterator[Text]:
    pos, texts = 4, []
    for _ in range(4):  # prompt title, error title, prompt, error
        text, pos = _string(body, pos, 2)
        texts.append(text.strip("\x00"))
    listed, cell = [], None
    if pos + 4 <= len(body):
        size = struct.unpack_from("<H", body, pos)[0]
        listed = _formula_strings(body[pos + 4:pos + 4 + size])
        pos += 4 + size
        if pos + 4 <= len(body):
            pos += 4 + struct.unpack_from("<H", body, pos)[0]  # the second formula
            if pos + 10 <= len(body) and struct.unpack_from("<H", body, pos)[0]:
                row, _, col, _ = struct.unpack_from("<HHHH", body, pos + 2)  # the first range it covers
                cell = a1(row, col)
    where = f"{sheet}!{cell}" if cell else sheet
    for pair, what in (((texts[0], texts[2]), "the input message"), ((texts[1], texts[3]), "the error message")):
        text = " ".join(t for t in pair if t).strip()
        if text:
            yield Text(text, fixed(Place(f"{what} of a data validation on {where}", sheet, cell, _VALIDATION_FIX)))
    if listed:
        yield Text(" ".join(t.replace("\x00", ", ") for t in listed),
                   fixed(Place(f"the list of a data validation on {where}", sheet, cell, _VALIDATION_FIX)))


# ----------------------------------------------------------------------------- document properties

SUMMARY = {2: "the document's title", 3: "the document's subject", 4: "the document's author field",
           5: "the document's keywords", 6: "the document's comments field", 8: "the document's last-modified-by field"}
DOCUMENT = {2: "the document's category", 14: "the document's manager field", 15: "the document's company field",
            13: "the document's saved list of its sheets and names"}
_LPSTR, _LPWSTR, _VECTOR = 0x001E, 0x001F, 0x1000
MAX_PROPERTIES = 256


def property_texts(stream: str, data: bytes) -> Iterator[Text]:
    """The text properties of an OLE property set stream (SummaryInformation, DocumentSummaryInformation)."""
    try:
        sections = _sections(data)
    except (struct.error, ValueError, IndexError):
        return
    names = SUMMARY if "documentsummary" not in stream.lower() else DOCUMENT
    for index, (values, dictionary) in enumerate(sections):
        if index == 0:
            for pid, texts in values.items():
                if pid in names:
                    how = LABEL if pid == 13 and names is DOCUMENT else FREE
                    for text in texts:
                        yield Text(text, fixed(Place(names[pid], fix=PROPERTIES_FIX)), how)
        else:  # user-defined properties: their names are in the dictionary
            place = fixed(Place("a custom document property", fix="remove it (File > Properties > Custom)"))
            for pid, texts in values.items():
                yield Text(dictionary.get(pid, ""), place, PAIR, " ".join(texts))


def _sections(data: bytes) -> list[tuple[dict[int, list[str]], dict[int, str]]]:
    if data[:2] != b"\xfe\xff":
        return []
    count = struct.unpack_from("<I", data, 24)[0]
    out = []
    for i in range(min(count, 2)):
        start = struct.unpack_from("<I", data, 28 + 20 * i + 16)[0]
        out.append(_section(data, start))
    return out


def _section(data: bytes, start: int) -> tuple[dict[int, list[str]], dict[int, str]]:
    _, count = struct.unpack_from("<II", data, start)
    entries = [struct.unpack_from("<II", data, start + 8 + 8 * i) for i in range(min(count, MAX_PROPERTIES))]
    codepage = 1252
    for pid, offset in entries:
        if pid == 1:
            codepage = struct.unpack_from("<H", data, start + offset + 4)[0]
    values, dictionary = {}, {}
    for pid, offset in entries:
        at = start + offset
        if pid == 0:
            dictionary = _dictionary(data, at, codepage)
            continue
        kind = struct.unpack_from("<H", data, at)[0]
        if kind in (_LPSTR, _LPWSTR):
            values[pid] = [_property_string(data, at + 4, kind, codepage)[0]]
        elif kind in (_VECTOR | _LPSTR, _VECTOR | _LPWSTR):
            n, at, texts = struct.unpack_from("<I", data, at + 4)[0], at + 8, []
            for _ in range(min(n, MAX_PROPERTIES)):
                text, at = _property_string(data, at, kind & 0xFF, codepage)
                texts.append(text)
            values[pid] = texts
    return values, dictionary


def _property_string(data: bytes, at: int, kind: int, codepage: int) -> tuple[str, int]:
    size = struct.unpack_from("<I", data, at)[0]
    if kind == _LPWSTR or codepage == 1200:
        raw, end = data[at + 4:at + 4 + size * 2], at + 4 + size * 2
        end += -end % 4
        return raw.decode("utf-16-le", "replace").rstrip("\x00"), end
    raw, end = data[at + 4:at + 4 + size], at + 4 + size
    end += -end % 4
    return raw.decode(_codec(codepage), "replace").rstrip("\x00"), end


def _dictionary(data: bytes, at: int, codepage: int) -> dict[int, str]:
    count, at, out = struct.unpack_from("<I", data, at)[0], at + 4, {}
    for _ in range(min(count, MAX_PROPERTIES)):
        pid, size = struct.unpack_from("<II", data, at)
        if codepage == 1200:
            out[pid] = data[at + 8:at + 8 + size * 2].decode("utf-16-le", "replace").rstrip("\x00")
            at += 8 + size * 2
            at += -at % 4
        else:
            out[pid] = data[at + 8:at + 8 + size].decode(_codec(codepage), "replace").rstrip("\x00")
            at += 8 + size
    return out


def _codec(codepage: int) -> str:
    if codepage == 65001:
        return "utf-8"
    try:
        return codecs.lookup(f"cp{codepage}").name
    except LookupError:
        return "latin-1"
