"""The board pack as a PDF: the pack's own HTML, printed by Chromium.

Chromium draws the same plotly figures as the HTML pack and the dashboard, so the PDF shows
exactly what they show and there is no second way of drawing a chart to keep up to date. The page
is printed as A4 with its print styles; headings become the PDF's bookmarks, each page says
"Page N of M" (the print styles' page footer), and the document is tagged so a screen reader can
follow it.

The short pack has no chart to draw (its heatmap is a table), so it is printed whole, without
plotly.js. The pack with its appendix is handed over as it is gathered: Chromium loads plotly.js
while the pack's figures are being made, then each part of the document (the cover, the summary,
one theme's section) is written into that page as soon as it is ready (``document.write``, the
browser's own way of taking a document a piece at a time), so Chromium draws one theme's charts
while the next theme's are gathered. The printed document is the same as the whole HTML pack
printed at once.

Making a PDF never touches the network: the page may load itself and nothing else. Every other
address it asks for (web, websocket or another file) is refused and noted.

Chromium is found from the ``CHROMIUM_PATH`` setting, else on the PATH as
``chromium-headless-shell`` (Chromium's headless shell, made for printing and automation: it starts
and prints markedly faster than the full browser), ``chromium``, ``chromium-browser`` or
``google-chrome``. Without it, or when it cannot start or finish, ``PdfUnavailable``
says so in a plain sentence.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import settings

if TYPE_CHECKING:
    from reports.pack import Pack

__all__ = ["PdfUnavailable", "PrintLog", "Printer", "chromium_path", "make_pdf", "render_pdf",
           "render_pdf_from_html", "NO_CHROMIUM"]

NO_CHROMIUM = ("PDF needs Chromium: install it with `sudo apt-get install chromium-headless-shell` (see README), or "
               "make the HTML pack and print it from a browser.")
STOPPED = ("Chromium stopped while printing the pack, so no PDF was made: try again, or make the HTML pack and "
           "print it from a browser.")
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
TIMEOUT_S = 120.0  # a busy two-core machine draws the sample trust's charts in well under a minute
# The page is laid out as it prints: A4 less the print styles' 15 mm side margins, in CSS pixels
# (96 to the inch). The print styles draw each figure 960 pixels wide and fit it to that width.
PRINT_WIDTH_PX = 680
VIEWPORT = {"width": PRINT_WIDTH_PX, "height": 962}
LAUNCH_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-default-apps", "--disable-extensions", "--no-first-run",
               "--disable-quic", "--mute-audio"]
# every figure in the page holds its SVG
ALL_DRAWN = """() => document.readyState === 'complete' && Array.from(
  document.querySelectorAll('.plotly-graph-div, .js-plotly-plot')).every(p => p.querySelector('.main-svg'))"""
OWN_SCHEMES = ("data:", "blob:", "about:")


class PdfUnavailable(Exception):
    """The PDF could not be made; the message is a plain sentence for the person who asked."""


@dataclass
class PrintLog:
    """What happened while one document was printed."""

    refused: list[str] = field(default_factory=list)  # every address the page asked for, refused
    errors: list[str] = field(default_factory=list)  # scripts that failed in the page
    figures: int = 0  # plotly figures drawn
    width_px: int = 0  # the laid-out page's width: wider than PRINT_WIDTH_PX would print shrunk
    ready_s: float = 0.0  # loading plotly.js into a page before the document came (parts only)
    load_s: float = 0.0  # from opening the document to every figure drawn
    wait_s: float = 0.0  # of which waiting for the next part to be made (parts only)
    print_s: float = 0.0  # printing it


def chromium_path() -> str:
    """The Chromium to print with: the CHROMIUM_PATH setting, else the first browser on the PATH."""
    configured = settings.get("CHROMIUM_PATH")
    if configured:
        path = Path(str(configured)).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        found = shutil.which(str(configured))  # a bare command name works too
        if found:
            return found
        raise PdfUnavailable(NO_CHROMIUM)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfUnavailable(NO_CHROMIUM)


def render_pdf(pack, *, log: PrintLog | None = None) -> bytes:
    """The whole pack as the bytes of one PDF, each theme's charts drawn as the next is gathered."""
    return make_pdf(lambda: pack, log=log)[1]


