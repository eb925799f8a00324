"""Each planted pattern is there in the values the loader reads from the committed returns, the
control schools are clean of all of them, and patterns.csv and the README say the same."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from loaders import registry
from sample_data import generate, trust

from .support import COMMITTED

PATTERNS = {p.id: p for p in trust.PATTERNS}


def series(reports, urn: str):
    """(year, term, report) for one school, in term order, the terms it returned."""
    out = []
    for year, term in trust.TERMS:
        report = reports.get(generate.return_filename(urn, year, term))
        if report is not None:
            out.append((year, term, report))
    return out


def years_before(end: date, years: int) -> date:
    return end.replace(year=end.year - years)


def dsl(report):
    (lead,) = [lead for lead in report.leads if lead.role == registry.DSL_ROLE]
    return lead


def ratio(values, top: str, bottom: str) -> float:
    return values[top] / values[bottom]


def test_every_pattern_is_recorded_as_data_and_documented():
    with (COMMITTED / "patterns.csv").open(newline="", encoding="utf-8") as fh:
        rows = {r["pattern"]: r for r in csv.DictReader(fh)}
    assert rows.keys() == PATTERNS.keys()
    readme = (COMMITTED / "README.md").read_text(encoding="utf-8")
    for pid, p in PATTERNS.items():
        assert rows[pid]["urn"] == p.urn
        assert rows[pid]["terms"].split(";") == [f"{y} {t}" for y, t in p.terms]
        assert all(m in registry.MEASURES_BY_ID or m.startswith("leads.") for m in p.measures)
        assert f"`{pid}`" in readme and trust.SCHOOLS_BY_URN[p.urn].name in readme


def test_dsl_refresher_then_full_training_go_out_of_date(committed_reports):
    rows = series(committed_reports, PATTERNS["dsl_training_lapsed"].urn)
    full_ok, refresher_ok = [], []
    for year, term, report in rows:
        end = registry.term_end(year, term)
        lead = dsl(report)
        full_ok.append(lead.last_full_training >= years_before(end, 2))
        refresher_ok.append(lead.last_refresher >= years_before(end, 1))
    assert refresher_ok == [True, True, False, False, False, False]
    assert full_ok == [True, True, True, False, False, False]


def test_other_schools_dsls_stay_in_date(committed_reports):
    lapsed = PATTERNS["dsl_training_lapsed"].urn
    for name, report in committed_reports.items():
        if name.startswith(lapsed):
            continue
        _, year, term = report.school_term
        end = registry.term_end(year, term)
        lead = dsl(report)
        assert lead.last_full_training >= years_before(end, 2) and lead.last_refresher >= years_before(end, 1), name


def test_neglect_flags_drift_on_monitoring_only(committed_reports):
    rows = series(committed_reports, PATTERNS["neglect_drift"].urn)
    monitored = [r.values["neglect.monitoring_only_2_terms"] for _, _, r in rows]
    drift = [ratio(r.values, "neglect.monitoring_only_2_terms", "neglect.active_flags") for _, _, r in rows]
    reviewed = [ratio(r.values, "neglect.chronology_reviewed", "neglect.active_flags") for _, _, r in rows]
    assert monitored == sorted(monitored) and len(set(monitored)) == len(monitored)
    assert drift[0] < drift[-1] and drift[-1] >= 0.5
    assert reviewed[0] > reviewed[-1] and reviewed[-1] <= 0.2
    # Elsewhere drift stays low and most chronologies are reviewed.
    for name, report in committed_reports.items():
        v = report.values
        if name.startswith(PATTERNS["neglect_drift"].urn) or not v["neglect.active_flags"]:
            continue
        if v["neglect.monitoring_only_2_terms"] is not None and v["neglect.active_flags"] >= 5:
            assert ratio(v, "neglect.monitoring_only_2_terms", "neglect.active_flags") < 0.35, name


def test_a_large_secondary_records_no_exploitation_or_child_on_child_abuse(committed_reports):
    urn = PATTERNS["no_exploitation_recorded"].urn
    school = trust.SCHOOLS_BY_URN[urn]
    assert school.phase == "secondary" and school.pupils >= 1000
    rows = series(committed_reports, urn)
    assert len(rows) == 6
    for _, _, report in rows:
        v = report.values
        assert [v[f"referrals.{r}.concerns"] for r in trust.SILENT_ROWS] == [0, 0, 0]
        assert sum(v[f"referrals.{r.id}.concerns"] for r in registry.REFERRALS.rows) > 50
    # The other secondaries do record them, in every year.
    for other in trust.SCHOOLS:
        if other.phase == "secondary" and other.urn != urn:
            recorded = sum(r.values[f"referrals.{row}.concerns"] for _, _, r in series(committed_reports, other.urn)
                           for row in trust.SILENT_ROWS)
            assert recorded > 0


def test_child_protection_conference_attendance_falls_term_by_term(committed_reports):
    rows = series(committed_reports, PATTERNS["conference_attendance_falling"].urn)
    attended = [ratio(r.values, "multi_agency.cp_conferences.done", "multi_agency.cp_conferences.due")
                for _, _, r in rows]
    assert len(attended) == 6
    assert all(a > b for a, b in zip(attended, attended[1:]))
    assert attended[0] >= 0.85 and attended[-1] <= 0.4


def test_one_return_is_weeks_late_and_the_rest_on_time(committed_reports):
    for name, report in committed_reports.items():
        urn, year, term = report.school_term
        late_by = (report.values["about.date_completed"] - trust.deadline(year, term)).days
        if (urn, year, term) == trust.LATE:
            assert late_by >= 21
        else:
            assert late_by <= 0, name


def test_one_school_term_has_no_return(committed_reports):
    urn, year, term = trust.MISSING
    assert not (COMMITTED / "returns" / generate.return_filename(urn, year, term)).exists()
    assert generate.return_filename(urn, year, term) not in committed_reports
    assert len(series(committed_reports, urn)) == 5


def test_the_school_with_many_blanks_has_blanks_never_zeros(committed_reports):
    rows = series(committed_reports, PATTERNS["many_blanks"].urn)
    assert len(rows) == 6
    for _, _, report in rows:
        blank = {k for k, v in report.values.items() if v is None}
        assert blank == set(trust.BLANK_IDS)
        assert len(blank) >= 40
        assert report.errors == []


def test_blanks_are_the_blank_school_s_alone(committed_reports):
    for name, report in committed_reports.items():
        if not name.startswith(PATTERNS["many_blanks"].urn):
            assert None not in report.values.values(), name


@pytest.mark.parametrize("urn", trust.CLEAN_URNS)
def test_control_schools_are_clean_of_every_pattern(committed_reports, urn):
    rows = series(committed_reports, urn)
    assert len(rows) == 6
    for year, term, report in rows:
        v = report.values
        assert report.problems == []
        assert None not in v.values()
        assert v["about.date_completed"] <= trust.deadline(year, term)
        if v["multi_agency.cp_conferences.due"] >= 4:
            assert ratio(v, "multi_agency.cp_conferences.done", "multi_agency.cp_conferences.due") >= 0.5


def test_at_least_one_clean_school_of_each_mainstream_phase():
    phases = {trust.SCHOOLS_BY_URN[u].phase for u in trust.CLEAN_URNS}
    assert {"primary", "secondary"} <= phases


def test_allegations_not_referred_on_a_mixed_row_then_on_the_harm_threshold_row(committed_reports):
    pattern = PATTERNS["allegations_not_referred"]
    rows = {(y, t): r for y, t, r in series(committed_reports, pattern.urn)}
    for year, term, received, referred in trust.ALLEGATIONS_NOT_REFERRED:
        report = rows[(year, term)]
        v = report.values
        assert (v["multi_agency.lado.due"], v["multi_agency.lado.done"]) == (received, referred)
        assert report.version == (1 if year == "2024/25" else 2)
    for key, report in rows.items():
        if key not in pattern.terms:
            assert report.values["multi_agency.lado.done"] == report.values["multi_agency.lado.due"], key


def test_children_with_a_social_worker_are_absent_far_more_at_one_school_only(committed_reports):
    """More than twice as often as the school's pupils, beyond the 95% binomial limit (the gap
    rule's default) at the planted school every version 2 term, and nowhere else."""
    from analysis.funnel import binomial_limits

    pattern = PATTERNS["social_worker_absence"]
    for name, report in committed_reports.items():
        v = report.values
        if report.version < 2:
            assert "inclusion.sw_persistently_absent" not in v, name
            continue
        school = ratio(v, "inclusion.persistently_absent", "about.pupils_on_roll")
        _, upper = binomial_limits(min(1.0, 2 * school), v["about.social_worker"], 0.95)
        beyond = bool(v["about.social_worker"] and v["inclusion.sw_persistently_absent"] > upper[()])
        assert beyond is name.startswith(pattern.urn), name


def test_one_return_with_looked_after_children_names_no_designated_teacher(committed_reports):
    missing = generate.return_filename(*trust.NO_DESIGNATED_TEACHER)
    for name, report in committed_reports.items():
        named = registry.DESIGNATED_TEACHER in [lead.role for lead in report.leads]
        assert named is (name != missing), name
    assert committed_reports[missing].values["about.looked_after"] > 0
