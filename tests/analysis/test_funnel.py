"""Funnel limits and intervals checked against published methods and worked examples.

The funnel's limits are control limits around the trust's figure: the counts at which the exact
Poisson or binomial tail, made continuous in the count, reaches 2.5% (95%) or 0.1% (99.8%). They
are checked against PHE's funnel method (the expected count at which a whole count's exact
interval just reaches it), against Spiegelhalter (2005)'s interpolated limits, and against the
exact tails on every whole count, the 0% and 100% edges included.
"""

import math

import numpy as np
import pytest
from scipy.special import betaincinv, gammainccinv, gammaincinv
from scipy.stats import binom, poisson

from analysis import funnel

# ---- the worked examples -------------------------------------------------------------------

def test_ten_children_expected_gives_phes_limits_not_the_interval_of_ten():
    # PHE's funnels for counts: 3.83 to 17.13 at 95%. The exact interval of an observed 10
    # (4.80 to 18.39) is the other thing, and was what the funnel used to draw.
    lo, hi = funnel.poisson_limits(np.array([10.0]), 0.95)
    assert (lo[0], hi[0]) == pytest.approx((3.8336, 17.1272), abs=1e-3)
    lo, hi = funnel.poisson_limits(np.array([10.0]), 0.998)
    assert (lo[0], hi[0]) == pytest.approx((1.3715, 21.5706), abs=1e-3)
    assert funnel.poisson_exact(10, 0.95) == pytest.approx((4.795, 18.390), abs=5e-4)


def test_a_school_with_18_where_10_are_expected_is_drawn_above_the_95_line_and_called_so():
    lo, hi = funnel.limits(np.array([4.0]), np.array([250.0]), 0.95, True)  # 4 per 100 of 250 pupils: 10
    assert hi[0] == pytest.approx(17.1272 / 250 * 100, abs=1e-4)
    low998, high998 = funnel.limits(np.array([4.0]), np.array([250.0]), 0.998, True)
    for count, verdict in ((17, "within"), (18, "above_95"), (21, "above_95"), (22, "above_998"),
                           (4, "within"), (3, "below_95"), (1, "below_998")):
        assert funnel.positions(np.array([count / 250 * 100]), lo, hi, low998, high998)[0] == verdict


def test_a_base_of_20_at_20_percent_gives_the_exact_binomial_limits():
    lo, hi = funnel.binomial_limits(np.array([0.2]), np.array([20.0]), 0.95)
    assert (lo[0] / 20, hi[0] / 20) == pytest.approx((0.0183, 0.4114), abs=1e-4)
    # the Wilson interval of an observed 4 of 20, which the funnel used to draw, is much wider
    assert funnel.wilson(4, 20, 0.95) == pytest.approx((0.081, 0.416), abs=1e-3)


def spiegelhalter(dist, p: float) -> float:
    """Spiegelhalter (2005), Statistics in Medicine 24:1185, section 3.3: the p-quantile y of a
    discrete distribution, less the share of its step that lies above p."""
    y = dist.ppf(p)
    return y - (dist.cdf(y) - p) / (dist.cdf(y) - dist.cdf(y - 1))


def test_spiegelhalters_limits_reproduced_and_one_count_apart_on_the_high_side_only():
    # His interpolation gives the 3.78 to 16.16 and 0.012 to 0.366.
    assert (spiegelhalter(poisson(10), 0.025), spiegelhalter(poisson(10), 0.975)) == pytest.approx(
        (3.775, 16.160), abs=1e-3)
    assert (spiegelhalter(binom(20, 0.2), 0.025) / 20, spiegelhalter(binom(20, 0.2), 0.975) / 20) == pytest.approx(
        (0.0117, 0.3661), abs=1e-4)
    # He flags a count c when P(X > c) is under 2.5%; the exact test, and so these limits, when
    # P(X >= c) is. Below, both ask P(X <= c). So on every whole count the low verdicts agree and
    # the high ones differ by exactly one count.
    for expected in np.linspace(0.3, 60, 240):
        lo, hi = funnel.poisson_limits(np.array([expected]), 0.95)
        s_lo, s_hi = spiegelhalter(poisson(expected), 0.025), spiegelhalter(poisson(expected), 0.975)
        for c in range(0, int(expected * 3) + 10):
            assert (c < lo[0]) == (c < s_lo), (expected, c)
            assert (c > hi[0]) == (c - 1 > s_hi), (expected, c)


# ---- PHE's funnel points and the exact tails --------------------------------------------------------

