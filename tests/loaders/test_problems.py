"""The catalogue of problem codes and the registry's names for measure ids: each code is listed
once with a severity, a title and what to do; a code or a name the contract lacks is an error at
once, never a silent miss."""

from __future__ import annotations

import re

import pytest

from loaders import problems, registry
from loaders.problems import BY_CODE, CATALOGUE, ERROR, QUERY, kind
from loaders.registry import M


def test_each_kind_of_problem_has_a_code_a_severity_a_title_and_what_to_do():
    assert len({k.code for k in CATALOGUE}) == len(CATALOGUE)
    for k in CATALOGUE:
        assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", k.code), k.code
        assert k.severity in (ERROR, QUERY), k.code
        assert k.title and k.title[0].isupper() and not k.title.endswith("."), k.code
        assert k.todo and k.todo[0].isupper() and k.todo.endswith("."), k.code


def test_a_code_the_catalogue_lacks_raises():
    assert kind("no_dsl") is problems.NO_DSL
    with pytest.raises(KeyError):
        kind("large_change")


def test_a_kind_makes_its_problems_with_its_own_code_and_severity():
    whole = problems.DAMAGED("This file is damaged.")
    assert (whole.code, whole.severity, whole.sheet, whole.cell, whole.where) == \
        ("damaged", ERROR, None, None, "the file")
    sheet = problems.NO_DSL("No row names a Designated safeguarding lead.", sheet="Leads")
    assert (sheet.severity, sheet.where) == (QUERY, "Leads")
    cell = problems.NEGATIVE.at("Pupils suspended this term", "Inclusion", "B7", "the cell holds -3.")
    assert (cell.code, cell.key) == ("negative", "negative:Inclusion!B7")
    assert cell.message == "Pupils suspended this term (Inclusion, B7): the cell holds -3."
    row = problems.ROW_BLANK.at("Prevent duty", "Training", "B5", "the whole row is blank.", to="C5")
    assert row.message.startswith("Prevent duty (Training, B5 to C5): ")


def test_every_rule_between_cells_is_an_error_of_the_catalogue():
    assert registry.RULES
    for rule in registry.RULES:
        assert BY_CODE[rule.code] is rule.problem and rule.problem.severity == ERROR


def test_queries_are_the_ones_the_contract_names():
    # RETURN_TEMPLATE.md: a count above pupils on roll, a row left wholly blank, a value more than three
    # times last term's, a school of 200+ pupils recording no concerns at all, no DSL row.
    queries = {k.code for k in CATALOGUE if k.severity == QUERY}
    assert {"count_above_roll", "row_blank", "more_than_three_times_last_term", "no_concerns", "no_dsl"} <= queries
    assert "personal_data" not in queries and "not_a_number" not in queries


def test_every_measure_id_goes_by_a_name():
    assert len(dir(M)) == len(registry.MEASURES)
    for measure in registry.MEASURES:
        assert getattr(M, registry.constant(measure.id)) == measure.id
    assert M.NEGLECT_ACTIVE_FLAGS == "neglect.active_flags"
    assert M.REFERRALS_CHILD_ON_CHILD_CONCERNS == "referrals.child_on_child.concerns"


def test_a_name_the_contract_lacks_raises_and_names_are_fixed():
    with pytest.raises(AttributeError, match="NEGLECT_ACTIVE_FLAG"):
        M.NEGLECT_ACTIVE_FLAG  # noqa: B018 - the lookup itself is what is tested
    with pytest.raises(AttributeError):
        M.NEGLECT_ACTIVE_FLAGS = "neglect.something_else"
    assert M.NEGLECT_ACTIVE_FLAGS == "neglect.active_flags"


def test_the_governance_dates_are_the_abouts_three_dates():
    dates = [m.id for m in registry.MEASURES if m.sheet == "about" and m.type == registry.DATE]
    assert [g.measure for g in registry.GOVERNANCE_DATES] == [mid for mid in dates if mid != M.ABOUT_DATE_COMPLETED]
    assert len({g.indicator for g in registry.GOVERNANCE_DATES}) == 3
