"""The theme heatmap as a lay reader meets it: short cells with a symbol and a count per kind of
gap, every word in the hover and the table, text that reads on every fill, and a sentence that
says what it counts (gaps, and the cells that hold them) and names what it claims to name."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from charts.heatmap import theme_heatmap
from tests.charts.test_palette import wcag

SCHOOLS = pd.DataFrame({"urn": ["1", "2", "3", "4"], "name": ["Ash", "Birch", "Cedar", "Damson"]})


def gaps(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """(urn, theme, severity) each, with a finding that names them."""
    return pd.DataFrame([{"urn": u, "theme": t, "severity": s, "finding": f"{s} finding {k} at {u} on {t}"}
                         for k, (u, t, s) in enumerate(rows)])


MIXED = gaps(("1", "neglect", "red"), ("1", "neglect", "red"), ("1", "neglect", "amber"),
             ("1", "workforce", "red"), ("1", "adolescents", "note"), ("2", "workforce", "red"),
             ("2", "neglect", "amber"), ("3", "adolescents", "note"), ("3", "adolescents", "note"),
             ("3", "adolescents", "note"), ("3", "adolescents", "note"), ("3", "workforce", "red"))


def cells(chart) -> dict[tuple[str, str], tuple[str, str]]:
    """(school label, theme) -> (its text, its text colour), from the figure's layer of words."""
    layer = chart.figure.data[1]
    return {(y, x): (t, c) for x, y, t, c in zip(layer.x, layer.y, layer.text, layer.textfont.color)}


def fills(chart) -> dict[tuple[str, str], str]:
    """(school label, theme) -> the colour its cell is drawn in, read off the colour scale."""
    heat = chart.figure.data[0]
    bands = [(a[0], b[0], a[1]) for a, b in zip(heat.colorscale, heat.colorscale[1:]) if a[1] == b[1]]

    def colour(z):
        at = (z - heat.zmin) / (heat.zmax - heat.zmin)  # the middle of the level's band
        (found,) = [c for lo, hi, c in bands if lo < at < hi]
        return found

    return {(y, x): colour(z) for y, row in zip(heat.y, heat.z) for x, z in zip(heat.x, row)}


def test_a_cell_reads_symbol_and_count_for_each_kind_red_first():
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3", "4"})
    said = {k: t for k, (t, _) in cells(chart).items()}
    assert said[("Ash", "Neglect")] == "✖\u00a02 ▲\u00a01"
    assert said[("Ash", "Adolescents")] == "?\u00a01"
    assert said[("Cedar", "Adolescents")] == "?\u00a04"
    assert said[("Birch", "Neglect")] == "▲\u00a01"
    assert said[("Damson", "Neglect")] == "✔ No gap"


def test_the_full_words_are_in_the_hover_and_the_table_with_plurals_right():
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3", "4"})
    table = chart.table.set_index("School")
    assert table.loc["Ash", "Neglect"] == "✖ 2 red gaps, 1 amber gap"
    assert table.loc["Ash", "Workforce"] == "✖ 1 red gap"
    assert table.loc["Cedar", "Adolescents"] == "? 4 questions"
    assert table.loc["Ash", "Adolescents"] == "? 1 question"
    hover = dict(zip(chart.figure.data[0].x, chart.figure.data[0].customdata[0]))  # Ash's row
    assert hover["Neglect"].startswith("<b>Ash</b> \u2014 Neglect: 2 red gaps, 1 amber gap<br>• red finding 0")
    assert hover["Oversight"] == "<b>Ash</b> \u2014 Oversight<br>No gap found"
    words = " ".join([*chart.table.astype(str).to_numpy().ravel(), chart.summary,
                      *(h for row in chart.figure.data[0].customdata for h in row)])
    assert not re.search(r"\b1 (?:red gaps|amber gaps|questions|cells|schools|themes)\b", words)
    assert not re.search(r"(?<![\d,])(?:[02-9]|\d\d+) (?:red gap|amber gap|question|cell|school|theme)\b(?!s)", words)


