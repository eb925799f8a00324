"""Fair comparison of schools of different sizes: control limits around the trust's figure.

A school's count is set beside the count the trust's pooled figure would give a school of its
base (its pupils on roll, flagged children, staff in scope). The limits are where chance alone
stops explaining the difference: the counts at which the exact tail probability, Poisson for
rates and binomial for shares, falls to 2.5% (the 95% limits) and to 0.1% (99.8%). Those counts
are whole numbers only at some bases; in between, the tail is made continuous in the count with
the incomplete gamma and beta functions, as England's public-health funnel plots do (PHE's funnel
methods: the observed count whose exact interval just reaches the expected one; Spiegelhalter,
Statistics in Medicine 2005, interpolates between whole counts the same way). So a whole count
lies beyond a limit exactly when a count at least that extreme has less than a 2.5% (0.1%)
chance: the side of the drawn line a school falls on is the verdict, and the verdict is the exact
test. The lines widen as schools get smaller, so a small school is not flagged for noise and a
large one cannot hide.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import betainc, gammainccinv, gammaincinv, ndtri, pdtrik

LEVELS = (0.95, 0.998)
POSITIONS = ("below_998", "below_95", "within", "above_95", "above_998")
STEPS = 32  # Poisson limits are tabled this many times a whole count and read between by line
TABLE_TOP = 2000  # expected counts the table serves (a school's roll times a rate is far below)
BYAR_FROM = 389  # a school's own interval: exact Poisson below this count, Byar's above


def tail(level: float) -> float:
    """The chance beyond one limit: 0.025 for the 95% limits, 0.001 for 99.8%."""
    return (1 - level) / 2


# ---- the limits ---------------------------------------------------------------------------------

def poisson_limits(expected: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limit counts around ``expected`` children (NaN where it is missing).

    Upper: the count c with P(X >= c) = tail, the tail made continuous in c as the regularised
    lower incomplete gamma P(c, expected). Read the other way, ``expected`` is then the exact
    (Garwood) lower bound of an observed c, so a table of those bounds over counts, inverted,
    gives the limit; the lower limit likewise from the Garwood upper bounds (P(X <= c) = tail).
    The table is exact at every whole count, so the verdict on a whole count never depends on the
    reading between. Past the table, the same root is solved directly.
    """
    expected = np.asarray(expected, dtype=float)
    ok = np.isfinite(expected) & (expected >= 0)
    e = np.where(ok, expected, 0.0)
    top = float(e.max()) if e.size else 0.0
    counts, upper_at, lower_at = _poisson_table(tail(level), _table_size(min(top, TABLE_TOP)))
    lo = np.interp(e, lower_at, counts, left=0.0)
    hi = np.interp(e, upper_at, counts)
    beyond = e > upper_at[-1]
    if beyond.any():  # more than the table holds: far from 0, where the direct solution is safe
        lo[beyond] = pdtrik(tail(level), e[beyond])
        hi[beyond] = pdtrik(1 - tail(level), e[beyond]) + 1
    return np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def _table_size(expected: float) -> int:
    """Whole counts the table must reach to hold the limits of ``expected``, as a power of two."""
    need = expected + 6 * math.sqrt(expected) + 16
    return 1 << max(6, math.ceil(math.log2(need)))


