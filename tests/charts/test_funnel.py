"""The funnel plot as a lay reader meets it, on screen and on paper: a line above the plot says how
to read it, every kind of marker is in the legend, schools are named beside their markers (all of
them up to 15, then those outside the expected range and the one chosen), names never overlap, and
the limits are "the expected range" and "well outside", with 95% and 99.8% only in the legend."""

from __future__ import annotations

import json
import re
from html import unescape

import numpy as np
import pandas as pd
import pytest

from analysis.compare import compare
from charts import labels
from charts.format import axis_labels
from charts.funnel import NAME_ALL, NAME_LIMIT, NARROW_PLOT, NARROW_WIDTHS, WIDTHS, funnel_plot
from charts.palette import AMBER, GREEN, GREEN_EDGE, RED

TERM = 6076


def compared(indicator: str, counts: dict[str, tuple[float, float]], phases: dict[str, str] | None = None):
    """The compared rows of one indicator and term, from (count, base) per school."""
    per_100 = indicator in ("online_concerns", "neglect_flags", "permanent_exclusions")
    values = pd.DataFrame([(indicator, u, TERM, float(n), float(d), n / d * (100 if per_100 else 1))
                           for u, (n, d) in counts.items()],
                          columns=["indicator", "urn", "term_index", "numerator", "denominator", "value"])
    return compare(values, phases)


# Prevent training in date, of staff in scope: one school well below, one a little below, the rest
# in date or nearly so; one school of a phase with no other like it (not compared)
TRAINING = {"100001": (30, 40), "100002": (35, 40), "100003": (40, 40), "100004": (39, 40),
            "100005": (40, 40), "100006": (40, 40), "100007": (39, 40)}
NAMES = {u: f"School {u}" for u in [*TRAINING, *(f"2{k:05d}" for k in range(40))]}


def schools_named(chart) -> dict[str, dict]:
    """The name beside each marker (as shown, without its bold), and its annotation."""
    notes = chart.figure.layout.annotations
    shapes = len(chart.figure.layout.shapes)
    return {unescape(re.sub(r"</?b>", "", n.text)): n for n in notes[shapes:]}


def points(chart):
    return chart.figure.data[-1]


def keys(chart) -> dict[str, object]:
    return {t.name: t for t in chart.figure.data if t.meta == "key"}


def test_up_to_15_schools_every_school_is_named_at_its_marker():
    rows = compared("training_prevent", TRAINING)
    chart = funnel_plot(rows, NAMES, "training_prevent")
    named = schools_named(chart)
    assert set(named) == {NAMES[u] for u in TRAINING}
    drawn = points(chart)
    for urn, x, y in zip(rows["urn"], drawn.x, drawn.y):
        note = named[NAMES[urn]]
        assert (note.x, note.y) == (x, y), "a name points at its own school's marker"


def test_past_15_schools_the_outliers_and_the_chosen_school_are_named():
    counts = {f"2{k:05d}": (10 + k % 3, 1000) for k in range(20)}
    counts["200003"], counts["200007"] = (60, 1000), (1, 1000)  # well above, well below
    rows = compared("online_concerns", counts)
    assert len(rows) > NAME_ALL
    outside = set(rows.loc[~rows["position"].isin(["within", ""]), "urn"])
    assert outside == {"200003", "200007"}
    chart = funnel_plot(rows, NAMES, "online_concerns", chosen="200011")
    named = schools_named(chart)
    assert set(named) == {NAMES[u] for u in outside | {"200011"}}
    assert named[NAMES["200011"]].text == f"<b>{NAMES['200011']}</b>"  # the chosen school stands out
    sizes = dict(zip(rows["urn"], points(chart).marker.size))
    assert sizes["200011"] > sizes["200003"]
    assert "Schools outside the expected range are named" in chart.figure.layout.title.subtitle.text.replace(
        "<br>", " ")


def test_a_long_name_is_shortened_beside_its_marker_and_whole_in_the_hover_and_table():
    names = {**NAMES, "100001": "The Blessed Fictional Saint Aldhelm's Catholic Voluntary Academy and Nursery"}
    chart = funnel_plot(compared("training_prevent", TRAINING), names, "training_prevent")
    label = axis_labels([names["100001"]], ["100001"], NAME_LIMIT)[0]
    assert label in schools_named(chart) and len(label) <= NAME_LIMIT
    assert names["100001"] in list(points(chart).customdata[:, 0]) and names["100001"] in list(chart.table["School"])


