"""Indicator values per school and term, with the numbers behind them, and the trust's pooled value.

Input is the store's long table (urn, academic_year, term, measure_id, value). A derived figure
is missing whenever any number it needs is missing: blank never becomes zero here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.indicators import INDICATORS, PER_100, Indicator
from loaders.registry import COUNT, INTEGER, MEASURES_BY_ID, TEMPLATE_VERSION, M, term_index

KEYS = ["urn", "academic_year", "term"]
INDICATORS_UNIT = {i.id: i.unit for i in INDICATORS}
NUMERIC_TYPES = (COUNT, INTEGER)


def wide_counts(long: pd.DataFrame) -> pd.DataFrame:
    """One row per school-term that has a count, in key order; one float column per count measure
    (NaN where blank): the measures found in key order, then any not found."""
    numeric = [m for m, spec in MEASURES_BY_ID.items() if spec.type in NUMERIC_TYPES]
    rows = long[long["measure_id"].isin(numeric)] if not long.empty else long.iloc[0:0]
    # A school-term that never returned has no row: only the keys found are spread out.
    by_key = rows.groupby(KEYS, observed=True, sort=True)
    at, found = by_key.ngroup().to_numpy(), by_key.size().index
    column, measure_ids = pd.Index(rows["measure_id"]).factorize(sort=True)
    grid = np.full((len(found), len(measure_ids)), np.nan)
    grid[at, column] = pd.to_numeric(rows["value"], errors="coerce").astype(float).to_numpy()
    present = [str(m) for m in measure_ids]
    absent = [m for m in numeric if m not in present]
    grid = np.hstack([grid, np.full((len(found), len(absent)), np.nan)])
    frame = pd.DataFrame(grid, columns=pd.Index(present + absent, dtype=object))
    for i, k in enumerate(KEYS):
        frame.insert(i, k, found.get_level_values(i).to_numpy(dtype=object))
    frame["term_index"] = [term_index(y, t) for y, t in zip(frame["academic_year"], frame["term"])]
    return frame


def _strict_sum(grid: np.ndarray, at: dict[str, int], ids: tuple[str, ...]) -> np.ndarray:
    """Sum across columns, missing (NaN) when any input is missing: NaN carries through a sum."""
    return grid[:, [at[i] for i in ids]].sum(axis=1)


def indicator_values(wide: pd.DataFrame, indicators: tuple[Indicator, ...] = INDICATORS) -> pd.DataFrame:
    """Long table: urn, academic_year, term, term_index, indicator, numerator, denominator, value,
    asked.

    ``value`` is per 100 pupils for rates and a share (0 to 1) for proportions; missing when the
    numerator or denominator is missing or the denominator is 0. ``asked`` is False where the
    return's template version did not ask a measure the indicator needs: "not asked in this
    return", which is no blank.
    """
    if not indicators:
        return pd.DataFrame(columns=KEYS + ["term_index", "indicator", "numerator", "denominator", "value", "asked"])
    version = wide[M.ABOUT_TEMPLATE_VERSION].fillna(TEMPLATE_VERSION).to_numpy() \
        if M.ABOUT_TEMPLATE_VERSION in wide else np.full(len(wide), TEMPLATE_VERSION)
    needed = sorted({m for ind in indicators for m in ind.numerator + ind.denominator})
    at = {m: i for i, m in enumerate(needed)}
    grid = wide[needed].to_numpy(dtype=float)
    nums, dens, values, asked = [], [], [], []
    for ind in indicators:
        since = max(MEASURES_BY_ID[m].since for m in ind.numerator + ind.denominator)
        num = _strict_sum(grid, at, ind.numerator)
        den = _strict_sum(grid, at, ind.denominator)
        scale = 100.0 if ind.unit == PER_100 else 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            values.append((num / np.where(den > 0, den, np.nan)) * scale)
        nums.append(num)
        dens.append(den)
        asked.append(version >= since)
    n = len(indicators)
    rows = np.tile(np.arange(len(wide)), n)  # each indicator's block: the wide table's rows in order
    return pd.DataFrame({
        "urn": _text(wide["urn"]).take(rows),
        "academic_year": _text(wide["academic_year"]).take(rows),
        "term": _text(wide["term"]).take(rows),
        "term_index": wide["term_index"].to_numpy()[rows],
        "indicator": _text([ind.id for ind in indicators]).take(np.repeat(np.arange(n), len(wide))),
        "numerator": np.concatenate(nums),
        "denominator": np.concatenate(dens),
        "value": np.concatenate(values),
        "asked": np.concatenate(asked),
    })


def _text(items):
    """Text as pandas keeps it, made once from the few and then repeated by position."""
    return pd.array(np.asarray(items, dtype=object), dtype="str")


def pooled(values: pd.DataFrame, by: tuple[str, ...] = ()) -> pd.DataFrame:
    """The trust's pooled value per indicator and term (and per ``by``, such as a phase): total
    numerator over total denominator, over the schools where both are known. Columns: indicator,
    term_index, the ``by`` columns, numerator, denominator, value, schools."""
    known = values.dropna(subset=["numerator", "denominator"])
    known = known[known["denominator"] > 0]
    grouped = known.groupby(["indicator", "term_index", *by], as_index=False).agg(
        numerator=("numerator", "sum"), denominator=("denominator", "sum"), schools=("urn", "nunique")
    )
    scale = grouped["indicator"].map(lambda i: 100.0 if INDICATORS_UNIT[i] == PER_100 else 1.0)
    grouped["value"] = grouped["numerator"] / grouped["denominator"] * scale
    return grouped


DIRECT_SLOTS = 50_000_000  # keys (school x measure x term) few enough to look each up in an array of them


def with_changes(values: pd.DataFrame) -> pd.DataFrame:
    """Add each value's change from last term and from the same term last year (same school)."""
    frame = values.copy()
    value = frame["value"].to_numpy(dtype=float)
    if frame.empty:
        for col in ("change_term", "change_year"):
            frame[col] = value.copy()
        return frame
    # one number per (school, indicator, term) that steps by one from a term to the next
    terms = frame["term_index"].to_numpy(dtype=np.int64)
    low, span = terms.min() - 3, int(terms.max() - terms.min()) + 4
    indicator, kinds = pd.factorize(frame["indicator"])
    urn, urns = pd.factorize(frame["urn"])
    key = (urn.astype(np.int64) * len(kinds) + indicator) * span + (terms - low)
    size = len(urns) * len(kinds) * span
    if size <= DIRECT_SLOTS:
        # each key's row looked up directly: the first row of each key, as a sorted search finds
        row = np.full(size, -1, dtype=np.int64)
        row[key[::-1]] = np.arange(len(key) - 1, -1, -1)
        for col, back in (("change_term", 1), ("change_year", 3)):
            at = row[key - back]  # never the block before: every term sits 3 or more above the lowest
            frame[col] = value - np.where(at >= 0, value[at], np.nan)
        return frame
    order = np.argsort(key, kind="stable")
    ranked = key[order]
    for col, back in (("change_term", 1), ("change_year", 3)):
        want = key - back
        at = np.minimum(np.searchsorted(ranked, want), len(ranked) - 1)
        earlier = np.where(ranked[at] == want, value[order[at]], np.nan)
        frame[col] = value - earlier
    return frame
