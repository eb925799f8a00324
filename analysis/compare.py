"""Each school's indicator value set beside the trust's pooled value and its funnel limits.

Where a school sits is a statistical statement ("above the 99.8% limit"), not a judgement. The
judgement, when an indicator has a polarity, is made by the gap rules, never here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis import funnel
from analysis.indicators import INDICATORS_BY_ID, PER_100
from analysis.rates import pooled

MIN_SCHOOLS = 3  # a trust value pooled from fewer schools is no fair yardstick


def compare(values: pd.DataFrame) -> pd.DataFrame:
    """Add to each school-term-indicator row: trust (pooled value), the 95% and 99.8% limits to
    draw, and position ("above_998", "above_95", "within", "below_95", "below_998", or "" when it
    cannot be placed: value missing, indicator not funnel-compared, or fewer than three schools
    pooled), judged by the exact tail of the school's count (see funnel.exact_positions)."""
    pool = pooled(values).rename(columns={"value": "trust", "schools": "trust_schools"})
    frame = values.merge(
        pool[["indicator", "term_index", "trust", "trust_schools"]], on=["indicator", "term_index"], how="left"
    )
    ind = frame["indicator"].map(INDICATORS_BY_ID)
    usable = (
        ind.map(lambda i: i.funnel).to_numpy(dtype=bool)
        & (frame["trust_schools"].fillna(0).to_numpy() >= MIN_SCHOOLS)
        & (frame["denominator"].fillna(0).to_numpy() > 0)
    )
    per_100 = ind.map(lambda i: i.unit == PER_100).to_numpy(dtype=bool)
    trust = np.where(usable, frame["trust"].to_numpy(dtype=float), np.nan)
    den = frame["denominator"].to_numpy(dtype=float)
    prop_trust = np.where(per_100, np.nan, trust)
    for level, tag in ((0.95, "95"), (0.998, "998")):
        rate_lo, rate_hi = funnel.rate_limits_array(np.where(per_100, trust, np.nan), den, level)
        prop_lo, prop_hi = funnel.wilson_array(prop_trust * den, den, level)
        frame[f"lo{tag}"] = np.where(per_100, rate_lo, prop_lo)
        frame[f"hi{tag}"] = np.where(per_100, rate_hi, prop_hi)
    frame["position"] = funnel.exact_positions(
        frame["numerator"].to_numpy(dtype=float), den, trust, per_100
    )
    return frame
