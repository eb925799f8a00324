"""Every place outside the cells where a workbook carries text, and where each one is.

A DSL can leave a child's details in a cell comment, a page header, a defined name, a chart's
title, a text box, a data-validation message, a sheet's name or the document's properties, as
well as in cells. One module per format (places_xlsx, places_ods, places_xls) walks its parts
(as the door already inflated them) and yields each such text as a Text with the Place it sits
in. Where a place is (which sheet holds a comment part, which cell an annotation sits in) is
worked out only for a text that is refused, so a clean return pays for reading the text and
nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, NamedTuple

FREE, LABEL, HEADING, PAIR, SHEET = "free", "label", "heading", "pair", "sheet"
PROPERTIES_FIX = "remove it (File > Info > Properties)"


@dataclass(frozen=True)
class Place:
    """Where a text sits, as a DSL would look for it: 'a cell comment on Neglect!B4'."""

    what: str
    sheet: str | None = None
    cell: str | None = None
    fix: str = "remove it"


class Text(NamedTuple):
    """One text and how to read it: FREE text, a LABEL (a name given to something), a SHEET's
    name (read as a label), a HEADING (a field's name), or a PAIR (a property's name in ``text``
    and its value in ``value``)."""

    text: str
    where: Callable[[], Place]
    how: str = FREE
    value: str = ""


def fixed(place: Place) -> Callable[[], Place]:
    return lambda: place


def sheet_name_place(n: int, total: int) -> Place:
    # The name itself is never repeated: it is what looks like a child's details.
    return Place(f"the name of sheet {n} of {total} (counting hidden sheets)", fix="rename that sheet")


# Header and footer codes: &L &C &R sections, &P page, &"Font,Bold", &12 size, &K colour, && an ampersand.
_HEADER_CODE = re.compile(r'&(?:"[^"]*"|K[0-9A-Fa-f]{6}|K\d\d[+-]\d{3}|\d+|[A-Za-z])')


def header_text(raw: str) -> str:
    return " ".join(_HEADER_CODE.sub(" ", raw.replace("&&", "\x00")).replace("\x00", "&").split())
