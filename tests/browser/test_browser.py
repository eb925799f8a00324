"""The dashboard in a real browser, as a trustee meets it: start the app on the sample trust, open
every page in headless Chromium, see no error, and keep a screenshot of each for people to read.

Screenshots go to test-artifacts/screens/. Needs Debian's Chromium at /usr/bin/chromium (CI
installs it); elsewhere the test is skipped with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import copy_sample
from tests.helpers.network import free_port, stop

from .conftest import drawn, finished, require_chromium, settled

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screens"
PAGES = {
    "overview": "",
    "school": "school",
    "neglect": "neglect",
    "adolescents": "adolescents",
    "multi_agency": "multi-agency",
    "workforce": "workforce",
    "returns": "returns",
    "upload": "upload",
    "about": "about",
    "settings": "settings",
    "record": "record",
    "schools": "schools",
    "privacy": "privacy",
    "board_questions": "board-questions",
    "pack": "pack",
    "notifications": "notifications",
    "account": "account",
}

require_chromium()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The dashboard on the sample trust, started the way `make run` starts it."""
    yield from _serve(tmp_path_factory.mktemp("browser_data"), first_start=True)


def _serve(data: Path, *, first_start: bool = False):
    """The dashboard served from ``data``: on its database there, or on a copy of the sample trust
    (imported once for the whole run); with ``first_start``, the sample imported as the server
    starts, as on a trust's very first `make run`."""
    if not first_start and not (data / "dashboard.db").exists():
        copy_sample(data / "dashboard.db")
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data), "LOAD_SAMPLE": "1"}
    env.pop("DATABASE_URL", None)
    log = open(data / "app.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the dashboard did not start: " + (data / "app.log").read_text()[-2000:])
        yield url
    finally:
        stop(proc, timeout=20)
        log.close()


