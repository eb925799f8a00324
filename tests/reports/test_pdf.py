"""The PDF pack: the HTML pack printed by Chromium. The short pack, the default, fits the sample
trust on twelve A4 pages or fewer, for a leader and for a trustee, with every gap and its
question, a row never split across pages; the pack with its appendix has every theme's charts,
bookmarks and page numbers, nothing cut off, no small count of children in a trustee's copy, and
asks the network for nothing. Without Chromium the tests that need it are skipped with the reason
(under CI, which installs it, they fail instead); the plain sentence said when it is missing is
tested either way."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader

from analysis.themes import THEMES
from reports.html import render_html
from reports.pdf import (
    NO_CHROMIUM,
    PRINT_WIDTH_PX,
    PdfUnavailable,
    Printer,
    PrintLog,
    chromium_path,
    render_pdf,
    render_pdf_from_html,
)

from .conftest import counts_people, event_findings

SHORT_PAGES = 12  # the sample trust's short pack, printed, at most
SMALL = re.compile(r"(?<![\d,.])[1-4] of ")


def _chromium() -> str | None:
    try:
        return chromium_path()
    except PdfUnavailable:
        return None


@pytest.fixture(scope="module")
def chromium() -> str:
    """Chromium, or the test is skipped saying how to install it; under CI, which installs it, a
    missing Chromium fails the test instead."""
    found = _chromium()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium to print the PDF pack: .ci/run installs Debian's chromium-headless-shell")
        pytest.skip("no Chromium: `sudo apt-get install chromium-headless-shell` (or set CHROMIUM_PATH) to run the "
                    "PDF tests")
    return found


def flat(text: str) -> str:
    """Text as read from a PDF: ligatures undone, every run of white space one space."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def page_texts(path: Path) -> list[str]:
    """Each page's text in the order Chromium drew it (so a table cell's lines stay together)."""
    if shutil.which("pdftotext"):  # poppler's reader: much faster on pages full of charts
        out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                             check=True).stdout.decode("utf-8")
        return [flat(p) for p in out.split("\f")[:-1]]
    return [flat(p.extract_text()) for p in PdfReader(path).pages]


def squeezed(text: str) -> str:
    """Text without any white space: a word broken at its hyphen across two lines reads whole."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def body(text: str) -> str:
    """A page's text without its footer ("Page 3 of 9"), wherever the reader put it."""
    return re.sub(r"\s*Page \d+ of \d+\s*", " ", text).strip()


def page_count(path: Path) -> int:
    """The pages, as poppler's pdfinfo counts them (pypdf's count where pdfinfo is missing)."""
    if shutil.which("pdfinfo"):
        out = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", out, re.MULTILINE).group(1))
    return len(PdfReader(path).pages)


def outline_titles(path: Path) -> list[str]:
    titles: list[str] = []

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                titles.append(item.title)

    walk(PdfReader(path).outline)
    return titles


def _print(pack, path: Path) -> tuple[Path, PrintLog, list[str]]:
    log = PrintLog()
    path.write_bytes(render_pdf(pack, log=log))
    return path, log, page_texts(path)


@pytest.fixture(scope="module")
def short_pdfs(chromium, leader_pack, trustee_pack, tmp_path_factory):
    """The sample trust's short pack, as PDF, for a leader and for a trustee."""
    folder = tmp_path_factory.mktemp("short")
    return {"leader": _print(leader_pack, folder / "leader.pdf"), "trustee": _print(trustee_pack, folder / "trustee.pdf")}


@pytest.fixture(scope="module")
def trustee_pdf(chromium, trustee_appendix, tmp_path_factory):
    """The sample trust's pack for trustees with its appendix, as a PDF, with what happened while
    it was printed."""
    return _print(trustee_appendix, tmp_path_factory.mktemp("pdf") / "trustee.pdf")


@pytest.mark.parametrize("reader", ["leader", "trustee"])
def test_the_short_pack_prints_on_twelve_a4_pages_or_fewer(reader, short_pdfs):
    path, log, pages = short_pdfs[reader]
    assert 4 <= page_count(path) <= SHORT_PAGES
    assert len(pages) == page_count(path)
    assert all(p.mediabox.width == pytest.approx(595.3, abs=1) and p.mediabox.height == pytest.approx(841.9, abs=1)
               for p in PdfReader(path).pages), "A4"
    assert log.figures == 0 and log.errors == [] and log.width_px <= PRINT_WIDTH_PX, "no chart: its heatmap is a table"
    for number, text in enumerate(pages, 1):
        assert f"Page {number} of {len(pages)}" in text
        # no page printed with nothing on it but its footer; the tail of a section that runs over
        # (a heading and its sentence) is a page of its own where the section before filled the last
        assert len(text.replace(f"Page {number} of {len(pages)}", "").strip()) > 40, f"page {number} is empty"


