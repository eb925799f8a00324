"""Every word a chart gives a reader, for the sample trust as its leaders and its trustees see it:
no "nan", "None" or "-0.0", and plurals right ("1 question", "2 questions", never "4 question").

Walked: the heatmap, every funnel and trend, the training grid and the returns tracker, for the
latest term and the one before; in each, the figure's every string (titles, the reading line,
legend, labels, hovers, custom data, axis labels), its table and its summary."""

from __future__ import annotations

import json
import math
import re

import pytest

from analysis.context import Context, restrict
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps, gaps_frame
from analysis.indicators import INDICATORS
from analysis.views import compliance_cells, tracker_cells
from charts.format import fmt_change, fmt_count, fmt_numbers, fmt_value, missing, plural
from charts.funnel import funnel_plot
from charts.heatmap import theme_heatmap
from charts.tables import compliance_grid, returns_tracker
from charts.trend import trend_chart
from store.access import scope_for
from store.users import User

NOUNS = "gap|red gap|amber gap|question|school|theme|cell|check|term"
WRONG = {
    "nan": re.compile(r"\bnan\b", re.IGNORECASE),
    "None": re.compile(r"\bNone\b"),
    "minus zero": re.compile(r"(?<![\d.])-0(?:\.0+)?(?![\d.])"),
    "one, plural": re.compile(rf"(?<![\d.,])1 (?:{NOUNS})s\b"),
    "many, singular": re.compile(rf"(?<![\d.,])(?:0|[2-9]|\d{{2,}}) (?:{NOUNS})\b(?!s|-)"),
}


