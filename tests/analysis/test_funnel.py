"""Intervals and funnel limits checked against published worked examples."""

import math

import pytest

from analysis import funnel


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


def test_funnel_narrows_as_schools_grow():
    small = funnel.rate_limits(5.0, 150, 0.95)
    large = funnel.rate_limits(5.0, 1500, 0.95)
    assert small[0] < large[0] < 5.0 < large[1] < small[1]
    wide = funnel.proportion_limits(0.8, 10, 0.998)
    narrow = funnel.proportion_limits(0.8, 1000, 0.998)
    assert wide[0] < narrow[0] < 0.8 < narrow[1] < wide[1]


def test_rate_limits_are_the_expected_count_interval_as_a_rate():
    # 4 per 100 in a school of 250 is an expected count of 10.
    lo, hi = funnel.rate_limits(4.0, 250, 0.95)
    assert lo == pytest.approx(4.795 / 250 * 100, abs=1e-3)
    assert hi == pytest.approx(18.390 / 250 * 100, abs=1e-3)
    assert all(math.isnan(x) for x in funnel.rate_limits(4.0, 0, 0.95))


def test_position_against_limits():
    limits = {0.95: (2.0, 8.0), 0.998: (1.0, 9.0)}
    assert funnel.position(5, limits) == "within"
    assert funnel.position(8.5, limits) == "above_95"
    assert funnel.position(9.5, limits) == "above_998"
    assert funnel.position(1.5, limits) == "below_95"
    assert funnel.position(0.5, limits) == "below_998"
    assert funnel.position(8.0, limits) == "within"


def test_vectorised_limits_match_the_scalar_ones():
    import numpy as np

    pops = np.array([150.0, 400.0, 1500.0, 0.0, 30000.0])
    lo, hi = funnel.rate_limits_array(np.full(5, 3.0), pops, 0.998)
    for i, pop in enumerate(pops):
        s_lo, s_hi = funnel.rate_limits(3.0, pop, 0.998)
        if pop == 0:
            assert np.isnan(lo[i]) and np.isnan(hi[i])
        else:
            assert lo[i] == pytest.approx(s_lo) and hi[i] == pytest.approx(s_hi)
    n = np.array([5.0, 50.0, 500.0])
    w_lo, w_hi = funnel.wilson_array(0.7 * n, n, 0.95)
    for i, size in enumerate(n):
        assert (w_lo[i], w_hi[i]) == pytest.approx(funnel.proportion_limits(0.7, size, 0.95))


def test_vectorised_positions_leave_unplaceable_values_blank():
    import numpy as np

    nan = np.nan
    value = np.array([5.0, 8.5, 9.5, 1.5, 0.5, nan, 5.0])
    lo95 = np.array([2.0] * 6 + [nan])
    out = funnel.positions_array(value, lo95, np.full(7, 8.0), np.full(7, 1.0), np.full(7, 9.0))
    assert list(out) == ["within", "above_95", "above_998", "below_95", "below_998", "", ""]


def test_exact_positions_do_not_flag_an_ordinary_zero():
    import numpy as np

    # 0.2 per 100 in a school of 241 expects about half a child: seeing none is ordinary.
    # 14% of 6 flagged children expects 0.84: none is ordinary too.
    out = funnel.exact_positions(np.array([0.0, 0.0, 0.0]), np.array([241.0, 6.0, 5000.0]),
                                 np.array([0.2, 0.14, 0.2]), np.array([True, False, True]))
    assert list(out[:2]) == ["within", "within"]
    # But 0 where 10 were expected is well below: P(X=0 | 10) is about 0.00005.
    assert out[2] == "below_998"


def test_exact_positions_follow_the_tails():
    import numpy as np

    # Poisson with 10 expected: P(X >= 17) = 0.027, P(X >= 18) = 0.014, P(X >= 21) = 0.0016,
    # P(X >= 22) = 0.0007; P(X <= 3) = 0.010, P(X <= 1) = 0.0005.
    counts = np.array([17.0, 18.0, 21.0, 22.0, 3.0, 1.0, np.nan])
    out = funnel.exact_positions(counts, np.full(7, 1000.0), np.full(7, 1.0), np.full(7, True))
    assert list(out) == ["within", "above_95", "above_95", "above_998", "below_95", "below_998", ""]
