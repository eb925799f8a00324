"""A school the trust has too few schools like is set beside England's figure for its phase, where
England publishes one for the measure: its expected count is England's phase rate times its base,
its limits are the same exact limits around that, and its group says so. England's figure is
public and pools none of the trust's counts, so what a trustee is shown of the trust's figures is
as before."""

from __future__ import annotations

import csv
import math

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.special import betainc, gammainc
from scipy.stats import binom, poisson

from analysis.benchmarks import CSV, benchmarks, england, phase_figures, phase_id
from analysis.compare import ALONE, ENGLAND_GROUPS, compare, is_england, yardstick
from analysis.indicators import INDICATORS_BY_ID
from analysis.privacy import hide_small
from loaders.registry import PHASES

TERM = 6076


def row(indicator: str, urn: str, numerator: float, base: float) -> tuple:
    scale = 100.0 if INDICATORS_BY_ID[indicator].unit == "per 100 pupils" else 1.0
    return indicator, urn, TERM, float(numerator), float(base), numerator / base * scale


def trust(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["indicator", "urn", "term_index", "numerator", "denominator", "value"])


# a trust of three primaries, one secondary, one special school and one alternative provision centre
PHASE_OF = {"300001": "Primary", "300002": "primary", "300003": "Infant school", "300004": "Secondary",
            "300005": "Special", "300006": "PRU"}
ROLL = {"300001": 420, "300002": 210, "300003": 180, "300004": 900, "300005": 120, "300006": 40}
EXCLUDED = {"300001": 0, "300002": 1, "300003": 0, "300004": 6, "300005": 1, "300006": 2}
ABSENT = {"300001": 60, "300002": 35, "300003": 20, "300004": 210, "300005": 40, "300006": 25}


def sample() -> pd.DataFrame:
    return compare(trust([row("permanent_exclusions", u, EXCLUDED[u], ROLL[u]) for u in ROLL]
                         + [row("persistent_absence", u, ABSENT[u], ROLL[u]) for u in ROLL]), PHASE_OF)


def one(out: pd.DataFrame, indicator: str, urn: str) -> pd.Series:
    return out[(out["indicator"] == indicator) & (out["urn"] == urn)].iloc[0]


def test_a_lone_secondary_is_held_within_exact_poisson_limits_around_englands_secondary_rate():
    r = one(sample(), "permanent_exclusions", "300004")
    assert r["group"] == "England (secondary)" and is_england(r["group"])
    # England's state-funded secondary schools, 2023/24: 0.25336 per 100 pupils a year, a third a term
    rate = 0.25336 / 3
    assert r["target"] == pytest.approx(rate)
    expected = rate / 100 * 900  # 0.76 of a pupil expected at a roll of 900
    assert r["expected"] == pytest.approx(expected) == pytest.approx(0.76008)
    # the limits by hand: the upper 95% limit is the count c whose continuous Poisson tail,
    # P(c, expected) (the regularised lower incomplete gamma), is 2.5%; 3 or more exclusions have a
    # chance of about 4.2%, 4 or more about 0.8%, so c lies between them: 3.3177 exclusions, 0.3686
    # per 100 pupils at this roll
    by_hand = brentq(lambda c: gammainc(c, expected) - 0.025, 1, 10)
    assert by_hand == pytest.approx(3.31772, abs=1e-5)
    assert poisson.sf(2, expected) >= 0.025 > poisson.sf(3, expected)
    assert r["upper_95"] == pytest.approx(by_hand / 900 * 100, rel=1e-5) == pytest.approx(0.36864, abs=1e-5)
    upper_998 = brentq(lambda c: gammainc(c, expected) - 0.001, 1, 20)
    assert r["upper_998"] == pytest.approx(upper_998 / 900 * 100, rel=1e-5)
    assert r["lower_95"] == 0 and r["spread"] == 0
    # 6 of 900 is 6 where 0.76 was expected: beyond the 99.8% limit
    assert poisson.sf(5, expected) < 0.001 and r["position"] == "above_998"


def test_a_lone_primary_is_held_within_exact_binomial_limits_around_englands_primary_share():
    out = compare(trust([row("persistent_absence", "300001", 40, 120)]), {"300001": "Primary"})
    r = out.iloc[0]
    p = 0.1455841  # England's state-funded mainstream primary schools, 2023/24, whole year
    assert r["group"] == "England (primary)" and r["target"] == pytest.approx(p)
    assert r["expected"] == pytest.approx(p * 120)
    upper, lower = r["upper_95"] * 120, r["lower_95"] * 120
    # the upper limit c: the continuous binomial tail I_p(c, n - c + 1) is 2.5%, between the
    # whole counts whose exact tails straddle it
    assert betainc(upper, 120 - upper + 1, p) == pytest.approx(0.025, rel=1e-6)
    k = math.floor(upper)
    assert binom.sf(k - 1, 120, p) >= 0.025 > binom.sf(k, 120, p)
    assert betainc(120 - lower, lower + 1, 1 - p) == pytest.approx(0.025, rel=1e-6)
    assert binom.cdf(math.ceil(lower), 120, p) >= 0.025 > binom.cdf(math.ceil(lower) - 1, 120, p)
    assert r["position"] == "above_998"  # 40 of 120 where 17.5 were expected