def boxes(notes: list, plot: labels.Plot, width: float) -> list[tuple[float, float, float, float]]:
    """Where plotly draws each name, in pixels: beside its point (``xshift``), or at the end of
    its leader line (``ax``, ``ay``), anchored left or right and in the middle."""
    out = []
    for n in notes:
        px, py = plot.pixel(n["x"], n["y"], width)
        dx, dy = (n["ax"], n["ay"]) if n["showarrow"] else (n["xshift"], 0)
        wide = labels.text_width(n["text"])
        left = px + dx if n["xanchor"] == "left" else px + dx - wide
        out.append((left, py + dy - labels.LINE / 2, left + wide, py + dy + labels.LINE / 2))
    return out


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_names_that_would_crowd_are_pushed_apart_with_a_line_back_to_their_marker():
    """Twelve schools in a tight bunch: no two names overlap, and none covers a marker, at the
    narrowest plot and the widest; a name moved off its marker's side has a leader line."""
    rng = np.random.default_rng(7)
    xs, ys = [*(400 + rng.normal(0, 15, 12)), 100], [*(3 + rng.normal(0, 0.15, 12)), 5.5]  # and one alone
    plot = labels.Plot(WIDTHS, 300, (0, 1000), (0, 6))
    texts = [f"Fictional Primary School {k}" for k in range(13)]
    notes = labels.place(list(zip(xs, ys)), texts, plot)
    assert sorted(n["text"] for n in notes) == sorted(texts)
    alone = next(n for n in notes if n["text"].endswith(" 12"))
    assert not alone["showarrow"] and alone["xshift"] == labels.SIDE  # room beside it: no line
    assert sum(n["showarrow"] for n in notes) >= 11  # the bunch
    for n in notes:
        assert n["showarrow"] == (n.get("ay", 0) != 0)  # pushed up or down: a line; beside: none
    for width in WIDTHS:
        drawn = boxes(notes, plot, width)
        for i, a in enumerate(drawn):
            assert not any(overlap(a, b) for b in drawn[i + 1:]), (width, notes[i]["text"])
            for x, y in zip(xs, ys):
                px, py = plot.pixel(x, y, width)
                marker = (px - labels.POINT, py - labels.POINT, px + labels.POINT, py + labels.POINT)
                assert not overlap(a, marker), (width, notes[i]["text"])
            assert 0 <= a[0] and a[2] <= width and 0 <= a[1] and a[3] <= plot.height


def test_on_a_phone_the_title_and_reading_line_are_the_pages_and_only_outliers_and_the_chosen_are_named():
    """The narrow form: plotly cannot wrap, so the figure has no title and no reading line (the
    page shows them as text); with as few as 7 schools only those outside the expected range and
    the one chosen are named, clear of each other and of every marker from 210 to 530 pixels."""
    rows = compared("training_prevent", TRAINING)
    outside = set(rows.loc[~rows["position"].isin(["within", ""]), "urn"])
    assert outside and len(rows) - len(outside) >= 3
    wide = funnel_plot(rows, NAMES, "training_prevent", chosen="100006")
    chart = funnel_plot(rows, NAMES, "training_prevent", chosen="100006", narrow=True)
    assert not chart.figure.layout.title.text and not chart.figure.layout.title.subtitle.text
    assert chart.title == wide.title == wide.figure.layout.title.text == chart.figure.layout.meta["title"]
    assert chart.reading.startswith("Each marker is a school;") and "<br>" not in chart.reading
    assert chart.reading.endswith("Schools outside the expected range are named, and the one chosen in bold; every "
                                  "school is in the table.")
    assert wide.figure.layout.title.subtitle.text.replace("<br>", " ") == wide.reading  # every one named there
    assert set(schools_named(chart)) == {NAMES[u] for u in outside | {"100006"}}
    assert len(schools_named(wide)) == len(rows)
    notes = [n.to_plotly_json() for n in list(schools_named(chart).values())]
    plot = labels.Plot(NARROW_WIDTHS, NARROW_PLOT, tuple(chart.figure.layout.xaxis.range),
                       tuple(chart.figure.layout.yaxis.range))
    drawn = points(chart)
    for width in NARROW_WIDTHS:
        placed = boxes(notes, plot, width)
        for i, a in enumerate(placed):
            assert not any(overlap(a, b) for b in placed[i + 1:]), width
            for x, y in zip(drawn.x, drawn.y):
                px, py = plot.pixel(x, y, width)
                assert not overlap(a, (px - labels.POINT, py - labels.POINT, px + labels.POINT, py + labels.POINT))
            assert 0 <= a[0] and a[2] <= width
    # the legend keeps a row for each of its entries, below the axis
    entries = sum(t.showlegend is not False for t in chart.figure.data if t.name != "Schools")
    assert chart.figure.layout.margin.b >= 75 + 20 * entries


