"""The generator: deterministic, quick, committed output up to date, and numbers that look like a
real trust's while obeying every rule of the contract."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import timedelta

import pytest

from loaders import check_return, registry
from sample_data import generate, trust

from .support import COMMITTED


def files_under(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and p.suffix in (".xlsx", ".xlsm", ".csv")}


def test_generation_is_deterministic(fresh, fresh_again):
    again, _ = fresh_again
    first, second = files_under(fresh), files_under(again)
    assert first.keys() == second.keys()
    assert first == second, "the same seed must give the same workbooks"


def test_the_same_values_come_back_from_two_generations(fresh, fresh_again):
    again, _ = fresh_again
    for path in sorted((fresh / "returns").glob("*.xlsx")):
        a = check_return(path.read_bytes(), path.name)
        b = check_return((again / "returns" / path.name).read_bytes(), path.name)
        assert a.values == b.values and a.leads == b.leads


def test_committed_sample_is_what_the_generator_makes(fresh):
    made = files_under(fresh)
    kept = {k: v for k, v in files_under(COMMITTED).items() if k != "benchmarks.csv"}
    assert sorted(kept) == sorted(made), "run `python -m sample_data.generate` and commit the result"
    stale = [name for name in made if kept[name] != made[name]]
    assert stale == [], "run `python -m sample_data.generate` and commit the result"


def test_twelve_schools_six_terms_and_one_return_missing(planned):
    names = sorted(p.name for p in (COMMITTED / "returns").glob("*.xlsx"))
    assert names == sorted(p.filename for p in planned)
    assert len(trust.SCHOOLS) == 12 and len(trust.TERMS) == 6
    assert len(names) == 12 * 6 - 1
    urn, year, term = trust.MISSING
    assert generate.return_filename(urn, year, term) not in names


def test_schools_csv_lists_a_fictional_trust_of_every_phase():
    with (COMMITTED / "schools.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["urn", "name", "phase", "pupils", "local_authority"]
    assert [r["urn"] for r in rows] == [s.urn for s in trust.SCHOOLS]
    assert {r["phase"] for r in rows} == {"primary", "secondary", "special", "alternative provision"}
    assert all(150 <= int(r["pupils"]) <= 1500 for r in rows)
    # Six digits, and far above the URNs England's schools hold, so never a real school's.
    assert all(len(r["urn"]) == 6 and int(r["urn"]) >= 900000 for r in rows)
    assert len({r["name"] for r in rows}) == 12


def test_every_rule_holds_in_every_return(planned):
    for p in planned:
        for rule in registry.RULES:
            if rule.since > p.values["about.template_version"]:
                continue
            left, right = p.values[rule.left], [p.values[r] for r in rule.right]
            if left is not None and None not in right:
                assert left <= sum(right), (p.filename, rule.left)
        for row in registry.REFERRALS.rows:
            v = p.values
            if v[f"referrals.{row.id}.escalated"] is not None:
                assert v[f"referrals.{row.id}.escalated"] <= v[f"referrals.{row.id}.not_accepted"]


def test_every_measure_is_written_and_only_the_blank_school_leaves_blanks(planned):
    blanks_urn = next(p.urn for p in trust.PATTERNS if p.id == "many_blanks")
    for p in planned:
        assert p.values.keys() == registry.ASKED_IDS[p.values["about.template_version"]]
        blank = {k for k, v in p.values.items() if v is None}
        assert blank == (set(trust.BLANK_IDS) if p.school.urn == blanks_urn else set()), p.filename


def rates_by_phase(planned, numerator: str) -> dict[str, float]:
    """Per 100 pupils on roll, per term, pooled over the sample for each phase."""
    top, bottom = defaultdict(int), defaultdict(int)
    for p in planned:
        if p.values[numerator] is not None:
            top[p.school.phase] += p.values[numerator]
            bottom[p.school.phase] += p.values["about.pupils_on_roll"]
    return {phase: 100 * top[phase] / bottom[phase] for phase in top}


def trust_rate(planned, measure_ids) -> float:
    top = sum(p.values[m] or 0 for p in planned for m in measure_ids)
    return 100 * top / sum(p.values["about.pupils_on_roll"] for p in planned)


def test_rates_look_like_england(planned):
    absent = rates_by_phase(planned, "inclusion.persistently_absent")
    assert 10 <= absent["primary"] <= 20 and 18 <= absent["secondary"] <= 32
    assert 12 <= trust_rate(planned, ["inclusion.persistently_absent"]) <= 28
    assert 1 <= trust_rate(planned, ["inclusion.severely_absent"]) <= 5
    suspended = rates_by_phase(planned, "inclusion.suspended")
    assert suspended["primary"] < suspended["secondary"] < suspended["alternative provision"]
    assert 2 <= trust_rate(planned, ["inclusion.suspended"]) <= 6  # about 11 a year
    mainstream = [p for p in planned if p.school.phase in ("primary", "secondary")]
    assert 0.4 <= trust_rate(mainstream, ["about.cp_plans"]) <= 1.2
    assert 1 <= trust_rate(mainstream, ["neglect.active_flags"]) <= 5
    concern_ids = [f"referrals.{r.id}.concerns" for r in registry.REFERRALS.rows]
    assert 5 <= trust_rate(planned, concern_ids) <= 15
    social_care = [f"referrals.{r.id}.social_care" for r in registry.REFERRALS.rows]
    assert trust_rate(planned, social_care) < 0.3 * trust_rate(planned, concern_ids)


def test_dates_sit_where_a_real_return_would_put_them(planned):
    late = trust.LATE
    for p in planned:
        v, end = p.values, registry.term_end(p.academic_year, p.term)
        completed = v["about.date_completed"]
        if (p.school.urn, p.academic_year, p.term) == late:
            assert completed > trust.deadline(p.academic_year, p.term) + timedelta(days=14)
        else:
            assert end < completed <= trust.deadline(p.academic_year, p.term), p.filename
        for check in ("about.cp_policy_reviewed", "about.filtering_reviewed", "about.central_record_checked"):
            if v[check] is not None:
                assert end - timedelta(days=365) < v[check] <= end, (p.filename, check)
        for lead in p.leads:
            for d in (lead.last_full_training, lead.last_refresher):
                assert d is None or d <= end
        assert [lead.role for lead in p.leads].count(registry.DSL_ROLE) == 1


def test_many_returns_for_a_benchmark_are_distinct_school_terms(tmp_path):
    paths = generate.write_many_returns(tmp_path, 150)
    assert len(paths) == 150 and len({p.name for p in paths}) == 150
    for path in (paths[0], paths[100]):
        report = check_return(path.read_bytes(), path.name)
        assert report.valid, [p.message for p in report.errors]
        urn = path.name.split("_")[0]
        assert report.values["about.urn"] == urn


@pytest.mark.parametrize("measure_id", ["about.urn", "about.academic_year", "about.term"])
def test_filenames_name_the_school_and_term_inside(planned, measure_id):
    for p in planned:
        urn, year, term = p.filename.removesuffix(".xlsx").split("_")
        expected = {"about.urn": urn, "about.academic_year": year.replace("-", "/"), "about.term": term}
        assert p.values[measure_id] == expected[measure_id]


def test_every_committed_return_loads_and_only_genuine_queries_are_raised(committed_reports, planned):
    blanks_urn = next(p.urn for p in trust.PATTERNS if p.id == "many_blanks")
    no_teacher = generate.return_filename(*trust.NO_DESIGNATED_TEACHER)
    assert len(committed_reports) == len(planned)
    for name, report in committed_reports.items():
        assert report.valid, (name, [p.message for p in report.errors])
        if name == no_teacher:
            assert [p.code for p in report.queries] == ["no_designated_teacher"]
        elif name.startswith(blanks_urn):
            # The only questions: rows left wholly blank, which is what that school did.
            assert report.queries and {p.code for p in report.queries} == {"row_blank"}
        else:
            assert report.queries == [], (name, [p.message for p in report.queries])


def test_the_first_years_returns_are_version_1_and_the_second_years_version_2(committed_reports):
    for name, report in committed_reports.items():
        _, year, _ = report.school_term
        assert report.version == {"2024/25": 1, "2025/26": 2}[year], name
        assert set(report.values) == registry.ASKED_IDS[report.version], "not asked is not there at all"
        if report.version == 2:
            assert report.values["about.phase"] in registry.PHASES


def test_what_the_loader_reads_is_what_was_planned(committed_reports, planned):
    for p in planned:
        report = committed_reports[p.filename]
        assert report.values == p.values, p.filename
        assert report.leads == p.leads, p.filename