def test_three_schools_of_a_phase_still_use_the_trusts_own_figure():
    out = sample()
    primaries = out[(out["indicator"] == "permanent_exclusions") & out["urn"].isin(["300001", "300002", "300003"])]
    assert set(primaries["group"]) == {"Primary"}  # England has a primary figure, but the trust has three
    assert primaries["target"].iloc[0] == pytest.approx(1 / 810 * 100)


def test_with_no_england_figure_for_its_phase_a_lone_school_is_not_placed():
    out = sample()
    centre = one(out, "permanent_exclusions", "300006")  # alternative provision: no figure found
    special = one(out, "persistent_absence", "300005")  # absence: no figure for special schools found
    for r in (centre, special):
        assert r["group"] == ALONE and r["position"] == "" and math.isnan(r["lower_95"]) and math.isnan(r["target"])
    assert one(out, "persistent_absence", "300004")["group"] == ALONE


def test_a_school_held_against_england_stays_in_the_trusts_figure_and_in_no_phases():
    out = sample()
    excluded = out[out["indicator"] == "permanent_exclusions"]
    assert excluded["trust"].iloc[0] == pytest.approx(sum(EXCLUDED.values()) / sum(ROLL.values()) * 100)
    assert excluded["trust_schools"].iloc[0] == 6
    assert one(out, "permanent_exclusions", "300005")["group"] == "England (special)"
    assert math.isnan(one(out, "permanent_exclusions", "300005")["target_schools"])


def test_englands_distance_does_not_widen_the_trusts_lines():
    """Twenty primaries alike, and a lone special school far from England's special figure: the
    spread between the trust's schools is read from the primaries alone."""
    rng = np.random.default_rng(1)
    rows = [row("permanent_exclusions", f"4000{i:02d}", float(rng.poisson(0.3)), 400.0) for i in range(20)]
    phases = {f"4000{i:02d}": "Primary" for i in range(20)}
    alone = compare(trust(rows), phases)
    rows.append(row("permanent_exclusions", "409999", 30.0, 120.0))
    phases["409999"] = "Special"
    out = compare(trust(rows), phases)
    assert one(out, "permanent_exclusions", "409999")["group"] == "England (special)"
    assert np.allclose(out["spread"], alone["spread"].iloc[0])


def test_a_trustee_is_shown_the_same_trust_figures_with_englands_yardstick_as_without():
    """Suppression reads an England-compared school as one in no phase group, as it read a school
    with no school like it: the same counts hidden, the same trust figures kept. The school's own
    limits and position follow the hidden-count rules of every other school."""
    out = sample()
    before = out.copy()
    national = before["group"].map(is_england)
    before.loc[national, "group"] = ALONE
    for column in ("target", "expected", "lower_95", "upper_95", "lower_998", "upper_998"):
        before.loc[national, column] = np.nan
    before.loc[national, "position"] = ""
    shown, was = hide_small(out, threshold=5), hide_small(before, threshold=5)
    for column in ("numerator_note", "denominator_note", "trust"):
        pd.testing.assert_series_equal(shown[column], was[column])
    special = shown[(shown["urn"] == "300005") & (shown["indicator"] == "permanent_exclusions")].iloc[0]
    assert special["numerator_note"] == "fewer than 5" and special["position"] == ""  # 1 exclusion: hidden
    assert special["upper_95"] > 0  # its limits come from its roll and England's figure, both shown
    secondary = shown[(shown["urn"] == "300004") & (shown["indicator"] == "permanent_exclusions")].iloc[0]
    assert secondary["position"] == "above_998"  # 6 exclusions: shown, and so is where it sits


def test_each_england_figure_for_a_phase_carries_its_source_period_and_definition():
    rows = {r["id"]: r for r in csv.DictReader(CSV.open(newline="", encoding="utf-8"))}
    phased = [r for r in rows.values() if r["phase"]]
    assert len(phased) >= 8
    for r in phased:
        assert r["phase"] in PHASES
        assert r["source"] and r["publisher"] == "Department for Education" and r["year"]
        assert "2023/24" in r["period"] and "whole" in r["period"] and r["definition"]
        base = r["id"][: -len(phase_id("", r["phase"]))]
        assert base in rows and not rows[base]["phase"] and phase_id(base, r["phase"]) == r["id"]
        assert rows[base]["unit"] == r["unit"]
    used = phase_figures()
    assert {(i, b.phase) for i, _, b in used} == {
        ("permanent_exclusions", "Primary"), ("permanent_exclusions", "Secondary"),
        ("permanent_exclusions", "Special"), ("persistent_absence", "Primary"), ("severe_absence", "Primary")}
    for indicator, value, bench in used:
        assert england(indicator, bench.phase) == (value, bench)
        assert ("percent" in bench.unit) == (INDICATORS_BY_ID[indicator].unit != "per 100 pupils")


def test_pupils_suspended_in_a_term_are_not_set_beside_pupils_suspended_in_a_year():
    # one or more suspensions in a year counts a pupil suspended in two terms once: no termly figure
    assert benchmarks()["one_plus_suspensions_rate_secondary"].value == pytest.approx(7.82753)
    assert all(england("suspensions", p) is None for p in PHASES)


def test_the_yardstick_is_named_with_englands_period():
    assert yardstick("England (special)", "permanent_exclusions") == \
        "England's special schools, 2023/24 (whole academic year)"
    assert yardstick("Primary") == "Primary schools in the trust" and yardstick(ALONE) == "no school like it in the trust"
    assert set(ENGLAND_GROUPS.values()) == set(PHASES)
