"""Gathering the pack: the same term, gaps and suppression as the dashboard."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from analysis.context import Context, restrict
from analysis.gaps import find_gaps
from analysis.themes import THEMES
from reports.pack import TOP_GAPS, Unavailable, pack_from_dataset
from store.access import Scope

from .conftest import counts_people, event_findings, event_labels

SMALL = re.compile(r"(?<![\d,.])[1-4] of ")


def test_the_pack_is_for_the_latest_term_with_every_theme(leader_pack, sample_data):
    assert (leader_pack.academic_year, leader_pack.term) == sample_data.latest_term()
    assert [s.theme.id for s in leader_pack.sections] == [t.id for t in THEMES]
    assert not leader_pack.for_trustees
    ctx = Context(sample_data, leader_pack.academic_year, leader_pack.term)
    assert leader_pack.returned == len(ctx.returned())
    assert leader_pack.expected == len(ctx.expected())


def test_the_gaps_are_the_gap_lists_worst_first(leader_pack, sample_data):
    ctx = Context(sample_data, leader_pack.academic_year, leader_pack.term)
    expected = find_gaps(ctx)
    assert list(leader_pack.gaps["finding"]) == [g.finding for g in expected]
    assert list(leader_pack.top_gaps["school"]) == [g.school for g in expected[:TOP_GAPS]]
    for section in leader_pack.sections:
        assert set(section.gaps["theme"]) <= {section.theme.id}
    assert sum(len(s.gaps) for s in leader_pack.sections) == len(expected)


def test_the_trustees_pack_words_small_counts_as_fewer_than_5(leader_pack, trustee_pack):
    assert trustee_pack.for_trustees
    key = ["urn", "rule", "indicator"]
    both = leader_pack.gaps.merge(trustee_pack.gaps, on=key, how="outer", suffixes=("", "_t"), indicator="where")
    # Where a gap turns on counts hidden from trustees, they are told the counts are too small to
    # judge from, whether or not the gap is there; a school's position beside the others goes too.
    only_theirs = both[both["where"] == "right_only"]
    assert only_theirs["finding_t"].str.contains("too small to show").all()
    only_mine = both[both["where"] == "left_only"]
    unsure = set(zip(trustee_pack.gaps["urn"], trustee_pack.gaps["rule"]))
    assert all(r == "statistical_outlier" or (u, r) in unsure for u, r in zip(only_mine["urn"], only_mine["rule"]))
    shared = both[both["where"] == "both"]
    pairs = [(mine, theirs) for mine, theirs, indicator in
             zip(shared["finding"], shared["finding_t"], shared["indicator"]) if counts_people(indicator)]
    assert any(SMALL.search(mine) for mine, _ in pairs), "the sample should hold some small counts"
    for mine, theirs in pairs:
        assert not SMALL.search(theirs), theirs
        if SMALL.search(mine):  # said again without the count: "fewer than 5", or the share in words
            assert theirs != mine and ("fewer than 5" in theirs or "half" in theirs or "than" in theirs
                                       or "too small to show" in theirs), theirs


def test_the_trustees_measures_hide_small_counts_of_children(leader_pack, trustee_pack):
    def counts(pack):
        frames = pd.concat([s.measures for s in pack.sections if s.theme.id != "workforce"])
        return frames.loc[~frames["Measure"].isin(event_labels()), "Count"].tolist()

    small = [c for c in counts(leader_pack) if isinstance(c, float) and 1 <= c <= 4]
    assert small, "the sample should hold some small counts"
    theirs = counts(trustee_pack)
    assert not [c for c in theirs if isinstance(c, float) and 1 <= c <= 4]
    assert "fewer than 5" in theirs


def test_a_term_without_returns_is_unavailable_with_the_terms_there_are(sample_data):
    with pytest.raises(Unavailable, match="Terms with returns"):
        pack_from_dataset(sample_data, "2001/02", "Spring")


def test_an_empty_trust_is_unavailable(sample_data):
    nobody = Scope("trust_leader", "x@example.org", frozenset(), suppress=False)
    empty = restrict(sample_data, nobody)
    empty.__dict__["terms"] = []
    with pytest.raises(Unavailable, match="No returns"):
        pack_from_dataset(empty)


def test_an_unknown_reader_is_refused(sample_data):
    with pytest.raises(ValueError):
        pack_from_dataset(sample_data, role="governor")


def test_a_pack_for_an_earlier_term_stops_at_that_term(sample_data):
    from charts.trend import term_label
    from loaders.registry import term_index

    year, term = sample_data.terms[1]
    pack = pack_from_dataset(sample_data, year, term)
    assert (pack.academic_year, pack.term) == (year, term)
    later = {term_label(term_index(y, t)) for y, t in sample_data.terms[2:]}
    shown = {t for s in pack.sections for title, chart in s.charts if title.endswith("term by term")
             for t in chart.table["Term"]}
    assert shown and not shown & later
    behind = sample_data.returns[[term_index(y, t) <= term_index(year, term) for y, t in
                                  zip(sample_data.returns["academic_year"], sample_data.returns["term"])]]
    assert pack.data_as_at == pd.to_datetime(behind["submitted_at"]).max()


def test_no_small_count_hides_in_the_trustees_figures(leader_pack, trustee_pack):
    """The figures' hover texts and data travel inside the HTML file too."""
    def found(pack):
        charts = [pack.heatmap] + [c for s in pack.sections if s.theme.id != "workforce" for title, c in s.charts
                                   if not title.startswith(event_labels())]
        text = " ".join(_strings(json.loads(c.figure.to_json())) for c in charts)
        for words in event_findings(pack):  # findings on meetings and reports keep their counts
            text = text.replace(words, "")
        return [m.group(0) for m in SMALL.finditer(text)]

    assert found(leader_pack), "the sample should hold some small counts"
    assert found(trustee_pack) == []


