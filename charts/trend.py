"""Trends over terms: a school's (or every school's) indicator against the trust's pooled line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.indicators import INDICATORS_BY_ID, PER_100
from charts import Chart
from charts.format import NOT_ASKED, chart_text, fmt_value, missing
from charts.palette import ENGLAND, GRID, SERIES, TRUST, layout
from loaders.registry import term_from_index

MAX_COLOURED = 5
QUIET = "#BBBBBB"
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x")


def term_label(index: int) -> str:
    year, term = term_from_index(index)
    return f"{term[:3]} {year}"


def trend_chart(values: pd.DataFrame, pooled: pd.DataFrame, names: dict[str, str], indicator: str,
                highlight: list[str] | None = None, england: float | None = None) -> Chart:
    """``values``: compared rows of one indicator over terms; ``pooled``: the trust's value per term."""
    ind = INDICATORS_BY_ID[indicator]
    terms = sorted(set(values["term_index"]) | set(pooled["term_index"]))
    labels = [term_label(i) for i in terms]
    urns = highlight if highlight else sorted(values["urn"].unique(), key=lambda u: names.get(u, u))
    factor = 1 if ind.unit == PER_100 else 100.0
    # every school's figures side by side, one row a term (blank where it made no return), made once
    columns = [c for c in ("value", "numerator", "denominator", "hidden", "asked") if c in values]
    wide = (values.drop_duplicates(["urn", "term_index"]).set_index(["term_index", "urn"])[columns]
            .unstack("urn").reindex(terms))
    per = {c: wide[c] for c in columns}
    blank = np.full(len(terms), np.nan)

    def school(urn) -> dict[str, np.ndarray]:
        flags = ("hidden", "asked")
        return {c: (per[c][urn].to_numpy(dtype=object if c in flags else float, na_value=None if c in flags
                                          else np.nan) if urn in per[c].columns else blank) for c in columns}

    by_school = {urn: school(urn) for urn in urns}
    # A few schools get a colour and a legend entry each; many are drawn as quiet grey lines (named
    # on hover) so the trust's line stays readable. The traces are handed to the figure in one go.
    quiet = len(urns) > MAX_COLOURED
    per_cent = "" if ind.unit == PER_100 else "%"
    if quiet:
        traces = [_quiet_lines(by_school, labels, names, factor, per_cent)]
    else:
        hover = "%{x}: %{y:.1f}" + per_cent + "<extra>%{fullData.name}</extra>"
        traces = [dict(type="scatter", x=labels, y=by_school[urn]["value"] * factor,
                       mode="lines+markers", name=chart_text(names.get(urn, urn)), line=dict(color=SERIES[k % len(SERIES)],
                                                                                 width=2.5),
                       marker=dict(size=8, symbol=SYMBOLS[k % len(SYMBOLS)]), connectgaps=False, hovertemplate=hover)
                  for k, urn in enumerate(urns)]
    trust = pooled.set_index("term_index").reindex(terms)["value"] * factor
    traces.append(dict(type="scatter", x=labels, y=trust.to_numpy(), mode="lines+markers", name="Trust",
                       line=dict(color=TRUST, width=4), marker=dict(size=9, symbol="square")))
    if england is not None:
        traces.append(dict(type="scatter", x=labels, y=[england * factor] * len(labels), mode="lines",
                           name="England", line=dict(color=ENGLAND, dash="longdash", width=2)))
    fig = go.Figure(data=traces, layout=layout(
        f"{ind.label}, term by term", height=400, legend=dict(orientation="h", y=-0.24),
        margin=dict(l=75, r=10, t=60, b=100),
        # each term on two lines ("Aut" over "24/25"), level, so nine terms fit a phone's width
        xaxis=dict(tickmode="array", tickvals=labels, ticktext=[_two_lines(lab) for lab in labels], tickangle=0),
        yaxis=dict(title=dict(text=ind.unit if ind.unit == PER_100 else "%"), rangemode="tozero", gridcolor=GRID)))
    table = pd.DataFrame({"Term": labels, "Trust": [fmt_value(v / factor, ind.unit) for v in trust]})
    for urn in urns:
        mine = by_school[urn]
        hidden = [h is True or h == 1 for h in mine["hidden"]] if "hidden" in mine else [False] * len(terms)
        unasked = [a is False or a == 0 for a in mine["asked"]] if "asked" in mine else [False] * len(terms)
        table[names.get(urn, urn)] = [
            NOT_ASKED if u else "not shown" if h else
            f"{fmt_value(v, ind.unit)} ({n:.0f} of {d:.0f})" if pd.notna(v) else "no data"
            for v, n, d, h, u in zip(mine["value"], mine["numerator"], mine["denominator"], hidden, unasked)
        ]
    return Chart(fig, table, _summary(ind, trust, labels))


def _two_lines(label: str) -> str:
    """A term's label for the axis: "Aut 2024/25" as "Aut" over "24/25"."""
    term, _, year = label.partition(" ")
    return f"{term}<br>{year[2:] if len(year) == 7 else year}"


def _quiet_lines(by_school: dict, labels: list[str], names: dict[str, str], factor: float, per_cent: str) -> dict:
    """Every school's line, grey, as one trace: each school's terms, then a break before the next
    school (a blank point), each point named by its school on hover. One trace draws far faster
    than a trace a school, and looks the same."""
    x, y, text, symbol = [], [], [], []
    for k, (urn, mine) in enumerate(by_school.items()):
        values = mine["value"] * factor
        name = chart_text(names.get(urn, urn))
        x += [*labels, None]
        y += [*(None if np.isnan(v) else float(v) for v in values), None]
        text += [name] * len(labels) + [""]
        symbol += [SYMBOLS[k % len(SYMBOLS)]] * len(labels) + ["circle"]
    return dict(type="scatter", x=x, y=y, text=text, mode="lines+markers", name="Schools", showlegend=False,
                line=dict(color=QUIET, width=1.2), marker=dict(size=5, symbol=symbol), connectgaps=False,
                hovertemplate="%{x}: %{y:.1f}" + per_cent + "<extra>%{text}</extra>")


def _summary(ind, trust: pd.Series, labels: list[str]) -> str:
    known = [(lab, v) for lab, v in zip(labels, trust) if not missing(v)]
    if len(known) < 2:
        return f"{ind.label}: not enough terms yet to show a trend."
    unit = " per 100" if ind.unit == PER_100 else "%"
    (first_l, first), (last_l, last) = [(lab, f"{round(float(v), 1) + 0.0:.1f}{unit}") for lab, v in (known[0], known[-1])]
    if first == last:  # the same as it is written, whatever lies past the first decimal
        return f"{ind.label} across the trust held at {last} from {first_l} to {last_l}."
    word = "rose" if float(known[-1][1]) > float(known[0][1]) else "fell"
    return f"{ind.label} across the trust {word} from {first} in {first_l} to {last} in {last_l}."
