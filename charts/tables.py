"""Grid charts: training and KCSIE compliance by school, and the returns tracker by term."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.views import NOT_YET_DUE
from charts import Chart, laid_out
from charts.format import chart_text, plural
from charts.heatmap import text_layer
from charts.palette import AMBER, GREEN, NO_DATA, RED, SEVERITY_SYMBOL, layout

LEVEL_COLOUR = {"red": RED, "amber": AMBER, "clear": GREEN, "no data": NO_DATA}
LEVELS = ["clear", "amber", "red", "no data"]


def _grid(z_levels, text, hover, x, y, title) -> go.Figure:
    n = len(LEVELS)
    scale = []
    for i, level in enumerate(LEVELS):
        scale += [[i / n, LEVEL_COLOUR[level]], [(i + 1) / n, LEVEL_COLOUR[level]]]
    rows = [chart_text(s) for s in y]
    cells = [(column, row, t, level) for row, texts, levels in zip(rows, text, z_levels)
             for column, t, level in zip(x, texts, levels)]
    cells_layer = go.Heatmap(
        z=[[LEVELS.index(v) for v in row] for row in z_levels], x=x, y=rows,
        text=[[chart_text(t) for t in row] for row in text],  # each cell's words, as drawn over it
        customdata=[[chart_text(h) for h in row] for row in hover], hovertemplate="<b>%{y}</b> — %{x}<br>%{customdata}<extra></extra>",
        colorscale=scale, zmin=-0.5, zmax=n - 0.5, showscale=False, xgap=3, ygap=3)
    words = text_layer([c[0] for c in cells], [c[1] for c in cells], [chart_text(c[2]) for c in cells],
                       [LEVEL_COLOUR[c[3]] for c in cells], size=13)
    return laid_out([cells_layer, words], layout(
        title, height=max(260, 44 * len(y) + 150), margin=dict(l=10, r=10, t=110, b=20),
        yaxis=dict(autorange="reversed", showgrid=False, automargin=True),
        xaxis=dict(side="top", showgrid=False, tickangle=0, automargin=True)))


def _pivot(cells: pd.DataFrame, across: str, hover: str, empty: str):
    """Schools down, ``across`` along: the levels, the cell texts (symbol and label), the hovers."""
    schools = list(dict.fromkeys(cells["school"]))
    columns = list(dict.fromkeys(cells[across]))
    found = {(r.school, getattr(r, across)): r for r in cells.itertuples()}
    z, text, tips = [], [], []
    for s in schools:
        row = [found.get((s, c)) for c in columns]
        z.append([r.level if r is not None else "no data" for r in row])
        text.append([f"{SEVERITY_SYMBOL[r.level]} {r.label}" if r is not None else "–" for r in row])
        tips.append([getattr(r, hover) if r is not None else empty for r in row])
    return schools, columns, z, text, tips


def compliance_grid(cells: pd.DataFrame) -> Chart:
    """``cells``: school, item, level (clear/amber/red/no data), label (e.g. "95%"), detail."""
    schools, items, z, text, tips = _pivot(cells, "item", "detail", "no data")
    fig = _grid(z, text, tips, items, schools, "Training and KCSIE checks, by school")
    plain = [i.replace("<br>", " ") for i in items]
    table = pd.DataFrame([[s, *row] for s, row in zip(schools, text)], columns=["School", *plain])
    reds = sum(v == "red" for row in z for v in row)
    ambers = sum(v == "amber" for row in z for v in row)
    summary = (f"{plural(len(schools), 'school')}, {plural(len(items), 'check')}: {reds} red and {ambers} amber; "
               f"the rest in date or not reported.")
    return Chart(fig, table, summary)


def returns_tracker(cells: pd.DataFrame) -> Chart:
    """``cells``: school, term_label, level (clear/amber/red, or no data for a return not yet due),
    label ("on time", "12 days late", "missing", "not yet due")."""
    schools, terms, z, text, tips = _pivot(cells, "term_label", "label", "not expected")
    fig = _grid(z, text, tips, terms, schools, "Returns received, by school and term")
    table = pd.DataFrame([[s, *row] for s, row in zip(schools, text)], columns=["School", *terms])
    last = [row[-1] for row in tips] if terms else []
    missing, late, on_time = last.count("missing"), sum(w.endswith("late") for w in last), last.count("on time")
    waiting = last.count(NOT_YET_DUE)
    done, expected = on_time + late, on_time + late + missing + waiting
    summary = (f"For {terms[-1] if terms else 'this term'}: {done} of {plural(expected, 'school')} expected "
               f"{'has' if done == 1 else 'have'} returned, {late} late, "
               + (f"{waiting} {NOT_YET_DUE}." if waiting else f"{missing} missing."))
    return Chart(fig, table, summary)
