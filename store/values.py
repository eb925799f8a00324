"""How a return's values are kept in the long table and read back with their types.

Counts and integers go in ``value_num``; text, dates, the URN, year, term and phase go in
``value_text`` (dates as ISO text). A blank leaves both columns NULL and reads back as None. A
measure the return's template version does not ask has no row at all: not asked, not blank.
"""

from __future__ import annotations

from datetime import date, datetime

from loaders import registry
from loaders.registry import M

_NUMERIC = (registry.COUNT, registry.INTEGER)


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
    if kind == registry.DATE:
        try:
            return date.fromisoformat(value_text)
        except ValueError:
            return value_text
    return value_text


def rows_for(report_values: dict[str, object], **keys) -> list[dict]:
    """One row per measure id the return's template version asks (NULL when blank), ready for an
    executemany."""
    version = report_values.get(M.ABOUT_TEMPLATE_VERSION)
    rows = []
    for measure in registry.ASKED.get(version, registry.MEASURES):
        num, text = to_columns(measure.id, report_values.get(measure.id))
        rows.append({**keys, "measure_id": measure.id, "value_num": num, "value_text": text})
    return rows