def _strings(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_strings(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_strings(v) for v in value)
    return ""


def test_each_themes_section_is_made_when_first_reached_and_only_once(sample_data):
    made = []
    pack = pack_from_dataset(sample_data)
    inner = pack.make_section
    pack.make_section = lambda theme: made.append(theme.id) or inner(theme)
    assert made == [], "gathering the pack leaves the themes' sections to be made as they are reached"
    sections = pack.each_section()
    first = next(sections)
    assert made == [THEMES[0].id] and first.theme.id == THEMES[0].id
    assert [s.theme.id for s in pack.sections] == [t.id for t in THEMES]
    assert made == [t.id for t in THEMES]
    assert pack.sections[0] is first and made == [t.id for t in THEMES], "made once, then kept"


def test_the_pack_says_which_yardstick_each_school_was_held_against(leader_pack):
    from reports.pack import methods

    (section,) = [s for s in leader_pack.sections if s.theme.id == "adolescents"]
    rows = section.measures[section.measures["Measure"] == "Pupils permanently excluded"].set_index("School")
    assert rows.loc["Skylark Fold School", "Compared with"] == "England's special schools, 2023/24 (whole academic year)"
    assert rows.loc["Larkspur Hill Primary School", "Compared with"] == "Primary schools in the trust"
    absent = section.measures[section.measures["Measure"] == "Pupils persistently absent"].set_index("School")
    assert absent.loc["Skylark Fold School", "Compared with"] == "no school like it in the trust"
    said = " ".join(methods(leader_pack))
    assert "England's published figure for schools of its phase" in said
    assert "Permanent exclusions, special schools, 2023/24 (whole academic year) (Suspensions and permanent " \
           "exclusions in England, Department for Education 2025)" in said


def test_the_pack_is_short_unless_its_appendix_is_asked_for(sample_url, leader_pack):
    from reports.pack import build_pack

    assert leader_pack.appendix is False
    assert build_pack(sample_url, role="trustee", appendix=True).appendix is True


def test_a_short_pack_makes_no_themes_section(sample_data):
    """The charts and tables of each theme are made only for the appendix: the short pack, in any
    format, is made without them."""
    from reports.html import render_html
    from reports.xlsx import render_xlsx

    made = []
    pack = pack_from_dataset(sample_data)
    inner = pack.make_section
    pack.make_section = lambda theme: made.append(theme.id) or inner(theme)
    render_html(pack)
    render_xlsx(pack)
    assert made == []
    pack.appendix = True
    render_html(pack)
    assert made == [t.id for t in THEMES]


def test_the_gaps_are_counted_by_theme_and_level(leader_pack):
    counts = leader_pack.gap_counts.set_index("Theme")
    gaps = leader_pack.gaps
    assert list(counts.columns) == ["Red", "Amber", "Question", "All gaps"]
    assert list(counts.index) == [t.title for t in THEMES] + ["All themes"]
    for theme, mine in leader_pack.gaps_by_theme():
        assert list(mine["finding"]) == list(gaps.loc[gaps["theme"] == theme.id, "finding"])
        row = counts.loc[theme.title]
        assert (row["Red"], row["Amber"], row["Question"], row["All gaps"]) == (
            (mine["severity"] == "red").sum(), (mine["severity"] == "amber").sum(),
            (mine["severity"] == "note").sum(), len(mine))
    assert counts.loc["All themes", "All gaps"] == len(gaps) > 0
