"""What a trustee is told is hidden from them: made from the contract, the indicators and the
threshold; true of what the dashboard does; and the same in the README as on the Privacy page."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.disclosure import (
    FIGURE_COLUMNS,
    GROUP_COLUMNS,
    figures_frame,
    groups_frame,
    measure_groups,
    notice_markdown,
    rules,
)
from analysis.indicators import INDICATORS
from analysis.privacy import hide_small, mask_counts
from loaders.registry import COUNT, MEASURES, MEASURES_BY_ID, SHEETS_BY_ID

README = Path(__file__).resolve().parents[2] / "README.md"
START, END = "<!-- privacy notice", "<!-- end of privacy notice -->"


def test_the_readme_privacy_section_is_the_notice_the_page_shows():
    text = README.read_text(encoding="utf-8")
    assert START in text and END in text, "the README's Privacy section lost its markers"
    block = text.split(START, 1)[1].split("\n", 1)[1].split(END, 1)[0]
    expected = notice_markdown()
    assert block == expected, ("README.md's Privacy section differs from analysis.disclosure.notice_markdown(); "
                               "put this between its markers:\n" + expected)


def test_every_count_of_the_return_is_in_exactly_one_group_with_its_own_suppression():
    counted = [m.id for m in MEASURES if m.type == COUNT]
    grouped = [mid for g in measure_groups() for mid in g.measure_ids]
    assert sorted(grouped) == sorted(counted)
    for g in measure_groups():
        assert {MEASURES_BY_ID[mid].suppressed for mid in g.measure_ids} == {g.suppressed}
        assert {MEASURES_BY_ID[mid].counts for mid in g.measure_ids} == {g.counts}


def test_the_groups_table_names_each_row_of_its_sheet_and_says_whether_small_counts_are_hidden():
    table = groups_frame(5)
    assert list(table.columns) == GROUP_COLUMNS
    for g, row in zip(measure_groups(), table.itertuples(index=False)):
        assert row[0] == g.sheet
        for mid in g.measure_ids:
            assert MEASURES_BY_ID[mid].label in row[1]
        assert row[3] == ("hidden: 1 to 4 show as \u201cfewer than 5\u201d" if g.suppressed else "shown as they are")
    by_sheet = {s: set(t["It counts"]) for s, t in table.groupby("Sheet")}
    assert by_sheet["Neglect"] == by_sheet["Referrals"] == by_sheet["Inclusion"] == {"children"}
    assert by_sheet["Training"] == {"events and staff totals"}
    assert by_sheet["Multi-agency"] == {"events and staff totals", "children", "allegations about staff"}
    assert SHEETS_BY_ID["leads"].title not in by_sheet  # names and dates, no counts


def _compared(indicator: str, counts: list[int]) -> pd.DataFrame:
    return pd.DataFrame({
        "urn": [f"10000{i}" for i in range(len(counts))], "academic_year": "2025/26", "term": "Spring",
        "term_index": 6076, "indicator": indicator, "numerator": [float(c) for c in counts],
        "denominator": 400.0, "value": [c / 400 for c in counts], "trust": 0.1, "position": "within",
    })


@pytest.mark.parametrize("indicator", [ind.id for ind in INDICATORS])
def test_what_the_figures_table_says_of_each_figure_is_what_a_trustee_is_shown(indicator):
    said = figures_frame().set_index("Figure").loc[next(i.label for i in INDICATORS if i.id == indicator),
                                                   "For trustees"]
    out = hide_small(_compared(indicator, [3, 12, 20]), threshold=5).set_index("urn")
    if said == "always shown":
        assert out.loc["100000", "numerator"] == 3 and not out["hidden"].any()
    else:
        assert said == "not shown when a count behind it is hidden"
        assert out.loc["100000", "numerator_note"] == "fewer than 5" and math.isnan(out.loc["100000", "value"])


def test_the_figures_table_has_every_indicator_once():
    table = figures_frame()
    assert list(table.columns) == FIGURE_COLUMNS
    assert list(table["Figure"]) == [i.label for i in INDICATORS]


def test_the_free_text_rule_gives_examples_that_are_masked_and_keeps_what_it_says_it_keeps():
    text = dict(rules(5))["Free text"]
    examples = re.findall(r"\u201c([^\u201d]+)\u201d", text.split("however it was typed", 1)[1].split(")")[0])
    assert examples, "the rule gives no example"
    for example in examples:
        assert mask_counts(f"we saw {example} children", 5) == "we saw fewer than 5 children", example
    assert mask_counts("we saw 12 children", 5) == "we saw 5 or more children" and "5 or more" in text
    for kept in ("20/03/2026", "2025/26", "10:30", "10%", "2.5"):
        assert mask_counts(f"on {kept}", 5) == f"on {kept}"


@pytest.mark.parametrize("threshold", [3, 7])
def test_the_words_follow_the_threshold(threshold):
    words = notice_markdown(threshold)
    assert f"fewer than {threshold}" in words and f"1 to {threshold - 1}" in words
    assert "fewer than 5" not in words and "1 to 4" not in words
    assert f"always {threshold} or more" in words
    assert f"fewer than {threshold}" in " ".join(groups_frame(threshold)["Small counts"])


def test_the_rules_say_each_thing_a_trustee_must_know():
    said = " ".join(f"{h}. {t}" for h, t in rules(5)).lower()
    for needed in ("children", "allegations about staff", "\u201cfewer than 5\u201d", "\u201cnot shown\u201d",
                   "rate", "change", "trust's figure", "explanations", "board's questions and answers",
                   "check's messages", "meetings", "staff in scope", "trust leaders", "dsl"):
        assert needed in said, needed
