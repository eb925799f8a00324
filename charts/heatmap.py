"""The theme heatmap: schools down the side, SCR themes across, each cell the worst gap found."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from analysis.themes import THEMES
from charts import Chart
from charts.format import axis_labels, chart_text
from charts.palette import SEVERITY_COLOUR, SEVERITY_SYMBOL, SEVERITY_WORD, layout

LEVELS = ["clear", "note", "amber", "red", "no data"]  # the order of the colour scale


def _cell(gaps: list[tuple[str, str]], returned: bool, absent: str) -> tuple[str, str]:
    """(level, hover text) for one school and theme, from its gaps' (severity, finding) in order;
    ``absent`` says why there is nothing for a school that has not returned."""
    if not gaps:
        return ("clear", "No gap found") if returned else ("no data", absent)
    found = {severity for severity, _ in gaps}
    for level in ("red", "amber", "note"):
        if level in found:
            lines = [f"• {chart_text(finding)}" for _, finding in gaps[:4]]
            more = len(gaps) - 4
            return level, "<br>".join(lines + ([f"…and {more} more"] if more > 0 else []))
    return "clear", "No gap found"


def _by_cell(gaps: pd.DataFrame) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Each (school, theme)'s gaps as (severity, finding), in the gap list's order: one pass over
    the gaps instead of a filter per cell, which a trust of a thousand schools would feel."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if gaps.empty:
        return out
    for urn, theme, severity, finding in zip(gaps["urn"], gaps["theme"], gaps["severity"], gaps["finding"]):
        out.setdefault((urn, theme), []).append((severity, finding))
    return out


def theme_heatmap(gaps: pd.DataFrame, schools: pd.DataFrame, returned: set[str], *,
                  not_yet_due: bool = False) -> Chart:
    """``gaps``: the gap frame for one term; ``schools``: urn, name of every school expected;
    ``not_yet_due``: the term's deadline has not passed, so a return not in is grey, not a gap."""
    absent = "Return not yet due" if not_yet_due else "No return for this term"
    empty = "Not yet due" if not_yet_due else SEVERITY_WORD["no data"]
    themes = [t for t in THEMES]
    rows, table = [], []
    ordered = schools.sort_values("name")
    cells = _by_cell(gaps)
    for s in ordered.itertuples():
        row = []
        for t in themes:
            theme_gaps = cells.get((s.urn, t.id), [])
            # a missing return is the oversight theme's own gap, once it is due
            level, hover = _cell(theme_gaps, s.urn in returned or (t.id == "oversight" and not not_yet_due), absent)
            row.append((level, hover, Counter(severity for severity, _ in theme_gaps)))
        rows.append(row)
        table.append({"School": s.name, "URN": s.urn,
                      **{t.short: _label(c[0], c[2], empty) for t, c in zip(themes, row)}})
    z = [[LEVELS.index(c[0]) for c in r] for r in rows]
    text = [[_label(c[0], c[2], empty) for c in r] for r in rows]
    # The side shows each name shortened (a long one would take the chart); the hover the full name.
    names = [chart_text(s.name) for s in ordered.itertuples()]
    hover = [[f"<b>{name}</b> \u2014 {t.short}<br>{c[1]}" for t, c in zip(themes, r)] for name, r in zip(names, rows)]
    labels = [chart_text(label) for label in axis_labels(ordered["name"], ordered["urn"])]
    n = len(LEVELS)
    scale = []
    for i, level in enumerate(LEVELS):
        scale += [[i / n, SEVERITY_COLOUR[level]], [(i + 1) / n, SEVERITY_COLOUR[level]]]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[t.short for t in themes], y=labels,
            text=text, texttemplate="%{text}", textfont=dict(size=14), customdata=hover,
            hovertemplate="%{customdata}<extra></extra>", hoverlabel=dict(align="left"),
            colorscale=scale, zmin=-0.5, zmax=n - 0.5, showscale=False, xgap=3, ygap=3,
        )
    )
    fig.update_layout(**layout("Where the reviews' themes show a gap, by school",
                               height=max(260, 46 * len(rows) + 120)))
    fig.update_yaxes(autorange="reversed", ticks="", showgrid=False, automargin=True)
    fig.update_xaxes(side="top", ticks="", showgrid=False, automargin=True)
    frame = pd.DataFrame(table, columns=["School", "URN", *[t.short for t in themes]])
    return Chart(fig, frame, _summary(rows, ordered, themes))


def _label(level: str, counts: dict, empty: str = SEVERITY_WORD["no data"]) -> str:
    """A cell's words: its symbol and counts of gaps, or ``empty`` where the school has not returned."""
    if level in ("clear", "no data"):
        return f"{SEVERITY_SYMBOL[level]} {SEVERITY_WORD[level] if level == 'clear' else empty}"
    parts = [f"{counts[lv]} {SEVERITY_WORD[lv].lower()}" for lv in ("red", "amber", "note") if counts.get(lv)]
    return f"{SEVERITY_SYMBOL[level]} " + ", ".join(parts)


def _summary(rows, schools, themes) -> str:
    reds = sum(1 for r in rows for c in r if c[0] == "red")
    ambers = sum(1 for r in rows for c in r if c[0] == "amber")
    worst = [(s.name, sum(1 for c in r if c[0] == "red")) for s, r in zip(schools.itertuples(), rows)]
    worst = [w for w in sorted(worst, key=lambda w: -w[1]) if w[1] > 0][:3]
    lead = f"Across {len(rows)} schools and {len(themes)} themes, {reds} cells show a red gap and {ambers} an amber one."
    if worst:
        lead += " Most red themes: " + "; ".join(f"{n} ({k})" for n, k in worst) + "."
    return lead
