"""The trusts the adversary reads: the sample trust, and a small made-up trust whose schools are
so small that most of their counts of children are from 1 to 4.

Both are SQLite files of the test session's own. Each carries a few board questions raised by a
trust leader on gaps worded with the real counts, so that a trustee meets them reworded.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from analysis.context import Context
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps
from analysis.indicators import INDICATORS_BY_ID
from analysis.privacy import about_children
from loaders.registry import term_end
from sample_data import large, trust
from store import db, upgrades
from store.challenges import add_challenge
from store.returns import save_return
from tests.conftest import copy_sample

LEADER = "ceo@example.org"

# Small schools: a primary of 90, an infant school of 60, a special school of 48, an alternative
# provision centre of 40 and one middling secondary, so most counts are small and a few are not.
SMALL_SCHOOLS = (
    trust.School("800001", "Quillow Hill Primary School", "primary", 90, "Wyvernshire"),
    trust.School("800002", "Tamberly Vale Infant School", "primary", 60, "Wyvernshire"),
    trust.School("800003", "Brindlecote Academy", "secondary", 420, "Port Selwick"),
    trust.School("800004", "Pellowby Fold School", "special", 48, "Port Selwick"),
    trust.School("800005", "Otterlyn Learning Centre", "alternative provision", 40, "Wyvernshire"),
)
SMALL_TERMS = large.terms_ending(3)  # Autumn, Spring and Summer 2025/26

# Written over the generated figures, term by term (Autumn, Spring, Summer): counts that rise
# sharply from a small number (the return's check then asks about them) and allegations about
# staff not all referred.
PLANTED = {
    "800001": {"inclusion.permanently_excluded": (1, 4, 2), "neglect.new_flags": (1, 2, 7)},
    "800002": {"inclusion.suspended": (2, 7, 3), "multi_agency.lado.due": (3, 2, 1),
               "multi_agency.lado.done": (1, 2, 0)},
    "800004": {"inclusion.part_time_timetable": (1, 3, 4)},
}
EXPLAINED = "Three pupils joined mid-term; 2 of them were already known to us."


def sample_trust(folder: Path) -> Path:
    """The sample trust, as on a first start, with the board's questions."""
    path = copy_sample(folder / "sample.db")  # imported once for the whole run
    engine = db.make_engine(f"sqlite:///{path}")
    raise_questions(engine)
    db.dispose(engine)
    return path


def small_trust(folder: Path) -> Path:
    """The small made-up trust: three terms of five small schools, each return checked against the
    school's return of the term before, as the importer does, and stored with its queries."""
    path = folder / "small.db"
    engine = db.make_engine(f"sqlite:///{path}")
    upgrades.upgrade(engine)
    for school in SMALL_SCHOOLS:
        previous = None
        for k, planned in enumerate(large.plan_school_terms(school, SMALL_TERMS, seed=7)):
            for measure, values in PLANTED.get(school.urn, {}).items():
                planned.values[measure] = values[k]
            report, content = large.report_for(planned, previous)
            assert report.valid, [p.message for p in report.problems if p.severity == "error"]
            # one query of the three is explained, with small numbers in the explanation
            explained = {p.key: EXPLAINED for p in report.queries[:1]} if k == 1 else {}
            completed = planned.values["about.date_completed"]
            save_return(engine, report, content, user="import", explanations=explained,
                        submitted_at=datetime.combine(completed, time(9)), action="import", source="test")
            previous = planned.values
    raise_questions(engine)
    db.dispose(engine)
    return path


def raise_questions(engine, per_term: int = 3) -> None:
    """A trust leader's questions on the first few gaps about children each term, each recorded
    with the leader's finding (its real counts) and typed text holding small numbers."""
    data = load_dataset(engine)
    for year, term in data.terms:
        gaps = [g for g in find_gaps(Context(data, year, term))
                if g.indicator in INDICATORS_BY_ID and about_children(g.indicator)][:per_term]
        for k, g in enumerate(gaps):
            meeting = term_end(year, term) + timedelta(days=30)
            add_challenge(engine, urn=g.urn, theme=g.theme, rule=g.rule, indicator=g.indicator, academic_year=year,
                          term=term, finding=g.finding, question=f"Why were {k + 2} children not seen, and 3 more?",
                          asked_by="Chair", meeting_date=meeting, user=LEADER,
                          answer="Two were seen on 3 March; one family moved." if k == 0 else None,
                          answered_by="Headteacher" if k == 0 else None, due_date=date(2030, 1, 1))
