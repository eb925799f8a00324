"""Fair comparison of schools of different sizes: confidence intervals and funnel-plot limits.

A school's rate is judged against the trust's pooled rate with control limits that widen as the
school gets smaller, so a small school is not flagged for noise and a large one cannot hide.
The methods are the ones England's public-health profiles use: the Wilson score interval for
proportions, the exact Poisson interval for counts (Byar's approximation where the count is
large), and limits at 95% (about 2 standard deviations) and 99.8% (about 3).
"""

from __future__ import annotations

import math

import numpy as np

from scipy.special import bdtr, bdtrc, gammaincinv, ndtri, pdtr, pdtrc

LEVELS = (0.95, 0.998)
BYAR_FROM = 389  # exact Poisson below this count; Byar's approximation is within 0.1% above it


def z_for(level: float) -> float:
    """The two-sided normal quantile for a confidence level, e.g. 1.96 for 0.95."""
    return float(ndtri(1 - (1 - level) / 2))


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
    """Exact (Garwood) interval for a Poisson count; the count may be an expected, non-whole value."""
    alpha = 1 - level
    lower = 0.0 if count <= 0 else float(gammaincinv(count, alpha / 2))
    upper = float(gammaincinv(count + 1, 1 - alpha / 2))
    return (lower, upper)


def byar(count: float, level: float = 0.95) -> tuple[float, float]:
    """Byar's approximation to the exact Poisson interval."""
    z = z_for(level)
    if count <= 0:
        lower = 0.0
    else:
        lower = count * (1 - 1 / (9 * count) - z / (3 * math.sqrt(count))) ** 3
    o = count + 1
    upper = o * (1 - 1 / (9 * o) + z / (3 * math.sqrt(o))) ** 3
    return (lower, upper)


def poisson_interval(count: float, level: float = 0.95) -> tuple[float, float]:
    return poisson_exact(count, level) if count < BYAR_FROM else byar(count, level)


def proportion_limits(pooled: float, n: float, level: float) -> tuple[float, float]:
    """Funnel limits for a proportion: where a school of base ``n`` would fall by chance alone."""
    return wilson(pooled * n, n, level)


def rate_limits(pooled_rate: float, population: float, level: float, per: float = 100.0) -> tuple[float, float]:
    """Funnel limits for a rate per ``per``: the exact interval of the expected count, as a rate."""
    if population <= 0:
        return (math.nan, math.nan)
    expected = pooled_rate / per * population
    lower, upper = poisson_interval(expected, level)
    return (lower / population * per, upper / population * per)


def position(value: float, limits: dict[float, tuple[float, float]]) -> str:
    """Where a value sits against the funnel: "above_998", "above_95", "within", "below_95", "below_998"."""
    lo95, hi95 = limits[0.95]
    lo998, hi998 = limits[0.998]
    if value > hi998:
        return "above_998"
    if value > hi95:
        return "above_95"
    if value < lo998:
        return "below_998"
    if value < lo95:
        return "below_95"
    return "within"


def wilson_array(successes: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``wilson``: NaN where n is not positive."""
    z = z_for(level)
    n = np.where(n > 0, n, np.nan)
    p = successes / n
    centre = 2 * n * p + z * z
    spread = z * np.sqrt(z * z + 4 * n * p * (1 - p))
    denom = 2 * (n + z * z)
    return np.clip((centre - spread) / denom, 0.0, None), np.clip((centre + spread) / denom, None, 1.0)


def poisson_array(count: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``poisson_interval``: exact below BYAR_FROM, Byar's from there up."""
    alpha = 1 - level
    count = np.asarray(count, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        exact_lo = np.where(count > 0, gammaincinv(np.where(count > 0, count, 1.0), alpha / 2), 0.0)
        exact_hi = gammaincinv(count + 1, 1 - alpha / 2)
        z = z_for(level)
        safe = np.where(count > 0, count, 1.0)
        byar_lo = np.where(count > 0, safe * (1 - 1 / (9 * safe) - z / (3 * np.sqrt(safe))) ** 3, 0.0)
        o = count + 1
        byar_hi = o * (1 - 1 / (9 * o) + z / (3 * np.sqrt(o))) ** 3
    large = count >= BYAR_FROM
    return np.where(large, byar_lo, exact_lo), np.where(large, byar_hi, exact_hi)


def rate_limits_array(pooled_rate: np.ndarray, population: np.ndarray, level: float, per: float = 100.0):
    """Vectorised ``rate_limits``."""
    population = np.where(population > 0, population, np.nan)
    lo, hi = poisson_array(pooled_rate / per * population, level)
    return lo / population * per, hi / population * per


def positions_array(value: np.ndarray, lo95, hi95, lo998, hi998) -> np.ndarray:
    """Vectorised ``position``; "" where the value or the limits are missing."""
    out = np.full(value.shape, "within", dtype=object)
    out[value < lo95] = "below_95"
    out[value < lo998] = "below_998"
    out[value > hi95] = "above_95"
    out[value > hi998] = "above_998"
    out[np.isnan(value) | np.isnan(lo95) | np.isnan(hi998)] = ""
    return out


def exact_positions(count: np.ndarray, base: np.ndarray, pooled_value: np.ndarray, per_100: np.ndarray) -> np.ndarray:
    """Where each school sits, judged by the exact tail probability of its count.

    The drawn limits are continuous curves; a count is whole. At small expected counts a count
    of 0 can fall below a curve that lies just above 0 while being entirely ordinary (with 0.5
    children expected, seeing none happens more often than not), so the verdict comes from the
    exact Poisson (rates) or binomial (proportions) tail: a school is beyond the 95% or 99.8%
    limit only when a count at least that extreme has less than a 2.5% or 0.1% chance.
    """
    count = np.asarray(count, dtype=float)
    base = np.asarray(base, dtype=float)
    ok = ~(np.isnan(count) | np.isnan(base) | np.isnan(pooled_value)) & (base > 0)
    c = np.where(ok, np.round(count), 0.0)
    n = np.where(ok, np.round(base), 1.0)
    expected = np.where(ok, pooled_value / 100.0 * base, 0.0)
    share = np.clip(np.where(ok & ~per_100, pooled_value, 0.0), 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(per_100, pdtr(c, expected), bdtr(c, n.astype(int), share))
        high = np.where(c >= 1, np.where(per_100, pdtrc(c - 1, expected), bdtrc(c - 1, n.astype(int), share)), 1.0)
    out = np.full(count.shape, "within", dtype=object)
    for level, above, below in ((0.95, "above_95", "below_95"), (0.998, "above_998", "below_998")):
        tail = (1 - level) / 2
        out[low < tail] = below
        out[high < tail] = above
    out[~ok] = ""
    return out