@pytest.mark.parametrize("reader", ["leader", "trustee"])
def test_the_short_pdf_has_every_gap_with_its_question_each_row_on_one_page(reader, short_pdfs, request):
    pack = request.getfixturevalue(f"{reader}_pack")
    _, _, pages = short_pdfs[reader]
    assert pack.trust in pages[0] and f"{pack.term} {pack.academic_year}" in pages[0]
    assert ("fewer than 5" if reader == "trustee" else "every figure in full") in pages[0]
    assert body(pages[1]).startswith(f"Summary: {pack.term} {pack.academic_year}"), "the summary starts a page"
    assert body(pages[2]).startswith("Gaps by theme"), "the summary is one page; the gaps start the next"
    assert body(pages[-1]).startswith("How to read this pack"), "how to read is a page of its own, last"
    text = " ".join(pages)
    assert "The board's questions" in text
    assert "Appendix" not in text.replace("appendix", "")  # the appendix is named, never printed
    assert len(pack.gaps) > 20
    gap_pages = [squeezed(page) for page in pages[2:]]
    for gap in pack.gaps.itertuples():
        # a row is never split across pages: its school, finding and question are on one page
        row = [squeezed(gap.finding), squeezed(gap.question), squeezed(gap.school)]
        assert any(all(words in page for words in row) for page in gap_pages), gap.finding
    for words in ("✖ Red", "▲ Amber", "? Question", "✔ No gap"):
        assert words in text, f"the symbol and the word: {words}"


def test_the_pdf_with_the_appendix_has_the_cover_every_theme_and_every_gap_with_its_question(trustee_appendix,
                                                                                              trustee_pdf):
    path, _, pages = trustee_pdf
    assert path.read_bytes().startswith(b"%PDF-")
    assert trustee_appendix.trust in pages[0]
    assert f"{trustee_appendix.term} {trustee_appendix.academic_year}" in pages[0]
    assert "fewer than 5" in pages[0], "the cover says who the pack is for"
    text = " ".join(pages)
    for number, theme in enumerate(THEMES, 1):
        assert any(body(p).startswith(f"Appendix {number}: {flat(theme.title)}") for p in pages), \
            "each theme starts a page"
        assert flat(theme.question) in text
    assert len(trustee_appendix.gaps) > 0
    whole = squeezed(text)
    for gap in trustee_appendix.gaps.itertuples():
        for words in (gap.school, gap.question, gap.finding):
            assert squeezed(words) in whole
    assert any(body(p).startswith(f"Appendix {len(THEMES) + 1}: Definitions and methods") for p in pages)


def test_headings_are_bookmarks_and_every_page_is_numbered(trustee_appendix, trustee_pdf):
    path, _, pages = trustee_pdf
    titles = outline_titles(path)
    for number, theme in enumerate(THEMES, 1):
        assert f"Appendix {number}: {theme.title}" in titles
        assert theme.title in titles, "each theme's gaps"
    for title in (f"Summary: {trustee_appendix.term} {trustee_appendix.academic_year}", "Gaps by theme",
                  "The board's questions", "How to read this pack",
                  f"Appendix {len(THEMES) + 1}: Definitions and methods"):
        assert title in titles
    for _, chart_title in ((s, t) for s in trustee_appendix.sections for t, _ in s.charts):
        assert chart_title in titles
    n = len(pages)
    assert n == len(PdfReader(path).pages)
    assert 5 <= n <= 200
    for number, text in enumerate(pages, 1):
        assert f"Page {number} of {n}" in text


def test_every_chart_is_drawn_and_the_page_fits_a4_without_shrinking(trustee_appendix, trustee_pdf):
    _, log, _ = trustee_pdf
    assert log.figures == sum(len(s.charts) for s in trustee_appendix.sections)
    assert log.errors == []
    # wider than A4 less its margins, Chromium would shrink every page to fit, charts and tables too
    assert log.width_px <= PRINT_WIDTH_PX
    assert PdfReader(trustee_pdf[0]).pages[0].mediabox.width == pytest.approx(595.3, abs=1)  # A4, in points


