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
TRUST = "trust"  # what a school is compared with (a phase's schools, later)
LIMIT_COLUMNS = ("lower_998", "lower_95", "upper_95", "upper_998")


def compare(values: pd.DataFrame) -> pd.DataFrame:
    """Add to each school-term-indicator row: ``trust`` (the pooled value), ``group`` (what it is
    compared with), ``expected`` (the count the trust's figure gives a school of this base), the
    funnel's limits at this base in the unit of the value (``lower_998``, ``lower_95``,
    ``upper_95``, ``upper_998``, see analysis.funnel) and ``position``: the side of those limits
    the value lies ("above_998", "above_95", "within", "below_95", "below_998"), or "" when it
    cannot be placed (value missing, indicator not funnel-compared, fewer than three schools
    pooled). The position is read off the limits the charts draw, and is the exact test."""
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
    frame["group"] = np.where(usable, TRUST, "")
    frame["expected"] = funnel.expected_count(trust, den, per_100)
    for level, tag in ((0.95, "95"), (0.998, "998")):
        frame[f"lower_{tag}"], frame[f"upper_{tag}"] = funnel.limits(trust, den, level, per_100)
    frame["position"] = funnel.positions(frame["value"].to_numpy(dtype=float), frame["lower_95"].to_numpy(),
                                         frame["upper_95"].to_numpy(), frame["lower_998"].to_numpy(),
                                         frame["upper_998"].to_numpy())
    return frame
