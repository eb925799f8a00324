"""Each reader accepts every form a DSL's spreadsheet may hand back and refuses the rest plainly."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from loaders import values
from loaders.values import Bad


@pytest.mark.parametrize("raw, expected", [
    (12, 12), (12.0, 12), ("12", 12), (" 7 ", 7), ("1,200", 1200), ("0", 0), (0.0, 0), ("12.0", 12),
    ("\u00a09\u00a0", 9),
])
def test_counts_accept_whole_numbers_in_any_form(raw, expected):
    got = values.read_count(raw)
    assert got == expected and isinstance(got, int)


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_a_blank_count_stays_missing_never_zero(raw):
    assert values.read_count(raw) is None


@pytest.mark.parametrize("raw, code", [
    ("five", "not_a_number"), ("n/a", "not_a_number"), ("nil", "not_a_number"), ("lots", "not_a_number"),
    (2.5, "not_whole"), ("2.5", "not_whole"), (-3, "negative"), ("-1", "negative"),
    (date(2026, 3, 20), "date_in_count"), (datetime(2026, 3, 20, 9, 0), "date_in_count"),
    (time(9, 30), "date_in_count"), (True, "not_a_number"), (False, "not_a_number"),
    ("#DIV/0!", "excel_error"), (float("nan"), "not_a_number"), ("1,20", "not_a_number"),
])
def test_counts_refuse_words_fractions_negatives_dates_and_booleans(raw, code):
    got = values.read_count(raw)
    assert isinstance(got, Bad) and got.code == code


def test_words_meaning_none_get_advice_on_blank_versus_zero():
    advice = values.read_count("n/a").advice
    assert "blank" in advice and "0" in advice


def test_a_number_in_words_is_shown_back_as_a_number():
    assert "such as 5" in values.read_count("five").advice
    assert "such as 3" in values.read_count("three").advice


@pytest.mark.parametrize("raw, expected", [
    (date(2026, 3, 20), date(2026, 3, 20)), (datetime(2026, 3, 20, 14, 5), date(2026, 3, 20)),
    (46101, date(2026, 3, 20)), (46101.5, date(2026, 3, 20)),
    ("20/03/2026", date(2026, 3, 20)), ("20-03-2026", date(2026, 3, 20)), ("20.03.2026", date(2026, 3, 20)),
    ("2/3/26", date(2026, 3, 2)), ("20/03/26", date(2026, 3, 20)), ("2026-03-20", date(2026, 3, 20)),
    (" 2026-03-20 ", date(2026, 3, 20)), ("20 March 2026", date(2026, 3, 20)), ("1st Sep 2025", date(2025, 9, 1)),
])
def test_dates_in_uk_iso_and_serial_forms(raw, expected):
    assert values.read_date(raw) == expected


@pytest.mark.parametrize("raw", ["03/20/2026", "31/02/2026", "next week", "2026", 12, 5_000_000, True,
                                 date(1900, 1, 1), "20/03/95", "Smarch 3 2026"])
def test_anything_else_in_a_date_cell_is_an_error(raw):
    got = values.read_date(raw)
    assert isinstance(got, Bad) and got.code == "bad_date"


def test_a_blank_date_is_missing():
    assert values.read_date("") is None and values.read_date(None) is None


@pytest.mark.parametrize("raw", ["2025/26", "2025-26", "2025/2026", "2025-2026", "2025 to 2026", " 2025 / 26 ",
                                 "2025–26"])
def test_academic_year_forms_all_become_the_short_form(raw):
    assert values.read_year(raw) == "2025/26"


def test_academic_year_across_a_century_boundary():
    assert values.read_year("2099/00") is not None  # out of the plausible range: an error
    assert isinstance(values.read_year("2099/00"), Bad)
    assert values.read_year("2009/10") == "2009/10"


@pytest.mark.parametrize("raw", ["2025/27", "2026/25", "2025", 2025, "25/26", "Autumn", date(2025, 9, 1)])
def test_an_academic_year_whose_second_year_does_not_follow_is_an_error(raw):
    got = values.read_year(raw)
    assert isinstance(got, Bad) and got.code == "bad_year"


@pytest.mark.parametrize("raw, expected", [
    ("Autumn", "Autumn"), ("autumn", "Autumn"), ("SPRING", "Spring"), ("Summer term", "Summer"),
    (" summer  Term ", "Summer"),
])
def test_terms_ignore_case_and_a_trailing_term(raw, expected):
    assert values.read_term(raw) == expected


@pytest.mark.parametrize("raw", ["Winter", "Autumn 1", "Spring 2026", 1])
def test_other_terms_are_errors(raw):
    assert isinstance(values.read_term(raw), Bad)


@pytest.mark.parametrize("raw", [999001, 999001.0, "999001", " 999001 ", "999 001"])
def test_urns_become_six_digit_text(raw):
    assert values.read_urn(raw) == "999001"


@pytest.mark.parametrize("raw", [99900, "99900", "9990011", 999001.5, "URN999001", "099001", True])
def test_anything_but_six_digits_is_not_a_urn(raw):
    got = values.read_urn(raw)
    assert isinstance(got, Bad) and got.code == "bad_urn"


@pytest.mark.parametrize("raw", [1, 1.0, "1", "v1", "Version 1"])
def test_template_version_one_is_accepted(raw):
    assert values.read_integer(raw) == 1


@pytest.mark.parametrize("raw", [2, 2.0, "2", "v2", "Version 2"])
def test_template_version_two_is_accepted(raw):
    assert values.read_integer(raw) == 2


@pytest.mark.parametrize("raw", [3, 0, "3", "one", 1.5, True])
def test_any_other_template_version_asks_for_a_new_template(raw):
    got = values.read_integer(raw)
    assert isinstance(got, Bad)
    assert got.advice.startswith("The template version must be 1 or 2, as the dashboard's templates set it: "
                                 "download a new template")


@pytest.mark.parametrize("raw, phase", [
    ("Primary", "Primary"), (" secondary ", "Secondary"), ("ALL-THROUGH", "All-through"),
    ("All through", "All-through"), ("Special", "Special"), ("alternative provision", "Alternative provision"),
    ("Junior", "Primary"), ("PRU", "Alternative provision"),
])
def test_a_phase_is_read_as_one_of_the_contracts_names(raw, phase):
    assert values.read_phase(raw) == phase


@pytest.mark.parametrize("raw", ["Middle", "Nursery", 2, True, "Primary and secondary"])
def test_any_other_phase_names_the_phases_to_pick_from(raw):
    got = values.read_phase(raw)
    assert isinstance(got, Bad) and got.code == "bad_phase"
    assert "Primary, Secondary, All-through, Special or Alternative provision" in got.advice


def test_a_blank_phase_is_not_known():
    assert values.read_phase("  ") is None and values.read_phase(None) is None


def test_text_is_tidied_and_blank_text_is_missing():
    assert values.read_text("  Otterbrook   Fictional  Academy ") == "Otterbrook Fictional Academy"
    assert values.read_text(" ") is None
    assert values.read_text(42.0) == "42"


@pytest.mark.parametrize("raw, shown", [("five", '"five"'), (2.5, "2.5"), (12.0, "12"), (True, "TRUE"),
                                        (date(2026, 3, 20), "20/03/2026")])
def test_what_was_found_is_described_as_the_dsl_typed_it(raw, shown):
    assert values.describe(raw) == shown
