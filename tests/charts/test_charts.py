"""Figures carry their numbers and a summary, and colour judges only where a measure has a polarity."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import pytest

from analysis.context import Context
from analysis.gaps import find_gaps, gaps_frame
from analysis.views import compliance_cells, tracker_cells
from charts import laid_out
from charts.format import fmt_change, fmt_count, fmt_value
from charts.funnel import funnel_plot
from charts.heatmap import theme_heatmap
from charts.palette import AMBER, GREEN, RED, layout
from charts.tables import compliance_grid, returns_tracker
from charts.trend import trend_chart
from tests.analysis.conftest import TrustBuilder


@pytest.fixture
def trust_ctx():
    t = TrustBuilder()
    t.add("100001", pupils=1000, changes={"referrals.online.concerns": 90, "multi_agency.cp_conferences.done": 1,
                                          "training.prevent.in_date": 30})
    for i in range(2, 8):
        t.add(f"10000{i}", pupils=1000, changes={"referrals.online.concerns": 10 + i % 3,
                                                 "multi_agency.cp_conferences.done": 4 if i != 7 else 0})
    return Context(t.dataset(), "2025/26", "Spring")


def test_formats_keep_blank_as_no_data():
    assert fmt_value(float("nan"), "per 100 pupils") == "no data"
    assert fmt_value(None, "share") == "no data"
    assert fmt_value(2.345, "per 100 pupils") == "2.3 per 100"
    assert fmt_value(0.756, "share") == "76%"
    assert fmt_count(float("nan")) == "no data" and fmt_count(1234) == "1,234"
    assert fmt_change(-0.05, "share") == "-5 points" and fmt_change(0.42, "per 100 pupils") == "+0.4 per 100"


def test_heatmap_cells_say_the_worst_gap_in_words_and_count(trust_ctx):
    gaps = gaps_frame(find_gaps(trust_ctx))
    schools = trust_ctx.data.schools
    chart = theme_heatmap(gaps, schools, set(schools["urn"]))
    row = chart.table.set_index("URN").loc["100001"]
    assert row["Multi-agency"].startswith("✖") and "red" in row["Multi-agency"]
    assert row["Workforce"].startswith("✖")
    assert chart.table.set_index("URN").loc["100002", "Neglect"] == "✔ No gap"
    assert chart.summary.startswith("7 schools by 5 themes make 35 cells; a cell is one school in one theme")
    heat = chart.figure.data[0]
    assert len(heat.y) == len(schools) and list(heat.x) == ["Neglect", "Adolescents", "Multi-agency", "Workforce",
                                                           "Oversight"]


def test_funnel_for_a_measure_without_polarity_never_uses_red_amber_or_green(trust_ctx):
    c = trust_ctx.compared_term()
    chart = funnel_plot(c[c["indicator"] == "online_concerns"], trust_ctx.data.school_names, "online_concerns")
    colours = set(chart.figure.data[-1].marker.color)
    assert not colours & {RED, AMBER, GREEN}
    outlier = chart.table[chart.table["School"] == "School 100001"].iloc[0]
    assert outlier["Count"] == "90" and outlier["Base"] == "1,000" and "above" in outlier["Against the trust"]
    assert "School 100001" in chart.summary and "pooled across 7 schools" in chart.summary


def test_funnel_for_a_compliance_measure_judges_the_low_side(trust_ctx):
    c = trust_ctx.compared_term()
    chart = funnel_plot(c[c["indicator"] == "ma_cp_conferences"], trust_ctx.data.school_names, "ma_cp_conferences")
    colours = list(chart.figure.data[-1].marker.color)
    assert RED in colours or AMBER in colours


def test_trend_table_shows_numbers_behind_each_value(trust_ctx):
    c = trust_ctx.data.compared
    online = c[c["indicator"] == "online_concerns"]
    from analysis.rates import pooled

    chart = trend_chart(online, pooled(online), trust_ctx.data.school_names, "online_concerns", highlight=["100001"])
    assert chart.table.iloc[0]["School 100001"] == "9.0 per 100 (90 of 1000)"
    assert "Trust" in [d.name for d in chart.figure.data]


def test_many_schools_trends_are_quiet_grey_lines_each_named_and_none_joined_to_the_next(trust_ctx):
    c = trust_ctx.data.compared
    online = c[c["indicator"] == "online_concerns"]
    from analysis.rates import pooled

    names = trust_ctx.data.school_names
    chart = trend_chart(online, pooled(online), names, "online_concerns")
    schools = [d for d in chart.figure.data if d.name == "Schools"]
    assert len(schools) == 1 and not schools[0].showlegend, "every school's line in one grey trace"
    lines = schools[0]
    urns = sorted(online["urn"].unique(), key=lambda u: names.get(u, u))
    assert len(urns) > 5
    terms = len(chart.table)
    assert len(lines.x) == len(lines.y) == len(lines.text) == len(urns) * (terms + 1)
    for k, urn in enumerate(urns):  # each school's terms, then a blank point that breaks the line
        mine = slice(k * (terms + 1), (k + 1) * (terms + 1))
        assert list(lines.text[mine]) == [names[urn]] * terms + [""]
        assert lines.x[mine][-1] is None and lines.y[mine][-1] is None
        now = online[(online["urn"] == urn) & (online["term_index"] == online["term_index"].max())]["value"].iloc[0]
        assert lines.y[mine][terms - 1] == pytest.approx(now)  # a rate per 100, drawn as it is
    assert lines.connectgaps is False and "%{text}" in lines.hovertemplate
    assert [d.name for d in chart.figure.data][-1] == "Trust"


@pytest.mark.parametrize("default", ["plotly", "streamlit", "none"])
@pytest.mark.parametrize("extra", [{}, dict(height=700, showlegend=False, margin=dict(t=115),
                                            xaxis=dict(side="top", tickfont=dict(size=13)),
                                            yaxis=dict(autorange="reversed", showgrid=False))])
def test_a_figure_laid_out_in_one_step_is_the_one_plotly_lays_out_itself(monkeypatch, default, extra):
    """charts.laid_out makes a grid's figure without plotly's checks of each property: it is the
    figure plotly makes of an empty one given the same layout by update_layout (the palette's
    template over whichever is plotly's default), and it passes those checks."""
    import plotly.io as pio
    import streamlit  # noqa: F401 - the dashboard's theme adds its template to plotly's

    monkeypatch.setattr(pio.templates, "default", default)
    spec = layout("A title", "How to read it", **extra)
    made = laid_out([go.Scatter(x=[1, 2], y=["a", "b"])], spec)
    slow = go.Figure([go.Scatter(x=[1, 2], y=["a", "b"])])
    slow.update_layout(**spec)
    assert made.to_dict() == slow.to_dict()
    assert go.Figure(made.to_plotly_json()).to_dict() == made.to_dict()
    made.layout.template.layout.colorway = ["#000000"]  # each figure's template is its own
    assert laid_out([], spec).to_dict()["layout"]["template"] == slow.to_dict()["layout"]["template"]


def test_compliance_grid_and_tracker(trust_ctx):
    cells = compliance_cells(trust_ctx)
    prevent = cells[(cells["urn"] == "100001") & (cells["item"] == "Prevent")].iloc[0]
    assert prevent.level == "red" and prevent.label == "75%" and "30 of 40" in prevent.detail
    chart = compliance_grid(cells)
    assert "red" in chart.summary and len(chart.table) == 7
    tracker = tracker_cells(trust_ctx.data)
    assert set(tracker["label"]) == {"on time"}
    assert "7 of 7 schools expected have returned, 0 late, 0 missing" in returns_tracker(tracker).summary


def test_a_trustee_sees_fewer_than_5_never_the_small_count(trust_ctx):
    from analysis.privacy import hide_small

    c = trust_ctx.compared_term()
    c = c.assign(numerator=c["numerator"].where(c["urn"] != "100002", 3))  # a small count at one school
    hidden = hide_small(c[c["indicator"] == "online_concerns"], threshold=5)
    chart = funnel_plot(hidden, trust_ctx.data.school_names, "online_concerns")
    row = chart.table.set_index("School").loc["School 100002"]
    assert row["Count"] == "fewer than 5" and row["Value"] == "not shown"
    # secondary suppression: one more school hidden, so the trust's total cannot give the 3 away
    assert (chart.table["Count"] == "not shown").sum() >= 1
    assert "3" not in " ".join(chart.table["Count"])


HOSTILE = "Oak <img src=x onerror=alert(1)> <a href='http://127.0.0.1:9/'>Sign in</a> <b>bold</b> & &amp; <br>"


def test_a_schools_name_shows_as_typed_in_every_figure_never_as_plotly_html():
    """Plotly reads <b>, <br>, <a href> and entities in tick labels, hovers, legends and point
    labels: a name goes in escaped once (so it shows as typed), and the tables keep it as it is."""
    from html import escape

    t = TrustBuilder()
    t.add("100001", pupils=1000, name=HOSTILE, changes={"referrals.online.concerns": 90,
                                                       "training.prevent.in_date": 30})
    for i in range(2, 8):
        t.add(f"10000{i}", pupils=1000, changes={"referrals.online.concerns": 10 + i % 3})
    ctx = Context(t.dataset(), "2025/26", "Spring")
    names, typed = ctx.data.school_names, escape(HOSTILE, quote=False)
    assert names["100001"] == HOSTILE
    c = ctx.compared_term()
    online = ctx.data.compared[ctx.data.compared["indicator"] == "online_concerns"]
    from analysis.rates import pooled

    gaps = gaps_frame(find_gaps(ctx))
    figures = {
        "heatmap": theme_heatmap(gaps, ctx.data.schools, set(ctx.data.schools["urn"])),
        "funnel": funnel_plot(c[c["indicator"] == "online_concerns"], names, "online_concerns"),
        "trend": trend_chart(online, pooled(online), names, "online_concerns", highlight=["100001", "100002"]),
        "quiet trend": trend_chart(online, pooled(online), names, "online_concerns"),
        "compliance": compliance_grid(compliance_cells(ctx)),
        "tracker": returns_tracker(tracker_cells(ctx.data)),
    }
    for what, chart in figures.items():
        # a chart made without plotly's checks (for speed) passes them all when made with them
        go.Figure(chart.figure.to_plotly_json())
        spec = json.dumps(json.loads(chart.figure.to_json()), ensure_ascii=False)  # as plotly reads it
        assert "<img" not in spec and "<a href" not in spec and "<b>bold" not in spec, what
        assert typed in spec, what
        assert "&amp;amp;amp;" not in spec, what  # the typed "&amp;" escaped once: "&amp;amp;"
        assert HOSTILE in chart.table.to_string() or HOSTILE in list(chart.table.columns) \
            or HOSTILE in chart.table.to_numpy().ravel().tolist(), what


LONG_NAMES = {
    "990101": "The Blessed Fictional Saint Aldhelm's Catholic Voluntary Academy and Nursery with "
              "Resourced Provision (North Site)",
    "990102": "The Blessed Fictional Saint Aldhelm's Catholic Voluntary Academy and Nursery with "
              "Resourced Provision (South Site)",
    "990103": "Larkspur Fictional Church of England Voluntary Controlled Junior School and Children's Centre",
    "990104": "Kestrel Vale Primary School",
    "990105": "Kestrel Vale Primary School",  # two schools of one name: their rows must not merge
    "990106": "Averyveryveryverylongsinglewordschoolnamewithnospacesatallfromendtoendandthenalittlemore",
    "990107": "Oak <b>bold</b> & Ash <i>Learning</i> Trust Fictional Secondary Academy and Sixth Form College",
}


def test_heatmap_shortens_long_names_keeps_them_apart_and_gives_the_full_name_in_the_hover():
    from html import escape, unescape

    import pandas as pd

    from charts.format import ELLIPSIS
    from charts.heatmap import LINE_LIMIT

    assert all(80 <= len(n) <= 120 for u, n in LONG_NAMES.items() if u not in ("990104", "990105"))
    schools = pd.DataFrame({"urn": list(LONG_NAMES), "name": list(LONG_NAMES.values())})
    chart = theme_heatmap(pd.DataFrame(), schools, set(LONG_NAMES))
    heat = chart.figure.data[0]
    lines = [unescape(y).split("<br>") for y in heat.y]  # as plotly shows them: two lines at most
    assert all(len(line) <= LINE_LIMIT for label in lines for line in label) and max(map(len, lines)) == 2, lines
    labels = [" ".join(label) for label in lines]
    assert len(labels) == len(LONG_NAMES) and len(set(labels)) == len(labels), labels
    ordered = schools.sort_values("name")
    for urn, name, label, hovers in zip(ordered["urn"], ordered["name"], labels, heat.customdata):
        if len(name) > 2 * LINE_LIMIT:
            assert ELLIPSIS in label and label.split(ELLIPSIS)[0].replace(" ", "") in name.replace(" ", "")
        assert all(f"<b>{escape(name, quote=False)}</b>" in h for h in hovers), (name, hovers[0])
        if name == "Kestrel Vale Primary School":  # two schools of one name: told apart by URN
            assert label.endswith(f" ({urn})") and name.startswith(label.removesuffix(f" ({urn})").rstrip(ELLIPSIS))
        if urn in ("990101", "990102"):  # two sites alike but for their last words: told apart by URN
            assert label.endswith(f"{ELLIPSIS} ({urn})"), label
    assert heat.hovertemplate == "%{customdata}<extra></extra>"
    assert "<b>bold</b>" not in "".join(heat.y) and "<i>" not in "".join(heat.y)  # a name's tags stay text
    assert list(chart.table["School"]) == list(ordered["name"])  # the table keeps every name whole


def test_short_names_are_left_exactly_as_they_are():
    from charts.format import axis_labels, shorten

    assert shorten("Kestrel  Vale Primary School") == "Kestrel  Vale Primary School"
    assert axis_labels(["Oak", "Ash"], ["1", "2"]) == ["Oak", "Ash"]
    assert shorten(None) == "" and shorten("a b", 3) == "a b"


def test_a_school_held_against_england_has_englands_lines_and_says_so():
    import pandas as pd

    from analysis.compare import compare
    rolls = {"200001": 400, "200002": 300, "200003": 350, "200004": 120}
    excluded = {"200001": 0, "200002": 1, "200003": 0, "200004": 0}
    values = pd.DataFrame([("permanent_exclusions", u, 6076, float(excluded[u]), float(n), excluded[u] / n * 100)
                           for u, n in rolls.items()],
                          columns=["indicator", "urn", "term_index", "numerator", "denominator", "value"])
    rows = compare(values, {"200001": "Primary", "200002": "Primary", "200003": "Primary", "200004": "Special"})
    chart = funnel_plot(rows, {"200004": "Brackenfold School"}, "permanent_exclusions")
    lines = {t.meta for t in chart.figure.data if t.meta}
    assert {f"England (special)|{m}" for m in ("lower_95", "upper_95", "lower_998", "upper_998")} <= lines
    assert {f"Primary|{m}" for m in ("lower_95", "upper_95", "lower_998", "upper_998")} <= lines
    special = chart.table.set_index("School").loc["Brackenfold School"]
    assert special["Compared with"] == "England's special schools, 2023/24 (whole academic year)"
    assert "Brackenfold School, with too few schools like it in the trust, is held against England's special " \
        "schools, 2023/24 (whole academic year)." in chart.summary
