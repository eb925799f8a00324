"""The places an .xlsx keeps text outside its cells: comments (notes and threads), headers and
footers, defined names, charts, shapes and pictures' alternative text, data-validation messages,
Excel tables, pivot caches, sheet names and the document's properties (core, app, custom). See
places.py for what a place is. What every return made from the template repeats (the workbook
part, what stands around each sheet's cells) is read once and remembered; forget() empties that
memory after a refusal."""

from __future__ import annotations

import html
import posixpath
import re
from functools import lru_cache
from typing import Callable, Iterator

from .places import FREE, HEADING, LABEL, PAIR, PROPERTIES_FIX, SHEET, Place, Text, fixed, header_text, sheet_name_place
from .scan import _REL_TAG, _xlsx_sheet_names
from .scan import _attrs as _read_attrs

_ROOT = re.compile(rb"\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<(?:[\w.-]+:)?([\w]+)", re.S)
_DEFINED = re.compile(rb"<(?:[\w.-]+:)?definedName\s([^>]*)>(.*?)</(?:[\w.-]+:)?definedName>", re.S)
_HEADER_FOOTER = re.compile(rb"<(?:[\w.-]+:)?(odd|even|first)(Header|Footer)(?:\s[^>]*)?(?<!/)>(.*?)</", re.S)
_VALIDATION = re.compile(rb"<(?:[\w.-]+:)?dataValidation\s([^>]*?)(?:/>|>(.*?)</(?:[\w.-]+:)?dataValidation>)", re.S)
_VALIDATION_TAG = re.compile(rb"<(?:[\w.-]+:)?dataValidation\s[^>]*>")
_FORMULA1 = re.compile(rb"<(?:[\w.-]+:)?formula1>(.*?)</", re.S)
_SQREF = re.compile(rb"<(?:xm:)?sqref>([^<]*)<")
_COMMENT = re.compile(rb"<(?:[\w.-]+:)?(?:threadedComment|comment)\s([^>]*)>(.*?)</(?:[\w.-]+:)?(?:threadedComment|comment)>",
                      re.S)
_TEXT_RUN = re.compile(rb"<(?:[\w.-]+:)?(t|text)(?:\s[^>]*)?>([^<]*)</(?:[\w.-]+:)?\1>")  # <text>: a thread
_PARAGRAPH = re.compile(rb"<(?:[\w.-]+:)?p[\s>].*?</(?:[\w.-]+:)?p>", re.S)
_ANCHOR = re.compile(rb"<(?:[\w.-]+:)?(twoCellAnchor|oneCellAnchor|absoluteAnchor)\b.*?</(?:[\w.-]+:)?\1>", re.S)
_ALT_TEXT = re.compile(rb"<(?:[\w.-]+:)?cNvPr\s([^>]*)>")
_FROM = re.compile(rb"<(?:[\w.-]+:)?from>\s*<(?:[\w.-]+:)?col>(\d+)<.*?<(?:[\w.-]+:)?row>(\d+)<", re.S)
_CHART_TITLE = re.compile(rb"<(?:[\w.-]+:)?title>.*?</(?:[\w.-]+:)?title>", re.S)
_CACHED = re.compile(rb"<(?:[\w.-]+:)?(?:v|pt)(?:\s[^>]*)?>([^<]*)</")
_TAGS = re.compile(rb"<[^>]*>")
_CORE = re.compile(rb"<(?:[\w.-]+:)?(title|subject|creator|keywords|description|lastModifiedBy|category|"
                   rb"contentStatus|identifier|version)(?:\s[^>]*)?>(.*?)</", re.S)
_APP = re.compile(rb"<(?:[\w.-]+:)?(Company|Manager|HyperlinkBase|TitlesOfParts)(?:\s[^>]*)?>(.*?)</(?:[\w.-]+:)?\1>",
                  re.S)
_CUSTOM = re.compile(rb"<(?:[\w.-]+:)?property\s([^>]*)>(.*?)</(?:[\w.-]+:)?property>", re.S)
_TABLE_HEAD = re.compile(rb"\s*(?:<\?xml[^>]*\?>\s*)?<(?:[\w.-]+:)?table\s([^>]*)>")
_TABLE_COLUMN = re.compile(rb"<(?:[\w.-]+:)?tableColumn\s([^>]*)>")
_PIVOT_FIELD = re.compile(rb"<(?:[\w.-]+:)?cacheField\s([^>]*)>")
_PIVOT_ITEM = re.compile(rb"<(?:[\w.-]+:)?s\s+v\s*=\s*\"([^\"]*)\"")

