"""A funnel plot for one indicator and term: each school's value against its size, inside the
range chance alone would give around its comparison group's figure (the trust's schools of its
phase, the whole trust, or England's schools of its phase where the trust has too few).

Made to be read on paper as well as on screen: a line above the plot says how to read it, every
kind of marker is in the legend, and schools are named beside their markers (every school, up to
15; past that the schools outside the expected range and the one chosen).

On a phone (``narrow``) there is room for neither: plotly cannot wrap a title, and a dozen names
cannot sit clear of each other in under 300 pixels. The narrow form leaves the title and the line
on how to read it to the page, as text that wraps (``Chart.title``, ``Chart.reading``), and names
only the schools outside the expected range and the one chosen."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.compare import ALONE, is_england, yardstick
from analysis.compare import TRUST as WHOLE_TRUST
from analysis.funnel import drawn_limits
from analysis.indicators import HIGHER_BETTER, INDICATORS_BY_ID, PER_100
from charts import Chart
from charts.format import axis_labels, chart_text, fmt_count, fmt_value, plural
from charts.labels import Plot, place, text_width
from charts.palette import AMBER, ENGLAND, GREEN, GREEN_EDGE, GROUP_LINES, HIGHER, INK, LOWER, RED, TRUST, layout

POSITION_WORDS = {
    "above_998": "well above the expected range",
    "above_95": "above the expected range",
    "within": "within the expected range",
    "below_95": "below the expected range",
    "below_998": "well below the expected range",
    "": "not compared",
}
NAME_ALL = 15  # up to this many schools, every one is named on the plot
NAME_LIMIT = 26  # characters of a school's name beside its marker
HEIGHT, TOP, BOTTOM, LEFT, RIGHT = 610, 135, 190, 75, 10
# The plot's width in pixels on a laptop at 200% zoom, and at 100% (and in the printed pack):
# names are placed so that they are clear of each other at both, and so at every width between.
WIDTHS = (560.0, 930.0)
# The narrow form's plot, on a screen from 320 to 640 pixels wide (ui.look.NARROW), less the page's
# padding and the axis: its height, and the same for a name and a row of the legend below it.
NARROW_WIDTHS = (210.0, 530.0)
NARROW_PLOT, NARROW_TOP, AXIS_TITLE, LEGEND_ROW = 300, 12, 75, 20


def _style(position: str, polarity: str) -> tuple[str, str, str, str]:
    """(colour, outline, marker symbol, legend words): traffic lights only when the indicator has a
    polarity. A school not placed (no yardstick like it) is a grey open diamond, so it never reads
    as within a group's lines it happens to sit beside."""
    if not position:
        return ENGLAND, ENGLAND, "diamond-open", "Not compared"
    if position == "within":
        return INK, INK, "circle-open", "Within the expected range"
    high = position.startswith("above")
    side = "Above the expected range" if high else "Below the expected range"
    symbol = "triangle-up" if high else "triangle-down"
    if polarity == "none":
        return (HIGHER, HIGHER, symbol, side) if high else (LOWER, LOWER, symbol, side)
    if high == (polarity == HIGHER_BETTER):
        return GREEN, GREEN_EDGE, symbol, f"{side}: better"
    if position.endswith("998"):
        return RED, RED, "x", f"Well {side.lower()}: worse"
    return AMBER, AMBER, "x", f"{side}: worse"


