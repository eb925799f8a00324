"""A measure a return's template version did not ask is "not asked in this return": never a
blank, never 0, and said so wherever its figure would be shown."""

from __future__ import annotations

from charts.format import NOT_ASKED
from charts.trend import trend_chart

from .test_gaps_version_2 import version_1

OLD, NEW = ("2025/26", "Autumn"), ("2025/26", "Spring")


def two_terms(trust):
    for urn in ("100001", "100002", "100003"):
        trust.add(urn, year=OLD[0], term=OLD[1], changes=version_1())
        trust.add(urn, year=NEW[0], term=NEW[1])
    return trust.dataset()


def test_an_indicator_on_a_measure_version_1_did_not_ask_is_not_asked_there(trust):
    data = two_terms(trust)
    c = data.compared
    sw = c[c["indicator"] == "sw_persistent_absence"].set_index("term")
    assert not sw.loc[OLD[1], "asked"].any() and sw.loc[NEW[1], "asked"].all()
    assert sw.loc[OLD[1], "value"].isna().all()
    both = c[c["indicator"] == "ma_lado"]
    assert both["asked"].all(), "the lado row is asked in both versions"


def test_the_trend_table_says_not_asked_rather_than_no_data(trust):
    data = two_terms(trust)
    c = data.compared
    rows = c[c["indicator"] == "sw_persistent_absence"]
    chart = trend_chart(rows, data.pooled[data.pooled["indicator"] == "sw_persistent_absence"],
                        data.school_names, "sw_persistent_absence")
    column = chart.table[data.school_names["100001"]].tolist()
    assert column[0] == NOT_ASKED and column[1].startswith("26% (5 of 19)")
