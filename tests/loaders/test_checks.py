"""Every rule and query, firing and not; blank inputs never count as zero; all problems are collected."""

from __future__ import annotations

from datetime import date

import pytest

from loaders import check_return, registry
from tests.helpers.workbooks import BLANK, build_return, valid_values


def check(**knobs):
    previous = knobs.pop("previous", None)
    built = build_return(**knobs)
    return built, check_return(built.data, "return.xlsx", previous=previous)


def codes(problems) -> list[str]:
    return [p.code for p in problems]


@pytest.mark.parametrize("rule", registry.RULES, ids=lambda r: r.left)
def test_each_rule_fires_when_broken_and_points_at_the_left_cell(rule):
    base = valid_values()
    right = sum(base[i] for i in rule.right)
    built, report = check(values={rule.left: right + 1})
    (problem,) = report.errors
    assert problem.code == rule.code
    assert (problem.sheet, problem.cell) == built.cells[rule.left]
    assert f"({right + 1})" in problem.message and f"({right})" in problem.message


@pytest.mark.parametrize("rule", registry.RULES, ids=lambda r: r.left)
def test_each_rule_holds_at_equality(rule):
    base = valid_values()
    _, report = check(values={rule.left: sum(base[i] for i in rule.right)})
    assert report.errors == []


@pytest.mark.parametrize("rule", registry.RULES, ids=lambda r: r.left)
def test_each_rule_is_skipped_when_an_input_is_blank(rule):
    base = valid_values()
    huge = sum(base[i] for i in rule.right) + 50
    _, report = check(values={rule.left: huge, rule.right[-1]: BLANK})
    assert rule.code not in codes(report.problems)
    assert report.values[rule.right[-1]] is None


@pytest.mark.parametrize("field", [m.row for m in registry.MEASURES if m.required])
def test_a_required_about_field_left_blank_is_an_error(field):
    built, report = check(values={f"about.{field}": BLANK})
    (problem,) = report.errors
    assert problem.code == "required_missing"
    assert (problem.sheet, problem.cell) == built.cells[f"about.{field}"]


def test_a_required_about_row_removed_is_an_error_not_a_query():
    _, report = check(drop_rows=[("about", "urn")])
    assert codes(report.errors) == ["required_missing"]
    assert "row_missing" not in codes(report.queries)


def test_pupils_on_roll_must_be_more_than_zero():
    _, report = check(values={"about.pupils_on_roll": 0})
    assert "roll_zero" in codes(report.errors)


@pytest.mark.parametrize("field, raw, code", [
    ("template_version", 3, "wrong_template_version"), ("phase", "Middle", "bad_phase"), ("urn", "12345", "bad_urn"),
    ("academic_year", "2025/27", "bad_year"), ("term", "Winter", "bad_term"),
    ("pupils_on_roll", "lots", "not_a_number"), ("date_completed", "soon", "bad_date"),
])
def test_an_invalid_about_field_is_an_error_at_its_cell(field, raw, code):
    built, report = check(values={f"about.{field}": raw})
    assert [(p.code, p.sheet, p.cell) for p in report.errors] == [(code, *built.cells[f"about.{field}"])]


def test_all_problems_are_collected_not_just_the_first():
    _, report = check(values={"referrals.cse.concerns": "five", "inclusion.suspended": -1,
                              "training.prevent.in_date": 99, "about.urn": BLANK, "neglect.new_flags": 2.5})
    assert sorted(codes(report.errors)) == sorted(
        ["not_a_number", "negative", "training_in_date_above_scope", "required_missing", "not_whole"])


def test_a_wholly_blank_row_is_a_query_pointing_at_its_first_cell():
    built, report = check(values={"training.prevent.in_scope": BLANK, "training.prevent.in_date": BLANK})
    assert report.valid
    (query,) = report.queries
    assert query.code == "row_blank" and (query.sheet, query.cell) == built.cells["training.prevent.in_scope"]
    assert "if none, enter 0; leave blank only if not known" in query.message.lower()


def test_a_partly_blank_row_is_not_queried_and_the_blank_stays_missing():
    _, report = check(values={"training.prevent.in_date": BLANK})
    assert report.problems == []
    assert report.values["training.prevent.in_date"] is None


def test_a_count_above_pupils_on_roll_is_a_query():
    built, report = check(values={"referrals.mental_health.concerns": 421})
    assert report.valid
    (query,) = report.queries
    assert query.code == "count_above_roll" and query.cell == built.cells["referrals.mental_health.concerns"][1]


def test_a_count_equal_to_pupils_on_roll_and_staff_counts_are_not_queried():
    _, report = check(values={"inclusion.persistently_absent": 420, "training.whole_staff.in_scope": 500,
                              "training.whole_staff.in_date": 480})
    assert report.problems == []