def funnel_plot(rows: pd.DataFrame, names: dict[str, str], indicator: str, england: float | None = None,
                chosen: str | None = None, *, narrow: bool = False) -> Chart:
    """``rows``: compared values of one indicator and term (analysis.compare output); ``chosen``:
    a school's URN, named and marked whatever the number of schools; ``narrow``: the form for a
    phone (see the module's note). The lines are the funnel's limits from the same function that
    placed each school, drawn through every school's own base, so a school is drawn beyond a line
    exactly when it is called beyond it."""
    ind = INDICATORS_BY_ID[indicator]
    data = rows.dropna(subset=["value", "denominator"])
    data = data[data["denominator"] > 0]
    trust = float(data["trust"].iloc[0]) if len(data) and pd.notna(data["trust"].iloc[0]) else None
    positions = data["position"].fillna("") if "position" in data else pd.Series("", index=data.index)
    placed = trust is not None and positions.ne("").any()
    groups = data.get("group", pd.Series("", index=data.index)).fillna("")
    lines = _group_lines(data, groups, ind.unit) if placed else []
    shapes, notes = [], []
    if trust is not None:
        _level_line(shapes, notes, trust, dict(color=TRUST, width=2), f"Trust {fmt_value(trust, ind.unit)}", above=True)
    if england is not None:
        _level_line(shapes, notes, england, dict(color=ENGLAND, width=2, dash="longdash"),
                    f"England {fmt_value(england, ind.unit)}", above=False)
    styles = [_style(p, ind.polarity) for p in positions]
    plot = _plot(data, lines, [trust, england], ind.unit, narrow)
    everyone = len(data) <= NAME_ALL and not narrow
    named = _named(data, positions, chosen, everyone)
    labels = axis_labels([names.get(u, u) for u in data["urn"]], list(data["urn"]), NAME_LIMIT)
    texts = [(f"<b>{chart_text(label)}</b>" if urn == chosen else chart_text(label)) if show else ""
             for label, urn, show in zip(labels, data["urn"], named)]
    notes += place(list(zip(data["denominator"].astype(float), data["value"].astype(float))), texts, plot,
                   _obstacles(plot, [(trust, True, notes[0]["text"]) if trust is not None else None,
                                     (england, False, notes[-1]["text"]) if england is not None else None]))
    # the schools last: the legend's entries and the lines are drawn beneath them
    traces = [t for t, _ in lines] + _keys(styles, trust is not None, england is not None)
    traces.append(_points(data, names, positions, styles, ind.unit, trust is not None, chosen))
    title = f"{ind.label}: each school against " + ("schools of its phase" if any(
        g not in (WHOLE_TRUST, ALONE, "") for g in groups) else "the trust")
    reading = _reading(ind.unit, groups[positions.ne("")] if placed else None, everyone, chosen in set(data["urn"]),
                       positions.isin(["", "within"]).all())
    if narrow:  # the page says the title and how to read it; the legend below has a row an entry
        legend_rows = sum(t.get("showlegend", True) for t in traces if t.get("name") != "Schools")
        top, bottom = NARROW_TOP, AXIS_TITLE + LEGEND_ROW * legend_rows
        heading, height = ("", ""), NARROW_PLOT + top + bottom
        extra = dict(meta=dict(title=title))  # what the figure is, for a program reading it
    else:
        top, bottom = TOP, BOTTOM
        heading, height = (title, "<br>".join(textwrap.wrap(reading, 78))), HEIGHT
        extra = {}
    # the whole figure handed over at once: far cheaper than adding its parts one by one
    fig = go.Figure(data=traces, layout=layout(
        *heading, height=height, margin=dict(l=LEFT, r=RIGHT, t=top, b=bottom),
        # at the foot of the figure, whatever its width, so the plot keeps the height names are placed for
        legend=dict(orientation="h", xref="container", yref="container", x=0, y=0.01, xanchor="left",
                    yanchor="bottom", font=dict(size=12), traceorder="normal"),
        shapes=shapes, annotations=notes,
        xaxis=dict(title=dict(text="Size of school (pupils on roll)" if ind.unit == PER_100 else
                              "Children or staff counted"), gridcolor="#eee", range=list(plot.x_range)),
        yaxis=dict(title=dict(text=ind.unit if ind.unit == PER_100 else "share"), gridcolor="#eee",
                   tickformat=".0%" if ind.unit != PER_100 else None, range=list(plot.y_range)),
        **extra,
    ))
    return Chart(fig, _table(rows, names, ind, indicator), _summary(ind, data, names, trust), title, reading)


