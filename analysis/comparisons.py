"""What the funnel plots draw for one term, for the command line: each school's figure on each
indicator, the count its comparison group's figure would give it (schools of its phase, the
whole trust, or England's schools of its phase), the limits at its own base, and the side of them
it lies (``python -m analysis compare``)."""

from __future__ import annotations

import math
import textwrap
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from analysis.compare import ALONE, LIMIT_COLUMNS, TRUST, is_england, yardstick
from analysis.funnel import POSITIONS
from analysis.gaps import plural
from analysis.indicators import INDICATORS, INDICATORS_BY_ID, PER_100
from loaders.registry import term_index

KEYS = ("indicator", "urn", "numerator", "denominator", "value", "expected", *LIMIT_COLUMNS, "verdict", "group")
VERDICT_WORDS = {"above_998": "above 99.8%", "above_95": "above 95%", "within": "within",
                 "below_95": "below 95%", "below_998": "below 99.8%"}
TABLE_MIN_WIDTH = 80  # narrower than this, one short paragraph a school instead of columns
ORDER = {ind.id: i for i, ind in enumerate(INDICATORS)}


@dataclass(frozen=True)
class Comparison:
    """The compared figures of one term, and what was left out."""

    rows: pd.DataFrame  # compare() rows placed on a funnel, in the registry's order, then by URN
    year: str
    term: str
    names: dict[str, str]
    not_compared: int  # figures of funnel indicators that could not be placed
    alone: int = 0  # of those, figures of schools with no school like them in the trust nor England figure

    def as_dicts(self) -> list[dict]:
        return [{k: _plain(k, getattr(r, "position" if k == "verdict" else k)) for k in KEYS}
                for r in self.rows.itertuples()]


def comparison(compared: pd.DataFrame, names: dict[str, str], year: str, term: str) -> Comparison:
    """The placed rows of one term from a compared table (analysis.compare output)."""
    rows = compared[compared["term_index"] == term_index(year, term)]
    rows = rows[rows["indicator"].map(lambda i: INDICATORS_BY_ID[i].funnel)]
    placed = rows[rows["position"] != ""]
    placed = placed.assign(_order=placed["indicator"].map(ORDER)).sort_values(["_order", "urn"])
    return Comparison(placed.drop(columns="_order"), year, term, names, len(rows) - len(placed),
                      int((rows["group"] == ALONE).sum()) if "group" in rows else 0)


def _plain(key: str, v):
    """A value as JSON carries it: the counts as whole numbers, missing as null."""
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and math.isnan(v):
        return None
    return int(v) if key in ("numerator", "denominator") else float(v) if isinstance(v, (int, float)) else v


# ---- the table for a terminal -----------------------------------------------------------------

def render(result: Comparison, width: int) -> str:
    lines = [textwrap.fill(f"Funnel comparison for {result.term} {result.year}: each school against the "
                           "pooled figure of the trust's schools of its phase (the whole trust's where its "
                           "phase is not known; England's for its phase where the trust has fewer than three "
                           "such schools), with the limits chance alone gives a school of its size "
                           "(95% and 99.8%). Rates are per 100 pupils; shares are percentages.", width), ""]
    for indicator, rows in result.rows.groupby("indicator", sort=False):
        ind = INDICATORS_BY_ID[indicator]
        lines.append(textwrap.fill(f"{ind.label} ({ind.unit}): " + _targets(rows, ind), width))
        lines += _table(rows, ind.unit, result.names, width) if width >= TABLE_MIN_WIDTH else \
            _stacked(rows, ind.unit, result.names, width)
        lines.append("")
    lines.append(textwrap.fill(count_line(result), width))
    return "\n".join(lines)


HEADINGS = ("Count", "Value", "Expected", "95% limits", "99.8% limits", "Verdict")
WIDTHS = (15, 7, 8, 13, 13, 11)


def _targets(rows: pd.DataFrame, ind) -> str:
    """"trust 3.21, pooled across 12 schools" or "Primary 2.10 (7 schools); Secondary 5.12 (3 schools);
    England's special schools, 2023/24 (whole academic year): 0.03"."""
    unit = ind.unit
    if "group" not in rows or set(rows["group"]) == {TRUST}:
        return f"trust {_num(rows['trust'].iloc[0], unit)}, pooled across {plural(int(rows['trust_schools'].iloc[0]), 'school')}"
    parts = []
    for group, part in rows.groupby("group", sort=True):
        figure = _num(part["target"].iloc[0], unit)
        if is_england(group):
            parts.append(f"{yardstick(group, ind.id)}: {figure}")
        else:
            label = "whole trust" if group == TRUST else group
            parts.append(f"{label} {figure} ({plural(int(part['target_schools'].iloc[0]), 'school')})")
    return "; ".join(parts)


def _table(rows: pd.DataFrame, unit: str, names: dict[str, str], width: int) -> list[str]:
    sep = "  "
    school_w = max(12, width - sum(WIDTHS) - len(sep) * len(WIDTHS) - 2)
    out = ["  " + sep.join([("School (URN)").ljust(school_w)] + [h.rjust(w) for h, w in zip(HEADINGS, WIDTHS)])]
    for r in rows.itertuples():
        cells = _cells(r, unit)
        out.append("  " + sep.join([_school(r.urn, names, school_w).ljust(school_w)] +
                                   [c.rjust(w) for c, w in zip(cells, WIDTHS)]))
    return out


def _stacked(rows: pd.DataFrame, unit: str, names: dict[str, str], width: int) -> list[str]:
    out = []
    for r in rows.itertuples():
        count, value, expected, l95, l998, verdict = _cells(r, unit)
        group = getattr(r, "group", TRUST)
        against = "" if group == TRUST else f" against {yardstick(group, r.indicator)}"
        text = (f"{names.get(r.urn, r.urn)} ({r.urn}){against}: {count} = {value}, expected {expected}; "
                f"95% limits {l95}, 99.8% limits {l998}: {verdict}")
        out.append(textwrap.fill(text, width, initial_indent="  ", subsequent_indent="    "))
    return out


def _cells(r, unit: str) -> tuple[str, ...]:
    return (f"{r.numerator:,.0f} of {r.denominator:,.0f}", _num(r.value, unit), f"{r.expected:,.1f}",
            f"{_num(r.lower_95, unit)}-{_num(r.upper_95, unit)}",
            f"{_num(r.lower_998, unit)}-{_num(r.upper_998, unit)}", VERDICT_WORDS[r.position])


def _num(v: float, unit: str) -> str:
    return f"{v:.2f}" if unit == PER_100 else f"{v * 100:.1f}%"


def _school(urn: str, names: dict[str, str], width: int) -> str:
    tail = f" ({urn})"
    name = names.get(urn, urn)
    room = width - len(tail)
    return (name if len(name) <= room else name[:max(1, room - 1)] + "…") + tail


def count_line(result: Comparison) -> str:
    when = f"{result.term} {result.year}"
    n = len(result.rows)
    if not n:
        line = f"No school's figure could be compared for {when}"
    else:
        by = Counter(result.rows["position"])
        parts = ", ".join(f"{by[p]} {VERDICT_WORDS[p]}" for p in POSITIONS if by[p])
        line = (f"{plural(n, 'figure')} compared for {when} on "
                f"{plural(result.rows['indicator'].nunique(), 'indicator')}: {parts}")
    if result.not_compared:
        line += (f"; {result.not_compared:,} not compared (no figure, a base of 0, fewer than three "
                 "schools to pool, or no school like it in the trust and no England figure for its phase")
        line += f": {result.alone:,} of those)" if result.alone else ")"
    return line + "."