def make_pdf(gather: Callable[[], Pack], *, log: PrintLog | None = None, charts: bool = True) -> tuple[Pack, bytes]:
    """The pack that ``gather()`` makes, and its PDF: Chromium starts (and, for a pack with
    ``charts``, its appendix, loads plotly.js) while the pack is gathered, then draws each theme's
    charts while the next theme's are made."""
    with Printer(preload=charts) as printer:
        pack = gather()
        return pack, printer.print_pack(pack, log=log)


def render_pdf_from_html(html: str, *, log: PrintLog | None = None, timeout_s: float = TIMEOUT_S) -> bytes:
    """An HTML document printed to PDF; ``log``, when given, is filled in as it goes."""
    with Printer(timeout_s=timeout_s) as printer:
        return printer.print_html(html, log=log)


class Printer:
    """Chromium, started at once on a thread of its own, printing HTML documents to PDF.

    Starting it before the pack is gathered lets the browser start while the figures are made.
    With ``preload`` it also loads plotly.js into a page at once; ``print_parts`` then writes the
    pack into that page a part at a time, as the parts are made, so that Chromium draws one theme's
    charts while the next theme's are gathered::

        with Printer(preload=True) as printer:
            pack = build_pack(...)
            pdf = printer.print_pack(pack)

    ``print_html`` prints a whole document that carries its own scripts. Raises PdfUnavailable at
    once when there is no Chromium to start.
    """

    def __init__(self, executable: str | None = None, *, timeout_s: float = TIMEOUT_S,
                 preload: bool = False) -> None:
        self.executable = executable or chromium_path()
        self.timeout_s = timeout_s
        self.preload = preload
        self._jobs: queue.Queue = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="pdf-printer", daemon=True)
        self._thread.start()

    def print_html(self, html: str, *, log: PrintLog | None = None) -> bytes:
        """A whole HTML document as the bytes of a PDF."""
        return self._wait(self._submit(_print_whole, html, log))

    def print_pack(self, pack: Pack, *, log: PrintLog | None = None) -> bytes:
        """A board pack as a PDF. The short pack, with no chart, is printed whole; with its
        appendix, its HTML is handed over a part at a time, each theme's section made as it is
        reached."""
        from reports.html import html_parts, render_html

        if not pack.appendix:
            return self.print_html(render_html(pack, static=True), log=log)
        return self.print_parts(html_parts(pack, static=True, plotlyjs=False), log=log)

    def print_parts(self, parts: Iterable[str], *, log: PrintLog | None = None) -> bytes:
        """A document whose parts are handed to Chromium one by one as they are made (the parts
        rely on the page having plotly.js, and must not carry it). When making a part fails, that
        error is raised here and nothing is printed; when Chromium fails, no further part is made."""
        stream = _Stream()
        done = self._submit(_print_stream, stream, log)
        try:
            for part in parts:
                if done.done():  # Chromium has stopped: gather no further
                    break
                stream.put(part)
        except BaseException:
            stream.abandon()
            raise
        stream.finish()
        return self._wait(done)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._jobs.put(None)
            self._thread.join(timeout=30)

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _submit(self, job, what, log: PrintLog | None) -> Future:
        if self._closed or not self._thread.is_alive():
            raise PdfUnavailable(STOPPED)
        done: Future = Future()
        self._jobs.put((job, what, log if log is not None else PrintLog(), done))
        return done

    def _wait(self, done: Future) -> bytes:
        try:
            # the page's own steps each have their deadline; this one covers Chromium going quiet
            return done.result(timeout=self.timeout_s + 60)
        except FutureTimeout:
            raise PdfUnavailable(STOPPED) from None

    def _run(self) -> None:
        try:
            from playwright.sync_api import sync_playwright

            playwright = sync_playwright().start()
        except Exception:  # noqa: BLE001 - said in a sentence to whoever asks for a PDF
            self._refuse_all(PdfUnavailable("PDF needs Playwright for Python, which is missing from this "
                                            "installation: run `make run` or `pip install -r requirements.txt`, "
                                            "or make the HTML pack and print it from a browser."))
            return
        try:
            try:
                browser = playwright.chromium.launch(executable_path=self.executable, args=LAUNCH_ARGS,
                                                     timeout=self.timeout_s * 1000)
            except Exception:  # noqa: BLE001
                self._refuse_all(PdfUnavailable(
                    f"Chromium at {self.executable} could not be started, so no PDF was made: check it opens "
                    "(`chromium --version`), or make the HTML pack and print it from a browser."))
                return
            ready = None
            if self.preload:
                try:
                    ready = _plotly_tab(browser, self.timeout_s)
                except Exception:  # noqa: BLE001 - the job makes its own page and says what went wrong
                    ready = None
            try:
                while (item := self._jobs.get()) is not None:
                    job, what, log, done = item
                    tab, ready = (ready, None) if job is _print_stream else (None, ready)
                    try:
                        done.set_result(job(browser, what, log, self.timeout_s, tab))
                    except BaseException as exc:  # noqa: BLE001 - handed to the thread that asked
                        done.set_exception(exc)
            finally:
                if ready is not None:
                    ready.close()
                _quietly(browser.close)
        finally:
            _quietly(playwright.stop)

    def _refuse_all(self, exc: Exception) -> None:
        while (item := self._jobs.get()) is not None:
            item[-1].set_exception(exc)