def _open(browser, url: str, name: str):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("h1", timeout=60_000)
    # Wait until the script has finished and what it sent is drawn: charts and some widgets load
    # their code on first use and show a placeholder meanwhile.
    finished(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return page


@pytest.mark.parametrize("name", PAGES)
def test_every_page_opens_without_an_error(app_url, browser, name):
    page = _open(browser, f"{app_url}/{PAGES[name]}", name)
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        text = page.inner_text("body")
        assert "Traceback" not in text and "Sorry: something went wrong" not in text
        assert page.locator("h1").first.is_visible()
    finally:
        page.close()


def test_overview_shows_the_heatmap_and_the_gap_list(app_url, browser):
    from playwright.sync_api import expect

    page = _open(browser, app_url, "overview_check")
    try:
        heatmap = page.locator(".js-plotly-plot").first
        expect(heatmap).to_be_visible(timeout=30_000)
        expect(heatmap).to_contain_text("Neglect", timeout=30_000)
        expect(heatmap).to_contain_text("Workforce")
        body = page.inner_text("body")
        assert "A question to ask" in body
        assert "Kestrel Vale Primary School" in body  # a school with a planted lapse
    finally:
        page.close()


def test_a_gap_opens_its_schools_profile_at_its_term(app_url, browser):
    """On the overview for Spring 2025/26, tried as a trustee, a gap's school is a link: it opens
    that school's profile for Spring 2025/26, still as a trustee."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(f"{app_url}/?year=2025%2F26&term=Spring&demo_role=Trustee", wait_until="domcontentloaded")
        settled(page)
        link = page.locator('[data-testid="stTable"]').first.locator("a").last  # not the profile's first school
        name = link.inner_text().strip()
        with page.context.expect_page() as opened:
            link.click()
        profile = opened.value
        settled(profile)
        SHOTS.mkdir(parents=True, exist_ok=True)
        profile.screenshot(path=str(SHOTS / "gap_link_profile.png"))
        assert f"{name}, Spring 2025/26" in profile.inner_text('[data-testid="stMain"]')
        assert "Trying it as Trustee" in profile.inner_text('[data-testid="stSidebar"]')
        profile.close()
    finally:
        page.close()


def test_the_school_profile_shows_every_column_on_a_laptop_screen(app_url, browser):
    """At 1366 by 768 the measures table's last columns, England and where the school sits against
    the trust, are drawn inside the page, not cut off behind a scroll bar."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(f"{app_url}/school?school=Marrowby+High+School+%28990009%29", wait_until="domcontentloaded")
        settled(page)
        main = page.locator('[data-testid="stMain"]').bounding_box()
        table = page.locator('[data-testid="stTable"]').filter(has_text="Against the trust")
        for heading in ("England", "Against the trust"):
            cell = table.locator("th").filter(has_text=heading).first
            cell.scroll_into_view_if_needed()
            box = cell.bounding_box()
            assert box and box["x"] >= main["x"] and box["x"] + box["width"] <= main["x"] + main["width"], heading
        assert page.evaluate("""() => Array.from(document.querySelectorAll('[data-testid="stTable"]'))
                                .every(t => t.scrollWidth <= t.clientWidth + 1)""")
    finally:
        page.close()


def test_a_link_into_a_page_of_a_fresh_server_still_goes_through_the_frame(tmp_path, browser):
    """The very first request to a new server is a deep link: it must not be served a page from
    the pages/ folder on its own, without the navigation and the sidebar of the frame."""
    server = _serve(tmp_path)
    url = next(server)
    try:
        page = _open(browser, f"{url}/upload", "deep_link")
        nav = page.inner_text('[data-testid="stSidebar"]')
        assert "Trying it as" in nav  # the sample trust alone: a demonstration
        assert "theme view" not in nav.lower() and "common" not in nav.lower()
        page.close()
    finally:
        server.close()


OTHER_SCHOOLS = ["Larkspur Hill Primary School", "Lanternbrook Learning Centre", "Marrowby High School",
                 "Ottersby Primary School", "Pellow Ridge Academy", "Quillfield Primary School",
                 "Saltwhistle Lane Primary School", "Skylark Fold School", "Thornmere Primary School",
                 "Tillowby Junior School", "Wrenhaven Academy"]
DSL_PAGES = {name: path for name, path in PAGES.items()
             if name not in ("settings", "record", "schools", "pack", "notifications")}


def _names_no_other_school(page, name: str, *, says: str) -> None:
    """The page ``name`` says ``says`` and names none of the other schools, in its text or its markup."""
    shown = page.inner_text("body") + page.content()
    assert says in shown, name
    leaked = [school for school in OTHER_SCHOOLS if school in shown]
    assert leaked == [], f"{name}: {leaked}"


def test_a_dsl_finds_no_other_schools_name_anywhere(app_url, browser):
    """Trying the demonstration as the DSL of Kestrel Vale (the role is in the page address, as a
    shared link would carry it), every page and every chart names that school alone."""
    for name, path in DSL_PAGES.items():
        page = _open(browser, f"{app_url}/{path}?demo_role=DSL+at+Kestrel+Vale+Primary+School", f"dsl_{name}")
        try:
            _names_no_other_school(page, name, says="Trying it as DSL at Kestrel Vale Primary School")
        finally:
            page.close()


def sample_trust(folder: Path, *accounts: tuple[str, str, tuple[str, ...], str]):
    """The sample trust's database in ``folder`` with local accounts (email, role, schools, password)."""
    from store import db
    from store.users import add_user

    engine = db.make_engine(f"sqlite:///{copy_sample(folder / 'dashboard.db')}")
    for email, role, urns, password in accounts:
        add_user(engine, email, role=role, urns=urns, password=password, actor="test")
    return engine


@pytest.fixture(scope="module")
def signed_in_app(tmp_path_factory):
    """The dashboard with the sample trust and one local account: a DSL at Kestrel Vale."""
    from store import db

    data = tmp_path_factory.mktemp("browser_accounts")
    engine = sample_trust(data, ("dsl@kestrel.example.org", "dsl", ("990002",), DSL_PASSWORD))
    # the board's questions on every school: a DSL's pages must show only their own school's
    from datetime import date

    from store.challenges import add_challenge
    from store.returns import schools
    for urn in schools(engine)["urn"]:
        add_challenge(engine, urn=urn, theme="neglect", rule="neglect_drift", indicator="", academic_year="2025/26",
                      term="Summer", finding="Flags stay on monitoring.", question="What is the plan?",
                      asked_by="Chair", meeting_date=date(2026, 7, 10), user="test")
    db.dispose(engine)
    yield from _serve(data)


DSL_PASSWORD = "correct horse battery staple"
NAV = {"school": "School profile", "neglect": "Neglect", "adolescents": "Adolescents",
       "multi_agency": "Multi-agency", "workforce": "Workforce", "returns": "Returns", "upload": "Upload",
       "about": "About the data", "privacy": "Privacy", "board_questions": "Board questions", "account": "My account"}
TITLES = {"overview": "Trust overview", "school": "School profile", "neglect": "Neglect",
          "adolescents": "Adolescents", "multi_agency": "Multi-agency", "workforce": "Workforce",
          "returns": "Returns", "upload": "Upload", "about": "About the data", "privacy": "Privacy",
          "board_questions": "The board's questions", "account": "My account"}


def test_a_dsl_signs_in_and_finds_no_other_schools_name_anywhere(signed_in_app, browser):
    """Signed in with a local account as the DSL of Kestrel Vale, every page and every chart
    names that school alone."""
    for name, path in DSL_PAGES.items():
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        try:
            page.goto(f"{signed_in_app}/{path}", wait_until="domcontentloaded")
            page.get_by_label("Email").fill("dsl@kestrel.example.org")
            page.get_by_label("Password", exact=True).first.fill(DSL_PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_function("document.body && document.body.innerText.includes('Signed in as')", timeout=60_000)
            page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
            if name != "overview":  # signed in, the DSL lands on the overview and goes on from there
                page.locator('[data-testid="stSidebarNav"] a').filter(has_text=NAV[name]).first.click()
                page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')",
                                       timeout=60_000)
            title = TITLES[name]
            drawn(page, title)
            assert title in page.inner_text("h1"), name
            page.screenshot(path=str(SHOTS / f"signed_in_dsl_{name}.png"), full_page=True)
            _names_no_other_school(page, name, says="(DSL)")
        finally:
            page.close()
