"""The theme heatmap: schools down the side, SCR themes across. A cell is one school in one theme:
its colour the most serious gap found there, its text the number of gaps of each kind."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import plotly.graph_objects as go

from analysis.themes import THEMES
from charts import Chart, laid_out
from charts.format import axis_labels, chart_text, plural, two_lines
from charts.palette import SEVERITY_COLOUR, SEVERITY_SYMBOL, SEVERITY_WORD, layout, text_on

LEVELS = ["clear", "note", "amber", "red", "no data"]  # the order of the colour scale
KINDS = ("red", "amber", "note")  # the kinds of gap a cell counts, most serious first
NOUNS = {"red": ("red gap", "red gaps"), "amber": ("amber gap", "amber gaps"), "note": ("question", "questions")}
LINE_LIMIT = 17  # characters of each of the two lines of a school's name down the side: five themes fit at 200% zoom
SHOWN = 4  # findings listed in a cell's hover


def _level(gaps: list[tuple[str, str]], returned: bool) -> str:
    """A cell's colour: its most serious gap; no gap, or no data where nothing was returned."""
    found = {severity for severity, _ in gaps}
    return next((kind for kind in KINDS if kind in found), "clear" if returned else "no data")


def _findings(gaps: list[tuple[str, str]], level: str, absent: str) -> str:
    """The hover's lines under its heading: the findings, or why there are none."""
    if level == "no data":
        return absent
    if not gaps:
        return "No gap found"
    lines = [f"• {chart_text(finding)}" for _, finding in gaps[:SHOWN]]
    more = len(gaps) - SHOWN
    return "<br>".join(lines + ([f"…and {more} more"] if more > 0 else []))


def _by_cell(gaps: pd.DataFrame) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Each (school, theme)'s gaps as (severity, finding), in the gap list's order: one pass over
    the gaps instead of a filter per cell, which a trust of a thousand schools would feel."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    if gaps.empty:
        return out
    for urn, theme, severity, finding in zip(*(gaps[c].tolist() for c in ("urn", "theme", "severity", "finding"))):
        out.setdefault((urn, theme), []).append((severity, finding))
    return out


def counts_in_words(counts: Counter) -> str:
    """"1 red gap, 2 amber gaps, 4 questions": every kind found, most serious first."""
    return ", ".join(plural(counts[kind], *NOUNS[kind]) for kind in KINDS if counts.get(kind))


def cell_text(level: str, counts: Counter, empty: str) -> str:
    """What a cell says, short enough for a cell at 200% zoom: "✖ 2 ▲ 1", "✔ No gap", "– No data"."""
    if level == "clear":
        return f"{SEVERITY_SYMBOL['clear']} {SEVERITY_WORD['clear']}"
    if level == "no data":
        return f"{SEVERITY_SYMBOL['no data']} {empty}"
    return " ".join(f"{SEVERITY_SYMBOL[kind]}\u00a0{counts[kind]}" for kind in KINDS if counts.get(kind))


def cell_words(level: str, counts: Counter, empty: str) -> str:
    """What a cell holds in words, for the table beside the chart: "✖ 2 red gaps, 1 amber gap"."""
    if level in ("clear", "no data"):
        return cell_text(level, counts, empty)
    return f"{SEVERITY_SYMBOL[level]} {counts_in_words(counts)}"


def _most_serious(rows: list[list[tuple]], most: int) -> list[int]:
    """The places in ``rows`` of the ``most`` schools whose gaps are the most serious, in their
    order there: red in the most themes first, then amber, then questions, then the most gaps; a
    tie goes to the school first in the list (by name)."""
    def weight(i: int) -> tuple:
        levels = Counter(c[0] for c in rows[i])
        return (*(-levels[kind] for kind in KINDS), -sum(sum(c[2].values()) for c in rows[i]), i)
    return sorted(sorted(range(len(rows)), key=weight)[:most])


