"""The board pack in one of its formats: the one way the Board pack page and ``python -m reports
pack`` turn a pack into a file.

``render_pack(gather, fmt)`` gathers the pack and writes it as a PDF (printed by Chromium), a single
offline HTML file or an Excel workbook. For a PDF, Chromium starts before the pack is gathered (and,
for a pack with its appendix, loads plotly.js), so the browser starts while the figures are made;
a caller that started its own ``Printer`` even earlier hands it over. ``PdfUnavailable`` says in a
plain sentence when there is no Chromium to print with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from reports.pdf import Printer, make_pdf

if TYPE_CHECKING:
    from reports.pack import Pack

FORMATS = ("pdf", "html", "xlsx")
MIME = {"pdf": "application/pdf", "html": "text/html",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def render_pack(gather: Callable[[], Pack], fmt: str, *, appendix: bool = False,
                printer: Printer | None = None) -> tuple[Pack, bytes]:
    """The pack ``gather()`` makes, and its bytes in ``fmt`` (one of FORMATS). ``appendix`` says
    whether that pack has its appendix of charts (a PDF's Chromium then loads plotly.js while the
    pack is gathered); ``printer``, for a PDF, is a Chromium already started, which the caller
    closes. Whatever ``gather`` raises (analysis' Unavailable) passes through."""
    if fmt not in FORMATS:
        raise ValueError(f"{fmt!r} is not a format of the pack: use one of {', '.join(FORMATS)}.")
    if fmt == "pdf" and printer is None:
        return make_pdf(gather, charts=appendix)
    pack = gather()
    if fmt == "pdf":
        return pack, printer.print_pack(pack)
    if fmt == "html":
        from reports.html import render_html
        return pack, render_html(pack).encode("utf-8")
    from reports.xlsx import render_xlsx
    return pack, render_xlsx(pack)
