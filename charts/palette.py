"""One palette for every figure, safe for colour-blind readers and legible in black and white.

Red, amber and green differ in lightness as well as hue: a light green, a mid amber and a dark
red (CIE L* about 82, 59 and 35), so a projector that washes colour out, a printer in greyscale
and a reader who cannot tell red from green all still see three different levels. They appear
only on indicators with a polarity, and always with a word or symbol beside them; indicators
without a polarity use blue for "higher than the trust" and purple for "lower", never a traffic
light. Text on a fill is dark or white, whichever reads at 4.5:1 or more (``text_on``).
"""

from __future__ import annotations

from functools import lru_cache

RED = "#A50F15"  # dark red: white text on it
AMBER = "#CC7A00"  # mid amber: dark text on it
GREEN = "#A6DBA0"  # light green: dark text on it
GREEN_EDGE = "#1B7837"  # a dark green outline, where a light green mark sits on white paper
HIGHER = "#0072B2"  # blue: higher than the trust, no judgement
LOWER = "#CC79A7"  # reddish purple: lower than the trust, no judgement
NOTE = "#56B4E9"  # sky blue: a question worth asking, no judgement
TRUST = "#000000"  # the trust's own line
ENGLAND = "#7F7F7F"  # England's figure, dashed
NO_DATA = "#EBEBEB"  # lighter than the green, so the two differ in greyscale too
INK = "#222222"
WHITE = "#FFFFFF"
GRID = "#E5E5E5"
SERIES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
# The funnel's lines for each comparison group: none of them amber, red or green, which there
# judge a school.
GROUP_LINES = ("#0072B2", "#6A3D9A", "#7F7F7F", "#56B4E9")

SEVERITY_COLOUR = {"red": RED, "amber": AMBER, "note": NOTE, "clear": GREEN, "no data": NO_DATA}
SEVERITY_SYMBOL = {"red": "✖", "amber": "▲", "note": "?", "clear": "✔", "no data": "–"}
SEVERITY_WORD = {"red": "Red", "amber": "Amber", "note": "Question", "clear": "No gap", "no data": "No data"}

FONT = dict(family="DejaVu Sans, Arial, sans-serif", size=14, color=INK)


def luminance(colour: str) -> float:
    """WCAG's relative luminance of a "#RRGGBB" colour, from 0 (black) to 1 (white)."""
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two colours, from 1 to 21."""
    dark, light = sorted((luminance(one), luminance(other)))
    return (light + 0.05) / (dark + 0.05)


@lru_cache(maxsize=256)
def text_on(fill: str) -> str:
    """The text colour that reads best on ``fill``: the ink or white."""
    return max((INK, WHITE), key=lambda text: contrast(text, fill))


# What every figure needs of a template, and nothing more: plotly's default template is written
# into every figure and worked through by the browser for each one, and its self-sizing margins
# make the browser lay each figure out several times; a board pack of seventy-odd charts draws
# markedly faster without. Figures whose labels are long names (the heatmap, the grids) ask for
# self-sizing margins themselves; the others have margins wide enough for their numbers.
_AXIS = dict(showgrid=True, gridcolor=GRID, linecolor="#BBBBBB", zeroline=False, ticks="outside",
             tickcolor="#BBBBBB")
TEMPLATE = dict(layout=dict(colorway=list(SERIES), xaxis=_AXIS, yaxis=_AXIS, hovermode="closest"))


def _merged(base: dict, extra: dict) -> dict:
    """``base`` with ``extra`` laid over it, key by key, however deep."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


# Text on the axes in the ink, set on the figure itself: a template's own grey (the dashboard's
# theme gives plotly one) reads at under 4.5:1 on white.
_INKED = dict(tickfont=dict(color=INK), title=dict(font=dict(color=INK)))


def layout(title: str, subtitle: str = "", **extra) -> dict:
    """Base layout: a readable title, white paper, grid lines light enough to print, text in the
    ink; ``subtitle``, a line under the title saying how to read the figure (broken with <br>),
    the title then set at the top so the two never run into the plot."""
    heading = dict(text=title, x=0, xanchor="left", font=dict(size=17, color=INK))
    if subtitle:
        heading |= dict(subtitle=dict(text=subtitle, font=dict(size=13, color="#444444")),
                        yref="container", y=1, yanchor="top", pad=dict(t=12))
    base = dict(
        template=TEMPLATE,
        title=heading,
        font=FONT,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin=dict(l=10, r=10, t=60, b=40),
        hoverlabel=dict(font=dict(size=14), bgcolor="white"),
        legend=dict(font=dict(color=INK)),
        xaxis=_INKED,
        yaxis=_INKED,
    )
    return _merged(base, extra)
