"""What every real-browser test shares: Debian's Chromium, started the way this machine allows
(no sandbox as root, no background traffic to a network it cannot reach), one per test module."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]


def require_chromium() -> None:
    """Skip the calling module when Chromium is missing here; in CI, which installs it, fail instead."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium to run this test", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def settled(page) -> None:
    """Wait until the dashboard has drawn a page: a heading, and nothing left running or loading."""
    page.wait_for_selector("h1", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid^=\"stSkeleton\"]')", timeout=60_000)
    page.wait_for_timeout(300)


CHARTS_DRAWN = """() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
    .every(c => c.querySelector('.main-svg'))"""


def finished(page) -> None:
    """Wait until the app's script has run to its end and what it sent is drawn: the script no
    longer running, no status widget, no placeholder left, every chart drawn; then a moment more."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', state="attached",
                           timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_function("!document.querySelector('[data-testid^=\"stSkeleton\"]')", timeout=60_000)
    page.wait_for_function(CHARTS_DRAWN, timeout=60_000)
    page.wait_for_timeout(150)


def drawn(page, heading: str) -> None:
    """Wait until the page whose h1 holds ``heading`` has run to its end and drawn everything it
    sent (twice over, a moment apart, in case the script ran again)."""
    page.wait_for_function("t => (document.querySelector('h1')?.innerText || '').includes(t)", arg=heading,
                           timeout=60_000)
    for _ in range(2):
        finished(page)
