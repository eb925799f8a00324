"""A DSL's path through an upload in a real browser, trying the demonstration on the sample trust:
upload a broken return, then the fixed one, explain the queries, submit, and see the receipt,
not a lock screen; the dashboard is still a demonstration afterwards.

Each step is screenshotted at 1366x768 into test-artifacts/screens/upload_*.png for people to read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import require_chromium, settled
from .test_browser import SHOTS, _serve

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "sample_data" / "invalid" / "invalid_count_in_words.xlsx"
FIXED = ROOT / "sample_data" / "invalid" / "queries_blank_row_no_dsl.xlsx"  # valid, with two queries
AS_DSL = "demo_role=DSL+at+Larkspur+Hill+Primary+School"  # the school both files are for
VIEWPORT = {"width": 1366, "height": 768}

require_chromium()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory):
    """A fresh dashboard on the sample trust, nobody set up to sign in: a demonstration."""
    yield from _serve(tmp_path_factory.mktemp("upload_demo"))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"upload_{name}.png"))


def _upload(page, path: Path) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(path))
    page.wait_for_timeout(500)
    settled(page)


def _explain(page, i: int, text: str) -> None:
    box = page.locator("textarea").nth(i)
    box.fill(text)
    box.press("Tab")  # the box is saved when it loses the focus
    page.wait_for_timeout(300)
    settled(page)


def _press(page, label: str) -> None:
    page.get_by_role("button", name=label).click()
    page.wait_for_timeout(500)
    settled(page)


def _with_an_error(path: Path, folder: Path) -> Path:
    """The file with Neglect's concerns written as a word: an error beside its queries."""
    from openpyxl import load_workbook

    from sample_data.broken import cell_of

    book = load_workbook(path)
    cell_of(book, "referrals.neglect.concerns").value = "five"
    out = folder / "queries_and_an_error.xlsx"
    book.save(out)
    return out


def test_a_dsl_in_the_demonstration_fixes_explains_submits_and_sees_the_receipt(demo_url, browser, tmp_path):
    from playwright.sync_api import expect

    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(demo_url, wait_until="domcontentloaded")  # a fresh server's first visit opens at its front
        settled(page)
        page.goto(f"{demo_url}/upload?{AS_DSL}", wait_until="domcontentloaded")
        settled(page)
        expect(page.locator('[data-testid="stSidebar"]')).to_contain_text("Trying it as DSL at Larkspur Hill")
        _shot(page, "1_page")

        _upload(page, BROKEN)
        body = page.locator("body")
        expect(body).to_contain_text("Not ready: 1 error to fix")
        expect(body).to_contain_text('Neglect, children with concerns recorded (Referrals, B5): the cell holds "five".')
        assert page.get_by_role("button", name="Submit the return").is_disabled()
        page.get_by_text("Not ready", exact=False).first.scroll_into_view_if_needed()
        _shot(page, "2_errors")

        _upload(page, _with_an_error(FIXED, tmp_path))  # the queries wait for the error to be fixed
        expect(body).to_contain_text("Not ready: 1 error to fix and 2 queries.")
        expect(body).to_contain_text("2 queries can be explained once the errors above are fixed.")
        expect(page.locator("textarea")).to_have_count(0)
        page.get_by_role("button", name="Submit the return").scroll_into_view_if_needed()
        _shot(page, "2b_queries_wait")

        _upload(page, FIXED)
        expect(body).to_contain_text("Ready to submit, with 2 queries to explain.")
        expect(page.locator("textarea")).to_have_count(2)
        expect(body).to_contain_text("This is a demonstration: your upload is stored as demonstration data and "
                                     "shown to the other demonstration roles.")
        page.get_by_role("button", name="Submit the return").scroll_into_view_if_needed()
        _shot(page, "3_queries")

        _explain(page, 0, "The part-time timetable figure is not known this term.")
        _press(page, "Submit the return")
        expect(body).to_contain_text("1 query has no explanation. Submit anyway?")
        expect(page.get_by_role("button", name="Go back and explain")).to_be_visible()
        page.get_by_role("button", name="Go back and explain").scroll_into_view_if_needed()
        _shot(page, "4_confirm")

        _press(page, "Go back and explain")
        expect(body).not_to_contain_text("Submit anyway?")
        _explain(page, 1, "Our DSL left at Easter; the deputy leads until September.")
        _press(page, "Submit the return")  # every query explained: straight through
        expect(body).to_contain_text("Stored as version 2 for Larkspur Hill Primary School, Summer 2025/26.")
        expect(body).to_contain_text("Errors: none. Queries open: none (2 queries, each explained).")
        text = page.inner_text("body")
        assert "nobody is set up to sign in" not in text and "Traceback" not in text
        expect(page.get_by_text("Stored as version 2 for")).to_be_in_viewport()  # read where the browser is
        expect(page.get_by_role("button", name="Upload another return")).to_be_visible()
        _shot(page, "5_receipt")

        page.goto(f"{demo_url}/?demo_role=Trustee", wait_until="domcontentloaded")
        settled(page)
        expect(body).to_contain_text("Demonstration.")  # still a demonstration, for every role
        assert "nobody is set up to sign in" not in page.inner_text("body")
        _shot(page, "6_still_a_demonstration")
    finally:
        page.close()
