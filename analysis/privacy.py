"""What a reader who must not see small numbers (a trustee) is shown of the compared figures.

Every count of children behind an indicator (numerator, and a denominator that counts
children, such as flagged children) from 1 to 4 is hidden, with secondary suppression within each
indicator and term so that no hidden count can be worked out from the trust's total; a rate built
on a hidden count is not shown, nor its change from another term, and neither is a trust figure
pooled from a small total. Staff counts (training) are not about children and stay.
The gap rules still run on the real numbers: a trustee still sees that a school is higher than
the trust, just not the count (see analysis.gaps, which words its findings through the Context).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.indicators import INDICATORS_BY_ID
from analysis.rates import with_changes
from analysis.suppression import NOT_SHOWN, fewer_than, suppress_counts, suppression_threshold

NOTE_COLUMNS = {"numerator": "numerator_note", "denominator": "denominator_note"}


def about_children(indicator_id: str) -> bool:
    return INDICATORS_BY_ID[indicator_id].theme != "workforce"


def hide_small(compared: pd.DataFrame, threshold: int | None = None) -> pd.DataFrame:
    """The compared table as a trustee may see it (see the module docstring); hidden counts are
    NaN with a note ("fewer than 5" or "not shown") in ``numerator_note`` / ``denominator_note``."""
    t = suppression_threshold() if threshold is None else threshold
    out = compared.drop(columns=["change_term", "change_year"], errors="ignore").copy()
    for note in NOTE_COLUMNS.values():
        out[note] = ""
    child = out["indicator"].map(about_children).to_numpy(dtype=bool)
    if child.any():
        part = out.loc[child, ["indicator", "term_index", "numerator", "denominator"]]
        # a denominator of pupils on roll is never small in a real school, so only counts of
        # children (flagged, invited, referred) are at stake; both run through the same rules
        shown = suppress_counts(part, ["numerator", "denominator"], threshold=t,
                                group_columns=["indicator", "term_index"])
        for column, note in NOTE_COLUMNS.items():
            words = shown[column].where(shown[column].isin([fewer_than(t), NOT_SHOWN]), "")
            out.loc[part.index, note] = words.astype(str)
    hidden_num = out["numerator_note"] != ""
    hidden_den = out["denominator_note"] != ""
    out.loc[hidden_num, "numerator"] = np.nan
    out.loc[hidden_den, "denominator"] = np.nan
    out.loc[hidden_num | hidden_den, "value"] = np.nan
    out["hidden"] = hidden_num | hidden_den
    out.loc[small_trust(out, t), "trust"] = np.nan
    return with_changes(out)


def small_trust(compared: pd.DataFrame, threshold: int) -> pd.Series:
    """Rows whose trust figure is pooled from a total count of 1 to threshold - 1."""
    totals = compared.groupby(["indicator", "term_index"])["numerator"].transform("sum")
    child = compared["indicator"].map(about_children)
    return child & (totals >= 1) & (totals < threshold)


def hide_small_pooled(pooled: pd.DataFrame, threshold: int | None = None) -> pd.DataFrame:
    t = suppression_threshold() if threshold is None else threshold
    out = pooled.copy()
    child = out["indicator"].map(about_children)
    out.loc[child & (out["numerator"] >= 1) & (out["numerator"] < t), "value"] = np.nan
    return out


# a whole number standing alone: not part of a cell (B7), a date (20/03/2026), a year range
# (2025-26), a decimal (2.5) or a percentage (10%)
_WHOLE_NUMBER = re.compile(r"(?<![\w.,/%-])(\d+)(?![\w,/%]|\.\d|-\d)")


def mask_small(text, threshold: int | None = None):
    """Free text (a query's message, a DSL's explanation) with every whole number from 1 to
    threshold - 1 written as "fewer than 5": the words stay, the small counts go."""
    if not isinstance(text, str):
        return text
    t = suppression_threshold() if threshold is None else threshold
    return _WHOLE_NUMBER.sub(lambda m: fewer_than(t) if 1 <= int(m.group(1)) < t else m.group(1), text)