def test_with_no_school_outside_the_range_the_reading_line_says_who_is_named():
    even = compared("training_prevent", {u: (39, 40) for u in TRAINING})
    assert set(even["position"]) == {"within"}
    assert funnel_plot(even, NAMES, "training_prevent", narrow=True).reading.endswith(
        "No school is outside the expected range, so none is named; every school is in the table.")
    assert funnel_plot(even, NAMES, "training_prevent", chosen="100002", narrow=True).reading.endswith(
        "No school is outside the expected range, so only the one chosen is named; every school is in the table.")


def test_every_kind_of_marker_drawn_is_in_the_legend_with_its_symbol_and_colour():
    rows = compared("training_prevent", {**TRAINING, "100008": (40, 40)},
                    {**{u: "Primary" for u in TRAINING}, "100008": "Special"})
    chart = funnel_plot(rows, NAMES, "training_prevent", england=0.9)
    drawn = points(chart)
    kinds = {(s, c, e) for s, c, e in zip(drawn.marker.symbol, drawn.marker.color, drawn.marker.line.color)}
    legend = {(t.marker.symbol, t.marker.color, t.marker.line.color): name for name, t in keys(chart).items()
              if t.mode == "markers"}
    assert kinds == set(legend), (kinds, legend)
    assert set(legend.values()) >= {"Within the expected range", "Well below the expected range: worse",
                                    "Not compared"}
    assert legend[("diamond-open", "#7F7F7F", "#7F7F7F")] == "Not compared"
    assert {"Trust's figure", "England's figure"} <= set(keys(chart))
    assert all(t.showlegend is not False and list(t.x) == [None] for t in keys(chart).values())
    lines = {t.name for t in chart.figure.data if t.meta and "|" in t.meta and t.showlegend}
    assert lines == {"Expected range (95%)", "Well outside (99.8%)"}


def test_red_amber_and_green_markers_each_name_their_side_in_the_legend():
    counts = {f"1{k:05d}": (40, 40) for k in range(8)}
    counts.update({"100001": (20, 40), "100002": (31, 40)})
    chart = funnel_plot(compared("training_prevent", counts), NAMES, "training_prevent")
    by_colour = {t.marker.color: name for name, t in keys(chart).items() if t.mode == "markers"}
    assert by_colour[RED] == "Well below the expected range: worse"
    assert by_colour[AMBER] == "Below the expected range: worse"
    high = {f"1{k:05d}": (20, 40) for k in range(8)} | {"100001": (40, 40)}
    better = funnel_plot(compared("training_prevent", high), NAMES, "training_prevent")
    (green,) = [t for t in keys(better).values() if t.marker.color == GREEN]
    assert green.name == "Above the expected range: better" and green.marker.symbol == "triangle-up"
    assert green.marker.line.color == GREEN_EDGE  # a light mark on white paper keeps a dark edge


def test_the_limits_are_named_in_words_and_their_percentages_only_in_the_legend():
    rows = compared("training_prevent", TRAINING)
    chart = funnel_plot(rows, NAMES, "training_prevent")
    spec = json.loads(chart.figure.to_json())
    legend = [t["name"] for t in spec["data"] if t.get("showlegend", True) and t.get("name") != "Schools"]
    assert any("95%" in n for n in legend) and any("99.8%" in n for n in legend)
    elsewhere = [json.dumps(t.get("customdata", "")) + t.get("hovertemplate", "") for t in spec["data"]]
    elsewhere += [a["text"] for a in spec["layout"]["annotations"]] + [spec["layout"]["title"]["subtitle"]["text"]]
    elsewhere += [chart.summary, chart.table.to_string()]
    for text in elsewhere:
        assert not re.search(r"95 ?%|99\.8", text), text
    words = set(chart.table["Against the trust"])
    assert words <= {"within the expected range", "below the expected range", "well below the expected range",
                     "above the expected range", "well above the expected range", "not compared"}
    assert "well below the expected range" in words