CORE_FIELDS = {
    "title": "the document's title", "subject": "the document's subject", "creator": "the document's author field",
    "keywords": "the document's tags (keywords)", "description": "the document's comments field",
    "lastModifiedBy": "the document's last-modified-by field", "category": "the document's category",
    "contentStatus": "the document's status field", "identifier": "the document's identifier",
    "version": "the document's version field",
}
APP_FIELDS = {"Company": "the document's company field", "Manager": "the document's manager field",
              "HyperlinkBase": "the document's hyperlink base",
              "TitlesOfParts": "the document's saved list of its sheets and names"}
_HEADER_WORD = {b"Header": "page header", b"Footer": "page footer"}
_HEADER_FIX = "remove it (Page Setup > Header/Footer)"
_VALIDATION_FIX = "remove it (Data > Data Validation)"


@lru_cache(maxsize=4096)
def _attrs(raw: bytes) -> dict[str, str]:
    """A tag's attributes (read once for the tags every return repeats: sheets, names, rules). Not to be changed."""
    return _read_attrs(raw)


def _text(raw: bytes) -> str:
    return html.unescape(raw.decode("utf-8", "replace"))


def _rich(xml: bytes) -> str:
    """The text of rich-text runs: runs joined, paragraphs apart."""
    paragraphs = _PARAGRAPH.findall(xml) or [xml]
    return " ".join("".join(_text(t) for _, t in _TEXT_RUN.findall(p)) for p in paragraphs).strip()


class _Xlsx:
    """What an .xlsx's places need to know about the workbook, worked out when first asked."""

    def __init__(self, parts: dict[str, bytes]):
        self.parts = parts
        self._sheets: dict[str, str] | None = None
        self._owners: dict[str, str] | None = None

    def sheet_of(self, part: str) -> str | None:
        """The sheet that holds a part (a comments part, a drawing, a chart), through the relationships."""
        if self._sheets is None:
            self._sheets = {k.lower(): v for k, v in _xlsx_sheet_names(self.parts).items()}
            self._owners = _owners(self.parts)
        at = part.lower()
        for _ in range(4):
            if at in self._sheets:
                return self._sheets[at]
            at = self._owners.get(at)
            if at is None:
                return None
        return None

    def on(self, part: str, what: str, cell: str | None = None, fix: str = "remove it") -> Place:
        sheet = self.sheet_of(part)
        if sheet is None:
            return Place(what, fix=fix)
        return Place(f"{what} on {sheet}!{cell}" if cell else f"{what} on {sheet}", sheet, cell, fix)


def _owners(parts: dict[str, bytes]) -> dict[str, str]:
    """Each part (lower-cased) -> the part whose relationships point at it."""
    out: dict[str, str] = {}
    for name, xml in parts.items():
        folder, sep, file = name.lower().rpartition("_rels/")
        if not sep or not file.endswith(".rels"):
            continue
        folder = folder.rstrip("/")
        source = posixpath.join(folder, file[:-5])
        for m in _REL_TAG.finditer(xml):
            attrs = _attrs(m.group(1))
            if attrs.get("TargetMode", "").lower() == "external":
                continue
            target = attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
            out.setdefault(path.lower(), source)
    return out


def xlsx_sheet_names(parts: dict[str, bytes]) -> list[tuple[str, str]]:
    """(name, state) of every sheet, chart sheets too, in tab order."""
    names = {n.lower(): n for n in parts}
    return list(_book(parts.get(names.get("xl/workbook.xml", ""), b""))[0])


_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\s([^>]*)>")


@lru_cache(maxsize=256)
def _book(xml: bytes) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str, bool], ...]]:
    """The workbook part's sheets (name, state) and defined names (name, value, localSheetId,
    hidden): read once for the workbook part every return made from the same template shares."""
    sheets = tuple((a.get("name", ""), a.get("state", "visible")) for a in map(_attrs, _SHEET.findall(xml)))
    defined = []
    for m in _DEFINED.finditer(xml):
        attrs = _attrs(m.group(1))
        defined.append((attrs.get("name", ""), _text(m.group(2)), attrs.get("localSheetId", ""),
                        attrs.get("hidden", "") in ("1", "true")))
    return sheets, tuple(defined)


def xlsx_texts(parts: dict[str, bytes], known: Callable[[str], bool] = lambda _text: False) -> Iterator[Text]:
    """Every text an .xlsx keeps outside its cells, with its place. Free text ``known`` to be
    clean is passed over where the template repeats it in every return (data-validation
    messages, defined names), so a clean return costs little more than the reading."""
    book = _Xlsx(parts)
    sheets = xlsx_sheet_names(parts)
    for n, (name, _) in enumerate(sheets, 1):
        yield Text(name, fixed(sheet_name_place(n, len(sheets))), SHEET)
    for part, xml in parts.items():
        root = _ROOT.match(xml)
        kind = root.group(1) if root else b""
        if kind in (b"worksheet", b"chartsheet"):
            yield from _sheet_texts(book, part, xml, known)
        elif kind == b"workbook":
            yield from _defined_names(xml, [name for name, _ in sheets], known)
        else:
            yield from _part_texts(book, part, kind, xml)


