"""The door: turn away files that are too big, not a spreadsheet, locked, macro-enabled or hostile.

Nothing here parses a spreadsheet. It looks only at the container (a zip for .xlsx/.ods, an
OLE2 compound file for .xls) with fixed caps on size, entry count and expansion, so a crafted
file is refused in milliseconds and bounded memory before any parser sees it.
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from io import BytesIO
from typing import NamedTuple

from .compound import Compound
from .problems import (
    DAMAGED,
    FILE_TOO_LARGE,
    MACRO_ENABLED,
    NOT_A_SPREADSHEET,
    OVERLAPPING_PARTS,
    PASSWORD_PROTECTED,
    TOO_MANY_PARTS,
    UNSUPPORTED_FORMAT,
    ZIP_BOMB,
    Kind,
)
from .report import Problem

XLSX, ODS, XLS = "xlsx", "ods", "xls"

MAX_ENTRIES = 1000  # a workbook holds a few dozen parts
MAX_TOTAL_UNCOMPRESSED = 50 * 1024 * 1024
MAX_RATIO = 100  # expansion allowed for any part bigger than RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_BIFF_RECORDS = 500_000

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
AGAIN = "save the return as .xlsx from Excel or LibreOffice and upload that"


@dataclass
class Screen:
    """What the door found: the format, or the reason the file was turned away."""

    kind: str | None = None
    problem: Problem | None = None
    biff: bytes | None = None  # the .xls workbook stream, read once here
    # the .xls document properties' streams (SummaryInformation ...), by lower-case name, read once here
    properties: dict[str, bytes] | None = None
    parts: dict[str, bytes] | None = None  # every part of a zip, inflated once here (sizes proven)
    # for each part, in the order of ``parts``: its name as the zip spells it, CRC-32 and name flag
    names: list[tuple[bytes, int, int]] | None = None


def screen(data: bytes, max_bytes: int) -> Screen:
    """Sniff the format from the bytes (never the name) and apply every cap."""
    if len(data) > max_bytes:
        return Screen(problem=too_large(len(data), max_bytes))
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _screen_zip(data)
    if data[:8] == OLE_MAGIC:
        return _screen_ole(data)
    return Screen(problem=not_a_spreadsheet(_looks_like(data)))


def too_large(size: int, max_bytes: int) -> Problem:
    return FILE_TOO_LARGE(
        f"The file is {_size(size)}; a return is normally under 100 KB and the largest accepted is "
        f"{_size(max_bytes)}. Check it is the return (not a report or a photo), delete pictures "
        "and extra sheets if there are any, and upload again.",
    )


def not_a_spreadsheet(looks_like: str = "") -> Problem:
    seen = f" (It looks like {looks_like}.)" if looks_like else ""
    return NOT_A_SPREADSHEET("This file is not a spreadsheet: save it as .xlsx from Excel or LibreOffice and upload "
                             f"that.{seen}")


def damaged() -> Problem:
    return DAMAGED("This file is damaged or incomplete (perhaps it did not finish downloading): open it "
                   "in Excel or LibreOffice, save it again as .xlsx and upload that.")


def _password() -> Problem:
    return PASSWORD_PROTECTED("This file is password-protected: remove the password (File > Info > Protect "
                              "Workbook) and upload again.")


def macro_enabled() -> Problem:
    return MACRO_ENABLED("This file is macro-enabled; save as .xlsx (Excel Workbook) and upload that. "
                         "Files carrying macros are never opened here.")


def _hostile(kind: Kind, what: str) -> Problem:
    return kind(f"This file {what}, which no spreadsheet program writes, so it has been "
                f"refused. If it is a real return, {AGAIN}.")


# ----------------------------------------------------------------------------- zip (.xlsx, .ods)

def _screen_zip(data: bytes) -> Screen:
    counted = _central_directory_size(data)
    if counted is None:
        return Screen(problem=damaged())
    entries, cd_size = counted
    if entries > MAX_ENTRIES or cd_size > MAX_ENTRIES * 400:
        return Screen(problem=_hostile(TOO_MANY_PARTS, f"holds {entries:,} parts (a spreadsheet holds a few dozen)"))
    read = _plain_directory(data)
    if read is None:  # anything but the plain layout: zipfile reads it, with all its checks
        try:
            zf = zipfile.ZipFile(BytesIO(data))
            read = zf.infolist(), zf.start_dir
        except Exception:  # noqa: BLE001 - zipfile raises many kinds (even NotImplementedError) on junk
            return Screen(problem=damaged())
    infos, start_dir = read
    if len(infos) > MAX_ENTRIES:
        return Screen(problem=_hostile(TOO_MANY_PARTS, f"holds {len(infos):,} parts (a spreadsheet holds a few dozen)"))
    try:
        problem, starts = _check_layout(data, start_dir, infos)
        problem = problem or _check_declared(data, infos)
        if problem:
            return Screen(problem=problem)
        parts, names = {}, []
        for info, start in zip(infos, starts):
            body = _inflate(data, start, info)
            if body is TOO_BIG:
                return Screen(problem=_hostile(ZIP_BOMB, f"holds a part ({info.filename}) larger than it declares"))
            if body is None:
                return Screen(problem=damaged())
            parts[info.filename] = body
            utf8 = info.flag_bits & UTF8_NAME
            names.append((info.orig_filename.encode("utf-8" if utf8 else "cp437"), info.CRC, utf8))
        screened = _sniff_zip(parts)
        if screened.kind:
            screened.parts, screened.names = parts, names
        return screened
    except Exception:  # noqa: BLE001 - a header that lies in some new way is still a damaged file
        return Screen(problem=damaged())


def _sniff_zip(parts: dict[str, bytes]) -> Screen:
    lower = {n.lower() for n in parts}
    if any("vbaproject" in n or "macrosheets/" in n or n.startswith("basic/") for n in lower):
        return Screen(problem=macro_enabled())
    if "[Content_Types].xml" in parts:
        types = parts["[Content_Types].xml"].lower()
        if b"macroenabled" in types or b"vbaproject" in types or b"macrosheet" in types:
            return Screen(problem=macro_enabled())
        if "xl/workbook.bin" in lower:
            return Screen(problem=UNSUPPORTED_FORMAT("This is an Excel binary workbook (.xlsb): save it as .xlsx "
                                                     "(Excel Workbook) and upload that."))
        if "xl/workbook.xml" in lower:
            return Screen(kind=XLSX)
        if "word/document.xml" in lower:
            return Screen(problem=not_a_spreadsheet("a Word document"))
        return Screen(problem=not_a_spreadsheet())
    if parts.get("mimetype", b"").strip() == ODS_MIME:
        if b"encryption-data" in parts.get("META-INF/manifest.xml", b""):
            return Screen(problem=_password())
        return Screen(kind=ODS)
    return Screen(problem=not_a_spreadsheet("a zip archive"))


def _central_directory_size(data: bytes) -> tuple[int, int] | None:
    """(entries, directory bytes) from the end record, read before anything trusts the directory."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if at < 0 or at + 22 > len(data):
        return None
    entries, cd_size = struct.unpack_from("<HI", data, at + 10)
    if entries == 0xFFFF or cd_size == 0xFFFFFFFF:  # zip64: the true counts are in another record
        loc = at - 20
        if loc < 0 or data[loc:loc + 4] != b"PK\x06\x07":
            return entries, cd_size  # no zip64 record: the capped counts still tell
        (z64,) = struct.unpack_from("<Q", data, loc + 8)
        if z64 + 56 > len(data) or data[z64:z64 + 4] != b"PK\x06\x06":
            return None
        entries, cd_size = struct.unpack_from("<QQ", data, z64 + 32)
    return entries, cd_size


