"""A funnel plot for one indicator and term: each school's value against its size, inside the
limits chance alone would give around its comparison group's figure (the trust's schools of its
phase, the whole trust, or England's schools of its phase where the trust has too few)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.compare import ALONE, TRUST as WHOLE_TRUST, is_england, yardstick
from analysis.funnel import drawn_limits
from analysis.indicators import HIGHER_BETTER, INDICATORS_BY_ID, PER_100
from charts import Chart
from charts.format import chart_text, fmt_count, fmt_value
from charts.palette import AMBER, ENGLAND, GREEN, HIGHER, INK, LOWER, RED, SERIES, TRUST, layout

POSITION_WORDS = {
    "above_998": "well above the expected range (99.8%)",
    "above_95": "above the expected range (95%)",
    "within": "within the range chance alone gives",
    "below_95": "below the expected range (95%)",
    "below_998": "well below the expected range (99.8%)",
    "": "not compared",
}


def _style(position: str, polarity: str) -> tuple[str, str]:
    """(colour, marker symbol): traffic lights only when the indicator has a polarity. A school not
    placed (no yardstick like it) is a grey open diamond, so it never reads as within a group's lines
    it happens to sit beside."""
    if not position:
        return ENGLAND, "diamond-open"
    if position == "within":
        return INK, "circle-open"
    high = position.startswith("above")
    if polarity == "none":
        return (HIGHER, "triangle-up") if high else (LOWER, "triangle-down")
    good = high == (polarity == HIGHER_BETTER)
    if good:
        return GREEN, "triangle-up" if high else "triangle-down"
    return (RED if position.endswith("998") else AMBER), "x"


def funnel_plot(rows: pd.DataFrame, names: dict[str, str], indicator: str, england: float | None = None) -> Chart:
    """``rows``: compared values of one indicator and term (analysis.compare output). The lines are
    the funnel's limits from the same function that placed each school, drawn through every
    school's own base, so a school is drawn beyond a line exactly when it is called beyond it."""
    ind = INDICATORS_BY_ID[indicator]
    data = rows.dropna(subset=["value", "denominator"])
    data = data[data["denominator"] > 0]
    trust = float(data["trust"].iloc[0]) if len(data) and pd.notna(data["trust"].iloc[0]) else None
    placed = bool(len(data)) and data.get("position", pd.Series("", index=data.index)).ne("").any()
    base_word = "pupils on roll" if ind.unit == PER_100 else "children or staff counted"
    traces, shapes, notes_on_lines = [], [], []
    if trust is not None and placed:
        groups = [g for g in data.get("group", pd.Series(WHOLE_TRUST, index=data.index)).unique()
                  if g and data.loc[data["group"] == g, "target"].notna().any()] if "target" in data else []
        for k, group in enumerate(sorted(groups)):
            part = data[data["group"] == group]
            colour = ENGLAND if len(groups) == 1 else SERIES[k % len(SERIES)]
            for meta, (xs, ys), dash, word in _limit_lines(float(part["target"].iloc[0]), float(part["spread"].iloc[0]),
                                                           part["denominator"].to_numpy(dtype=float), ind.unit):
                word = word if len(groups) == 1 else f"{group}: {word}"
                traces.append(dict(type="scatter", x=xs, y=ys, mode="lines", meta=f"{group}|{meta}",
                                   line=dict(color=colour, dash=dash, width=1.5), name=word, legendgroup=word,
                                   showlegend=meta.startswith("upper"), hoverinfo="skip"))
    if trust is not None:
        _level_line(shapes, notes_on_lines, trust, dict(color=TRUST, width=2),
                    f"Trust {fmt_value(trust, ind.unit)}", above=True)
    if england is not None:
        _level_line(shapes, notes_on_lines, england, dict(color=ENGLAND, width=2, dash="longdash"),
                    f"England {fmt_value(england, ind.unit)}", above=False)
    positions = data["position"].fillna("") if "position" in data else pd.Series("", index=data.index)
    styles = [_style(p, ind.polarity) for p in positions]
    traces.append(dict(
        type="scatter", x=data["denominator"].to_numpy(), y=data["value"].to_numpy(), mode="markers+text",
        # Name only the schools outside the limits; the rest are a hover away, so labels never pile up.
        text=[chart_text(names.get(u, u)) if p not in ("", "within") else "" for u, p in zip(data["urn"], positions)],
        textposition="top center", textfont=dict(size=12),
        marker=dict(size=12, color=[s[0] for s in styles], symbol=[s[1] for s in styles], line=dict(width=2)),
        customdata=np.stack([[chart_text(names.get(u, u)) for u in data["urn"]], data["numerator"],
                             [POSITION_WORDS[p] for p in positions], positions.to_numpy(dtype=object),
                             _chance_range(data, ind.unit, trust is not None),
                             data.get("group", pd.Series("", index=data.index)).fillna("").to_numpy(dtype=object)],
                            axis=-1) if len(data) else None,
        hovertemplate="<b>%{customdata[0]}</b><br>%{y:.3g} (%{customdata[1]:.0f} of %{x:.0f})"
                      "<br>%{customdata[2]}%{customdata[4]}<extra></extra>",
        name="Schools", showlegend=False,
    ))
    # the whole figure handed over at once: far cheaper than adding its parts one by one
    fig = go.Figure(data=traces, layout=layout(
        f"{ind.label}: each school against " + ("schools of its phase" if any(
            g not in (WHOLE_TRUST, ALONE, "") for g in data.get("group", pd.Series(dtype=object)).dropna())
            else "the trust"), height=460, legend=dict(orientation="h", y=-0.2),
        margin=dict(l=75, r=10, t=60, b=110),
        shapes=shapes, annotations=notes_on_lines,
        xaxis=dict(title=dict(text=f"Size of school ({base_word})"), gridcolor="#eee"),
        yaxis=dict(title=dict(text=ind.unit if ind.unit == PER_100 else "share"), gridcolor="#eee",
                   tickformat=".0%" if ind.unit != PER_100 else None,
                   rangemode="tozero" if ind.unit == PER_100 else "normal"),
    ))
    listed = rows[rows["denominator"].gt(0) | rows.get("hidden", pd.Series(False, index=rows.index))]
    notes = {c: listed.get(f"{c}_note", pd.Series("", index=listed.index)).fillna("") for c in ("numerator",
                                                                                            "denominator")}
    table = pd.DataFrame({
        "School": [names.get(u, u) for u in listed["urn"]],
        "Count": [n or fmt_count(v) for v, n in zip(listed["numerator"], notes["numerator"])],
        "Base": [n or fmt_count(v) for v, n in zip(listed["denominator"], notes["denominator"])],
        "Value": ["not shown" if (n or d) else fmt_value(v, ind.unit)
                  for v, n, d in zip(listed["value"], notes["numerator"], notes["denominator"])],
        "Trust": [fmt_value(v, ind.unit) for v in listed["trust"]],
        "Compared with": [yardstick(g, indicator) for g in listed.get("group", pd.Series("", index=listed.index))],
        "Against the trust": [POSITION_WORDS[p] for p in listed["position"]],
    })
    return Chart(fig, table, _summary(ind, data, names, trust))


