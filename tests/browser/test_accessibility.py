"""Every page checked against WCAG 2.2 AA by axe-core in a real browser, as each kind of user
signs in and meets it: a trust leader, a trustee and a DSL, each with a local account, and the
sign-in page before anyone has signed in.

What is asserted on every page: axe finds no serious or critical violation in our markup; each
page has its own title in the browser's tab ("Neglect · Safeguarding governance"); its headings
go down one level at a time under its one h1; no chart puts its toolbar in the tab order, and
each chart has a name a screen reader reads. axe's findings are written per page and role to
test-artifacts/axe/ (a count by impact in each file, and every finding in full) so they can be
reported.

Where Streamlit's own markup fails a rule and the app cannot change it, the rule and the element
are named in ``STREAMLIT_OWN`` below and nowhere else: a finding on any other element fails.

axe-core comes from npm, pinned in package.json and package-lock.json (`make test` runs `npm ci`
when node_modules is missing or older than the lock). Without it, or without Chromium, the test
is skipped with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import require_chromium, settled
from .test_browser import PAGES, _serve, sample_trust

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FINDINGS = ROOT / "test-artifacts" / "axe"
APP_TITLE = "Safeguarding governance"
PASSWORD = "amber kettle lighthouse"
ACCOUNTS = {  # role: (email, schools)
    "trust_leader": ("leader@trust.example.org", ()),
    "trustee": ("trustee@trust.example.org", ()),
    "dsl": ("dsl@kestrel.example.org", ("990002",)),
}
TITLES = {"overview": "Overview", "school": "School profile", "neglect": "Neglect",
          "adolescents": "Adolescents and risk outside the home", "multi_agency": "Multi-agency working",
          "workforce": "Workforce and KCSIE", "returns": "Returns", "upload": "Upload a return",
          "about": "About the data", "settings": "Settings", "record": "Record of changes",
          "schools": "Schools", "privacy": "Privacy", "board_questions": "Board questions",
          "pack": "Board pack", "notifications": "Notifications", "account": "My account"}
CHARTED = ("overview", "school", "neglect", "adolescents", "multi_agency", "workforce")
NOT_FOR = {"trust_leader": (), "trustee": ("upload", "settings", "record", "schools", "notifications"),
           "dsl": ("settings", "record", "schools", "pack", "notifications")}
# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and axe's best practices (heading order among them).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")

# Streamlit's own markup that fails a rule and cannot be changed from the app: (rule id, a CSS
# selector of Streamlit's element, why). A finding is let through only when every element it
# names matches the selector given with its rule.
STREAMLIT_OWN = [
    ("list", '[data-testid="stSidebarNavItems"]',
     "the sidebar's page list puts each section's heading, a div, straight inside its ul"),
    ("listitem", '[data-testid="stSidebarNavItems"]',
     "so the list items of a section sit in a div within that ul, not in a list of their own"),
]

if not AXE.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{AXE.relative_to(ROOT)} is missing: `make test` runs `npm ci` before the tests")
    pytest.skip("axe-core is not installed here: run `npm ci` (or `make test`) to check accessibility",
                allow_module_level=True)
require_chromium()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The dashboard on the sample trust with one local account for each role."""
    from store import db

    data = tmp_path_factory.mktemp("a11y")
    db.dispose(sample_trust(data, *((email, role, urns, PASSWORD) for role, (email, urns) in ACCOUNTS.items())))
    yield from _serve(data)


def _check(page, role: str, name: str) -> list[dict]:
    """axe's findings on the page as drawn, saved; the blocking ones not allowed for Streamlit."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
    counts = {impact: sum(1 for v in results["violations"] if v["impact"] == impact)
              for impact in ("critical", "serious", "moderate", "minor")}
    FINDINGS.mkdir(parents=True, exist_ok=True)
    (FINDINGS / f"{role}_{name}.json").write_text(json.dumps(
        {"role": role, "page": name, "url": page.url, "violations_by_impact": counts,
         "violations": [{key: v[key] for key in ("id", "impact", "help", "helpUrl")}
                        | {"elements": [{"target": n["target"], "html": n["html"][:300]} for n in v["nodes"]]}
                        for v in results["violations"]]},
        indent=2))
    return [v for v in results["violations"] if v["impact"] in BLOCKING and not _streamlit_own(page, v)]


def _streamlit_own(page, violation: dict) -> bool:
    """Whether every element axe names for this rule is within Streamlit's element allowed for it."""
    selectors = [selector for rule, selector, _ in STREAMLIT_OWN if rule == violation["id"]]
    return bool(selectors) and all(
        page.evaluate("([t, ss]) => ss.some(s => document.querySelector(t)?.closest(s))",
                      [node["target"][-1], selectors])
        for node in violation["nodes"])