@pytest.mark.parametrize("level", funnel.LEVELS)
def test_the_limits_pass_through_phes_funnel_points(level):
    # PHE draws a count funnel through whole counts k: the upper line reaches k where k's exact
    # lower bound equals the expected count, the lower line where k's exact upper bound does.
    t = funnel.tail(level)
    for k in (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610):
        _, hi = funnel.poisson_limits(np.array([gammaincinv(k, t)]), level)
        lo, _ = funnel.poisson_limits(np.array([gammainccinv(k + 1, t)]), level)
        assert hi[0] == pytest.approx(k, abs=1e-6) and lo[0] == pytest.approx(k, abs=1e-6)
    # and likewise for shares, with the exact (Clopper-Pearson) bounds of k out of n
    for n in (5, 20, 137):
        for k in range(1, n):
            _, hi = funnel.binomial_limits(np.array([betaincinv(k, n - k + 1, t)]), np.array([float(n)]), level)
            lo, _ = funnel.binomial_limits(np.array([betaincinv(k + 1, n - k, 1 - t)]), np.array([float(n)]), level)
            assert hi[0] == pytest.approx(k, abs=1e-5) and lo[0] == pytest.approx(k, abs=1e-5)


def exact_verdicts(counts, dist) -> list[str]:
    """The exact test, from the tails alone: beyond the 95% (99.8%) limit when a count at least
    that extreme has under a 2.5% (0.1%) chance. A tail that is the threshold itself (none of 3
    where 90% is expected: 0.1 cubed is 0.001) is a tie floating point cannot settle: "?"."""
    out = []
    for c in counts:
        verdict = "within"
        high, low = dist.sf(c - 1), dist.cdf(c)
        for t, above, below in ((0.025, "above_95", "below_95"), (0.001, "above_998", "below_998")):
            if min(abs(high - t), abs(low - t)) < 1e-12:
                verdict = "?"
                break
            verdict = above if high < t else below if low < t else verdict
        out.append(verdict)
    return out


def agree(drawn: list[str], exact: list[str]) -> bool:
    return all(e == "?" or d == e for d, e in zip(drawn, exact, strict=True))


def placed(counts, base, trust, per_100):
    """Where each count is drawn against the limits at ``base``."""
    counts = np.asarray(counts, dtype=float)
    lines = [funnel.limits(np.full(counts.shape, trust), np.full(counts.shape, base), level, per_100)
             for level in funnel.LEVELS]
    value = counts / base * (100.0 if per_100 else 1.0)
    return list(funnel.positions(value, lines[0][0], lines[0][1], lines[1][0], lines[1][1]))


@pytest.mark.parametrize("expected", [0.0005, 0.001, 0.02, 0.03, 0.2, 0.5, 1, 2.5, 3.7, 10, 17.3, 40, 150.5, 388,
                                      389, 1200, 3999.5, 250_000])
def test_rates_drawn_side_is_the_exact_test_on_every_whole_count(expected):
    # a school of 500 whose trust figure gives it ``expected`` children (the last two beyond the
    # table of limits, where they are solved directly)
    spread = 8 * math.sqrt(expected) + 12
    counts = range(max(0, int(expected - spread)), int(expected + spread))
    assert agree(placed(counts, 500.0, expected / 5, True), exact_verdicts(counts, poisson(expected)))


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 20, 41, 150, 1486])
@pytest.mark.parametrize("share", [0.0005, 0.01, 0.14, 0.2, 0.5, 0.77, 0.9, 0.95, 0.99, 0.9995])
def test_shares_drawn_side_is_the_exact_test_on_every_whole_count_edges_included(n, share):
    counts = range(0, n + 1)
    exact = exact_verdicts(counts, binom(n, share))
    assert exact.count("?") <= 1 and agree(placed(counts, float(n), share, False), exact)


def test_five_of_five_on_training_is_within_when_the_trust_is_high_and_flagged_when_low():
    # 5 of 5 in date: at a trust figure of 90%, P(5 of 5) = 0.59, ordinary; the line sits at 100%
    # and the point on it.
    lo, hi = funnel.binomial_limits(np.array([0.9]), np.array([5.0]), 0.998)
    assert hi[0] == 5.0 and placed([5], 5.0, 0.9, False) == ["within"]
    # at 30%, P(5 of 5) = 0.0024: above the 95% line, inside the 99.8% one
    assert placed([5], 5.0, 0.3, False) == ["above_95"]
    # none of 5 where 90% are in date: P = 0.00001, below both lines
    assert placed([0], 5.0, 0.9, False) == ["below_998"]


def test_zero_is_ordinary_where_little_is_expected_and_far_below_where_much_is():
    # 0.2 per 100 in a school of 241 expects about half a child: none is ordinary. 14% of 6
    # flagged children expects 0.84: none is ordinary too. None where 10 are expected is not.
    assert placed([0], 241.0, 0.2, True) == ["within"]
    assert placed([0], 6.0, 0.14, False) == ["within"]
    assert placed([0], 5000.0, 0.2, True) == ["below_998"]