def _part_texts(book: _Xlsx, part: str, kind: bytes, xml: bytes) -> Iterator[Text]:
    """The texts of a part other than a sheet or the workbook, by the kind its root element
    names: comments, drawings, charts, legacy notes and form controls, the document's
    properties, pivot caches and tables."""
    if kind in (b"comments", b"ThreadedComments"):
        yield from _comment_texts(book, part, xml)
    elif kind == b"wsDr":
        yield from _drawing_texts(book, part, xml)
    elif kind == b"chartSpace":
        yield from _chart_texts(book, part, xml)
    elif kind == b"xml" and part.lower().endswith(".vml"):
        text = " ".join(_text(t) for t in _TAGS.split(xml) if t.strip())
        yield Text(text, lambda p=part: book.on(p, "a comment, note or form control"))
    elif kind == b"coreProperties":
        yield from _core_texts(xml)
    elif kind == b"Properties":
        yield from _properties(xml)
    elif kind == b"pivotCacheDefinition" or kind == b"pivotCacheRecords":
        yield from _pivot_texts(xml)
    elif kind == b"table":
        yield from _table_texts(book, part, xml)


def _comment_texts(book: _Xlsx, part: str, xml: bytes) -> Iterator[Text]:
    for m in _COMMENT.finditer(xml):
        ref = _attrs(m.group(1)).get("ref", "").split(":")[0] or None
        yield Text(_rich(m.group(2)), lambda p=part, r=ref: book.on(p, "a cell comment", r, "delete it"))


def _core_texts(xml: bytes) -> Iterator[Text]:
    """The title, subject, author and the like of docProps/core.xml."""
    for m in _CORE.finditer(xml):
        field = m.group(1).decode()
        yield Text(_text(m.group(2)), fixed(Place(CORE_FIELDS[field], fix=PROPERTIES_FIX)))


def _sheet_texts(book: _Xlsx, part: str, xml: bytes, known: Callable[[str], bool]) -> Iterator[Text]:
    # Headers, footers and data validation are elements of the sheet, never inside its cells
    # (<sheetData>): only what stands before and after the cells is searched, however many cells.
    opens, closes = xml.find(b"sheetData"), xml.rfind(b"sheetData")
    for piece in ((xml[:opens], xml[closes:]) if opens >= 0 else (xml,)):
        for text, what, cell in _around_cells(piece):
            if cell is HEADER:
                yield Text(text, lambda w=what: _of(book, part, w))
            elif not known(text):
                yield Text(text, lambda w=what, c=cell: book.on(part, w, c, _VALIDATION_FIX))


HEADER = ""  # marks a header's or footer's text among what stands around the cells


@lru_cache(maxsize=512)
def _around_cells(xml: bytes) -> tuple[tuple[str, str, str | None], ...]:
    """(text, what it is, its cell, or HEADER) of each header, footer and data validation in
    what stands before or after a sheet's cells. Read once for what every sheet made from the
    same template repeats; forget() empties the memory after a refusal."""
    out = []
    at = xml.find(b"headerFooter")
    if at >= 0:
        for m in _HEADER_FOOTER.finditer(xml, at):
            out.append((header_text(_text(m.group(3))), f"the {_HEADER_WORD[m.group(2)]}", HEADER))
    at = xml.find(b"dataValidation")
    while at >= 0:
        start = _VALIDATION_TAG.search(xml, max(0, at - 40))
        if start is None:
            break
        if start.group(0).endswith(b"/>"):
            at = start.end()
        else:
            end = xml.find(b"dataValidation>", start.end())
            at = end + 15 if end >= 0 else start.end()
        out += _validation(xml[start.start():at])
        at = xml.find(b"dataValidation", at)
    return tuple(out)


def forget() -> None:
    """Empty every memory of what files held (after a refusal, so nothing of that file stays)."""
    for cached in (_attrs, _book, _around_cells):
        cached.cache_clear()


def _validation(element: bytes) -> tuple[tuple[str, str, str | None], ...]:
    """(text, what it is, the first cell) of each message and list of one data validation."""
    m = _VALIDATION.match(element)
    attrs, inner = _attrs(m.group(1)), m.group(2) or b""
    ref = attrs.get("sqref") or _text(b"".join(_SQREF.findall(inner)))
    cell = ref.split()[0] if ref.split() else None
    out = []
    for keys, what in ((("promptTitle", "prompt"), "the input message of a data validation"),
                       (("errorTitle", "error"), "the error message of a data validation")):
        text = " ".join(attrs.get(k, "") for k in keys).strip()
        if text:
            out.append((text, what, cell))
    for formula in _FORMULA1.findall(inner):
        out.append((_text(_TAGS.sub(b"", formula)), "the list of a data validation", cell))
    return tuple(out)