def test_more_than_three_times_last_term_is_a_query():
    built, report = check(previous={"neglect.active_flags": 3, "inclusion.suspended": 2})
    assert [(q.code, q.cell) for q in report.queries] == [
        ("more_than_three_times_last_term", built.cells["neglect.active_flags"][1])]  # 11 > 9; 6 is not > 6


def test_growth_is_queried_only_when_the_count_also_grew_by_5_or_more():
    _, small = check(previous={"inclusion.suspended": 1}, values={"inclusion.suspended": 4})
    assert small.queries == []  # four times as many, but 3 more: not a jump worth a query
    _, large = check(previous={"inclusion.suspended": 2}, values={"inclusion.suspended": 7})
    assert [q.code for q in large.queries] == ["more_than_three_times_last_term"]


def test_a_query_names_the_row_as_well_as_the_cell():
    built, report = check(previous={"neglect.active_flags": 3})
    sheet, cell = built.cells["neglect.active_flags"]
    assert report.queries[0].message.startswith(
        f"Children with an active neglect flag at term end ({sheet}, {cell}): the cell holds 11; last term 3.")


@pytest.mark.parametrize("before", [0, None, 4, "4"])
def test_growth_needs_a_positive_previous_number(before):
    _, report = check(previous={"neglect.active_flags": before})
    assert report.problems == []


def test_last_terms_figure_may_arrive_as_a_decimal_or_float():
    from decimal import Decimal

    for before in (Decimal(3), 3.0):
        _, report = check(previous={"neglect.active_flags": before})
        assert [q.code for q in report.queries] == ["more_than_three_times_last_term"]
        assert "holds 11; last term 3." in report.queries[0].message


def test_no_previous_term_means_no_comparison():
    _, report = check(previous=None, values={"neglect.active_flags": 11})
    assert report.problems == []


def test_a_large_school_recording_no_concerns_is_a_query():
    zeros = {f"referrals.{r.id}.concerns": 0 for r in registry.REFERRALS.rows}
    _, report = check(values=zeros)
    assert codes(report.queries) == ["no_concerns"]


def test_no_concerns_is_fine_for_a_small_school_or_when_any_is_blank():
    zeros = {f"referrals.{r.id}.concerns": 0 for r in registry.REFERRALS.rows}
    _, small = check(values={**zeros, "about.pupils_on_roll": 199, "about.pupils_sen_support": 50})
    _, gap = check(values={**zeros, "referrals.other.concerns": BLANK})
    assert small.problems == [] and gap.problems == []


def test_no_designated_safeguarding_lead_is_a_query():
    no_children_looked_after = {"about.looked_after": 0}
    _, report = check(leads=[("Deputy DSL", None, None, None)], values=no_children_looked_after)
    assert codes(report.problems) == ["no_dsl"]
    _, empty = check(leads=[], values=no_children_looked_after)
    assert codes(empty.problems) == ["no_dsl"]


def test_a_missing_leads_sheet_is_an_error_and_not_also_a_query():
    _, report = check(drop_sheets=["leads"])
    assert codes(report.problems) == ["sheet_missing"]


def test_a_governance_date_after_the_return_was_completed_is_a_query():
    built, report = check(values={"about.filtering_reviewed": date(2026, 4, 2)})
    assert [(q.code, q.cell) for q in report.queries] == [
        ("date_after_completed", built.cells["about.filtering_reviewed"][1])]


def test_a_return_completed_before_its_term_began_is_a_query():
    _, report = check(values={"about.date_completed": date(2025, 12, 15),
                              "about.cp_policy_reviewed": date(2025, 9, 1), "about.filtering_reviewed": date(2025, 9, 1),
                              "about.central_record_checked": date(2025, 9, 1)})
    assert codes(report.queries) == ["completed_before_term"]


def test_every_problem_has_a_key_of_its_own_even_in_a_very_messy_return():
    columns = [["Category", "Children with concerns recorded"], ["Neglect", 2], ["Other", 1]]
    _, report = check(drop_rows=[("inclusion", "suspended"), ("inclusion", "ehe_removals"), ("neglect", "new_flags")],
                      drop_sheets=["referrals"], extra_sheets={"Referrals": columns},
                      values={"training.prevent.in_scope": BLANK, "training.prevent.in_date": BLANK,
                              "multi_agency.lado.due": BLANK, "multi_agency.lado.done": BLANK})
    keys = [p.key for p in report.problems]
    assert len(keys) == len(set(keys))
    (inclusion,) = [q for q in report.queries if q.code == "row_missing" and q.sheet == "Inclusion"]
    assert "'Pupils suspended this term' and 'Pupils removed from roll" in inclusion.message
    (columns_missing,) = [p for p in report.errors if p.code == "column_missing"]
    assert "'Referred to early help', " in columns_missing.message


def test_problem_keys_are_unique_within_a_return():
    _, report = check(values={f"referrals.{r.id}.concerns": 500 for r in registry.REFERRALS.rows})
    keys = [p.key for p in report.problems]
    assert len(keys) == len(set(keys)) == len(registry.REFERRALS.rows)