class Entry(NamedTuple):
    """A part as the zip's directory lists it (the ZipInfo fields the door uses)."""

    filename: str
    orig_filename: str
    flag_bits: int
    compress_type: int
    CRC: int
    compress_size: int
    file_size: int
    header_offset: int


_DIRECTORY_ENTRY = struct.Struct("<4s2xBxHH4xIIIHHH8xI")


def _plain_directory(data: bytes) -> tuple[list[Entry], int] | None:
    """The directory of a zip laid out the plain way, as zipfile would read it: the end record
    last with no comment, no zip64 records, nothing before the first part and no extra fields
    in the directory. (entries, where the directory starts), or None for any other zip, which is
    then left to zipfile."""
    end = len(data) - 22
    if end < 0 or data[end:end + 4] != b"PK\x05\x06" or data[-2:] != b"\x00\x00":
        return None
    if end >= 20 and data[end - 20:end - 16] == b"PK\x06\x07":  # a zip64 locator
        return None
    size, start = struct.unpack_from("<II", data, end + 12)
    if start + size != end:  # something before the first part, or a directory that does not fit
        return None
    entries, at, new = [], start, tuple.__new__
    while at < end:
        if at + 46 > end:
            return None
        (sig, version, flags, method, crc, packed, size, name_len, extra_len, comment_len,
         offset) = _DIRECTORY_ENTRY.unpack_from(data, at)
        after = at + 46 + name_len
        if sig != b"PK\x01\x02" or extra_len or version > zipfile.MAX_EXTRACT_VERSION or \
                after + comment_len > end:
            return None
        try:
            name = data[at + 46:after].decode("utf-8" if flags & UTF8_NAME else "cp437")
        except UnicodeDecodeError:
            return None
        if "\x00" in name:
            return None
        entries.append(new(Entry, (name, name, flags, method, crc, packed, size, offset)))
        at = after + comment_len
    return entries, start


