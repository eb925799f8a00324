"""Checked returns built by hand for the store's tests: every measure id of the contract, with
plausible numbers that obey every rule, and knobs to blank cells or add problems."""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta

import pytest

from loaders import registry
from loaders.report import ERROR, QUERY, Lead, Problem, ReturnReport


def make_values(urn: str = "149001", year: str = "2025/26", term: str = "Autumn", *, seed: int = 1,
                name: str = "Brackenfold Primary Academy") -> dict[str, object]:
    """A full set of values for one return, different for each seed but always within the rules."""
    rng = random.Random(f"{urn}-{year}-{term}-{seed}")
    end = registry.term_end(year, term)
    values: dict[str, object] = {}
    for m in registry.MEASURES:
        if m.type == registry.COUNT:
            values[m.id] = rng.randint(0, 9)
        elif m.type == registry.DATE:
            values[m.id] = end - timedelta(days=rng.randint(20, 200))
    values.update({
        "about.template_version": registry.TEMPLATE_VERSION, "about.urn": urn, "about.school_name": name,
        "about.phase": "Primary",
        "about.academic_year": year, "about.term": term, "about.completed_by": "DSL",
        "about.date_completed": end + timedelta(days=7), "about.pupils_on_roll": rng.randint(200, 900),
        "neglect.active_flags": 20, "inclusion.persistently_absent": 40,
    })
    for row in registry.TRAINING.rows:
        values[f"training.{row.id}.in_scope"] = values[f"training.{row.id}.in_date"] + rng.randint(0, 5)
    for row in registry.MULTI_AGENCY.rows:
        values[f"multi_agency.{row.id}.due"] = values[f"multi_agency.{row.id}.done"] + rng.randint(0, 3)
    for row in registry.REFERRALS.rows:
        values[f"referrals.{row.id}.not_accepted"] = 0
    values["about.social_worker"] = values["inclusion.sw_persistently_absent"] + rng.randint(0, 5)
    return values


def make_report(urn: str = "149001", year: str = "2025/26", term: str = "Autumn", *, seed: int = 1,
                content: bytes | None = None, blanks: tuple[str, ...] = (), queries: int = 0,
                errors: int = 0, name: str = "Brackenfold Primary Academy") -> tuple[ReturnReport, bytes]:
    """(report, file bytes): a checked return as the loader would hand it over."""
    values = make_values(urn, year, term, seed=seed, name=name)
    for measure_id in blanks:
        values[measure_id] = None
    content = content if content is not None else f"workbook {urn} {year} {term} {seed}".encode()
    problems = [Problem("row_blank", QUERY, "Inclusion", f"B{5 + i}", f"Query number {i}.") for i in range(queries)]
    problems += [Problem("count_in_words", ERROR, "Referrals", f"C{7 + i}", "Holds \"five\".") for i in range(errors)]
    leads = [
        Lead(registry.DSL_ROLE, "Morgan Fairweather", date(2024, 9, 1), date(2025, 9, 1)),
        Lead("Deputy DSL", None, None, date(2025, 1, 15)),
    ]
    report = ReturnReport(
        file=f"{urn}_{year.replace('/', '-')}_{term}.xlsx", problems=problems, values=values, leads=leads,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    return report, content


@pytest.fixture
def report_factory():
    return make_report


def write_return(path, urn: str = "149001", year: str = "2025/26", term: str = "Autumn", *,
                 name: str = "Brackenfold Primary Academy", completed: date | None = None, seed: int = 1):
    """A filled return written through the real template to ``path`` (e.g. one a school sent early)."""
    from loaders.template import template_bytes

    report, _ = make_report(urn, year, term, seed=seed, name=name)
    values = {**report.values, **({"about.date_completed": completed} if completed else {})}
    path.write_bytes(template_bytes(urn=urn, school_name=name, year=year, term=term, values=values,
                                    leads=report.leads))
    return path