def theme_heatmap(gaps: pd.DataFrame, schools: pd.DataFrame, returned: set[str], *,
                  not_yet_due: bool = False, most: int | None = None) -> Chart:
    """``gaps``: the gap frame for one term; ``schools``: urn, name of every school expected;
    ``not_yet_due``: the term's deadline has not passed, so a return not in is grey, not a gap;
    ``most``: at most this many schools, those whose gaps are the most serious (a map a trustee
    can read, and a browser draw at once, however large the trust; the gap list has the rest)."""
    absent = "Return not yet due" if not_yet_due else "No return for this term"
    empty = "Not yet due" if not_yet_due else SEVERITY_WORD["no data"]
    themes = list(THEMES)
    ordered = schools.sort_values("name")
    by_cell = _by_cell(gaps)
    rows = []  # each school's cells: (level, findings for the hover, gaps counted by kind, its words)
    for s in ordered.itertuples():
        row = []
        for t in themes:
            found = by_cell.get((s.urn, t.id), [])
            # a missing return is the oversight theme's own gap, once it is due
            level = _level(found, s.urn in returned or (t.id == "oversight" and not not_yet_due))
            counted = Counter(severity for severity, _ in found)
            row.append((level, _findings(found, level, absent), counted, cell_text(level, counted, empty)))
        rows.append(row)
    of = len(rows)
    if most is not None and of > most:
        kept = _most_serious(rows, most)
        rows, ordered = [rows[i] for i in kept], ordered.iloc[kept]
    # The side shows each name shortened (a long one would take the chart); the hover the full name.
    names = [chart_text(s.name) for s in ordered.itertuples()]
    labels = ["<br>".join(chart_text(line) for line in label.split("\n"))
              for label in axis_labels(ordered["name"], ordered["urn"], fit=lambda n, tag: two_lines(n, LINE_LIMIT, tag))]
    columns = [t.short for t in themes]
    hover = [[f"<b>{name}</b> \u2014 {t.short}" + (f": {counts_in_words(c[2])}" if c[0] in KINDS else "")
              + f"<br>{c[1]}" for t, c in zip(themes, r)] for name, r in zip(names, rows)]
    key = "   ".join(f"{SEVERITY_SYMBOL[kind]} {NOUNS[kind][1]}" for kind in KINDS)
    title = "Where the reviews' themes show a gap, by school"
    if of > len(rows):
        title = f"Where the reviews' themes show a gap: the {len(rows)} schools with the most serious"
    fig = laid_out([_cells(rows, columns, labels, hover), _texts(rows, columns, labels)], layout(
        title,
        "A cell is one school in one theme, and counts every gap found there.<br>"
        f"{key}   {SEVERITY_SYMBOL['clear']} no gap   {SEVERITY_SYMBOL['no data']} {empty.lower()}",
        height=max(300, 46 * len(rows) + 150), margin=dict(l=10, r=10, t=115, b=20), showlegend=False,
        yaxis=dict(range=[len(rows) - 0.5, -0.5], ticks="", showgrid=False, automargin=True, tickfont=dict(size=13)),
        # each axis's range set to the cells', so nothing pads the grid with empty space
        xaxis=dict(range=[-0.5, len(columns) - 0.5], side="top", ticks="", showgrid=False, automargin=True,
                   tickangle=0, tickfont=dict(size=13))))
    frame = pd.DataFrame([{"School": s.name, "URN": s.urn, **{t.short: cell_words(c[0], c[2], empty)
                                                                for t, c in zip(themes, r)}}
                          for s, r in zip(ordered.itertuples(), rows)], columns=["School", "URN", *columns])
    summary = _summary(rows, ordered, themes)
    if of > len(rows):
        summary = (f"The map shows the {len(rows)} of {of:,} schools whose gaps are the most serious: red in the "
                   "most themes first, then amber, then questions. " + summary)
    return Chart(fig, frame, summary)


