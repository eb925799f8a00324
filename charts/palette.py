"""One palette for every figure, safe for colour-blind readers and legible in black and white.

Colours come from the Okabe-Ito set. Red, amber and green appear only on indicators with a
polarity, and always with a word or symbol beside them; indicators without a polarity use blue
for "higher than the trust" and purple for "lower", never a traffic light.
"""

from __future__ import annotations

RED = "#C23B22"  # a deep vermilion: stays dark in greyscale
AMBER = "#E69F00"
GREEN = "#009E73"
HIGHER = "#0072B2"  # blue: higher than the trust, no judgement
LOWER = "#CC79A7"  # reddish purple: lower than the trust, no judgement
NOTE = "#56B4E9"  # sky blue: a question worth asking, no judgement
TRUST = "#000000"  # the trust's own line
ENGLAND = "#7F7F7F"  # England's figure, dashed
NO_DATA = "#D9D9D9"
INK = "#222222"
GRID = "#E5E5E5"
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

SEVERITY_COLOUR = {"red": RED, "amber": AMBER, "note": NOTE, "clear": GREEN, "no data": NO_DATA}
SEVERITY_SYMBOL = {"red": "✖", "amber": "▲", "note": "?", "clear": "✔", "no data": "–"}
SEVERITY_WORD = {"red": "Red", "amber": "Amber", "note": "Question", "clear": "No gap", "no data": "No data"}

FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=14, color=INK)

# What every figure needs of a template, and nothing more: plotly's default template is written
# into every figure and worked through by the browser for each one, and its self-sizing margins
# make the browser lay each figure out several times; a board pack of seventy-odd charts draws
# markedly faster without. Figures whose labels are long names (the heatmap, the grids) ask for
# self-sizing margins themselves; the others have margins wide enough for their numbers.
_AXIS = dict(showgrid=True, gridcolor=GRID, linecolor="#BBBBBB", zeroline=False, ticks="outside",
             tickcolor="#BBBBBB")
TEMPLATE = dict(layout=dict(colorway=list(SERIES), xaxis=_AXIS, yaxis=_AXIS, hovermode="closest"))


def layout(title: str, **extra) -> dict:
    """Base layout: a readable title, white paper, grid lines light enough to print."""
    base = dict(
        template=TEMPLATE,
        title=dict(text=title, x=0, xanchor="left", font=dict(size=17)),
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=10, r=10, t=60, b=40),
        hoverlabel=dict(font_size=14, bgcolor="white"),
    )
    base.update(extra)
    return base
