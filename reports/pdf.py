"""The board pack as a PDF: the pack's own HTML, printed by Chromium.

Chromium draws the same plotly figures as the HTML pack and the dashboard, so the PDF shows
exactly what they show and there is no second way of drawing a chart to keep up to date. The page
is printed as A4 with its print styles; headings become the PDF's bookmarks, each page says
"Page N of M" (the print styles' page footer), and the document is tagged so a screen reader can
follow it.

Making a PDF never touches the network: the page may load itself and nothing else. Every other
address it asks for (web, websocket or another file) is refused and noted.

Chromium is found from the ``CHROMIUM_PATH`` setting, else as ``chromium``, ``chromium-browser`` or
``google-chrome`` on the PATH. Without it, or when it cannot start or finish, ``PdfUnavailable``
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
from concurrent.futures import Future, TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

import settings

__all__ = ["PdfUnavailable", "PrintLog", "Printer", "chromium_path", "render_pdf", "render_pdf_from_html",
           "NO_CHROMIUM"]

NO_CHROMIUM = ("PDF needs Chromium: install it with `sudo apt-get install chromium` (see README), or make the "
               "HTML pack and print it from a browser.")
STOPPED = ("Chromium stopped while printing the pack, so no PDF was made: try again, or make the HTML pack and "
           "print it from a browser.")
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
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
    load_s: float = 0.0  # opening the page and drawing its figures
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
    """The whole pack as the bytes of one PDF."""
    from reports.html import render_html

    with Printer() as printer:
        return printer.print_html(render_html(pack, static=True), log=log)


def render_pdf_from_html(html: str, *, log: PrintLog | None = None, timeout_s: float = TIMEOUT_S) -> bytes:
    """An HTML document printed to PDF; ``log``, when given, is filled in as it goes."""
    with Printer(timeout_s=timeout_s) as printer:
        return printer.print_html(html, log=log)


class Printer:
    """Chromium, started at once on a thread of its own, printing HTML documents to PDF.

    Starting it before the pack is gathered lets the browser start while the figures are made::

        with Printer() as printer:
            pack = build_pack(...)
            pdf = printer.print_html(render_html(pack, static=True))

    Raises PdfUnavailable at once when there is no Chromium to start.
    """

    def __init__(self, executable: str | None = None, *, timeout_s: float = TIMEOUT_S) -> None:
        self.executable = executable or chromium_path()
        self.timeout_s = timeout_s
        self._jobs: queue.Queue = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="pdf-printer", daemon=True)
        self._thread.start()

    def print_html(self, html: str, *, log: PrintLog | None = None) -> bytes:
        if self._closed or not self._thread.is_alive():
            raise PdfUnavailable(STOPPED)
        done: Future = Future()
        self._jobs.put((html, log if log is not None else PrintLog(), done))
        try:
            # the page's own steps each have their deadline; this one covers Chromium going quiet
            return done.result(timeout=self.timeout_s + 60)
        except FutureTimeout:
            raise PdfUnavailable(STOPPED) from None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._jobs.put(None)
            self._thread.join(timeout=30)

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

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
            try:
                while (job := self._jobs.get()) is not None:
                    html, log, done = job
                    try:
                        done.set_result(_print(browser, html, log, self.timeout_s))
                    except BaseException as exc:  # noqa: BLE001 - handed to the thread that asked
                        done.set_exception(exc)
            finally:
                _quietly(browser.close)
        finally:
            _quietly(playwright.stop)

    def _refuse_all(self, exc: Exception) -> None:
        while (job := self._jobs.get()) is not None:
            job[-1].set_exception(exc)


def _print(browser, html: str, log: PrintLog, timeout_s: float) -> bytes:
    from playwright.sync_api import Error, TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout_s

    def left_ms() -> float:
        return max(1.0, (deadline - time.monotonic()) * 1000)

    context = browser.new_context(viewport=VIEWPORT, offline=True, service_workers="block")
    try:
        with tempfile.TemporaryDirectory(prefix="pack-pdf-") as folder:
            page_file = Path(folder) / "pack.html"
            page_file.write_text(html, encoding="utf-8")
            own = page_file.as_uri()

            def guard(route) -> None:
                url = route.request.url
                if url.split("#")[0] == own or url.startswith(OWN_SCHEMES):
                    route.continue_()
                else:
                    log.refused.append(url)
                    route.abort("blockedbyclient")

            context.route("**/*", guard)
            # a websocket with a handler that never connects it is answered by nobody
            context.route_web_socket(re.compile(".*"), lambda ws: log.refused.append(ws.url))
            page = context.new_page()
            page.on("pageerror", lambda exc: log.errors.append(str(exc)))
            page.emulate_media(media="print")
            start = time.perf_counter()
            try:
                page.goto(own, wait_until="load", timeout=left_ms())
                page.wait_for_function(ALL_DRAWN, timeout=left_ms(), polling=100)
                page.evaluate("document.fonts.ready.then(() => true)")
            except PlaywrightTimeout:
                raise PdfUnavailable(
                    f"Chromium did not finish drawing the pack's charts within {timeout_s:g} seconds, so no PDF "
                    "was made: try again when the machine is less busy, or make the HTML pack and print it "
                    "from a browser.") from None
            log.figures, log.width_px = page.evaluate(
                "[document.querySelectorAll('.js-plotly-plot').length, document.documentElement.scrollWidth]")
            log.load_s = time.perf_counter() - start
            start = time.perf_counter()
            pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True, outline=True,
                           tagged=True)
            log.print_s = time.perf_counter() - start
            return pdf
    except Error:
        raise PdfUnavailable(STOPPED) from None
    finally:
        _quietly(context.close)


def _quietly(close) -> None:
    try:
        close()
    except Exception:  # noqa: BLE001 - closing a browser that has already gone
        pass