def _headings(page) -> list[int]:
    return page.evaluate("""() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]
        .filter(h => h.offsetParent !== null || h.getClientRects().length)
        .map(h => Number(h.tagName[1]))""")


def _assert_the_basics(page, role: str, name: str) -> None:
    """The page's own title, headings in order, and charts out of the tab order with a name."""
    where = f"{role} {name}"
    assert page.title() == f"{TITLES[name]} · {APP_TITLE}", where
    levels = _headings(page)
    assert levels and levels[0] == 1 and levels.count(1) == 1, f"{where}: {levels}"
    jumps = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
    assert jumps == [], f"{where}: a heading skips a level {jumps} in {levels}"
    charts = page.locator('[data-testid="stPlotlyChart"]')
    assert charts.count() > 0 or name not in CHARTED, f"{where}: no chart drawn"
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.locator(".modebar-btn, .modebar a, .modebar button").count() == 0, f"{where}: chart {i}"
        assert chart.get_attribute("role") == "figure" and chart.get_attribute("aria-label"), f"{where}: chart {i}"


def _drawn(page) -> None:
    """Wait for the charts too: plotly's code is fetched on first use, and the figure drawn after."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("""[...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => c.querySelector('.main-svg'))""", timeout=60_000)
    page.wait_for_timeout(500)


def _sign_in(context, app: str, email: str):
    page = context.new_page()
    page.goto(app, wait_until="domcontentloaded")
    settled(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).first.fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_function("document.body && document.body.innerText.includes('Signed in as')", timeout=60_000)
    return page


def test_the_sign_in_page_passes_axe(app, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(app, wait_until="domcontentloaded")
        settled(page)
        assert page.title() == f"Sign in · {APP_TITLE}"
        assert _check(page, "nobody", "sign_in") == []
        for field in ("#sign-in-email", "#sign-in-password", ".sign-in button"):
            box = page.locator(field).bounding_box()
            assert box["width"] >= 24 and box["height"] >= 24, field
    finally:
        context.close()


@pytest.mark.parametrize("role", ACCOUNTS)
def test_every_page_passes_axe_for_each_role(app, browser, role):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    failed = {}
    try:
        page = _sign_in(context, app, ACCOUNTS[role][0])
        for name, path in PAGES.items():
            if name in NOT_FOR[role]:
                continue
            page.goto(f"{app}/{path}", wait_until="domcontentloaded")
            settled(page)
            _drawn(page)
            _assert_the_basics(page, role, name)
            blocking = _check(page, role, name)
            if blocking:
                failed[name] = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:5]) for v in blocking]
    finally:
        context.close()
    assert failed == {}, json.dumps(failed, indent=1)


@pytest.fixture(scope="module")
def mail_app(tmp_path_factory):
    """The dashboard with email on (a mail server that is down), an email queued and one that failed
    for a day: the Notifications page with everything it can show."""
    from datetime import date, timedelta

    from store import db, outbox
    from store.audit import utcnow
    from store.challenges import add_challenge
    from store.packs import record_pack
    from tests.mailserver import free_port

    data = tmp_path_factory.mktemp("a11y_mail")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", str(free_port())), ("SMTP_STARTTLS", "0"),
                            ("MAIL_FROM", "dashboard@trust.example.org")):
            mp.setenv(name, value)
        engine = sample_trust(data, *((email, role, urns, PASSWORD) for role, (email, urns) in ACCOUNTS.items()))
        record_pack(engine, user="leader", academic_year="2025/26", term="Summer", fmt="pdf", reader="trustee")
        outbox.send_pending(engine, now=utcnow())
        outbox.send_pending(engine, now=utcnow() + timedelta(days=1, hours=1))
        add_challenge(engine, urn="990002", theme="neglect", rule="neglect_drift", indicator="", academic_year="2025/26",
                      term="Summer", finding="f", question="q", asked_by="Chair", meeting_date=date(2026, 7, 10),
                      user="leader")
        db.dispose(engine)
        yield from _serve(data)


def test_the_notifications_page_with_email_on_passes_axe(mail_app, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = _sign_in(context, mail_app, ACCOUNTS["trust_leader"][0])
        page.goto(f"{mail_app}/notifications", wait_until="domcontentloaded")
        settled(page)
        body = page.inner_text("body")
        assert "Email is on" in body and "could not be sent" in body and "Send them again" in body
        page.locator('[data-testid="stExpander"] summary').first.click()  # a preview, open
        settled(page)
        _assert_the_basics(page, "trust_leader", "notifications")
        assert _check(page, "trust_leader", "notifications_email_on") == []
    finally:
        context.close()