def test_the_reading_line_says_what_the_chart_shows():
    whole = funnel_plot(compared("training_prevent", TRAINING), NAMES, "training_prevent")
    line = whole.figure.layout.title.subtitle.text.replace("<br>", " ")
    assert line == ("Each marker is a school; the more children or staff it counted, the further right. A school "
                    "outside the shaded band (the expected range) is further from the trust's figure than chance "
                    "alone would explain.")
    counts = {f"1{k:05d}": (10 + k, 200 + 150 * k) for k in range(6)}
    phases = {u: ("Primary" if k < 3 else "Secondary") for k, u in enumerate(counts)}
    by_phase = funnel_plot(compared("online_concerns", counts, phases), NAMES, "online_concerns")
    line = by_phase.figure.layout.title.subtitle.text.replace("<br>", " ")
    assert line.startswith("Each marker is a school; bigger schools sit further right.")
    assert "further from the figure for schools like it" in line
    # the band it speaks of: each group's 95% lines, the space between them filled
    for chart in (whole, by_phase):
        data = chart.figure.data
        uppers = [k for k, t in enumerate(data) if t.meta and t.meta.endswith("|upper_95")]
        assert uppers and all(data[k].fill == "tonexty" and data[k - 1].meta == data[k].meta.replace("upper", "lower")
                              for k in uppers)


def test_with_no_figure_to_compare_against_no_band_is_drawn_or_spoken_of():
    rows = compared("training_prevent", TRAINING).assign(trust=np.nan, position="")
    chart = funnel_plot(rows, NAMES, "training_prevent")
    assert not [t for t in chart.figure.data if t.meta and "|" in t.meta]
    line = chart.figure.layout.title.subtitle.text.replace("<br>", " ")
    assert "shaded band" not in line and "No expected range can be drawn here" in line
    assert set(keys(chart)) == {"Not compared"}


def test_the_schools_are_the_last_trace_and_a_legend_entry_holds_no_point():
    """What the adversary (tests/privacy) reads: the points as the last trace, named "Schools";
    every other trace a limit line or a legend's entry with nothing drawn."""
    chart = funnel_plot(compared("training_prevent", TRAINING), NAMES, "training_prevent", england=0.95)
    assert points(chart).name == "Schools" and points(chart).showlegend is False
    for t in chart.figure.data[:-1]:
        assert (t.meta == "key" and all(v is None for v in (*t.x, *t.y))) or \
            (t.hoverinfo == "skip" and re.fullmatch(r".+\|(?:lower|upper)_(?:95|998)", t.meta)), t


@pytest.mark.parametrize("indicator", ["online_concerns", "training_prevent"])
def test_the_hover_says_the_value_as_the_table_does(indicator):
    counts = {"100001": (9, 241), **{f"1{k:05d}": (30 + k, 1000) for k in range(2, 7)}} \
        if indicator == "online_concerns" else TRAINING
    chart = funnel_plot(compared(indicator, counts), NAMES, indicator)
    template = points(chart).hovertemplate
    assert ("%{y:.1f} per 100" if indicator == "online_concerns" else "%{y:.0%}") in template
    assert "(%{customdata[1]:,.0f} of %{x:,.0f})" in template
    assert all(str(r).startswith("<br>expected range for its size: ") for r in points(chart).customdata[:, 4])


def test_the_summary_names_the_schools_outside_the_expected_range_and_counts_right():
    counts = {f"1{k:05d}": (37 + k % 3, 40) for k in range(8)} | {"100001": (20, 40)}
    chart = funnel_plot(compared("training_prevent", counts), NAMES, "training_prevent")
    assert chart.summary.endswith("pooled across 8 schools. Outside the expected range: School 100001, well below.")
    alone = funnel_plot(compared("training_prevent", {"100001": (30, 40)}), NAMES, "training_prevent")
    assert alone.summary == ("Prevent duty: the trust's figure is 75%, pooled across 1 school. No school is compared: "
                             "there are too few schools like each other to draw an expected range.")