class _Stream:
    """A document's parts, passed from the thread that makes them to the printer's."""

    _END, _ABANDONED = object(), object()

    def __init__(self) -> None:
        self._parts: queue.Queue = queue.Queue()

    def put(self, part: str) -> None:
        self._parts.put(part)

    def finish(self) -> None:
        self._parts.put(self._END)

    def abandon(self) -> None:
        self._parts.put(self._ABANDONED)

    def take(self) -> tuple[str, bool] | None:
        """Every part handed over since the last take, as one text (waiting for the first), and
        whether the document is complete; None when it was abandoned."""
        taken: list[str] = []
        item = self._parts.get()
        while True:
            if item is self._ABANDONED:
                return None
            if item is self._END:
                return "".join(taken), True
            taken.append(item + "\n")
            try:
                item = self._parts.get_nowait()
            except queue.Empty:
                return "".join(taken), False


class _Tab:
    """A page of its own, laid out as it prints and offline: it may load its own file and nothing
    else; every other address it asks for (web, websocket or another file) is refused and noted."""

    def __init__(self, browser, html: str, log: PrintLog) -> None:
        self.log = log
        self._folder = tempfile.TemporaryDirectory(prefix="pack-pdf-")
        page_file = Path(self._folder.name) / "pack.html"
        page_file.write_text(html, encoding="utf-8")
        self.url = page_file.as_uri()
        try:
            self.context = browser.new_context(viewport=VIEWPORT, offline=True, service_workers="block")
        except BaseException:
            self._folder.cleanup()
            raise
        try:
            self.context.route("**/*", self._guard)
            # a websocket with a handler that never connects it is answered by nobody
            self.context.route_web_socket(re.compile(".*"), lambda ws: self.log.refused.append(ws.url))
            self.page = self.context.new_page()
            self.page.on("pageerror", lambda exc: self.log.errors.append(str(exc)))
            self.page.emulate_media(media="print")
        except BaseException:
            self.close()
            raise

    def _guard(self, route) -> None:
        url = route.request.url
        if url.split("#")[0] == self.url or url.startswith(OWN_SCHEMES):
            route.continue_()
        else:
            self.log.refused.append(url)
            route.abort("blockedbyclient")

    def open(self, deadline: float, timeout_s: float) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            self.page.goto(self.url, wait_until="load", timeout=_left_ms(deadline))
        except PlaywrightTimeout:
            raise PdfUnavailable(DRAWING_STALLED.format(seconds=timeout_s)) from None

    def use_log(self, log: PrintLog) -> None:
        """Note what happens from now on in ``log`` (with what was noted before)."""
        log.refused[:0] = self.log.refused
        log.errors[:0] = self.log.errors
        self.log = log

    def close(self) -> None:
        _quietly(self.context.close)
        self._folder.cleanup()