def _named(data: pd.DataFrame, positions: pd.Series, chosen: str | None, everyone: bool) -> list[bool]:
    """Which schools are named on the plot: all of them when ``everyone``; otherwise those outside
    the expected range and the one chosen."""
    if everyone:
        return [True] * len(data)
    return [p not in ("", "within") or u == chosen for u, p in zip(data["urn"], positions)]


def _reading(unit: str, groups: pd.Series | None, everyone: bool, chosen: bool, none_outside: bool) -> str:
    """The line above the plot that says how to read it, and which schools it names."""
    text = "Each marker is a school; " + ("bigger schools sit further right. " if unit == PER_100 else
                                          "the more children or staff it counted, the further right. ")
    if groups is None:
        text += "No expected range can be drawn here, so no school is compared."
    else:
        kinds = set(groups)
        figure = "the trust's figure" if kinds == {WHOLE_TRUST} else \
            "the figure for schools like it" if WHOLE_TRUST not in kinds else "the figure it is compared with"
        text += (f"A school outside the shaded band (the expected range) is further from {figure} "
                 "than chance alone would explain.")
    if everyone:
        return text
    if groups is None:
        named = " The school chosen is named" if chosen else ""
    elif none_outside:
        named = " No school is outside the expected range, so " + ("only the one chosen is named" if chosen else
                                                                    "none is named")
    else:
        named = " Schools outside the expected range are named" + (", and the one chosen in bold" if chosen else "")
    return text + (f"{named}; every school is in the table." if named else " Every school is in the table.")


def _group_lines(data: pd.DataFrame, groups: pd.Series, unit: str) -> list[tuple[dict, str]]:
    """(trace, group) for each limit line of each comparison group, the band between its 95% lines
    shaded."""
    found = sorted(g for g in groups.unique() if g and g != ALONE and data.loc[groups == g, "target"].notna().any()) \
        if "target" in data else []
    out = []
    for k, group in enumerate(found):
        part = data[groups == group]
        colour = ENGLAND if len(found) == 1 else GROUP_LINES[k % len(GROUP_LINES)]
        who = "" if len(found) == 1 else ("The trust" if group == WHOLE_TRUST else group) + ": "
        for meta, (xs, ys), dash, word in _limit_lines(float(part["target"].iloc[0]), float(part["spread"].iloc[0]),
                                                       part["denominator"].to_numpy(dtype=float), unit):
            word = who + (word if who == "" else word[0].lower() + word[1:])
            band = meta == "upper_95"
            out.append((dict(type="scatter", x=xs, y=ys, mode="lines", meta=f"{group}|{meta}",
                             line=dict(color=colour, dash=dash, width=1.5), name=word,
                             showlegend=meta.startswith("upper"), hoverinfo="skip", legendrank=20 + k,
                             **(dict(fill="tonexty", fillcolor=_tint(colour)) if band else {})), group))
    return out


def _tint(colour: str) -> str:
    r, g, b = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},0.09)"


def _limit_lines(target: float, spread: float, bases: np.ndarray, unit: str):
    """(meta, (x, y), dash, legend word) for each of the four limit lines of one comparison group,
    over its schools' bases: closely spaced where the funnel bends (small bases), and through
    every school's own base."""
    low, high = max(1.0, bases.min() * 0.8), bases.max() * 1.1
    grid = np.union1d(np.union1d(np.geomspace(low, high, 100), np.linspace(low, high, 60)), bases)
    per_100 = unit == PER_100
    for level, tag, dash, word in ((0.95, "95", "dash", "Expected range (95%)"),
                                   (0.998, "998", "dot", "Well outside (99.8%)")):
        lo, hi = drawn_limits(np.full(grid.shape, target), grid, level, per_100, spread)
        yield f"lower_{tag}", (grid, lo), dash, word
        yield f"upper_{tag}", (grid, hi), dash, word


