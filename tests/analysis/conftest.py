"""A tiny trust built by hand: clean schools whose numbers a test then bends one at a time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from analysis.context import Context, Dataset
from loaders.registry import DSL_ROLE, MEASURES, REFERRALS, term_end

YEAR, TERM = "2025/26", "Spring"


def clean_values(pupils: int = 800, year: str = YEAR, term: str = TERM) -> dict[str, object]:
    """A return with nothing any rule should raise: every count filled, checks in date."""
    end = term_end(year, term)
    v: dict[str, object] = {m.id: None for m in MEASURES}
    v.update({
        "about.template_version": 2, "about.academic_year": year, "about.term": term, "about.phase": "Secondary",
        "about.pupils_on_roll": pupils, "about.pupils_fsm": pupils // 5, "about.pupils_ehcp": pupils // 50,
        "about.pupils_sen_support": pupils // 8, "about.looked_after": 3, "about.cp_plans": 6, "about.cin": 10,
        "about.early_help": 12, "about.social_worker": 19, "about.date_completed": end + timedelta(days=5),
        "about.cp_policy_reviewed": end - timedelta(days=100), "about.filtering_reviewed": end - timedelta(days=90),
        "about.central_record_checked": end - timedelta(days=20),
    })
    for course in ("whole_staff", "kcsie_part_one", "prevent", "online_safety", "safer_recruitment", "governors"):
        v[f"training.{course}.in_scope"] = 40
        v[f"training.{course}.in_date"] = 40
    v.update({"neglect.active_flags": 20, "neglect.new_flags": 4, "neglect.chronology_reviewed": 20,
              "neglect.persistently_absent": 5, "neglect.early_help_plan": 8, "neglect.cp_plan_neglect": 3,
              "neglect.monitoring_only_2_terms": 1})
    for i, row in enumerate(REFERRALS.rows):
        v.update({f"referrals.{row.id}.{c}": 0 for c in ("concerns", "early_help", "social_care", "police",
                                                          "prevent", "health", "not_accepted", "escalated")})
        v[f"referrals.{row.id}.concerns"] = pupils // 100 + i % 3
        v[f"referrals.{row.id}.early_help"] = 1
        v[f"referrals.{row.id}.social_care"] = 1
    v["referrals.neglect.not_accepted"] = 1
    v["referrals.neglect.escalated"] = 1
    v.update({"inclusion.persistently_absent": pupils // 6, "inclusion.severely_absent": pupils // 60,
              "inclusion.suspended": pupils // 40, "inclusion.permanently_excluded": 0,
              "inclusion.part_time_timetable": 2, "inclusion.alternative_provision": 2, "inclusion.cme_reported": 0,
              "inclusion.ehe_removals": 1, "inclusion.sw_persistently_absent": 5, "inclusion.private_fostering": 0})
    for row in ("cp_conferences", "cp_reports", "core_groups", "cin_meetings", "strategy", "early_help_reviews",
                "peps", "lado", "low_level"):
        v[f"multi_agency.{row}.due"] = 4
        v[f"multi_agency.{row}.done"] = 4
    return v


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


@pytest.fixture
def trust() -> TrustBuilder:
    return TrustBuilder()


@pytest.fixture
def today() -> date:
    return date(2026, 4, 10)
