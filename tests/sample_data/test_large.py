"""The large-trust generator behind the benchmarks: deterministic for a seed, the size asked for,
fictional, and every return one the loader would accept, blanks kept blank."""

from __future__ import annotations

from collections import Counter

import pytest

from loaders import registry
from sample_data import large, trust


@pytest.fixture(scope="module")
def plan():
    return large.large_trust(120, 9, seed=7)


@pytest.fixture(scope="module")
def planned(plan):
    return list(large.iter_returns(plan))


def test_the_same_seed_gives_the_same_trust_and_another_seed_another():
    first, again = large.plan_large_trust(6, 4, seed=3), large.plan_large_trust(6, 4, seed=3)
    assert [(p.filename, p.values, p.leads) for p in first] == [(p.filename, p.values, p.leads) for p in again]
    other = large.plan_large_trust(6, 4, seed=4)
    assert [p.school for p in other] != [p.school for p in first]


def test_the_asked_number_of_schools_and_terms(plan, planned):
    assert len(plan.schools) == 120
    assert plan.terms == large.terms_ending(9)
    assert len(plan.terms) == 9 and plan.terms[-1] == (large.LAST_YEAR, "Summer")
    indexes = [registry.term_index(*t) for t in plan.terms]
    assert indexes == list(range(indexes[0], indexes[0] + 9)), "nine consecutive terms"
    assert {p.school.urn for p in planned} == {s.urn for s in plan.schools}
    assert {(p.academic_year, p.term) for p in planned} == set(plan.terms)
    per_term = Counter((p.school.urn, p.academic_year, p.term) for p in planned)
    assert max(per_term.values()) == 1, "each school-term at most once"
    # a few returns are missing or not yet due (schools joining later), never most of them
    assert 0.85 * 120 * 9 < len(planned) < 120 * 9


def test_schools_are_fictional_distinct_and_of_every_phase():
    schools = large.make_schools(1500)
    urns = [s.urn for s in schools]
    assert urns[0] == "800001" and len(set(urns)) == 1500 and all(len(u) == 6 for u in urns)
    assert len({s.name for s in schools}) == 1500, "names must be unique: charts list schools by name"
    assert {s.phase for s in schools} == set(large.PUPILS)
    assert all(150 <= s.pupils <= 1500 for s in schools)
    assert not {s.urn for s in schools} & {s.urn for s in trust.SCHOOLS}


def test_every_return_holds_every_measure_and_obeys_every_rule(planned):
    broken = []
    for p in planned:
        version = p.values["about.template_version"]
        assert set(p.values) == registry.ASKED_IDS[version]
        for rule in registry.RULES:
            if rule.since > version:
                continue
            left, right = p.values[rule.left], [p.values[r] for r in rule.right]
            if left is not None and None not in right and left > sum(right):
                broken.append((p.filename, rule.left, left, sum(right)))
        counts = [p.values[m] for m in registry.COUNT_IDS if p.values.get(m) is not None]
        assert all(isinstance(v, int) and v >= 0 for v in counts), p.filename
    assert broken == []


def test_the_loader_would_accept_every_return(plan):
    reports = list(large.iter_reports(plan))
    errors = [(report.file, [e.code for e in report.errors]) for _, report, _ in reports if report.errors]
    assert errors == []
    codes = Counter(q.code for _, report, _ in reports for q in report.queries)
    assert codes["row_blank"] > 0, "the schools that leave rows blank are asked about them"
    for planned, report, content in reports:
        assert report.values == planned.values and report.school_term == (
            planned.school.urn, planned.academic_year, planned.term)
        assert content and report.file.startswith(planned.school.urn)


def test_blanks_stay_blank(plan, planned):
    blank_schools = {s.urn for s in plan.schools if plan.traits(s).many_blanks}
    assert blank_schools, "the trust has schools that leave cells blank"
    for p in planned:
        if p.school.urn in blank_schools:
            assert all(p.values[m] is None for m in trust.BLANK_IDS), p.filename
    _, report, content = next(r for r in large.iter_reports(plan) if r[0].school.urn in blank_schools)
    assert all(report.values[m] is None for m in trust.BLANK_IDS)
    assert b'"inclusion.ehe_removals":null' in content


def test_some_returns_are_late_and_some_schools_join_later(plan, planned):
    late = [p for p in planned if p.values["about.date_completed"] > trust.deadline(p.academic_year, p.term)]
    assert 0 < len(late) < len(planned) * 0.1
    assert any(plan.traits(s).first_term > 0 for s in plan.schools)
