"""A tiny trust built by hand: clean schools whose numbers a test then bends one at a time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from analysis.context import Context, Dataset
from loaders.registry import DSL_ROLE, INCLUSION, MULTI_AGENCY, NEGLECT, REFERRALS, TRAINING, term_end
from tests.helpers.cli import sample_db
from tests.helpers.returns import table_numbers, valid_values

YEAR, TERM = "2025/26", "Spring"


def clean_values(pupils: int = 800, year: str = YEAR, term: str = TERM) -> dict[str, object]:
    """A return with nothing any rule should raise: every count filled, checks in date (the one
    valid return, tests.helpers.returns, with these numbers)."""
    end = term_end(year, term)
    numbers: dict[str, object] = {
        "about.pupils_fsm": pupils // 5, "about.pupils_ehcp": pupils // 50,
        "about.pupils_sen_support": pupils // 8, "about.looked_after": 3, "about.cp_plans": 6, "about.cin": 10,
        "about.early_help": 12, "about.social_worker": 19,
        "about.cp_policy_reviewed": end - timedelta(days=100), "about.filtering_reviewed": end - timedelta(days=90),
        "about.central_record_checked": end - timedelta(days=20),
    }
    numbers |= table_numbers(NEGLECT, {"active_flags": 20, "new_flags": 4, "chronology_reviewed": 20,
                                       "persistently_absent": 5, "early_help_plan": 8, "cp_plan_neglect": 3,
                                       "monitoring_only_2_terms": 1})
    numbers |= table_numbers(INCLUSION, {
        "persistently_absent": pupils // 6, "severely_absent": pupils // 60, "suspended": pupils // 40,
        "permanently_excluded": 0, "part_time_timetable": 2, "alternative_provision": 2, "cme_reported": 0,
        "ehe_removals": 1, "sw_persistently_absent": 5, "private_fostering": 0})
    numbers |= table_numbers(TRAINING, {row.id: (40, 40) for row in TRAINING.rows})
    numbers |= table_numbers(MULTI_AGENCY, {row.id: (4, 4) for row in MULTI_AGENCY.rows})
    # concerns, early help, social care referred; police, Prevent, health, not accepted, escalated
    numbers |= table_numbers(REFERRALS, {row.id: (pupils // 100 + i % 3, 1, 1, 0, 0, 0, 0, 0)
                                         for i, row in enumerate(REFERRALS.rows)})
    numbers |= {"referrals.neglect.not_accepted": 1, "referrals.neglect.escalated": 1}
    values = valid_values(2, year=year, term=term, pupils=pupils, phase="Secondary", completed=end + timedelta(days=5),
                          numbers=numbers)
    return values | {"about.urn": None, "about.school_name": None, "about.completed_by": None}  # TrustBuilder.add names it


def clean_leads(year: str = YEAR, term: str = TERM) -> list[dict]:
    end = term_end(year, term)
    return [
        {"role": DSL_ROLE, "name": "A. Lead", "last_full_training": end - timedelta(days=300),
         "last_refresher": end - timedelta(days=100)},
        {"role": "Deputy DSL", "name": "B. Deputy", "last_full_training": end - timedelta(days=400),
         "last_refresher": end - timedelta(days=50)},
        {"role": "Designated teacher for looked-after children", "name": None, "last_full_training": None,
         "last_refresher": None},
    ]


class TrustBuilder:
    """Add school-terms, then build a Dataset and a Context for one term."""

    def __init__(self):
        self.schools: dict[str, str] = {}
        self.values: list[dict] = []
        self.returns: list[dict] = []
        self.leads: list[dict] = []
        self.queries: list[dict] = []

    def add(self, urn: str, *, year: str = YEAR, term: str = TERM, pupils: int = 800, changes=None,
            leads=None, submitted: datetime | None = None, queries=None, name: str | None = None):
        self.schools.setdefault(urn, name or f"School {urn}")
        vals = clean_values(pupils, year, term)
        vals["about.urn"] = urn
        vals.update(changes or {})
        for k, v in vals.items():
            self.values.append({"urn": urn, "academic_year": year, "term": term, "measure_id": k, "value": v})
        when = submitted or datetime.combine(term_end(year, term) + timedelta(days=7), datetime.min.time())
        self.returns.append({"urn": urn, "academic_year": year, "term": term, "version": 1, "submitted_at": when})
        for lead in clean_leads(year, term) if leads is None else leads:
            self.leads.append({"urn": urn, "academic_year": year, "term": term, **lead})
        for q in queries or []:
            self.queries.append({"urn": urn, "academic_year": year, "term": term, **q})
        return self

    def school(self, urn: str, name: str | None = None):
        """A school known to the trust (e.g. from earlier terms) without this return."""
        self.schools.setdefault(urn, name or f"School {urn}")
        return self

    def dataset(self) -> Dataset:
        return Dataset(
            schools=pd.DataFrame({"urn": list(self.schools), "name": list(self.schools.values())}),
            values=pd.DataFrame(self.values, columns=["urn", "academic_year", "term", "measure_id", "value"]),
            returns=pd.DataFrame(self.returns, columns=["urn", "academic_year", "term", "version", "submitted_at"]),
            leads=pd.DataFrame(self.leads, columns=["urn", "academic_year", "term", "role", "name",
                                                     "last_full_training", "last_refresher"]),
            queries=pd.DataFrame(self.queries, columns=["urn", "academic_year", "term", "code", "sheet", "cell",
                                                         "message", "explanation"]),
        )

    def context(self, year: str = YEAR, term: str = TERM, thresholds=None) -> Context:
        return Context(self.dataset(), year, term, thresholds)


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory) -> str:
    """The sample trust in a database of the test module's own (the command line tests change it)."""
    return sample_db(tmp_path_factory.mktemp("cli_sample"))


@pytest.fixture(scope="module")
def dataset(sample_url):
    """The sample trust as analysis loads it from ``sample_url``."""
    from analysis.dataset import load_dataset
    from store.db import dispose, make_engine

    engine = make_engine(sample_url)
    yield load_dataset(engine)
    dispose(engine)


@pytest.fixture
def trust() -> TrustBuilder:
    return TrustBuilder()


@pytest.fixture
def today() -> date:
    return date(2026, 4, 10)