def _keys(styles: list[tuple], trust: bool, england: bool) -> list[dict]:
    """The legend's entries for each kind of marker drawn, and the trust's and England's lines:
    traces with no point (``meta`` "key"), so each kind is named once however many schools."""
    order = ["Within the expected range", "Above the expected range", "Above the expected range: better",
             "Above the expected range: worse", "Well above the expected range: worse", "Below the expected range",
             "Below the expected range: better", "Below the expected range: worse",
             "Well below the expected range: worse", "Not compared"]
    kinds = {s[3]: s for s in styles}
    out = [dict(type="scatter", x=[None], y=[None], mode="markers", name=word, meta="key", hoverinfo="skip",
                legendrank=order.index(word), marker=dict(size=12, color=colour, symbol=symbol,
                                                          line=dict(width=2, color=edge)))
           for word, (colour, edge, symbol, _) in sorted(kinds.items(), key=lambda k: order.index(k[0]))]
    for shown, word, line in ((trust, "Trust's figure", dict(color=TRUST, width=2)),
                              (england, "England's figure", dict(color=ENGLAND, width=2, dash="longdash"))):
        if shown:
            out.append(dict(type="scatter", x=[None], y=[None], mode="lines", name=word, meta="key",
                            hoverinfo="skip", legendrank=15, line=line))
    return out


def _points(data, names, positions, styles, unit: str, shown: bool, chosen: str | None) -> dict:
    """The schools: one trace, each marker styled by where it sits, each hover naming its school."""
    per_100 = unit == PER_100
    return dict(
        type="scatter", x=data["denominator"].to_numpy(), y=data["value"].to_numpy(), mode="markers",
        marker=dict(size=[16 if u == chosen else 12 for u in data["urn"]], color=[s[0] for s in styles],
                    symbol=[s[2] for s in styles], line=dict(width=2, color=[s[1] for s in styles])),
        customdata=np.stack([[chart_text(names.get(u, u)) for u in data["urn"]], data["numerator"],
                             [POSITION_WORDS[p] for p in positions], positions.to_numpy(dtype=object),
                             _chance_range(data, unit, shown), data.get("group", pd.Series(
                                 "", index=data.index)).fillna("").to_numpy(dtype=object)],
                            axis=-1) if len(data) else None,
        hovertemplate="<b>%{customdata[0]}</b><br>" + ("%{y:.1f} per 100" if per_100 else "%{y:.0%}")
                      + " (%{customdata[1]:,.0f} of %{x:,.0f})<br>%{customdata[2]}%{customdata[4]}<extra></extra>",
        name="Schools", showlegend=False,
    )


def _plot(data: pd.DataFrame, lines: list, levels: list, unit: str, narrow: bool) -> Plot:
    """The axes' ranges, taking in every point, line and level drawn, and the plot's size in
    pixels, narrowest and widest."""
    xs = [*data["denominator"].astype(float)] + [v for t, _ in lines for v in t["x"]]
    ys = [*data["value"].astype(float)] + [v for t, _ in lines for v in t["y"]] + [v for v in levels if v is not None]
    xs, ys = [v for v in xs if np.isfinite(v)] or [0.0, 1.0], [v for v in ys if np.isfinite(v)] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = (0.0 if unit == PER_100 else min(ys)), max(ys)
    dx, dy = (x1 - x0) or max(x1, 1.0), (y1 - y0) or max(abs(y1), 0.01)
    y0 = y0 if unit == PER_100 else y0 - 0.05 * dy
    size = (NARROW_WIDTHS, NARROW_PLOT) if narrow else (WIDTHS, HEIGHT - TOP - BOTTOM)
    return Plot(*size, (x0 - 0.05 * dx, x1 + 0.05 * dx), (y0, y1 + 0.08 * dy))


