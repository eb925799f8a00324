"""The gap list finds every pattern planted in the sample trust, for the right school, theme and
terms, and a school made clean raises nothing.

The planted patterns are read from sample_data/patterns.csv; the clean schools are the sample's
schools that no pattern names.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from analysis.context import Context, Dataset
from analysis.dataset import load_dataset
from analysis.gaps import SEVERITY_ORDER, find_gaps
from analysis.thresholds import resolve
from loaders.registry import (
    COUNT_IDS,
    DSL_ROLE,
    MULTI_AGENCY,
    REFERRAL_ROUTES,
    REFERRALS,
    TRAINING,
    term_end,
    term_index,
)

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
DEFAULTS = resolve()


def _rows(name: str) -> list[dict]:
    with (SAMPLE / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


PATTERNS = {row["pattern"]: row for row in _rows("patterns.csv")}
CLEAN_URNS = sorted({row["urn"] for row in _rows("schools.csv")} - {p["urn"] for p in PATTERNS.values()})

# The rule each planted pattern is for. A pattern added to the sample must be added here too.
RULE_FOR = {
    "dsl_training_lapsed": "dsl_training_out_of_date",
    "neglect_drift": "neglect_drift",
    "no_exploitation_recorded": "no_exploitation_identified",
    "conference_attendance_falling": "meetings_without_school",
    "late_return": "late_return",
    "missing_return": "missing_return",
    "many_blanks": "many_blanks",
    "allegations_not_referred": "allegations_not_referred",
    "social_worker_absence": "social_worker_absence",
    "no_designated_teacher": "no_designated_teacher",
}

# Rules a school that returns in full, on time, with its DSL trained and policies reviewed cannot
# trip, whatever the term's ups and downs in its numbers.
PLANTED_ONLY_RULES = {"dsl_training_out_of_date", "no_dsl_named", "governance_checks_out_of_date",
                      "no_exploitation_identified", "missing_return", "late_return", "many_blanks",
                      "unexplained_change", "allegations_not_referred", "no_designated_teacher",
                      "social_worker_absence"}


def terms_of(pattern: dict) -> list[tuple[str, str]]:
    return [tuple(t.split(" ")) for t in pattern["terms"].split(";")]


@pytest.fixture(scope="module")
def data(sample_engine) -> Dataset:
    return load_dataset(sample_engine)


@pytest.fixture(scope="module")
def gaps(data) -> dict[tuple[str, str], list]:
    """Every term's gap list, by (year, term)."""
    return {term: find_gaps(Context(data, *term)) for term in data.terms}


def naming(gaps, pattern: dict, term: tuple[str, str], rule: str) -> list:
    found = [g for g in gaps[term] if g.urn == pattern["urn"] and g.rule == rule]
    assert all(g.school == pattern["school"] for g in found)
    return found


def count(data: Dataset, urn: str, term: tuple[str, str], measure_id: str) -> float:
    return data.count_rows[(urn, *term)][measure_id]


def test_every_planted_pattern_has_its_rule_and_every_term_was_loaded(data):
    assert set(PATTERNS) == set(RULE_FOR)
    assert CLEAN_URNS, "the sample has no school free of patterns to compare with"
    for p in PATTERNS.values():
        for term in terms_of(p):
            assert term in data.terms, f"{p['pattern']}: no returns for {term} in the sample database"


def _years_after(day: date, years: float) -> date:
    try:
        return day.replace(year=day.year + int(years))
    except ValueError:  # 29 February
        return day.replace(year=day.year + int(years), day=28)


def test_dsl_training_is_red_from_the_term_it_lapses(data, gaps):
    p = PATTERNS["dsl_training_lapsed"]
    lapsed_in, in_date_in = [], []
    for term in terms_of(p):
        (dsl,) = [lead for lead in data.lead_rows[(p["urn"], *term)] if lead["role"] == DSL_ROLE]
        end = term_end(*term)
        lapsed = [what for what, field, key in (("full DSL training", "last_full_training", "dsl_full_years"),
                                                 ("refresher", "last_refresher", "dsl_refresher_years"))
                  if _years_after(dsl[field], DEFAULTS[key]) < end]
        found = [g for g in naming(gaps, p, term, "dsl_training_out_of_date")
                 if g.finding.startswith("The designated safeguarding lead's")]
        assert len(found) == len(lapsed), (term, [g.finding for g in found])
        for g, what in zip(found, lapsed):
            assert (g.theme, g.severity) == ("workforce", "red")
            assert f"last {what} was on" in g.finding
        (lapsed_in if lapsed else in_date_in).append(term)
    assert lapsed_in and in_date_in, "the pattern should show the training lapsing, not always lapsed"
    assert max(term_index(*t) for t in in_date_in) < min(term_index(*t) for t in lapsed_in)