# Each word of each table header that the page lays out over more than one line.
BROKEN_HEADER_WORDS = """() => Array.from(document.querySelectorAll('th')).flatMap(th => {
  const broken = [];
  const walk = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
  for (let node = walk.nextNode(); node; node = walk.nextNode()) {
    for (const m of node.data.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      if (new Set(Array.from(range.getClientRects(), r => Math.round(r.top))).size > 1) broken.push(m[0]);
    }
  }
  return broken;
})"""


@pytest.mark.parametrize("form", ["leader_appendix", "trustee_appendix"])
def test_column_headers_wrap_between_words(form, request, chromium):
    """No table's header is broken inside a word when printed: not the schools' names across a
    trend's table (fourteen columns), the checks across the training grid, nor the board's
    questions; the printed page is laid out as Chromium prints it."""
    from playwright.sync_api import sync_playwright

    from reports.pdf import LAUNCH_ARGS, VIEWPORT

    pack = request.getfixturevalue(form)
    html = render_html(pack, static=True)
    widest = max(len(s.charts[k][1].table.columns) for s in pack.sections for k in range(len(s.charts)))
    assert widest >= 14, "the sample's widest table: a trend's, a column a school"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.emulate_media(media="print")
            page.set_content(html, wait_until="load")
            broken = page.evaluate(BROKEN_HEADER_WORDS)
            headers = page.evaluate("document.querySelectorAll('th').length")
        finally:
            browser.close()
    assert headers > 200
    assert broken == []


def test_a_trustees_pdf_shows_no_small_count_of_children(leader_pack, trustee_pack, trustee_pdf, short_pdfs):
    for _, _, pages in (trustee_pdf, short_pdfs["trustee"]):
        _no_small_count(leader_pack, trustee_pack, pages)


def _no_small_count(leader_pack, trustee_pack, pages: list[str]) -> None:
    text = " ".join(pages)
    # Staff totals (the workforce theme) and events (the multi-agency theme's meetings and reports)
    # are not hidden: those sections of the appendix are left out here. The HTML the PDF is printed
    # from is checked chart by chart, the multi-agency theme's counts of children and allegations
    # included (tests/reports/test_html.py).
    children = text
    for theme in ("multi_agency", "workforce"):
        number = next(i for i, t in enumerate(THEMES, 1) if t.id == theme)
        heading = f"Appendix {number}: {flat(THEMES[number - 1].title)}"
        if f"{heading} What the reviews found" not in children:
            continue  # the short pack
        start = children.index(f"{heading} What the reviews found")
        end = children.index(f"Appendix {number + 1}: ", start)
        children = children[:start] + children[end:]
    children = re.sub(r"Page \d+ of \d+", "", children)
    for words in event_findings(trustee_pack):  # in the gap tables too
        children = children.replace(flat(words), "")
    leader_small = [(mine, theirs) for mine, theirs, theme, indicator in
                    zip(leader_pack.gaps["finding"], trustee_pack.gaps["finding"], leader_pack.gaps["theme"],
                        leader_pack.gaps["indicator"])
                    if theme != "workforce" and counts_people(indicator) and SMALL.search(mine)]
    assert leader_small, "the sample should hold small counts of children"
    for mine, theirs in leader_small:
        small = SMALL.search(mine).group(0) + mine[SMALL.search(mine).end():].split()[0]  # e.g. "3 of 22"
        assert flat(mine) not in text
        assert flat(theirs) in text
        assert theirs != mine
        seen = re.search(rf"(?<![\d,.]){re.escape(small)}(?![\d,.])", children)
        assert not seen, children[max(0, seen.start() - 160):seen.end() + 80]
    assert not SMALL.search(children), SMALL.search(children)
    assert "fewer than 5" in children


def test_making_the_pack_asks_the_network_for_nothing(trustee_pdf, short_pdfs):
    for _, log, _ in (trustee_pdf, *short_pdfs.values()):
        assert log.refused == []


def test_a_page_that_asks_for_other_addresses_is_refused_them_and_still_prints(chromium, tmp_path):
    secret = tmp_path / "elsewhere.txt"
    secret.write_text("not for the pack")
    html = ("<!DOCTYPE html><html><body><h1>Offline</h1>"
            '<img src="http://example.invalid/a.png"><link rel="stylesheet" href="https://example.invalid/s.css">'
            f'<iframe src="{secret.as_uri()}"></iframe>'
            '<script>fetch("https://example.invalid/f").catch(() => 0);'
            'try { new WebSocket("ws://127.0.0.1:9/w") } catch (e) {}</script></body></html>')
    log = PrintLog()
    pdf = render_pdf_from_html(html, log=log)
    assert pdf.startswith(b"%PDF-")
    asked = set(log.refused)
    assert {"http://example.invalid/a.png", "https://example.invalid/s.css", "https://example.invalid/f",
            secret.as_uri()} <= asked
    assert any(u.startswith("ws://127.0.0.1:9") for u in asked)
    assert all(not u.startswith("file:") or u == secret.as_uri() for u in asked)