def _cells(rows, columns, labels, hover) -> go.Heatmap:
    """The coloured cells, each with its hover and its words (drawn over it by ``_texts``)."""
    n = len(LEVELS)
    scale = []
    for i, level in enumerate(LEVELS):
        scale += [[i / n, SEVERITY_COLOUR[level]], [(i + 1) / n, SEVERITY_COLOUR[level]]]
    return go.Heatmap(
        z=[[LEVELS.index(c[0]) for c in r] for r in rows], x=columns, y=labels, customdata=hover,
        text=[[c[3] for c in r] for r in rows],  # each cell's words, as drawn over it
        hovertemplate="%{customdata}<extra></extra>", hoverlabel=dict(align="left"),
        colorscale=scale, zmin=-0.5, zmax=n - 0.5, showscale=False, xgap=3, ygap=3,
        _validate=False,  # a cell a school and theme: plotly's checks of each would take longer than the rest
    )


def text_layer(x: list, y: list, texts: list, fills: list[str], size: int = 14) -> go.Scatter:
    """Words over a grid's cells (one per cell, in the order given), each dark or white, whichever
    reads at 4.5:1 or more on its cell's colour. A heatmap's own text takes one colour for every
    cell, so the words are a layer of their own, which the hover passes through to the cell."""
    # a word a cell: plotly's checks of each would take longer than the rest
    font = go.scatter.Textfont(size=size, color=[text_on(f) for f in fills], _validate=False)
    return go.Scatter(x=x, y=y, mode="text", text=texts, textfont=font, hoverinfo="skip", showlegend=False,
                      _validate=False)


def _texts(rows, columns, labels) -> go.Scatter:
    cells = [(column, label, c) for label, r in zip(labels, rows) for column, c in zip(columns, r)]
    return text_layer([column for column, _, _ in cells], [label for _, label, _ in cells],
                      [c[3] for _, _, c in cells], [SEVERITY_COLOUR[c[0]] for _, _, c in cells], size=13)


def listed(items: list[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _most(counted: dict[str, int], noun: tuple[str, str], who: str, limit: int = 3) -> str:
    """"Pellow Ridge Academy (3 themes)", "A and B (2 themes each)", or "4 schools (1 theme each)":
    every name tied for the highest count, or how many when there are too many."""
    top = max(counted.values())
    leaders = sorted(name for name, k in counted.items() if k == top)
    what = plural(top, *noun) + ("" if len(leaders) == 1 else " each")
    return f"{listed(leaders) if len(leaders) <= limit else plural(len(leaders), who)} ({what})"


def _summary(rows, schools, themes) -> str:
    """How many gaps of each kind, in how many cells; where the red cells gather. The Overview's
    headline counts gaps and the heatmap shows cells, so the sentence gives both."""
    cells = len(rows) * len(themes)
    found = []
    for kind in KINDS:
        gaps = sum(c[2].get(kind, 0) for r in rows for c in r)
        holding = sum(bool(c[2].get(kind)) for r in rows for c in r)
        if gaps:
            verb = "" if found else "falls " if gaps == 1 else "fall "
            found.append(f"{plural(gaps, *NOUNS[kind])} {verb}in " + (str(holding) if found else plural(holding, "cell")))
    text = (f"{plural(len(rows), 'school')} by {plural(len(themes), 'theme')} make {plural(cells, 'cell')}; a cell "
            f"is one school in one theme and can hold several gaps. "
            + (f"{listed(found)}." if found else "No gap was found."))
    by_school = {s.name: sum(c[0] == "red" for c in r) for s, r in zip(schools.itertuples(), rows)}
    by_theme = {t.short: sum(r[i][0] == "red" for r in rows) for i, t in enumerate(themes)}
    if any(by_school.values()):
        text += (" Schools with red in the most themes: "
                 f"{_most({k: v for k, v in by_school.items() if v}, ('theme', 'themes'), 'school')}."
                 " Themes with red at the most schools: "
                 f"{_most({k: v for k, v in by_theme.items() if v}, ('school', 'schools'), 'theme')}.")
    return text
