"""How a return's values are kept in the long table and read back with their types.

Counts and integers go in ``value_num``; text, dates, the URN, year, term and phase go in
``value_text`` (dates as ISO text). A blank leaves both columns NULL and reads back as None. A
measure the return's template version does not ask has no row at all: not asked, not blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from loaders import registry
from loaders.registry import M

_NUMERIC = (registry.COUNT, registry.INTEGER)
_DATE_IDS = [m.id for m in registry.MEASURES if m.type == registry.DATE]


def to_columns(measure_id: str, value: object) -> tuple[float | None, str | None]:
    """(value_num, value_text) for one measure's value."""
    if value is None:
        return None, None
    measure = registry.MEASURES_BY_ID.get(measure_id)
    if measure is not None and measure.type in _NUMERIC and isinstance(value, (int, float)) \
            and not isinstance(value, bool):
        return float(value), None
    if isinstance(value, datetime):
        return None, value.date().isoformat()
    if isinstance(value, date):
        return None, value.isoformat()
    return None, str(value)


def from_columns(measure_id: str, value_num: float | None, value_text: str | None) -> object:
    """The typed value back: counts int, dates date, everything else str; blank None."""
    measure = registry.MEASURES_BY_ID.get(measure_id)
    kind = measure.type if measure is not None else None
    if value_num is not None:
        number = float(value_num)
        return int(number) if kind in _NUMERIC or number.is_integer() else number
    if value_text is None:
        return None
    return _date_or_text(value_text) if kind == registry.DATE else value_text


@dataclass
class Chunk:
    """Some value rows of (return_id, measure_id, value_num, value_text) as arrays."""

    return_id: np.ndarray
    measure: np.ndarray  # codes into measures
    measures: list[str]
    value: np.ndarray
    text: np.ndarray


def chunk_columns(rows: Sequence[tuple]) -> Chunk:
    """Rows of (return_id, measure_id, value_num, value_text) as arrays, the measure ids coded."""
    grid = np.array(rows, dtype=object)
    codes, measures = pd.factorize(grid[:, 1])
    return Chunk(grid[:, 0].astype(np.int64), codes, list(measures), grid[:, 2].astype(float), grid[:, 3].copy())


def columns_from_chunks(chunks: list[Chunk], keys: Sequence[tuple], names: list[str]) -> pd.DataFrame:
    """One frame from value rows read in chunks and every return's (id, *keys): ``names`` and
    measure_id categorical, ``value`` float (NaN when NULL: blank stays missing) and ``text`` what
    ``from_columns`` makes of a value with no number (a date measure's date, other text str; None
    when blank or a number). Ordered by the keys, then measure id, as Python orders text; a row
    whose return is gone is left out."""
    measures = sorted({m for c in chunks for m in c.measures})
    at = {m: i for i, m in enumerate(measures)}
    return_id = np.concatenate([c.return_id for c in chunks]) if chunks else np.array([], dtype=np.int64)
    measure = np.concatenate([np.array([at[m] for m in c.measures], dtype=np.int64)[c.measure] for c in chunks]) \
        if chunks else np.array([], dtype=np.int64)
    value = np.concatenate([c.value for c in chunks]) if chunks else np.array([], dtype=float)
    text = np.concatenate([c.text for c in chunks]) if chunks else np.array([], dtype=object)

    ids = np.array([k[0] for k in keys], dtype=np.int64)
    head = [_categorical([k[i + 1] for k in keys]) for i in range(len(names))]
    order = np.argsort(ids)
    found = np.searchsorted(ids[order], return_id) if len(ids) else np.zeros(len(return_id), dtype=np.int64)
    known = found < len(ids)
    known[known] = ids[order][found[known]] == return_id[known]
    row = order[found[known]]  # each value's return, by its place in keys
    by_key = np.lexsort([h.codes for h in reversed(head)])  # returns in key order
    rank = np.empty(len(ids), dtype=np.int64)
    rank[by_key] = np.arange(len(ids))
    sort = np.lexsort((measure[known], rank[row]))
    take = np.flatnonzero(known)[sort]
    row = row[sort]

    frame = pd.DataFrame({n: pd.Categorical.from_codes(h.codes[row], dtype=h.dtype) for n, h in zip(names, head)})
    frame["measure_id"] = pd.Categorical.from_codes(measure[take], categories=pd.Index(measures, dtype=object))
    value, text = value[take], text[take]
    text[~np.isnan(value)] = None
    dated = np.flatnonzero(frame["measure_id"].isin(_DATE_IDS).to_numpy() & (text != None))  # noqa: E711
    text[dated] = [_date_or_text(t) for t in text[dated]]
    return frame.assign(value=value, text=pd.Series(text, dtype=object))  # None stays None, not NaN


def _categorical(items: list) -> pd.Categorical:
    """Categories kept as Python text (object), in Python's order."""
    return pd.Categorical(items, categories=pd.Index(sorted(set(items)), dtype=object))


def _date_or_text(text: str) -> date | str:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return text


def rows_for(report_values: dict[str, object], **keys) -> list[dict]:
    """One row per measure id the return's template version asks (NULL when blank), ready for an
    executemany."""
    return [{**keys, "measure_id": mid, "value_num": num, "value_text": text}
            for mid, num, text in value_columns(report_values)]


def value_columns(report_values: dict[str, object]) -> list[tuple[str, float | None, str | None]]:
    """(measure_id, value_num, value_text) for each measure the return's template version asks:
    ``to_columns`` of each, a blank and a plain number worked out here."""
    version = report_values.get(M.ABOUT_TEMPLATE_VERSION)
    out = []
    for mid, numeric in _ASKED_NUMERIC.get(version, _ALL_NUMERIC):
        value = report_values.get(mid)
        if value is None:
            out.append((mid, None, None))
        elif numeric and type(value) in (int, float):  # bool and other subclasses: to_columns decides
            out.append((mid, float(value), None))
        else:
            out.append((mid, *to_columns(mid, value)))
    return out


def read_back(columns: list[tuple[str, float | None, str | None]]) -> dict[str, object]:
    """The typed values of ``value_columns`` as ``from_columns`` reads them back once stored."""
    out = {}
    for mid, num, text in columns:
        if num is not None:
            out[mid] = int(num) if _NUMERIC_IDS.get(mid) or num.is_integer() else num
        elif text is None:
            out[mid] = None
        else:
            out[mid] = from_columns(mid, None, text)
    return out


_NUMERIC_IDS = {m.id: m.type in _NUMERIC for m in registry.MEASURES}
_ALL_NUMERIC = tuple((m.id, m.type in _NUMERIC) for m in registry.MEASURES)
_ASKED_NUMERIC = {v: tuple((m.id, m.type in _NUMERIC) for m in ms) for v, ms in registry.ASKED.items()}
