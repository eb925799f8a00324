"""The places an .ods keeps text outside its cells: comments (annotations), page headers and
footers, named ranges, validity messages, charts, shapes, sheet names and the document's
properties. See places.py for what a place is."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Iterator

from .places import LABEL, PAIR, PROPERTIES_FIX, SHEET, Place, Text, fixed, sheet_name_place
from .scan import _ODS_TAG, _OdsTable, a1

_ANNOTATION = re.compile(rb"<office:annotation\b[^>]*>(.*?)</office:annotation>", re.S)
_ANNOTATION_AUTHOR = re.compile(rb"<(dc:creator|dc:date|meta:date-string)\b[^>]*>.*?</\1>", re.S)
_TABLE_NAME = re.compile(rb"<table:table\s[^>]*?table:name\s*=\s*[\"']([^\"']*)")
_TABLE_TAG = re.compile(rb"<table:table\s([^>]*)>")
_NAMED = re.compile(rb"<table:(?:named-range|named-expression|database-range)\s([^>]*)>")
_VALIDITY = re.compile(rb"<table:content-validation\s([^>]*?)(?:/>|>(.*?)</table:content-validation>)", re.S)
_MESSAGE = re.compile(rb"<table:(help|error)-message\b([^>]*?)(?:/>|>(.*?)</table:\1-message>)", re.S)
_PARAGRAPH = re.compile(rb"<text:(?:p|h)\b[^>]*?(?:/>|>(.*?)</text:(?:p|h)>)", re.S)
_FIELDS = re.compile(rb"<(text:(?:sheet-name|page-number|page-count|date|time|file-name|title|subject|"
                     rb"author-name|author-initials|chapter))\b[^>]*?(?:/>|>.*?</\1>)", re.S)
_TAGS = re.compile(rb"<[^>]*>")
_SPACE = re.compile(rb"<text:s\b[^>]*/>|<text:tab\b[^>]*/>|<text:line-break\b[^>]*/>")
_MASTER = re.compile(rb"<style:master-page\s([^>]*)>(.*?)</style:master-page>", re.S)
_REGION = re.compile(rb"<style:(header|footer)(?:-left|-first)?\b[^>]*?(?:/>|>(.*?)</style:\1(?:-left|-first)?>)",
                     re.S)
_TABLE_STYLE = re.compile(rb"<style:style\s([^>]*?style:family\s*=\s*[\"']table[\"'][^>]*)>")
_SHAPE = re.compile(rb"<(draw:(?:frame|custom-shape|rect|ellipse|circle|polygon|polyline|path|caption|"
                    rb"measure|line|connector|text-box))\b[^>]*?(?:/>|>(.*?)</\1>)", re.S)
_ALT = re.compile(rb"<svg:(title|desc)>(.*?)</svg:\1>", re.S)
_OBJECT_REF = re.compile(rb"<draw:object\b[^>]*?xlink:href\s*=\s*[\"'](?:\./)*([^\"']*)[\"']")
_CHART_TITLE = re.compile(rb"<chart:(title|subtitle|footer)\b.*?</chart:\1>", re.S)
_META = re.compile(rb"<(dc:title|dc:subject|dc:description|dc:creator|meta:initial-creator|meta:keyword)\b[^>]*>"
                   rb"(.*?)</\1>", re.S)
_USER_DEFINED = re.compile(rb"<meta:user-defined\s([^>]*)>(.*?)</meta:user-defined>", re.S)
_ATTR = re.compile(rb"""([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")

META_FIELDS = {
    b"dc:title": "the document's title", b"dc:subject": "the document's subject",
    b"dc:description": "the document's comments field", b"dc:creator": "the document's last-modified-by field",
    b"meta:initial-creator": "the document's author field", b"meta:keyword": "the document's keywords",
}
_HEADER_FIX = "remove it (Format > Page Style > Header/Footer)"


def _attrs(raw: bytes) -> dict[bytes, str]:
    return {m.group(1): html.unescape((m.group(2) or m.group(3) or b"").decode("utf-8", "replace"))
            for m in _ATTR.finditer(raw)}


def _text(xml: bytes) -> str:
    """Paragraphs' text, spaces and breaks kept as spaces, fields (page number, sheet name) left out."""
    xml = _FIELDS.sub(b" ", xml)
    xml = _SPACE.sub(b" ", xml)
    paragraphs = [p.group(1) or b"" for p in _PARAGRAPH.finditer(xml)] or [xml]
    return " ".join(html.unescape(_TAGS.sub(b"", p).decode("utf-8", "replace")) for p in paragraphs).strip()


def _sheet_at(content: bytes, offset: int) -> str | None:
    """The sheet whose table holds the byte at ``offset``."""
    start = content.rfind(b"<table:table ", 0, offset)
    while start >= 0:
        m = _TABLE_NAME.match(content, start)
        if m:
            return html.unescape(m.group(1).decode("utf-8", "replace"))
        start = content.rfind(b"<table:table ", 0, start)
    return None


def _cell_at(content: bytes, offset: int) -> tuple[str | None, str | None]:
    """(sheet, A1) of the cell that holds the byte at ``offset``, walking the tables as calamine does."""
    table, cell, opened = _OdsTable(""), None, b""
    for m in _ODS_TAG.finditer(content, max(0, content.find(b"<office:body")), offset):
        closing, tag, attrs = m.groups()
        if tag in (b"table:table-cell", b"table:covered-table-cell"):
            if not closing:
                cell, opened = (table.row, table.col), attrs
                if attrs.endswith(b"/"):
                    table.cell(attrs, 0)
            else:
                table.cell(opened, 0)
        elif tag == b"table:table-row":
            table.row_tag(closing, attrs)
        elif tag == b"table:table" and not closing:
            name = _TABLE_NAME.match(content, m.start())
            table = _OdsTable(html.unescape(name.group(1).decode("utf-8", "replace")) if name else "")
    if cell is None:
        return _sheet_at(content, offset), None
    return table.name or None, a1(*cell)


def _address(raw: str) -> tuple[str | None, str | None]:
    """'$Neglect.$B$4' or "'Multi-agency'.B4" -> ('Neglect', 'B4')."""
    sheet, _, cell = raw.split(":")[0].rpartition(".")
    sheet = sheet.lstrip("$").strip("'") or None
    return sheet, cell.replace("$", "") or None


def _on(what: str, sheet: str | None, cell: str | None, fix: str = "remove it") -> Place:
    if sheet and cell:
        return Place(f"{what} on {sheet}!{cell}", sheet, cell, fix)
    return Place(f"{what} on {sheet}", sheet, None, fix) if sheet else Place(what, fix=fix)


def ods_sheet_names(parts: dict[str, bytes]) -> list[str]:
    """Every table's name, in order (a plain search: "<table:table" also starts every row and cell)."""
    content, names = parts.get("content.xml", b""), []
    if any(b"<table:table" + space in content for space in (b"\n", b"\t", b"\r")):  # not as LibreOffice spells it
        names = (_TABLE_NAME_ATTR.search(m.group(1)) for m in _TABLE_TAG.finditer(content))
        return [html.unescape(m.group(1).decode("utf-8", "replace")) if m else "" for m in names]
    at = content.find(b"<table:table ")
    while at >= 0:
        end = content.find(b">", at)
        name = _TABLE_NAME_ATTR.search(content, at, end if end >= 0 else len(content))
        names.append(html.unescape(name.group(1).decode("utf-8", "replace")) if name else "")
        at = content.find(b"<table:table ", end if end >= 0 else len(content))
    return names


_TABLE_NAME_ATTR = re.compile(rb"table:name\s*=\s*[\"']([^\"']*)")


def ods_texts(parts: dict[str, bytes]) -> Iterator[Text]:
    """Every text an .ods keeps outside its cells, with its place."""
    content = parts.get("content.xml", b"")
    names = ods_sheet_names(parts)
    for n, name in enumerate(names, 1):
        yield Text(name, fixed(sheet_name_place(n, len(names))), SHEET)
    if b"<office:annotation" in content:
        for m in _ANNOTATION.finditer(content):
            yield Text(_text(_ANNOTATION_AUTHOR.sub(b"", m.group(1))),
                       lambda at=m.start(): _on("a comment", *_cell_at(content, at), "delete it"))  # noqa: B008 - binds this match's offset
    if b"<table:named-" in content or b"<table:database-range" in content:
        for m in _NAMED.finditer(content):
            attrs = _attrs(m.group(1))
            place = fixed(Place("a named range or database range",
                                fix="delete it (Sheet > Named Ranges and Expressions > Manage, or Data > Define Range)"))
            yield Text(attrs.get(b"table:name", ""), place, LABEL)
            yield Text(attrs.get(b"table:expression", ""), place)
    if b"<table:content-validation" in content:
        yield from _validity_texts(content)
    if b"<draw:" in content:
        yield from _shape_texts(content)
    for part, xml in parts.items():
        if part.endswith("/content.xml") and b"<chart:" in xml:
            yield from _chart_texts(content, part, xml)
    styles = parts.get("styles.xml", b"")
    if b"<style:master-page" in styles:
        yield from _header_texts(content, styles)
    yield from _meta_texts(parts.get("meta.xml", b""))


def _validity_texts(content: bytes) -> Iterator[Text]:
    fix = "remove it (Data > Validity)"
    for m in _VALIDITY.finditer(content):
        attrs, inner = _attrs(m.group(1)), m.group(2) or b""
        sheet, cell = _address(attrs.get(b"table:base-cell-address", ""))
        condition = attrs.get(b"table:condition", "")
        if condition:
            yield Text(condition, fixed(_on("the list of a validity check", sheet, cell, fix)))
        for message in _MESSAGE.finditer(inner):
            kind = "input help" if message.group(1) == b"help" else "error message"
            text = f"{_attrs(message.group(2)).get(b'table:title', '')} {_text(message.group(3) or b'')}".strip()
            yield Text(text, fixed(_on(f"the {kind} of a validity check", sheet, cell, fix)))


def _shape_texts(content: bytes) -> Iterator[Text]:
    for m in _SHAPE.finditer(content):
        inner = m.group(2) or b""
        where = (lambda at=m.start(): _on("a text box or shape", _sheet_at(content, at), None))  # noqa: B008 - binds this match's offset
        if b"<text:p" in inner:
            yield Text(_text(_ALT.sub(b"", inner)), where)
        for alt in _ALT.finditer(inner):
            yield Text(_text(alt.group(2)), lambda at=m.start(): _on(  # noqa: B008 - binds this match's offset
                "the alternative text of a picture or shape", _sheet_at(content, at), None))


def _chart_texts(content: bytes, part: str, xml: bytes) -> Iterator[Text]:
    folder = part.rsplit("/", 1)[0]

    def where(what: str) -> Place:
        ref = next((r for r in _OBJECT_REF.finditer(content) if r.group(1).decode("utf-8", "replace") == folder), None)
        return _on(what, _sheet_at(content, ref.start()) if ref else None, None)

    for title in _CHART_TITLE.finditer(xml):
        yield Text(_text(title.group(0)), lambda: where("the title of a chart"))
    rest = _CHART_TITLE.sub(b"", xml)
    yield Text(_text(rest), lambda: where("a chart's labels"))


def _header_texts(content: bytes, styles: bytes) -> Iterator[Text]:
    for text, what, page_name in _headers(styles):
        yield Text(text, lambda w=what, p=page_name: _page_place(content, p, w))


@lru_cache(maxsize=64)
def _headers(styles: bytes) -> tuple[tuple[str, str, str], ...]:
    """(text, 'the page header' or '... footer', page style) of each header and footer with any
    content: read once for the styles part every return saved from the same template shares."""
    out = []
    at = styles.find(b"<style:master-page")
    for page in _MASTER.finditer(styles, max(at, 0)):
        page_name = _attrs(page.group(1)).get(b"style:name", "")
        if b"<text:" not in page.group(2):
            continue  # every header and footer hidden or empty, as LibreOffice writes them by default
        for region in _REGION.finditer(page.group(2)):
            if region.group(2):
                out.append((_text(region.group(2)), f"the page {region.group(1).decode()}", page_name))
    return tuple(out)


def forget() -> None:
    _headers.cache_clear()


def _page_place(content: bytes, page: str, what: str) -> Place:
    """The place of a page style's header or footer: the sheet that uses it (the first, if several do)."""
    styles = {a.get(b"style:name") for a in map(_attrs, _TABLE_STYLE.findall(content))
              if a.get(b"style:master-page-name") == page}
    for m in _TABLE_TAG.finditer(content):
        attrs = _attrs(m.group(1))
        if attrs.get(b"table:style-name") in styles:
            sheet = attrs.get(b"table:name")
            return Place(f"{what} of {sheet}", sheet, None, _HEADER_FIX)
    return Place(f"{what} of the page style '{page}'", fix=_HEADER_FIX)


def _meta_texts(meta: bytes) -> Iterator[Text]:
    for m in _META.finditer(meta):
        yield Text(_text(m.group(2)), fixed(Place(META_FIELDS[m.group(1)], fix=PROPERTIES_FIX)))
    place = fixed(Place("a custom document property", fix="remove it (File > Properties > Custom Properties)"))
    for m in _USER_DEFINED.finditer(meta):
        yield Text(_attrs(m.group(1)).get(b"meta:name", ""), place, PAIR, _text(m.group(2)))

