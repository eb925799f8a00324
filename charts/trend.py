"""Trends over terms: a school's (or every school's) indicator against the trust's pooled line."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.indicators import INDICATORS_BY_ID, PER_100
from charts import Chart
from charts.format import fmt_value
from charts.palette import ENGLAND, GRID, SERIES, TRUST, layout
from loaders.registry import term_from_index


MAX_COLOURED = 5
QUIET = "#BBBBBB"


def term_label(index: int) -> str:
    year, term = term_from_index(index)
    return f"{term[:3]} {year}"


def trend_chart(values: pd.DataFrame, pooled: pd.DataFrame, names: dict[str, str], indicator: str,
                highlight: list[str] | None = None, england: float | None = None) -> Chart:
    """``values``: compared rows of one indicator over terms; ``pooled``: the trust's value per term."""
    ind = INDICATORS_BY_ID[indicator]
    fig = go.Figure()
    terms = sorted(set(values["term_index"]) | set(pooled["term_index"]))
    labels = [term_label(i) for i in terms]
    urns = highlight if highlight else sorted(values["urn"].unique(), key=lambda u: names.get(u, u))
    scale = 100.0
    # A few schools get a colour and a legend entry each; many are drawn as quiet grey lines (named
    # on hover) so the trust's line stays readable.
    quiet = len(urns) > MAX_COLOURED
    for k, urn in enumerate(urns):
        mine = values[values["urn"] == urn].set_index("term_index").reindex(terms)
        y = mine["value"] * (1 if ind.unit == PER_100 else scale)
        fig.add_scatter(x=labels, y=y, mode="lines+markers", name=names.get(urn, urn), showlegend=not quiet,
                        line=dict(color=QUIET if quiet else SERIES[k % len(SERIES)], width=1.2 if quiet else 2.5),
                        marker=dict(size=5 if quiet else 8,
                                    symbol=["circle", "square", "diamond", "triangle-up", "x"][k % 5]),
                        connectgaps=False,
                        hovertemplate="%{x}: %{y:.1f}" + ("" if ind.unit == PER_100 else "%") + "<extra>%{fullData.name}</extra>")
    trust = pooled.set_index("term_index").reindex(terms)["value"] * (1 if ind.unit == PER_100 else scale)
    fig.add_scatter(x=labels, y=trust, mode="lines+markers", name="Trust", line=dict(color=TRUST, width=4),
                    marker=dict(size=9, symbol="square"))
    if england is not None:
        fig.add_scatter(x=labels, y=[england * (1 if ind.unit == PER_100 else scale)] * len(labels), mode="lines",
                        name="England", line=dict(color=ENGLAND, dash="longdash", width=2))
    fig.update_layout(**layout(f"{ind.label}, term by term", height=400, legend=dict(orientation="h", y=-0.18)))
    fig.update_yaxes(title=ind.unit if ind.unit == PER_100 else "%", rangemode="tozero", gridcolor=GRID)
    table = pd.DataFrame({"Term": labels, "Trust": [fmt_value(v / (1 if ind.unit == PER_100 else scale), ind.unit)
                                                    for v in trust]})
    for urn in urns:
        mine = values[values["urn"] == urn].set_index("term_index").reindex(terms)
        hidden = mine["hidden"].fillna(False) if "hidden" in mine else pd.Series(False, index=mine.index)
        table[names.get(urn, urn)] = [
            "not shown" if h else f"{fmt_value(v, ind.unit)} ({n:.0f} of {d:.0f})" if pd.notna(v) else "no data"
            for v, n, d, h in zip(mine["value"], mine["numerator"], mine["denominator"], hidden)
        ]
    return Chart(fig, table, _summary(ind, trust, labels))


def _summary(ind, trust: pd.Series, labels: list[str]) -> str:
    known = [(lab, v) for lab, v in zip(labels, trust) if pd.notna(v)]
    if len(known) < 2:
        return f"{ind.label}: not enough terms yet to show a trend."
    (first_l, first), (last_l, last) = known[0], known[-1]
    unit = " per 100" if ind.unit == PER_100 else "%"
    word = "rose" if last > first else "fell" if last < first else "held"
    return f"{ind.label} across the trust {word} from {first:.1f}{unit} in {first_l} to {last:.1f}{unit} in {last_l}."