def _obstacles(plot: Plot, levels: list) -> list:
    """The boxes of the trust's and England's labels, at the right end of their lines, each as a
    function of the plot's width."""
    out = []
    for level in levels:
        if level is None:
            continue
        y, above, text = level
        _, py = plot.pixel(plot.x_range[0], y, plot.widths[0])
        top, bottom = (py - 20, py) if above else (py, py + 20)
        wide = text_width(text) * 14 / 12  # its font is the figure's, 14 px
        out.append(lambda w, wide=wide, top=top, bottom=bottom: (w - wide, top, w, bottom))
    return out


def _table(rows: pd.DataFrame, names: dict[str, str], ind, indicator: str) -> pd.DataFrame:
    listed = rows[rows["denominator"].gt(0) | rows.get("hidden", pd.Series(False, index=rows.index))]
    notes = {c: listed.get(f"{c}_note", pd.Series("", index=listed.index)).fillna("")
             for c in ("numerator", "denominator")}
    return pd.DataFrame({
        "School": [names.get(u, u) for u in listed["urn"]],
        "Count": [n or fmt_count(v) for v, n in zip(listed["numerator"], notes["numerator"])],
        "Base": [n or fmt_count(v) for v, n in zip(listed["denominator"], notes["denominator"])],
        "Value": ["not shown" if (n or d) else fmt_value(v, ind.unit)
                  for v, n, d in zip(listed["value"], notes["numerator"], notes["denominator"])],
        "Trust": [fmt_value(v, ind.unit) for v in listed["trust"]],
        "Compared with": [yardstick(g, indicator) for g in listed.get("group", pd.Series("", index=listed.index))],
        "Against the trust": [POSITION_WORDS[p] for p in listed["position"]],
    })


def _chance_range(data: pd.DataFrame, unit: str, shown: bool) -> list[str]:
    """For the hover: the expected range for a school of this size."""
    if not shown or "lower_95" not in data:
        return [""] * len(data)
    return ["" if pd.isna(lo) or pd.isna(hi) else
            f"<br>expected range for its size: {fmt_value(lo, unit)} to {fmt_value(hi, unit)}"
            for lo, hi in zip(data["lower_95"], data["upper_95"])]


def _level_line(shapes: list, notes: list, y: float, line: dict, text: str, *, above: bool) -> None:
    """A horizontal line across the plot at ``y`` with its label at the right, above or below it."""
    shapes.append(dict(type="line", xref="x domain", x0=0, x1=1, yref="y", y0=y, y1=y, line=line))
    notes.append(dict(text=text, xref="x domain", x=1, yref="y", y=y, xanchor="right",
                      yanchor="bottom" if above else "top", showarrow=False, bgcolor="rgba(255,255,255,0.85)"))


def _summary(ind, data, names, trust) -> str:
    if data.empty or trust is None:
        return f"{ind.label}: not enough returns this term to compare schools."
    out = data[data["position"].isin(["above_998", "below_998", "above_95", "below_95"])]
    pooled_from = int(data["trust_schools"].max()) if "trust_schools" in data and data["trust_schools"].notna().any() \
        else len(data)
    text = f"{ind.label}: the trust's figure is {fmt_value(trust, ind.unit)}, pooled across {plural(pooled_from, 'school')}."
    national = data[data["group"].map(is_england)] if "group" in data else data.iloc[:0]
    for r in national.itertuples():
        text += (f" {names.get(r.urn, r.urn)}, with too few schools like it in the trust, is held against "
                 f"{yardstick(r.group, ind.id)}.")
    if not data["position"].fillna("").ne("").any():
        return text + " No school is compared: there are too few schools like each other to draw an expected range."
    if out.empty:
        return text + " Every school compared is within the expected range."
    parts = [f"{names.get(r.urn, r.urn)}, {POSITION_WORDS[r.position].removesuffix(' the expected range')}"
             for r in out.itertuples()]
    return text + " Outside the expected range: " + "; ".join(parts) + "."
