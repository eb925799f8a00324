"""How numbers read on a chart or in a table: one place, so every page says them the same way."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable
from functools import lru_cache
from html import escape

import pandas as pd

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


def two_lines(text, width: int, tag: str = "") -> str:
    """Text in at most two lines (joined by a newline) of about ``width`` characters, cut at a word
    with an ellipsis where it runs on, ``tag`` at its end."""
    return _two_lines(str(text), width, tag)


@lru_cache(maxsize=1 << 14)  # a trust's names, drawn on chart after chart
def _two_lines(text: str, width: int, tag: str) -> str:
    lines = textwrap.wrap(" ".join(text.split()), width) or [""]
    if len(lines) == 1 and len(lines[0]) + len(tag) <= width:
        return lines[0] + tag
    rest = " ".join(lines[1:])
    return lines[0] + "\n" + (shorten(rest, max(width - len(tag), 6)) + tag).strip()


def axis_labels(names, keys, limit: int = LABEL_LIMIT, fit: Callable[[str, str], str] | None = None) -> list[str]:
    """Each name shortened for an axis (see ``shorten``; or by ``fit``, given a name and a tag to
    end it with), every label different from the others.

    Names that come out the same once shortened, or were the same to start with, get their key
    (a school's URN) after them, the name shortened further to make room, so no two rows of a
    chart merge and a reader can tell them apart; the full names belong in the hover.
    """
    fit = fit or (lambda name, tag: shorten(name, max(limit - len(tag), 8)) + tag)
    names, keys = [str(n) for n in names], [str(k) for k in keys]
    labels = [fit(n, "") for n in names]
    for attempt in range(3):  # a key shared too (never, for URNs) adds the row's place
        seen: dict[str, int] = {}
        for label in labels:
            seen[label] = seen.get(label, 0) + 1
        clashes = [i for i, label in enumerate(labels) if seen[label] > 1]
        for i in clashes:
            labels[i] = fit(names[i], f" ({keys[i]})" if attempt == 0 else f" ({keys[i]}, {i + 1})")
    return labels


NOT_ASKED = "not asked in this return"  # a measure its template version did not ask: no blank


def plural(count: int, one: str, many: str | None = None) -> str:
    """"1 question", "2 questions", "0 questions"; ``many`` where adding an s is wrong."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def missing(value) -> bool:
    """Whether a value is blank: None, NaN (a float's, numpy's or pandas'), or pandas' NA."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(math.isnan(value))
    except (TypeError, ValueError):
        return False


def _rounded(value: float, places: int) -> float:
    """``value`` rounded as it will be printed, with no minus sign left on a zero ("-0.0")."""
    return round(float(value), places) + 0.0


def fmt_value(value, unit: str) -> str:
    """"2.4 per 100" or "85%"; "no data" when missing (blank is never shown as 0)."""
    if missing(value):
        return "no data"
    if unit == PER_100:
        return f"{_rounded(value, 1):.1f} per 100"
    return f"{_rounded(value * 100, 0):.0f}%"


def fmt_count(value) -> str:
    if missing(value):
        return "no data"
    return f"{int(round(float(value))):,}"


def fmt_change(change, unit: str) -> str:
    """"+0.4 per 100" or "-5 points" ("+0.0 per 100" when nothing changed); "no data" when
    either term is missing."""
    if missing(change):
        return "no data"
    if unit == PER_100:
        return f"{_rounded(change, 1):+.1f} per 100"
    return f"{_rounded(change * 100, 0):+.0f} points"


def fmt_numbers(numerator, denominator, num_note: str = "", den_note: str = "") -> str:
    """"9 of 241", with "fewer than 5" or "not shown" where a count is hidden; "" when unknown."""
    num = num_note or ("" if missing(numerator) else f"{float(numerator):,.0f}")
    den = den_note or ("" if missing(denominator) else f"{float(denominator):,.0f}")
    return f"{num} of {den}" if num and den else ""
