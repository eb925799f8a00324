"""One way to turn a pack into a file, for the Board pack page and the command line alike: the pack
gathered once, written in the format asked for; a PDF printed by the Chromium handed over, or by
one started before the pack is gathered."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from analysis.dataset import Unavailable
from reports.formats import FORMATS, MIME, render_pack
from reports.html import render_html


def _gathers(pack):
    calls = []

    def gather():
        calls.append(1)
        return pack
    return gather, calls


def test_the_html_and_the_workbook_are_the_pack_gathered_once(leader_pack):
    gather, calls = _gathers(leader_pack)
    pack, html = render_pack(gather, "html")
    assert pack is leader_pack and html == render_html(leader_pack).encode("utf-8")
    pack, xlsx = render_pack(gather, "xlsx")
    assert pack is leader_pack and load_workbook(BytesIO(xlsx)).sheetnames[:2] == ["Summary", "Gaps"]
    assert len(calls) == 2
    assert set(MIME) == set(FORMATS)


def test_a_pdf_is_printed_by_the_chromium_handed_over(leader_pack):
    class Printer:
        printed = []

        def print_pack(self, pack):
            self.printed.append(pack)
            return b"%PDF-printed"

    printer = Printer()
    gather, calls = _gathers(leader_pack)
    assert render_pack(gather, "pdf", printer=printer) == (leader_pack, b"%PDF-printed")
    assert printer.printed == [leader_pack] and len(calls) == 1


def test_a_pdf_without_chromium_says_so_before_the_pack_is_gathered(leader_pack, monkeypatch, tmp_path):
    from reports.pdf import NO_CHROMIUM, PdfUnavailable

    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-chromium"))
    gather, calls = _gathers(leader_pack)
    with pytest.raises(PdfUnavailable, match="PDF needs Chromium") as raised:
        render_pack(gather, "pdf")
    assert str(raised.value) == NO_CHROMIUM and calls == []


def test_a_pack_that_cannot_be_made_and_a_format_not_known_are_said(leader_pack):
    def gather():
        raise Unavailable("No returns are stored yet.")

    with pytest.raises(Unavailable, match="No returns"):
        render_pack(gather, "html")
    with pytest.raises(ValueError, match="not a format"):
        render_pack(lambda: leader_pack, "docx")