@lru_cache(maxsize=16)
def _poisson_table(p: float, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(counts, expected at which each count is the upper limit, ... the lower limit)."""
    counts = np.arange(size * STEPS + 1) / STEPS
    upper_at = np.concatenate([[0.0], gammaincinv(counts[1:], p)])
    lower_at = gammainccinv(counts + 1, p)
    for a in (counts, upper_at, lower_at):
        a.setflags(write=False)
    return counts, upper_at, lower_at


def binomial_limits(share: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper limit counts out of ``n`` around a share (NaN where either is missing).

    Upper: the count c with P(X >= c) = tail, the tail made continuous in c as the regularised
    incomplete beta I_share(c, n - c + 1). Read as P(n - X <= n - c), the same count is the lower
    limit of the other share, so one solver serves both sides. Each distinct base and share is
    solved once.
    """
    share, n = np.broadcast_arrays(np.asarray(share, dtype=float), np.asarray(n, dtype=float))
    ok = np.isfinite(share) & np.isfinite(n) & (n > 0)
    lo, hi = np.full(share.shape, np.nan), np.full(share.shape, np.nan)
    if not ok.any():
        return lo, hi
    # one complex number a pair: numpy finds the distinct ones far faster than distinct rows
    pairs, back = np.unique(np.clip(share[ok], 0.0, 1.0) + 1j * n[ok], return_inverse=True)
    p, size = pairs.real, pairs.imag
    lo[ok] = (size - _upper_count(1 - p, size, tail(level)))[back]
    hi[ok] = _upper_count(p, size, tail(level))[back]
    return lo, hi


SWEEPS = 4  # Illinois steps inside a whole-count bracket: the limit to within 1e-7 of a count


def _upper_count(p: np.ndarray, n: np.ndarray, t: float) -> np.ndarray:
    """The count c in [0, n] at which P(X >= c) = t for X ~ Bin(n, p), continuous in c.

    First the whole count k whose tail is still at least t while the next one's is below; then
    the root inside [k, k + 1], by regula falsi (Illinois) on the log of the tail, which is
    nearly straight there. The answer never leaves that bracket, so whether a whole count lies
    beyond the limit is decided by the exact tails alone. Where even all n have a tail of at
    least t, nothing can lie beyond: the limit is n.
    """
    out = n.copy()
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        open_ = np.flatnonzero((p > 0) & (p < 1) & (p ** n < t))  # P(X >= n) = p ** n
    out[(p <= 0)] = 0.0
    if not open_.size:
        return out
    p, n = p[open_], n[open_]
    k, at_k, at_next = _bracket(p, n, t)
    a, b = k, np.minimum(k + 1, n)
    fa, fb = np.log(at_k / t), np.log(np.maximum(at_next, 1e-300) / t)
    kept = np.zeros(k.shape)  # which end the last step kept: -1 the lower, +1 the upper
    for _ in range(SWEEPS):
        c = a + fa / (fa - fb) * (b - a)
        fc = np.log(np.maximum(_tail(c, n, p), 1e-300) / t)
        left = fc >= 0
        fb = np.where(left, np.where(kept < 0, fb / 2, fb), fc)
        fa = np.where(left, fc, np.where(kept > 0, fa / 2, fa))
        a, b = np.where(left, c, a), np.where(left, b, c)
        kept = np.where(left, -1.0, 1.0)
    out[open_] = a + fa / (fa - fb) * (b - a)
    return out


def _bracket(p: np.ndarray, n: np.ndarray, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(k, P(X >= k), P(X >= k + 1)) with the first at least t and the second below it; k from a
    Cornish-Fisher guess at the binomial quantile, walked a count at a time until it holds."""
    z = ndtri(1 - t)
    guess = n * p + z * np.sqrt(n * p * (1 - p)) + (z * z - 1) * (1 - 2 * p) / 6 + 0.5
    k = np.clip(np.floor(guess), 0, np.ceil(n) - 1)
    at_k, at_next = _tail(k, n, p), _tail(np.minimum(k + 1, n), n, p)
    todo = np.flatnonzero((at_k < t) | (at_next >= t))
    while todo.size:
        step = np.where(at_k[todo] < t, -1.0, 1.0)
        kk, nn, pp = k[todo] + step, n[todo], p[todo]
        k[todo], at_k[todo], at_next[todo] = kk, _tail(kk, nn, pp), _tail(np.minimum(kk + 1, nn), nn, pp)
        todo = todo[(at_k[todo] < t) | (at_next[todo] >= t)]
    return k, at_k, at_next


def _tail(c: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """P(X >= c) for X ~ Bin(n, p), continuous in c on [0, n]: 1 at 0."""
    return np.where(c > 0, betainc(np.maximum(c, 1e-300), n - c + 1, p), 1.0)


def limits(trust: np.ndarray, base: np.ndarray, level: float, per_100: np.ndarray | bool
           ) -> tuple[np.ndarray, np.ndarray]:
    """The funnel's lower and upper limits in the unit of the value (per 100 pupils, or a share),
    for schools of ``base`` around the trust's figure; NaN where either is missing or base is 0."""
    trust, base, per_100 = np.broadcast_arrays(np.asarray(trust, dtype=float), np.asarray(base, dtype=float),
                                               np.asarray(per_100, dtype=bool))
    usable = np.isfinite(trust) & np.isfinite(base) & (base > 0)
    b = np.where(usable, base, np.nan)
    lo, hi = np.full(trust.shape, np.nan), np.full(trust.shape, np.nan)
    rate, share = usable & per_100, usable & ~per_100
    if rate.any():
        r_lo, r_hi = poisson_limits(trust[rate] / 100.0 * b[rate], level)
        lo[rate], hi[rate] = r_lo / b[rate] * 100.0, r_hi / b[rate] * 100.0
    if share.any():
        s_lo, s_hi = binomial_limits(trust[share], b[share], level)
        lo[share], hi[share] = s_lo / b[share], s_hi / b[share]
    return lo, hi


def expected_count(trust: np.ndarray, base: np.ndarray, per_100: np.ndarray | bool) -> np.ndarray:
    """The count the trust's figure would give a school of ``base``."""
    return np.asarray(trust, dtype=float) * np.asarray(base, dtype=float) / np.where(per_100, 100.0, 1.0)


def positions(value: np.ndarray, lo95, hi95, lo998, hi998) -> np.ndarray:
    """Which side of the drawn limits each value lies: "above_998", "above_95", "within",
    "below_95", "below_998"; "" where the value or the limits are missing. On a line is within."""
    value = np.asarray(value, dtype=float)
    out = np.full(value.shape, "within", dtype=object)
    with np.errstate(invalid="ignore"):
        out[value < lo95] = "below_95"
        out[value < lo998] = "below_998"
        out[value > hi95] = "above_95"
        out[value > hi998] = "above_998"
    out[np.isnan(value) | np.isnan(lo95) | np.isnan(hi95) | np.isnan(lo998) | np.isnan(hi998)] = ""
    return out


# ---- a school's own figure ------------------------------------------------------------------------
# The interval of one school's figure, not the funnel's limits: the range of trust-wide figures
# that school's count is consistent with. The funnel never draws these.

def z_for(level: float) -> float:
    """The two-sided normal quantile for a confidence level, e.g. 1.96 for 0.95."""
    return float(ndtri(1 - tail(level)))


def wilson(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion (Newcombe 1998, method 3)."""
    if n <= 0:
        return (math.nan, math.nan)
    z = z_for(level)
    p = successes / n
    centre = 2 * n * p + z * z
    spread = z * math.sqrt(z * z + 4 * n * p * (1 - p))
    denom = 2 * (n + z * z)
    return (max(0.0, (centre - spread) / denom), min(1.0, (centre + spread) / denom))


def poisson_exact(count: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson count."""
    lower = 0.0 if count <= 0 else float(gammaincinv(count, tail(level)))
    upper = float(gammaincinv(count + 1, 1 - tail(level)))
    return (lower, upper)


def byar(count: float, level: float = 0.95) -> tuple[float, float]:
    """Byar's approximation to the exact Poisson interval."""
    z = z_for(level)
    lower = 0.0 if count <= 0 else count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    o = count + 1
    return (lower, o * (1 - 1 / (9 * o) + z / (3 * math.sqrt(o))) ** 3)


def poisson_interval(count: float, level: float = 0.95) -> tuple[float, float]:
    return poisson_exact(count, level) if count < BYAR_FROM else byar(count, level)


# ---- real spread between schools ----------------------------------------------------------------
# Schools differ for reasons chance does not cover (intake, area, how a DSL records), so with many
# schools far more fall outside pure-chance limits than 5% and 0.2%. Following Spiegelhalter
# (Statistics in Medicine 2005) and the public-health funnel methods, the spread is estimated from
# the schools' own z-scores, with the most extreme 10% at each end pulled in (winsorised) so that
# one outlier does not widen everyone's limits, and allowed for as an additive random effect: the
# limits at base n become target +/- z * sqrt(s(n)^2 + tau^2), never narrower than the exact ones.

WINSOR = 0.10
MIN_SCHOOLS_FOR_SPREAD = 20  # fewer schools cannot tell real spread from chance, and one outlier would widen all


def standard_error(target: np.ndarray, base: np.ndarray, per_100: np.ndarray | bool) -> np.ndarray:
    """Chance's standard error of a school's value at ``base`` around ``target``, in its unit."""
    target, base, per_100 = np.broadcast_arrays(np.asarray(target, dtype=float), np.asarray(base, dtype=float),
                                                np.asarray(per_100, dtype=bool))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.sqrt(np.maximum(target, 0) * 100.0 / base)  # per 100: a Poisson count's root, scaled
        share = np.sqrt(np.clip(target, 0, 1) * (1 - np.clip(target, 0, 1)) / base)
    return np.where(per_100, rate, share)


def between_school_variance(value: np.ndarray, target: np.ndarray, se: np.ndarray) -> float:
    """tau^2: the spread between schools beyond chance (0 when there is none to allow for or too
    few schools to tell), by winsorised z-scores and the DerSimonian-Laird moment estimate."""
    ok = np.isfinite(value) & np.isfinite(target) & np.isfinite(se) & (se > 0)
    if ok.sum() < MIN_SCHOOLS_FOR_SPREAD:
        return 0.0
    v, t, s = value[ok], target[ok], se[ok]
    z = (v - t) / s
    low, high = np.quantile(z, [WINSOR, 1 - WINSOR])
    z = np.clip(z, low, high)
    n = len(z)
    phi = float(np.mean(z * z))
    if n * phi <= n - 1:
        return 0.0
    w = 1 / (s * s)
    return float(max(0.0, (n * phi - (n - 1)) / (w.sum() - (w * w).sum() / w.sum())))


def widened(lower: np.ndarray, upper: np.ndarray, target: np.ndarray, se: np.ndarray, tau2: np.ndarray,
            level: float, per_100: np.ndarray | bool) -> tuple[np.ndarray, np.ndarray]:
    """The exact limits, widened where the spread between schools calls for it."""
    z = z_for(level)
    reach = z * np.sqrt(se * se + tau2)
    lo = np.where(tau2 > 0, np.minimum(lower, np.maximum(target - reach, 0.0)), lower)
    top = np.where(per_100, np.inf, 1.0)
    hi = np.where(tau2 > 0, np.maximum(upper, np.minimum(target + reach, top)), upper)
    return lo, hi


def drawn_limits(target: np.ndarray, base: np.ndarray, level: float, per_100: np.ndarray | bool,
                 spread: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The limits a school is placed by and a chart draws: exact around ``target``, widened by the
    between-school standard deviation ``spread`` where there is one."""
    target, base, spread = np.broadcast_arrays(np.asarray(target, dtype=float), np.asarray(base, dtype=float),
                                               np.asarray(spread, dtype=float))
    lo, hi = limits(target, base, level, per_100)
    se = standard_error(target, base, per_100)
    return widened(lo, hi, target, se, spread * spread, level, per_100)
