"""How numbers read on a chart or in a table: one place, so every page says them the same way."""

from __future__ import annotations

import math
from html import escape

from analysis.indicators import PER_100


def chart_text(text) -> str:
    """Text a person typed or a file carried (a school's name), for a plotly figure: plotly reads
    tags such as <b>, <br> and <a href> in tick labels, hover text, legends and point labels, so the
    text goes in escaped, and plotly shows the characters as typed."""
    return escape("" if text is None else str(text), quote=False)


ELLIPSIS = "\u2026"
LABEL_LIMIT = 36  # characters of a school's name on an axis: past this the labels take the chart


def shorten(text, limit: int = LABEL_LIMIT) -> str:
    """Text of at most ``limit`` characters: cut at a word where one is near, with an ellipsis."""
    text = "" if text is None else str(text)
    if len(text) <= limit:
        return text
    cut = " ".join(text.split())[:limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:  # a whole word fits: end there rather than mid-word
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2013") + ELLIPSIS


def axis_labels(names, keys, limit: int = LABEL_LIMIT) -> list[str]:
    """Each name shortened for an axis (see ``shorten``), every label different from the others.

    Names that come out the same once shortened, or were the same to start with, get their key
    (a school's URN) after them, the name shortened further to make room, so no two rows of a
    chart merge and a reader can tell them apart; the full names belong in the hover.
    """
    names, keys = [str(n) for n in names], [str(k) for k in keys]
    labels = [shorten(n, limit) for n in names]
    for attempt in range(3):  # a key shared too (never, for URNs) adds the row's place
        seen: dict[str, int] = {}
        for label in labels:
            seen[label] = seen.get(label, 0) + 1
        clashes = [i for i, label in enumerate(labels) if seen[label] > 1]
        for i in clashes:
            tag = f" ({keys[i]})" if attempt == 0 else f" ({keys[i]}, {i + 1})"
            labels[i] = shorten(names[i], max(limit - len(tag), 8)) + tag
    return labels


NOT_ASKED = "not asked in this return"  # a measure its template version did not ask: no blank


def fmt_value(value, unit: str) -> str:
    """"2.4 per 100" or "85%"; "no data" when missing (blank is never shown as 0)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if unit == PER_100:
        return f"{value:.1f} per 100"
    return f"{value * 100:.0f}%"


def fmt_count(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    return f"{int(round(value)):,}"


def fmt_change(change, unit: str) -> str:
    """"+0.4 per 100" or "-5 points"; "no data" when either term is missing."""
    if change is None or (isinstance(change, float) and math.isnan(change)):
        return "no data"
    if unit == PER_100:
        return f"{change:+.1f} per 100"
    return f"{change * 100:+.0f} points"


def fmt_numbers(numerator, denominator, num_note: str = "", den_note: str = "") -> str:
    """"9 of 241", with "fewer than 5" or "not shown" where a count is hidden; "" when unknown."""
    num = num_note or ("" if _missing(numerator) else f"{numerator:,.0f}")
    den = den_note or ("" if _missing(denominator) else f"{denominator:,.0f}")
    return f"{num} of {den}" if num and den else ""


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))
