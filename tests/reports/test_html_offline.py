"""The HTML pack, short and with its appendix, opened in a real browser with no network: every
chart draws from the file alone, nothing asks for another address, and no script fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium to run this test", allow_module_level=True)


@pytest.mark.parametrize("pack_name", ["leader_pack", "trustee_pack", "leader_appendix", "trustee_appendix"])
def test_the_html_pack_opens_offline_and_draws_every_chart(pack_name, request, tmp_path):
    from playwright.sync_api import sync_playwright

    from reports.html import render_html

    pack = request.getfixturevalue(pack_name)
    path = tmp_path / "pack.html"
    path.write_text(render_html(pack), encoding="utf-8")
    asked, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(offline=True)
            page = context.new_page()
            page.on("request", lambda r: asked.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(path.as_uri(), wait_until="load")
            figures = page.locator(".js-plotly-plot").count()
            page.wait_for_function(
                "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=figures,
                timeout=60_000)
            drawn = page.evaluate("Array.from(document.querySelectorAll('.js-plotly-plot'))"
                                  ".filter(f => f.querySelector('.main-svg')).length")
            headings = page.locator("h2").all_inner_texts()
        finally:
            browser.close()
    # each theme's, in the appendix (the summary's heatmap is a table)
    assert figures == (sum(len(s.charts) for s in pack.sections) if pack.appendix else 0)
    assert drawn == figures
    assert [u for u in asked if not u.startswith(("file:", "data:", "blob:"))] == []
    assert errors == []
    assert "The board's questions" in headings and any(h.startswith("Summary") for h in headings)
    assert "How to read this pack" in headings