def test_a_trust_figure_of_nothing_or_everything_leaves_every_school_within():
    assert placed([0], 400.0, 0.0, True) == ["within"]
    assert placed([0], 12.0, 0.0, False) == ["within"]
    assert placed([12], 12.0, 1.0, False) == ["within"]
    assert placed([11], 12.0, 1.0, False) == ["below_998"]


# ---- shape, units and missing values ---------------------------------------------------------------

def test_funnel_narrows_as_schools_grow():
    bases = np.array([150.0, 400.0, 1500.0])
    lo, hi = funnel.limits(np.full(3, 5.0), bases, 0.95, True)
    assert lo[0] < lo[1] < lo[2] < 5.0 < hi[2] < hi[1] < hi[0]
    lo, hi = funnel.limits(np.full(3, 0.8), np.array([10.0, 100.0, 1000.0]), 0.998, False)
    assert lo[0] < lo[1] < lo[2] < 0.8 < hi[2] < hi[1] <= hi[0] <= 1.0


def test_limits_are_smooth_between_whole_bases():
    # the lines are drawn through bases that are not whole numbers too: no steps, no gaps
    grid = np.linspace(3, 60, 2000)
    for level in funnel.LEVELS:
        for trust, per_100 in ((0.85, False), (0.2, False), (6.0, True)):
            lo, hi = funnel.limits(np.full(grid.shape, trust), grid, level, per_100)
            assert np.isfinite(lo).all() and np.isfinite(hi).all()
            assert np.abs(np.diff(lo)).max() < 0.02 * (100 if per_100 else 1)
            assert np.abs(np.diff(hi)).max() < 0.02 * (100 if per_100 else 1)


def test_limits_are_in_the_unit_of_the_value_and_missing_where_they_cannot_be_drawn():
    lo, hi = funnel.limits(np.array([4.0, 4.0, np.nan, 4.0]), np.array([250.0, 0.0, 250.0, np.nan]), 0.95,
                           np.array([True, True, True, True]))
    assert lo[0] == pytest.approx(3.8336 / 250 * 100, abs=1e-4)
    assert np.isnan(lo[1:]).all() and np.isnan(hi[1:]).all()
    assert funnel.expected_count(np.array([4.0, 0.2]), np.array([250.0, 20.0]), np.array([True, False])) == \
        pytest.approx([10.0, 4.0])


def test_on_the_line_is_within_and_unplaceable_values_are_blank():
    nan = np.nan
    value = np.array([5.0, 8.0, 8.5, 9.5, 2.0, 1.5, 0.5, nan, 5.0])
    lo95 = np.array([2.0] * 8 + [nan])
    out = funnel.positions(value, lo95, np.full(9, 8.0), np.full(9, 1.0), np.full(9, 9.0))
    assert list(out) == ["within", "within", "above_95", "above_998", "within", "below_95", "below_998", "", ""]


def test_limits_are_quick_for_a_large_trust():
    import time

    rng = np.random.default_rng(5)
    n = rng.integers(1, 1500, 50_000).astype(float)
    share = rng.uniform(0, 1, 50_000)
    start = time.process_time()
    for level in funnel.LEVELS:
        funnel.limits(share, n, level, False)
        funnel.limits(share * 30, n, level, True)
    assert time.process_time() - start < 2.0


# ---- a school's own figure: the intervals the funnel no longer draws ----------------------------------

@pytest.mark.parametrize(
    "successes,n,lower,upper",
    # Newcombe (1998), Statistics in Medicine 17:857-872, table I, method 3 (Wilson score).
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_newcombe(successes, n, lower, upper):
    lo, hi = funnel.wilson(successes, n, 0.95)
    assert lo == pytest.approx(lower, abs=5e-5)
    assert hi == pytest.approx(upper, abs=5e-5)


@pytest.mark.parametrize(
    "count,lower,upper",
    # Exact (Garwood) 95% limits for a Poisson count, as tabulated in standard references.
    [(0, 0.0, 3.689), (1, 0.0253, 5.572), (5, 1.623, 11.668), (10, 4.795, 18.390), (20, 12.217, 30.888)],
)
def test_exact_poisson_matches_tables(count, lower, upper):
    lo, hi = funnel.poisson_exact(count, 0.95)
    assert lo == pytest.approx(lower, abs=5e-4)
    assert hi == pytest.approx(upper, abs=5e-4)


def test_byar_is_close_to_exact_for_large_counts_and_used_there():
    exact = funnel.poisson_exact(500, 0.998)
    approx = funnel.byar(500, 0.998)
    assert approx[0] == pytest.approx(exact[0], rel=1e-3)
    assert approx[1] == pytest.approx(exact[1], rel=1e-3)
    assert funnel.poisson_interval(500, 0.998) == approx
    assert funnel.poisson_interval(10, 0.998) == funnel.poisson_exact(10, 0.998)


def test_z_values():
    assert funnel.z_for(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert funnel.z_for(0.998) == pytest.approx(3.090232, abs=1e-6)