def _limit_lines(target: float, spread: float, bases: np.ndarray, unit: str):
    """(meta, (x, y), dash, legend word) for each of the four limit lines of one comparison group,
    over its schools' bases: closely spaced where the funnel bends (small bases), and through
    every school's own base."""
    low, high = max(1.0, bases.min() * 0.8), bases.max() * 1.1
    grid = np.union1d(np.union1d(np.geomspace(low, high, 100), np.linspace(low, high, 60)), bases)
    per_100 = unit == PER_100
    for level, tag, dash, word in ((0.95, "95", "dash", "95% limits"), (0.998, "998", "dot", "99.8% limits")):
        lo, hi = drawn_limits(np.full(grid.shape, target), grid, level, per_100, spread)
        yield f"lower_{tag}", (grid, lo), dash, word
        yield f"upper_{tag}", (grid, hi), dash, word


def _chance_range(data: pd.DataFrame, unit: str, shown: bool) -> list[str]:
    """For the hover: the range chance alone gives a school of this size, 95% of the time."""
    if not shown or "lower_95" not in data:
        return [""] * len(data)
    return ["" if pd.isna(lo) or pd.isna(hi) else
            f"<br>chance alone, 95% of the time: {fmt_value(lo, unit)} to {fmt_value(hi, unit)}"
            for lo, hi in zip(data["lower_95"], data["upper_95"])]


def _level_line(shapes: list, notes: list, y: float, line: dict, text: str, *, above: bool) -> None:
    """A horizontal line across the plot at ``y`` with its label at the right, above or below it."""
    shapes.append(dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=y, y1=y, line=line))
    notes.append(dict(text=text, xref="x domain", x=1, yref="y", y=y, xanchor="right",
                      yanchor="bottom" if above else "top", showarrow=False))


def _summary(ind, data, names, trust) -> str:
    if data.empty or trust is None:
        return f"{ind.label}: not enough returns this term to compare schools."
    out = data[data["position"].isin(["above_998", "below_998", "above_95", "below_95"])]
    pooled_from = int(data["trust_schools"].max()) if "trust_schools" in data and data["trust_schools"].notna().any() \
        else len(data)
    text = f"{ind.label}: the trust's figure is {fmt_value(trust, ind.unit)}, pooled across {pooled_from} schools."
    national = data[data["group"].map(is_england)] if "group" in data else data.iloc[:0]
    for r in national.itertuples():
        text += (f" {names.get(r.urn, r.urn)}, with too few schools like it in the trust, is held against "
                 f"{yardstick(r.group, ind.id)}.")
    if out.empty:
        return text + " Every school is within the range chance alone would give."
    parts = [f"{names.get(r.urn, r.urn)} {POSITION_WORDS[r.position].split(' (')[0]}" for r in out.itertuples()]
    return text + " Outside the 95% limits: " + "; ".join(parts) + "."