def strings(value):
    """Every string in a figure's JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def said(chart) -> list[str]:
    return [*strings(json.loads(chart.figure.to_json())), chart.summary,
            *(str(v) for v in chart.table.to_numpy().ravel()), *(str(c) for c in chart.table.columns)]


def charts_of(data, year: str, term: str):
    ctx = Context(data, year, term)
    expected = ctx.expected()
    schools = data.schools[data.schools["urn"].isin([s.urn for s in expected])]
    yield "heatmap", theme_heatmap(gaps_frame(find_gaps(ctx)), schools, {s.urn for s in expected if s.returned},
                                   not_yet_due=not ctx.past_due)
    yield "training", compliance_grid(compliance_cells(ctx))
    yield "returns", returns_tracker(tracker_cells(data))
    now = ctx.compared_term()
    for ind in INDICATORS:
        rows = now[now["indicator"] == ind.id]
        if ind.funnel and rows["value"].notna().any():
            yield f"{ind.id} funnel", funnel_plot(rows, data.school_names, ind.id, england=0.05)
        over = data.compared[data.compared["indicator"] == ind.id]
        line = data.pooled[data.pooled["indicator"] == ind.id]
        yield f"{ind.id} trend", trend_chart(over, line, data.school_names, ind.id)
        first = sorted(data.school_names)[0]
        yield f"{ind.id} trend, one school", trend_chart(over[over["urn"] == first], line, data.school_names,
                                                         ind.id, highlight=[first])


@pytest.mark.parametrize("role", ["leader", "trustee"])
def test_no_chart_says_nan_none_minus_zero_or_a_wrong_plural(sample_engine, role):
    data = load_dataset(sample_engine)
    if role == "trustee":
        data = restrict(data, scope_for(User("trustee@example.org", None, "trustee", ())))
    found, walked = [], 0
    for year, term in data.terms[-2:]:
        for name, chart in charts_of(data, year, term):
            walked += 1
            for text in said(chart):
                found += [f"{term} {year}, {name}: {why}: {text[:160]!r}" for why, rule in WRONG.items()
                          if rule.search(text)]
            if name.endswith("funnel") and chart.figure.data[-1].customdata is not None:
                counts = [row[1] for row in chart.figure.data[-1].customdata]
                assert not any(missing(c) for c in counts), f"{name}: a point's hover would read NaN"
    assert walked > 100
    assert not found, "\n".join(found[:20])


def test_the_formats_never_say_nan_or_minus_zero():
    import numpy as np
    import pandas as pd

    for blank in (None, float("nan"), np.nan, np.float64("nan"), pd.NA, pd.NaT):
        assert missing(blank)
        assert fmt_value(blank, "share") == fmt_count(blank) == fmt_change(blank, "share") == "no data"
        assert fmt_numbers(blank, 10) == fmt_numbers(10, blank) == ""
    assert not missing(0) and not missing(0.0) and not missing("text")
    assert fmt_value(-0.0, "per 100 pupils") == "0.0 per 100" and fmt_value(-0.001, "share") == "0%"
    assert fmt_value(-0.04, "per 100 pupils") == "0.0 per 100"
    assert fmt_change(-0.04, "per 100 pupils") == "+0.0 per 100" and fmt_change(-0.004, "share") == "+0 points"
    assert fmt_change(-0.06, "per 100 pupils") == "-0.1 per 100" and fmt_change(0.06, "share") == "+6 points"
    assert fmt_numbers(np.float64(9), 241) == "9 of 241" and fmt_numbers(1234, 5678) == "1,234 of 5,678"
    assert math.isclose(float(fmt_count(np.float64(12.6))), 13)


def test_plurals():
    assert plural(1, "question") == "1 question" and plural(2, "question") == "2 questions"
    assert plural(0, "gap") == "0 gaps" and plural(1, "child", "children") == "1 child"
    assert plural(4, "child", "children") == "4 children" and plural(1200, "pupil") == "1,200 pupils"


@pytest.mark.parametrize("n", [1, 2])
def test_one_and_two_of_each_read_in_the_singular_and_the_plural(n):
    """The heatmap and both grids built with exactly one, then two, of everything they count."""
    from datetime import datetime, timedelta

    import pandas as pd

    from analysis.deadlines import deadline
    from tests.analysis.conftest import TERM, YEAR, TrustBuilder

    s = "" if n == 1 else "s"
    urns = [f"10000{i}" for i in range(1, n + 1)]
    names = [f"School {u}" for u in urns]
    schools = pd.DataFrame({"urn": urns, "name": names})
    gaps = pd.DataFrame([{"urn": u, "theme": "neglect", "severity": kind, "finding": f"{kind} at {u}"}
                         for u in urns for kind in ("red", "amber", "note") for _ in range(n)])
    heat = theme_heatmap(gaps, schools, set(urns))
    each = "" if n == 1 else " each"
    assert heat.summary == (
        f"{n} school{s} by 5 themes make {5 * n} cells; a cell is one school in one theme and can hold several "
        f"gaps. {n * n} red gap{s} fall{'s' if n == 1 else ''} in {n} cell{s}, {n * n} amber gap{s} in {n} and "
        f"{n * n} question{s} in {n}. Schools with red in the most themes: {' and '.join(names)} (1 theme{each}). "
        f"Themes with red at the most schools: Neglect ({n} school{s}).")
    assert set(heat.table["Neglect"]) == {f"✖ {n} red gap{s}, {n} amber gap{s}, {n} question{s}"}

    checks = pd.DataFrame([{"school": name, "item": f"Check {k}", "level": "red", "label": "50%", "detail": "1 of 2"}
                           for name in names for k in range(n)])
    grid = compliance_grid(checks)
    assert grid.summary == (f"{n} school{s}, {n} check{s}: {n * n} red and 0 amber; the rest in date or not "
                            "reported.")

    trust = TrustBuilder()
    for u in urns:  # each school n days late
        arrived = datetime.combine(deadline(YEAR, TERM) + timedelta(days=n), datetime.min.time())
        trust.add(u, submitted=arrived)
    tracker = returns_tracker(tracker_cells(trust.dataset()))
    assert set(tracker.table.iloc[:, -1]) == {f"▲ {n} day{s} late"}
    assert tracker.summary == (f"For {TERM[:3]} {YEAR}: {n} of {n} school{s} expected {'has' if n == 1 else 'have'} "
                               f"returned, {n} late, 0 missing.")
    for chart in (heat, grid, tracker):
        wrong = [(why, text) for text in said(chart) for why, rule in WRONG.items() if rule.search(text)]
        assert not wrong, wrong
