"""User text is text, in a real browser: a school's name, a staff name, an explanation and the
board's question, answer and owner written as Markdown and HTML (an image and a link to
127.0.0.1:9, a tag, bold) show as those characters on the Overview, the School profile, the Board
questions page and the Schools page; no <img> or <a> to those addresses is in the page, plotly's
SVG included, and the browser asks 127.0.0.1:9 for nothing.

Screenshots go to /tmp/usertext-shots/. Needs Debian's Chromium at /usr/bin/chromium; skipped
with the reason without it.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

from tests.browser.test_browser import _serve
from tests.conftest import copy_sample
from tests.pages.test_user_text import ANSWER, EXPLAINED, MINE, NAME, OWNER, QUESTION, STAFF, put_user_text_in

from .conftest import require_chromium

SHOTS = Path("/tmp/usertext-shots")
WORD_JOINER = "\u2060"  # kept before a bare address so Markdown does not make it a link; never seen

require_chromium()


def _open(browser, url: str, asked: list[str]):
    """A page with every request it makes recorded from the first, once the script has finished."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.on("request", lambda r: asked.append(r.url))
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid^=\"stSkeleton\"]')", timeout=60_000)
    page.wait_for_timeout(500)
    return page


def _hostile_trust(data: Path) -> None:
    copy_sample(data / "app.db")  # the sample trust, imported once for the whole run
    put_user_text_in(data)
    (data / "app.db").rename(data / "dashboard.db")  # where the served dashboard looks


def _pointing_at_port_9(page) -> list[str]:
    """Every image, link or SVG image in the page that points at 127.0.0.1:9."""
    found = page.eval_on_selector_all(
        "img, a, image, source, iframe, [src], [href]",
        "els => els.map(e => [e.getAttribute('src'), e.getAttribute('href'), e.getAttribute('xlink:href')]"
        ".filter(Boolean).join(' '))")
    return [f for f in found if "127.0.0.1:9/" in f or "127.0.0.1:9'" in f]


def test_user_text_shows_as_typed_and_loads_nothing_in_a_real_browser(tmp_path, browser):
    started = time.perf_counter()
    _hostile_trust(tmp_path)
    server = _serve(tmp_path)
    url = next(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    asked: list[str] = []
    try:
        pages = {
            "overview": ("", [NAME, QUESTION]),
            "school": ("school", [NAME, STAFF, EXPLAINED, QUESTION, ANSWER]),
            "board_questions": ("board-questions", [NAME, QUESTION, ANSWER, OWNER, STAFF]),
            "schools": ("schools", [NAME]),
        }
        for name, (path, expected) in pages.items():
            page = _open(browser, f"{url}/{path}", asked)
            try:
                if name in ("school", "schools"):  # choose the school by its name, as a trust leader would
                    page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]').first.click()
                    page.get_by_role("option", name=f"{NAME} ({MINE})", exact=True).click()
                    page.wait_for_function("want => [...document.querySelectorAll('h2, [data-testid=\"stMarkdown\"]')]"
                                           ".some(e => e.innerText.replaceAll('\\u2060', '').includes(want))",
                                           arg=NAME, timeout=30_000)
                    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                           timeout=30_000)
                    page.wait_for_timeout(1000)
                if name in ("overview", "school"):
                    page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
                page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
                text = page.inner_text("body").replace(WORD_JOINER, "")
                for want in expected:
                    assert want in text, f"{want!r} is not shown as typed on the {name} page"
                assert "&amp;amp;" not in text and "\\[" not in text and "\\*" not in text  # escaped once only
                assert not _pointing_at_port_9(page), name
                assert page.locator('[data-testid="stException"]').count() == 0
                if name == "overview":  # the heatmap names the school in plotly's SVG, as typed
                    svg = page.locator(".js-plotly-plot").first
                    assert svg.locator("a").count() == 0  # plotly draws a heatmap as an image made in the page
                    assert all((svg.locator("image").nth(i).get_attribute("href") or "").startswith("data:")
                               for i in range(svg.locator("image").count()))
                    assert NAME in svg.inner_text() or "Oak ![x]" in svg.text_content()
            finally:
                page.close()
    finally:
        try:
            next(server)
        except StopIteration:
            pass
    assert not [u for u in asked if urlparse(u).port == 9 and urlparse(u).hostname == "127.0.0.1"]
    assert not [u for u in asked if "127.0.0.1:9/" in u]
    assert time.perf_counter() - started < 60