def test_a_chart_that_never_draws_stops_with_a_plain_sentence(chromium):
    html = '<!DOCTYPE html><html><body><div class="plotly-graph-div"></div></body></html>'
    with pytest.raises(PdfUnavailable, match="did not finish drawing the pack's charts within 2 seconds"):
        render_pdf_from_html(html, timeout_s=2)


def test_a_browser_that_will_not_start_is_a_plain_sentence(chromium):
    not_a_browser = shutil.which("true")
    with Printer(not_a_browser) as printer, pytest.raises(PdfUnavailable, match="could not be started"):
        printer.print_html("<p>x</p>")


def test_no_chromium_is_a_plain_sentence(monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "no-such-chromium"))
    with pytest.raises(PdfUnavailable) as raised:
        chromium_path()
    assert str(raised.value) == NO_CHROMIUM
    with pytest.raises(PdfUnavailable):
        Printer()
    monkeypatch.delenv("CHROMIUM_PATH")
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser of any name on it
    with pytest.raises(PdfUnavailable, match="PDF needs Chromium"):
        chromium_path()


def test_chromium_is_found_by_the_setting_or_on_the_path(monkeypatch, tmp_path):
    def install(name):
        browser = tmp_path / name
        browser.write_text("#!/bin/sh\n")
        browser.chmod(0o755)

    for name in ("google-chrome", "chromium-browser"):
        install(name)
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert chromium_path() == str(tmp_path / "chromium-browser"), "chromium-browser before google-chrome"
    install("chromium")
    assert chromium_path() == str(tmp_path / "chromium")
    install("chromium-headless-shell")
    assert chromium_path() == str(tmp_path / "chromium-headless-shell"), "the headless shell, made for printing, first"
    monkeypatch.setenv("CHROMIUM_PATH", str(tmp_path / "google-chrome"))
    assert chromium_path() == str(tmp_path / "google-chrome")
    monkeypatch.setenv("CHROMIUM_PATH", "google-chrome")  # a command name, looked up on the PATH
    assert chromium_path() == str(tmp_path / "google-chrome")


def test_a_closed_printer_refuses_with_a_plain_sentence(chromium):
    printer = Printer()
    printer.close()
    with pytest.raises(PdfUnavailable, match="Chromium stopped"):
        printer.print_html("<p>x</p>")


def test_the_pack_handed_over_as_it_is_gathered_prints_as_the_whole_document_does(trustee_appendix, trustee_pdf,
                                                                                  tmp_path):
    streamed, _, pages = trustee_pdf
    whole = tmp_path / "whole.pdf"
    log = PrintLog()
    whole.write_bytes(render_pdf_from_html(render_html(trustee_appendix, static=True), log=log))
    assert page_texts(whole) == pages  # the same words on the same pages, page numbers included
    assert outline_titles(whole) == outline_titles(streamed)
    assert log.figures == trustee_pdf[1].figures


def _parts(count: int, made: list[int], *, fail_at: int | None = None, pause_s: float = 0.0):
    yield "<!DOCTYPE html><html><head><title>Parts</title></head><body>"
    for n in range(count):
        if n == fail_at:
            raise ValueError("this part could not be made")
        time.sleep(pause_s)
        made.append(n)
        yield f"<p>Part {n}</p>"
    yield "</body></html>"


def test_a_part_that_cannot_be_made_stops_that_print_and_the_printer_prints_on(chromium):
    made: list[int] = []
    with Printer(preload=True) as printer:
        with pytest.raises(ValueError, match="could not be made"):
            printer.print_parts(_parts(5, made, fail_at=2))
        assert made == [0, 1]
        pdf = printer.print_parts(_parts(3, []))
    assert pdf.startswith(b"%PDF-")
    from io import BytesIO

    text = flat(PdfReader(BytesIO(pdf)).pages[0].extract_text())
    assert "Part 0" in text and "Part 2" in text


def test_when_chromium_cannot_print_no_further_part_is_made(chromium):
    made: list[int] = []
    with Printer(shutil.which("true")) as printer, pytest.raises(PdfUnavailable, match="could not be started"):
        printer.print_parts(_parts(200, made, pause_s=0.05))
    assert len(made) < 200, "the parts stop being made once Chromium has failed"