def test_neglect_drift_is_raised_every_term_and_worsens(data, gaps):
    p = PATTERNS["neglect_drift"]
    severities, drifting = [], []
    for term in terms_of(p):
        (found,) = naming(gaps, p, term, "neglect_drift")
        assert found.theme == "neglect" and found.severity in {"red", "amber"}
        severities.append(SEVERITY_ORDER[found.severity])
        drifting.append(count(data, p["urn"], term, "neglect.monitoring_only_2_terms"))
        assert naming(gaps, p, term, "chronologies_not_reviewed"), f"chronologies not raised in {term}"
    assert drifting == sorted(drifting) and drifting[0] < drifting[-1]
    assert severities == sorted(severities, reverse=True) and severities[-1] == SEVERITY_ORDER["red"]


def test_a_large_secondary_recording_no_exploitation_is_asked_about_every_term(gaps):
    p = PATTERNS["no_exploitation_recorded"]
    for term in terms_of(p):
        found = naming(gaps, p, term, "no_exploitation_identified")
        assert {g.indicator for g in found} == {"exploitation_concerns", "child_on_child_concerns"}
        assert {(g.theme, g.severity) for g in found} == {("adolescents", "note")}


def test_falling_conference_attendance_is_raised_as_it_falls(data, gaps):
    p = PATTERNS["conference_attendance_falling"]
    terms = terms_of(p)
    shares = []
    for term in terms:
        share = (count(data, p["urn"], term, "multi_agency.cp_conferences.done")
                 / count(data, p["urn"], term, "multi_agency.cp_conferences.due"))
        shares.append(share)
        found = [g for g in naming(gaps, p, term, "meetings_without_school") if g.indicator == "ma_cp_conferences"]
        if share >= DEFAULTS["attendance_amber"]:
            assert found == [], term
            continue
        (gap,) = found
        assert gap.theme == "multi_agency"
        assert gap.severity == ("red" if share < DEFAULTS["attendance_red"] else "amber")
    assert shares[0] > shares[-1]
    later = terms[len(terms) // 2:]
    assert all(g.severity == "red" for t in later for g in naming(gaps, p, t, "meetings_without_school")
               if g.indicator == "ma_cp_conferences")
    assert all(naming(gaps, p, t, "meetings_without_school") for t in later)


def test_the_late_return_is_amber_in_its_term_only(data, gaps):
    p = PATTERNS["late_return"]
    (late_term,) = terms_of(p)
    (found,) = naming(gaps, p, late_term, "late_return")
    assert (found.theme, found.severity) == ("oversight", "amber")
    assert "days after it was due" in found.finding
    assert not [t for t in data.terms if t != late_term and naming(gaps, p, t, "late_return")]


def test_the_missing_return_is_red_in_its_term_only(data, gaps):
    p = PATTERNS["missing_return"]
    (missing_term,) = terms_of(p)
    assert (p["urn"], *missing_term) not in data.count_rows
    (found,) = naming(gaps, p, missing_term, "missing_return")
    assert (found.theme, found.severity) == ("oversight", "red")
    assert [g.rule for g in gaps[missing_term] if g.urn == p["urn"]] == ["missing_return"]
    assert not [t for t in data.terms if t != missing_term and naming(gaps, p, t, "missing_return")]


def test_many_blanks_are_raised_every_term_and_stay_blank(data, gaps):
    p = PATTERNS["many_blanks"]
    blank_counts = [m for m in p["measures"].split(";") if m in COUNT_IDS]
    assert blank_counts
    for term in terms_of(p):
        (found,) = naming(gaps, p, term, "many_blanks")
        assert (found.theme, found.severity) == ("oversight", "amber")
        counts = Context(data, *term).school_term(p["urn"]).counts
        assert all(counts[m] is None for m in blank_counts), "a blank became a number"


def test_allegations_not_referred_are_a_question_on_version_1_and_red_on_version_2(data, gaps):
    p = PATTERNS["allegations_not_referred"]
    for term in terms_of(p):
        (found,) = naming(gaps, p, term, "allegations_not_referred")
        version = data.versions[(p["urn"], *term)]
        assert (found.theme, found.indicator) == ("multi_agency", "ma_lado")
        assert (version, found.severity) in {(1, "note"), (2, "red")}
        assert ("harm threshold" in found.finding) is (version == 2)
    assert {data.versions[(p["urn"], *t)] for t in terms_of(p)} == {1, 2}
    raised = {(g.urn, g.academic_year, g.term) for found in gaps.values() for g in found
              if g.rule == "allegations_not_referred"}
    assert raised == {(p["urn"], *t) for t in terms_of(p)}


def test_children_with_a_social_worker_absent_are_asked_about_at_one_school(gaps):
    p = PATTERNS["social_worker_absence"]
    raised = {(g.urn, g.academic_year, g.term, g.theme, g.severity) for found in gaps.values() for g in found
              if g.rule == "social_worker_absence"}
    assert raised == {(p["urn"], *t, "neglect", "note") for t in terms_of(p)}


def test_looked_after_children_with_no_designated_teacher_is_amber_in_its_term(gaps):
    p = PATTERNS["no_designated_teacher"]
    (term,) = terms_of(p)
    (found,) = naming(gaps, p, term, "no_designated_teacher")
    assert (found.theme, found.severity) == ("workforce", "amber")
    assert [g for t in gaps for g in gaps[t] if g.rule == "no_designated_teacher"] == [found]


def test_clean_schools_trip_none_of_the_planted_rules(data, gaps):
    small_special = {u for u, p in data.school_phases.items() if p.lower() in ("special", "alternative provision")}
    tripped = [(g.urn, g.academic_year, g.term, g.rule) for found in gaps.values() for g in found
               if g.urn in CLEAN_URNS and g.rule in PLANTED_ONLY_RULES
               # a special or alternative provision school is asked about exploitation by its phase,
               # however small: a term with none recorded there is a fair question, not noise
               and not (g.rule == "no_exploitation_identified" and g.urn in small_special)]
    assert tripped == []


def test_the_exploitation_question_goes_by_phase_not_size(data, gaps):
    asked = {g.urn for found in gaps.values() for g in found if g.rule == "no_exploitation_identified"}
    assert asked and all(data.school_phases[u] != "primary" for u in asked)


# ---- a school made clean ----------------------------------------------------------------------

def made_clean(data: Dataset, urn: str) -> Dataset:
    """The sample with one school's practice made faultless: every course, chronology, meeting and
    report done, nobody drifting on monitoring, every refused referral escalated, every absent
    flagged child helped. Its pupils, concerns and intake are left exactly as they were."""
    values = data.values.copy()
    mine = values["urn"] == urn
    wide = data.count_rows
    for key in {k for k in wide if k[0] == urn}:
        row, where = wide[key], mine & (values["academic_year"] == key[1]) & (values["term"] == key[2])

        def put(measure_id, value, where=where):
            if value == value:  # (NaN where the return's version did not ask it)
                values.loc[where & (values["measure_id"] == measure_id), "value"] = int(value)

        for course in TRAINING.rows:
            put(f"training.{course.id}.in_date", row[f"training.{course.id}.in_scope"])
        for meeting in MULTI_AGENCY.rows:
            put(f"multi_agency.{meeting.id}.done", row[f"multi_agency.{meeting.id}.due"])
        for concern in REFERRALS.rows:
            put(f"referrals.{concern.id}.escalated", row[f"referrals.{concern.id}.not_accepted"])
        for kinds in (("cse", "cce"), ("child_on_child",)):  # a school that notices, in every term
            if all(row[f"referrals.{k}.concerns"] == 0 for k in kinds):
                put(f"referrals.{kinds[0]}.concerns", 1)
        if row["referrals.missing.concerns"] > 0 and not any(row[f"referrals.missing.{r}"] for r in REFERRAL_ROUTES):
            put("referrals.missing.social_care", row["referrals.missing.concerns"])  # every child who went missing passed on
        put("neglect.chronology_reviewed", row["neglect.active_flags"])
        put("neglect.monitoring_only_2_terms", 0)
        helped = row["neglect.early_help_plan"] + row["neglect.cp_plan_neglect"]
        if row["neglect.persistently_absent"] > helped:
            put("neglect.early_help_plan", row["neglect.persistently_absent"] - row["neglect.cp_plan_neglect"])
    return Dataset(schools=data.schools, values=values, returns=data.returns, leads=data.leads,
                   queries=data.queries)


@pytest.fixture(scope="module")
def cleaned(data) -> dict[str, list]:
    """For each clean sample school made faultless: every gap naming it, in any term."""
    out = {}
    for urn in CLEAN_URNS:
        clean = made_clean(data, urn)
        out[urn] = [g for term in clean.terms for g in find_gaps(Context(clean, *term)) if g.urn == urn]
    return out


# Questions about a school's pupils, not its practice: making its practice faultless leaves them.
INTAKE_RULES = {"statistical_outlier", "children_missing_education", "rising_part_time", "rising_suspensions",
                "rising_home_education"}


def test_making_a_school_clean_removes_every_judged_gap(gaps, cleaned):
    before = {urn: [g for found in gaps.values() for g in found if g.urn == urn] for urn in CLEAN_URNS}
    assert any(g.severity != "note" for found in before.values() for g in found), \
        "the clean schools had nothing to clean: this test would prove nothing"
    for urn, found in cleaned.items():
        assert [g for g in found if g.rule not in INTAKE_RULES] == [], urn
        # What is left is a question about its intake, already asked before it was cleaned.
        asked = {(g.academic_year, g.term, g.rule, g.indicator) for g in before[urn] if g.rule in INTAKE_RULES}
        assert {(g.academic_year, g.term, g.rule, g.indicator) for g in found} <= asked, urn


def test_a_clean_school_with_typical_numbers_raises_nothing_at_all(gaps, cleaned):
    """In a term where a clean school's pupils raised no question, the school made faultless raises
    nothing at all."""
    typical = [(urn, term) for urn in CLEAN_URNS for term in gaps
               if not any(g.urn == urn and g.rule in INTAKE_RULES for g in gaps[term])]
    assert typical, "every clean sample school's pupils raise a question in every term"
    for urn, term in typical:
        assert [g for g in cleaned[urn] if (g.academic_year, g.term) == term] == [], (urn, term)