DRAWING_STALLED = ("Chromium did not finish drawing the pack's charts within {seconds:g} seconds, so no PDF was "
                   "made: try again when the machine is less busy, or make the HTML pack and print it from a "
                   "browser.")
# Each part is written into the open document; the first brings back plotly's own style sheets,
# which plotly.js wrote into the page when it loaded and opening the document cleared.
WRITE = """([html, styles]) => {
  document.write(html);
  for (const [id, css] of styles) {
    const sheet = document.createElement('style');
    sheet.id = id;
    sheet.textContent = css;
    document.head.appendChild(sheet);
  }
}"""
STYLES = "Array.from(document.querySelectorAll('style'), s => [s.id, Array.from(s.sheet.cssRules, r => r.cssText).join('\\n')])"


def _plotly_tab(browser, timeout_s: float) -> _Tab:
    """A page with plotly.js loaded (as the HTML pack loads it), ready for a document's parts."""
    from plotly.offline import get_plotlyjs

    shell = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><script>window.PlotlyConfig = "
             f"{{MathJaxConfig: 'local'}};</script><script>{get_plotlyjs()}</script></head><body></body></html>")
    start = time.perf_counter()
    tab = _Tab(browser, shell, PrintLog())
    try:
        tab.open(time.monotonic() + timeout_s, timeout_s)
    except BaseException:
        tab.close()
        raise
    tab.log.ready_s = time.perf_counter() - start
    return tab


def _print_whole(browser, html: str, log: PrintLog, timeout_s: float, _tab=None) -> bytes:
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout_s
    tab = None
    try:
        tab = _Tab(browser, html, log)
        start = time.perf_counter()
        tab.open(deadline, timeout_s)
        _wait_drawn(tab.page, deadline, timeout_s)
        log.load_s = time.perf_counter() - start
        return _pdf(tab.page, log)
    except Error:
        raise PdfUnavailable(STOPPED) from None
    finally:
        if tab is not None:
            tab.close()


def _print_stream(browser, stream: _Stream, log: PrintLog, timeout_s: float, tab: _Tab | None) -> bytes:
    from playwright.sync_api import Error

    try:
        if tab is None:
            tab = _plotly_tab(browser, timeout_s)
        log.ready_s = tab.log.ready_s
        tab.use_log(log)
        page = tab.page
        start = time.perf_counter()
        styles = page.evaluate(STYLES)
        page.evaluate("() => document.open()")
        while True:
            waiting = time.perf_counter()
            taken = stream.take()
            log.wait_s += time.perf_counter() - waiting
            if taken is None:  # the parts could not all be made: the caller says why
                return b""
            html, complete = taken
            if html:
                page.evaluate(WRITE, [html, styles])
                styles = []
            if complete:
                break
        page.evaluate("() => document.close()")
        _wait_drawn(page, time.monotonic() + timeout_s, timeout_s)
        log.load_s = time.perf_counter() - start
        return _pdf(page, log)
    except Error:
        raise PdfUnavailable(STOPPED) from None
    finally:
        if tab is not None:
            tab.close()


def _wait_drawn(page, deadline: float, timeout_s: float) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(ALL_DRAWN, timeout=_left_ms(deadline), polling=100)
        page.evaluate("document.fonts.ready.then(() => true)")
    except PlaywrightTimeout:
        raise PdfUnavailable(DRAWING_STALLED.format(seconds=timeout_s)) from None


def _pdf(page, log: PrintLog) -> bytes:
    log.figures, log.width_px = page.evaluate(
        "[document.querySelectorAll('.js-plotly-plot').length, document.documentElement.scrollWidth]")
    start = time.perf_counter()
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True, outline=True, tagged=True)
    log.print_s = time.perf_counter() - start
    return pdf


def _left_ms(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


def _quietly(close) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001 - closing a browser that has already gone
        pass
