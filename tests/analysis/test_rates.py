"""Indicator values, pooled trust values and changes, computed by hand on a tiny trust."""

import math

import pytest

from analysis.compare import compare
from analysis.rates import indicator_values, pooled, wide_counts, with_changes


def values_of(trust, indicator):
    frame = indicator_values(wide_counts(trust.dataset().values))
    return frame[frame["indicator"] == indicator].set_index(["urn", "term"])


def test_rate_per_100_pupils_with_the_numbers_behind_it(trust):
    trust.add("100001", pupils=400, changes={"neglect.active_flags": 10})
    row = values_of(trust, "neglect_flags").loc[("100001", "Spring")]
    assert (row.numerator, row.denominator, row.value) == (10, 400, pytest.approx(2.5))


def test_share_and_sum_of_several_measures(trust):
    trust.add("100001", pupils=500, changes={"referrals.cse.concerns": 3, "referrals.cce.concerns": 2,
                                             "training.prevent.in_scope": 40, "training.prevent.in_date": 30})
    assert values_of(trust, "exploitation_concerns").loc[("100001", "Spring")].value == pytest.approx(1.0)
    assert values_of(trust, "training_prevent").loc[("100001", "Spring")].value == pytest.approx(0.75)


def test_blank_stays_missing_and_zero_base_gives_no_value(trust):
    trust.add("100001", changes={"referrals.cse.concerns": None})
    trust.add("100002", changes={"neglect.active_flags": 0, "neglect.chronology_reviewed": 0})
    expl = values_of(trust, "exploitation_concerns")
    assert math.isnan(expl.loc[("100001", "Spring")].numerator)
    assert math.isnan(expl.loc[("100001", "Spring")].value)
    chron = values_of(trust, "neglect_chronology").loc[("100002", "Spring")]
    assert chron.denominator == 0 and math.isnan(chron.value)


def test_pooled_value_is_total_over_total_of_known_schools(trust):
    trust.add("100001", pupils=200, changes={"neglect.active_flags": 2})
    trust.add("100002", pupils=800, changes={"neglect.active_flags": 18})
    trust.add("100003", pupils=1000, changes={"neglect.active_flags": None})
    frame = indicator_values(wide_counts(trust.dataset().values))
    pool = pooled(frame).set_index("indicator").loc["neglect_flags"]
    assert (pool.numerator, pool.denominator, pool.schools) == (20, 1000, 2)
    assert pool.value == pytest.approx(2.0)


def test_changes_from_last_term_and_last_year(trust):
    trust.add("100001", year="2024/25", term="Spring", pupils=1000, changes={"inclusion.suspended": 10})
    trust.add("100001", year="2025/26", term="Autumn", pupils=1000, changes={"inclusion.suspended": 20})
    trust.add("100001", year="2025/26", term="Spring", pupils=1000, changes={"inclusion.suspended": 35})
    frame = with_changes(indicator_values(wide_counts(trust.dataset().values)))
    row = frame[(frame["indicator"] == "suspensions") & (frame["term"] == "Spring") &
                (frame["academic_year"] == "2025/26")].iloc[0]
    assert row.change_term == pytest.approx(1.5) and row.change_year == pytest.approx(2.5)


def test_compare_needs_three_schools_and_places_each(trust):
    for urn, n in (("100001", 10), ("100002", 12), ("100003", 60)):
        trust.add(urn, pupils=1000, changes={"referrals.online.concerns": n})
    frame = compare(indicator_values(wide_counts(trust.dataset().values)))
    online = frame[frame["indicator"] == "online_concerns"].set_index("urn")
    assert online.loc["100001", "trust"] == pytest.approx(82 / 3000 * 100)
    assert online.loc["100003", "position"] == "above_998"
    assert online.loc["100001", "lower_95"] < online.loc["100001", "trust"] < online.loc["100001", "upper_95"]
    assert online.loc["100001", "lower_998"] < online.loc["100001", "lower_95"]
    assert online.loc["100001", "upper_95"] < online.loc["100001", "upper_998"]
    assert online.loc["100001", "expected"] == pytest.approx(82 / 3)  # children, at this school's roll
    assert set(online["group"]) == {"trust"}
    trust2 = type(trust)()
    trust2.add("100001").add("100002")
    two = compare(indicator_values(wide_counts(trust2.dataset().values)))
    assert set(two["position"]) == {""} and set(two["group"]) == {""}
    assert two[["lower_95", "upper_95", "lower_998", "upper_998", "expected"]].isna().all().all()