def _check_layout(data: bytes, start_dir: int, infos: list) -> tuple[Problem | None, list[int]]:
    """Refuse entries whose stored bytes overlap (the overlapped zip bomb) or run off the end.
    Also where each part's stored bytes begin, past its local header."""
    spans, starts = [], []
    seen_names = set()
    size = len(data)
    for info in infos:
        if info.filename in seen_names:
            return _hostile(OVERLAPPING_PARTS, "names the same part twice"), starts
        seen_names.add(info.filename)
        if info.flag_bits & 0x1:
            return _password(), starts
        start = info.header_offset
        if start + 30 > size or not data.startswith(b"PK\x03\x04", start):
            return damaged(), starts
        name_len, extra_len = _LOCAL_NAME.unpack_from(data, start + 26)
        body = start + 30 + name_len + extra_len
        end = body + info.compress_size
        if end > size:
            return damaged(), starts
        spans.append((start, end))
        starts.append(body)
    spans.sort()
    for (_, end), (next_start, _) in zip(spans, spans[1:]):
        if end > next_start:
            return _hostile(OVERLAPPING_PARTS, "has parts stored on top of one another"), starts
    if spans and spans[-1][1] > start_dir:
        return _hostile(OVERLAPPING_PARTS, "has parts stored on top of its own index"), starts
    return None, starts


_LOCAL_NAME = struct.Struct("<HH")  # a local header's name and extra field lengths


def _check_declared(data: bytes, infos: list[zipfile.ZipInfo]) -> Problem | None:
    """Cap the declared sizes before inflating anything."""
    declared = sum(i.file_size for i in infos)
    if declared > MAX_TOTAL_UNCOMPRESSED:
        return _hostile(ZIP_BOMB, f"expands to {_size(declared)} from {_size(len(data))}")
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            return _hostile(ZIP_BOMB, f"expands {info.file_size // max(info.compress_size, 1):,} times "
                                        f"over (part {info.filename})")
    return None


TOO_BIG = b"<larger than declared>"
# A part stored in at most this many bytes is inflated in one call: no deflate stream expands more
# than 1,032 times (a length and a distance take two bits at least, for 258 bytes), so even a part
# that lies about its size costs no more than about 8 MB, well under what a file may declare.
ONE_GO = 8 * 1024