def test_cells_are_short_enough_for_a_cell_at_200_percent_zoom():
    """At most three kinds, each a symbol and its count: "✖ 12 ▲ 3 ? 10" at the longest."""
    many = gaps(*[("1", "neglect", s) for s in ["red"] * 12 + ["amber"] * 3 + ["note"] * 10])
    chart = theme_heatmap(many, SCHOOLS, {"1", "2", "3", "4"}, not_yet_due=True)
    texts = [t for t, _ in cells(chart).values()]
    assert "✖\u00a012 ▲\u00a03 ?\u00a010" in texts
    assert max(len(t) for t in texts) <= 13, texts


@pytest.mark.parametrize("not_yet_due", [False, True])
def test_text_on_every_cell_reads_at_4_5_to_1(not_yet_due):
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "3"}, not_yet_due=not_yet_due)
    drawn, under = cells(chart), fills(chart)
    assert set(drawn) == set(under) and len(drawn) == 4 * 5
    levels = {t.split("\u00a0")[0].split(" ")[0] for t, _ in drawn.values()}
    assert levels == {"✖", "▲", "?", "✔", "–"}  # every kind of fill is walked
    for cell, (text, colour) in drawn.items():
        assert wcag(colour, under[cell]) >= 4.5, (cell, text, colour, under[cell])


def test_a_school_not_returned_reads_no_data_or_not_yet_due():
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3"})
    assert cells(chart)[("Damson", "Neglect")][0] == "– No data"
    assert theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3"}, not_yet_due=True).table.set_index("School").loc[
        "Damson", "Neglect"] == "– Not yet due"


def test_the_summary_counts_gaps_and_the_cells_they_fall_in():
    """The Overview's headline counts gaps (5 red here), the heatmap shows cells (4 red): the
    sentence says both, and what a cell is."""
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3", "4"})
    assert chart.summary.startswith("4 schools by 5 themes make 20 cells; a cell is one school in one theme and "
                                    "can hold several gaps. 5 red gaps fall in 4 cells, 2 amber gaps in 2 and "
                                    "5 questions in 2.")


def test_the_summary_names_the_schools_and_themes_with_most_red_cells_labelled_as_such():
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3", "4"})
    # Ash is red in Neglect and Workforce; Birch and Cedar in Workforce only
    assert "Schools with red in the most themes: Ash (2 themes)." in chart.summary
    assert "Themes with red at the most schools: Workforce (3 schools)." in chart.summary
    tied = theme_heatmap(gaps(("1", "neglect", "red"), ("2", "workforce", "red")), SCHOOLS, {"1", "2", "3", "4"})
    assert "Schools with red in the most themes: Ash and Birch (1 theme each)." in tied.summary
    assert "Themes with red at the most schools: Neglect and Workforce (1 school each)." in tied.summary
    spread = theme_heatmap(gaps(*[(u, "neglect", "red") for u in "1234"]), SCHOOLS, {"1", "2", "3", "4"})
    assert "Schools with red in the most themes: 4 schools (1 theme each)." in spread.summary


def test_no_gap_says_so_and_names_no_one():
    chart = theme_heatmap(gaps(("1", "neglect", "amber")), SCHOOLS, {"1", "2", "3", "4"})
    assert chart.summary.endswith("1 amber gap falls in 1 cell."), chart.summary
    assert "most" not in chart.summary
    none = theme_heatmap(pd.DataFrame(), SCHOOLS, {"1", "2", "3", "4"})
    assert none.summary.endswith("No gap was found.")


def test_the_figure_carries_its_key_for_paper():
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3", "4"})
    key = chart.figure.layout.title.subtitle.text
    assert "A cell is one school in one theme" in key
    for words in ("✖ red gaps", "▲ amber gaps", "? questions", "✔ no gap", "– no data"):
        assert words in key


def test_at_most_the_schools_whose_gaps_are_the_most_serious_in_the_order_of_names():
    """Red in the most themes first (Ash: two), then amber (Birch: one, against Cedar's question);
    the map says it is a selection, in its title and its summary."""
    chart = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3", "4"}, most=2)
    assert list(chart.table["School"]) == ["Ash", "Birch"]
    assert {y for y, _ in cells(chart)} == {"Ash", "Birch"}
    assert "the 2 schools with the most serious" in chart.figure.layout.title.text
    assert chart.summary.startswith("The map shows the 2 of 4 schools whose gaps are the most serious")
    whole = theme_heatmap(MIXED, SCHOOLS, {"1", "2", "3", "4"}, most=4)  # room for all: no selection said
    assert len(whole.table) == 4 and not whole.summary.startswith("The map shows")