def _of(book: _Xlsx, part: str, what: str) -> Place:
    sheet = book.sheet_of(part)
    return Place(f"{what} of {sheet}" if sheet else what, sheet, None, _HEADER_FIX)


def _defined_names(xml: bytes, sheets: list[str], known: Callable[[str], bool]) -> Iterator[Text]:
    for name, value, local, hidden in _book(xml)[1]:
        sheet = sheets[int(local)] if local.isdigit() and int(local) < len(sheets) else None
        place = (lambda s=sheet, h=hidden: _name_place(s, h))
        if not name.startswith("_xlnm."):
            yield Text(name, place, LABEL)
        if not known(value):
            yield Text(value, place)


def _name_place(sheet: str | None, hidden: bool) -> Place:
    what = ("a hidden defined name" if hidden else "a defined name") + (f" on {sheet}" if sheet else "")
    fix = ("delete it (it is hidden, so Name Manager does not list it: copy the return's sheets into a new "
           "workbook instead)" if hidden else "delete it (Formulas > Name Manager)")
    return Place(what, sheet, None, fix)


def _drawing_texts(book: _Xlsx, part: str, xml: bytes) -> Iterator[Text]:
    for anchor in _ANCHOR.finditer(xml):
        body = anchor.group(0)
        at = _FROM.search(body)
        near = f"{_column(int(at.group(1)))}{int(at.group(2)) + 1}" if at else None
        text = _rich(body) if b"t>" in body else ""
        if text:
            yield Text(text, lambda c=near: book.on(part, "a text box or shape", c))
        for alt in _ALT_TEXT.finditer(body):
            attrs = _attrs(alt.group(1))
            described = " ".join(attrs.get(k, "") for k in ("descr", "title")).strip()
            if described:
                yield Text(described, lambda c=near: book.on(part, "the alternative text of a picture or shape", c))


def _column(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _chart_texts(book: _Xlsx, part: str, xml: bytes) -> Iterator[Text]:
    for title in _CHART_TITLE.finditer(xml):
        yield Text(_rich(title.group(0)), lambda: book.on(part, "the title of a chart"))
    rest = _CHART_TITLE.sub(b"", xml)
    labels = [_rich(rest)] if b"t>" in rest else []
    labels += [_text(v) for v in _CACHED.findall(rest)]
    for label in labels:
        yield Text(label, lambda: book.on(part, "a chart's labels"))


def _properties(xml: bytes) -> Iterator[Text]:
    if b"custom-properties" in xml[:1000]:
        place = fixed(Place("a custom document property",
                            fix="remove it (File > Info > Properties > Advanced Properties > Custom)"))
        for m in _CUSTOM.finditer(xml):
            name = _attrs(m.group(1)).get("name", "")
            value = _text(_TAGS.sub(b" ", m.group(2))).strip()
            yield Text(name, place, PAIR, value)
        return
    for m in _APP.finditer(xml):
        field = m.group(1).decode()
        inner = m.group(2)
        texts = [_text(t) for t in re.findall(rb"<(?:[\w.-]+:)?lpw?str>([^<]*)<", inner)] if b"lp" in inner \
            else [_text(inner)]
        for text in texts:
            yield Text(text, fixed(Place(APP_FIELDS[field], fix=PROPERTIES_FIX)), LABEL if field == "TitlesOfParts" else FREE)


def _table_texts(book: _Xlsx, part: str, xml: bytes) -> Iterator[Text]:
    """An Excel table's name, and its columns' names (its only copy when the header row is hidden)."""
    where = (lambda: book.on(part, "an Excel table", fix="delete it, or rename it (Table Design > Table Name)"))
    head = _TABLE_HEAD.match(xml)
    if head:
        attrs = _attrs(head.group(1))
        for key in ("name", "displayName"):
            yield Text(attrs.get(key, ""), where, LABEL)
    for m in _TABLE_COLUMN.finditer(xml):
        yield Text(_attrs(m.group(1)).get("name", ""), where, HEADING)


def _pivot_texts(xml: bytes) -> Iterator[Text]:
    place = fixed(Place("a pivot table's saved copy of its data",
                        fix="delete the pivot table (and its source, if that lists children)"))
    for m in _PIVOT_FIELD.finditer(xml):
        yield Text(_attrs(m.group(1)).get("name", ""), place, HEADING)
    for m in _PIVOT_ITEM.finditer(xml):
        yield Text(_text(m.group(1)), place)