def _inflate(data: bytes, start: int, info: zipfile.ZipInfo) -> bytes | None:
    """The part's bytes (stored from ``start``); TOO_BIG if it inflates to more than it declares;
    None if it is corrupt.

    A small part is inflated in one call (see ONE_GO). Any other is inflated in bounded pieces,
    counted, so a part that lies about its size costs no more than its declared size plus one piece.
    """
    raw = data[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return raw if len(raw) == info.file_size else None
    if info.compress_type != zipfile.ZIP_DEFLATED:
        return None
    if len(raw) <= ONE_GO:  # small: even a lying part could not reach more than ONE_GO * 1032 bytes
        try:
            body = zlib.decompress(raw, -15, info.file_size)
        except zlib.error:
            pass  # truncated or corrupt: the careful way below tells which
        else:
            if len(body) > info.file_size:
                return TOO_BIG
            return body if len(body) == info.file_size else None
    inflater = zlib.decompressobj(-15)
    out, produced, piece = [], 0, 64 * 1024
    try:
        pending = raw
        while pending:
            chunk = inflater.decompress(pending, piece)
            produced += len(chunk)
            if produced > info.file_size:
                return TOO_BIG
            out.append(chunk)
            pending = inflater.unconsumed_tail
        out.append(inflater.flush())
    except zlib.error:
        return None
    body = b"".join(out)
    if len(body) > info.file_size:
        return TOO_BIG
    return body if len(body) == info.file_size else None


UTF8_NAME = 0x800  # the general-purpose flag saying a part's name is UTF-8
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


def unpacked(screen: Screen) -> bytes:
    """The screened zip again with every part stored as the door inflated it, for the reader.

    Each part is inflated once, here at the door, where its size is proven. Names, order and
    each part's declared CRC-32 are kept, so the reader sees the same parts and still notices a
    part whose bytes do not match its checksum.
    """
    pieces, central, offset = [], [], 0
    for body, (name, crc, flag) in zip(screen.parts.values(), screen.names):
        size = len(body)
        pieces += (_LOCAL.pack(0x04034B50, 20, flag, 0, 0, 0x21, crc, size, size, len(name), 0), name, body)
        central += (_CENTRAL.pack(0x02014B50, 20, 20, flag, 0, 0, 0x21, crc, size, size, len(name), 0, 0, 0, 0, 0,
                                  offset), name)
        offset += _LOCAL.size + len(name) + size
    directory = b"".join(central)
    count = len(screen.names)
    pieces += (directory, _END.pack(0x06054B50, 0, 0, count, count, len(directory), offset, 0))
    return b"".join(pieces)


# ----------------------------------------------------------------------------- OLE2 (.xls)

def _screen_ole(data: bytes) -> Screen:
    try:
        ole = Compound(data)
        names = ole.names()
        if "encryptedpackage" in names or "encryptioninfo" in names:
            return Screen(problem=_password())
        if "_vba_project_cur" in names or "vba" in names:
            return Screen(problem=macro_enabled())
        stream = ole.workbook()
        if stream is None:
            looks = "a Word document" if "worddocument" in names else "an Outlook or Office file"
            return Screen(problem=not_a_spreadsheet(looks))
        biff = ole.read(stream)
        properties = {name: ole.read(names[name]) for name in PROPERTY_STREAMS if name in names}
    except Exception:  # noqa: BLE001 - any inconsistency in the container means it is damaged
        return Screen(problem=damaged())
    if _biff_encrypted(biff):
        return Screen(problem=_password())
    return Screen(kind=XLS, biff=biff, properties=properties)


# Where an .xls keeps its document properties (title, author, company, custom ones): beside the workbook.
PROPERTY_STREAMS = ("\x05summaryinformation", "\x05documentsummaryinformation")


def _biff_encrypted(biff: bytes) -> bool:
    """A FILEPASS record in the workbook globals means the sheets are encrypted."""
    pos = 0
    for _ in range(MAX_BIFF_RECORDS):
        if pos + 4 > len(biff):
            return False
        kind, length = struct.unpack_from("<HH", biff, pos)
        if kind == 0x002F:
            return True
        if kind == 0x000A:  # EOF of the globals
            return False
        pos += 4 + length
    return False


# ----------------------------------------------------------------------------- wording

_SIGNATURES = (
    (b"%PDF", "a PDF"), (b"\x89PNG", "a picture"), (b"\xff\xd8\xff", "a picture"), (b"GIF8", "a picture"),
    (b"{\\rtf", "a Word document"), (b"<html", "a web page"), (b"<!doctype", "a web page"),
)


def _looks_like(data: bytes) -> str:
    if not data:
        return "an empty file"
    head = data[:64].lstrip().lower()
    for magic, what in _SIGNATURES:
        if head.startswith(magic.lower()):
            return what
    sample = data[:2048]
    if b"\x00" not in sample and re.search(rb"[,;\t]", sample):
        return "a CSV or text file"
    return ""


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{max(1, round(n / 1024))} KB"
