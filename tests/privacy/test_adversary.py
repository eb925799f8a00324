"""The adversary: everything a trustee receives, and every way we know to work a hidden count back
out of it.

For the sample trust (every term) and a small trust whose counts of children are mostly 1 to 4,
the trustee's every page (every term, every measure, every school), chart (its JSON: points,
hovers, custom data, lines, notes), table, download, board pack (HTML and Excel) and command-line
gap list is gathered (harvest.py) and read as facts about the counts (knowledge.py). Each test
below is one route (attacks.py); it fails on any count of children or of allegations about staff
from 1 to 4 (or any count a table marked "not shown") that the route works out exactly, naming
the count, the school, the term and the numbers that give it away.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.privacy import attacks
from tests.privacy.harvest import TRUSTEE_PAGES, pages_not_read_every_term

# The folder's readings are gathered once per worker: its files run together (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("privacy-readings")

ROOT = Path(__file__).resolve().parents[2]
NOT_FOR_TRUSTEES = ("audit", "schools", "settings", "upload", "notifications")


def said(reading, leaks, limit: int = 30) -> str:
    lines = sorted({f"{x.target.what}, {reading.name_of(x.target.urn)}, {x.term}: {x.how}" for x in leaks})
    more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
    return f"{len(lines)} hidden counts worked out from what a trustee of the {reading.name} receives:\n" + \
        "\n".join(lines[:limit]) + more


def check(reading, leaks) -> None:
    """Every count the adversary works out is the real one (else the adversary misread something,
    and its other answers cannot be trusted either); then there must be none."""
    wrong = [x for x in leaks if abs(x.found - x.target.value) > 1e-6]
    assert not wrong, "the adversary misread: " + "; ".join(f"{x} (really {x.target.value:g})" for x in wrong)
    if leaks:
        pytest.fail(said(reading, leaks), pytrace=False)


def test_a_trustee_is_read_on_every_page_they_can_open(reading):
    """Every page file is harvested or refused to a trustee (test below); and every kind
    of thing a trustee receives was gathered, for every term: figures, tables, downloads, both
    packs (HTML and Excel), each short and with its appendix, the command line's gap list."""
    pages = {p.stem for p in (ROOT / "pages").glob("*.py")}
    assert set(TRUSTEE_PAGES) <= pages
    assert pages - set(TRUSTEE_PAGES) == set(NOT_FOR_TRUSTEES), \
        "a new page: add it to harvest.TRUSTEE_PAGES if a trustee can open it"
    wheres = [i.where for i in reading.items]
    for what in ("chart", "table", "file", "metric", "text"):
        assert any(i.kind == what for i in reading.items), what
    for route in ("board pack (HTML)", "board pack (Excel)", "board pack with the appendix (HTML)",
                  "board pack with the appendix (Excel)", "python -m analysis gaps", "(CSV)"):
        assert any(route in w for w in wheres), route
    unread = pages_not_read_every_term(reading.items, TRUSTEE_PAGES, reading.data.terms)
    assert not unread, f"pages not read for every term (the terms read): {unread}"


def test_what_changed_since_last_term_is_read_as_facts(reading):
    """The overview's "What changed since ..." reaches the adversary: its movements as each term's
    figure and the change between them, and the gaps closed as the earlier term's findings."""
    moved = [c for c in reading.k.changes if c.route.endswith("the change between terms")]
    assert moved and all(c.back == 1 for c in moved)
    assert any(r.route.startswith("the overview page") and "What changed since" in r.route for r in reading.k.ratios)
    closed = [i for i in reading.items if i.kind == "table" and any(str(c).startswith("What we found in ")
                                                                     for c in i.data.columns)]
    assert closed and all(i.where.startswith("the overview page") for i in closed)


def test_a_trustee_cannot_open_the_pages_left_unread(small):
    import streamlit as st

    from store.users import User
    from tests.pages.conftest import open_page
    from ui import identity

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", f"sqlite:///{small.path}")
        mp.setenv("LOAD_SAMPLE", "0")
        mp.setattr(identity, "mode", lambda _engine: "local")
        mp.setattr(identity, "signed_in_user", lambda _engine: User("t@example.org", "T", "trustee", ()))
        st.cache_resource.clear()
        try:
            for page in NOT_FOR_TRUSTEES:
                with pytest.raises(ValueError, match="Could not find a navigation page"):
                    open_page(f"pages/{page}.py")
        finally:
            st.cache_resource.clear()


def test_every_number_a_trustee_receives_is_understood(reading):
    """A table, figure or finding the adversary cannot read could hold a count it never checks: a
    new one must be taught to knowledge.py before this passes."""
    assert not reading.k.unparsed, "\n".join(reading.k.unparsed[:30])
    assert reading.targets, "the trust should hold hidden counts"
    assert any(b.kind == "fewer" for b in reading.k.bounds)


def test_no_hidden_count_is_shown(reading):
    """(a) A hidden count as a number tied to its school and term: a table cell, a chart's point or
    hover, a sentence's number."""
    check(reading, attacks.direct(reading.k, reading.targets))


def test_no_hidden_count_follows_from_the_trusts_total(reading):
    """(b) The trust's figure times its pooled base is the trust's total; less the counts shown,
    per measure across every table that shows it, one hidden count may be left."""
    check(reading, attacks.totals(reading.k, reading.targets))


def test_no_hidden_count_follows_from_a_rate_and_its_base(reading):
    """(c) A school's figure shown (rounded in a table, exact in a chart) times its base."""
    check(reading, attacks.rates(reading.k, reading.targets))


def test_no_hidden_count_follows_from_another_term(reading):
    """(e) A change from another term beside that term's figure; the return's check saying a
    count is more than three times last term's."""
    check(reading, attacks.other_terms(reading.k, reading.targets))


def test_no_hidden_count_follows_from_where_a_school_sits_on_the_funnel(reading):
    """Where a school sits against the trust ("above the trust (95%)"), with the trust's figure and
    the school's size, leaves only the counts that would put it there."""
    check(reading, attacks.position(reading.k, reading.targets))


def test_no_hidden_count_is_pinned_by_everything_shown_together(reading):
    """(d) Every number shown, "fewer than 5" as 1 to 4 and "not shown" as 5 or more, rates and
    shares as ratios, the trust's figures over their schools, the contract's rules (a part at
    most its whole), what each gap and each gap not raised says: the least and the most each hidden
    count can be, by linear programming. A count whose least and most meet is given away."""
    check(reading, attacks.bounds(reading.k, reading.targets, reading.programme))


def test_no_sentence_gives_a_small_count_of_children(reading):
    """(f) Findings, questions, answers, the check's messages, explanations, every caption and
    hover: no "2 children", no "5 of 7 ... not referred" whose difference is small."""
    found = attacks.free_text(reading.k)
    lines = sorted({f"{route}: \"{text}\" ({why})" for route, text, why in found})
    if lines:
        pytest.fail(f"{len(lines)} sentences a trustee reads give a small count:\n" + "\n".join(lines[:20]), pytrace=False)
