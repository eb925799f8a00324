"""Names beside the points of a chart, placed so that no two overlap and none covers a point.

On paper nobody can hover, so a name must sit by its point. Each goes beside its point where there
is room; where labels would crowd, it is pushed up or down (the labels taken top to bottom, each to
the nearest free place), with a thin line from the name back to its point. Places are worked out in
pixels, for the narrowest plot the chart is drawn at and the widest (``Plot.widths``), so they
hold at every width between.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

FONT_SIZE = 12
CHAR = 7.3  # the width of an average character at FONT_SIZE, generously
LINE = 16  # a label's height
SIDE = 9  # from a point's centre to the near edge of its label, beside it
LEADER = 16  # the same, for a label pushed away and joined to its point by a line
POINT = 8  # half a marker's width, with its outline
STEP = 3  # pixels a label moves at a time, looking for room
REACH = 200  # the furthest a label is pushed up or down
LEADER_COLOUR = "#555555"
SAMPLES = 24  # points along a leader line kept clear of names and markers
CHUNK = 24  # places tried at once


@dataclass(frozen=True)
class Plot:
    """The plot area in pixels as drawn, narrowest and widest (``widths``; its height is fixed),
    and the data ranges its axes show."""

    widths: tuple[float, float]
    height: float
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def pixel(self, x: float, y: float, width: float) -> tuple[float, float]:
        """(from the left, from the top) of a point, on a plot ``width`` wide."""
        (x0, x1), (y0, y1) = self.x_range, self.y_range
        return (x - x0) / (x1 - x0) * width, (1 - (y - y0) / (y1 - y0)) * self.height




def text_width(text: str) -> float:
    return len(re.sub(r"<[^>]+>", "", text)) * CHAR + 4


def _clash(mine: np.ndarray, others: np.ndarray) -> np.ndarray:
    """How badly each box of ``mine`` meets ``others`` at some width from the narrowest plot to
    the widest (each box a row: left, top, right, bottom on the narrowest, then on the widest):
    the area they share at either end, or a large number for a pair that swaps sides between (and
    so crosses on the way), summed over ``others`` and over ``mine``'s last axis but one. Every
    distance across changes in step with the width, so boxes apart at both ends and in the same
    order are apart at every width between."""
    if not others.size or not mine.size:
        return np.zeros(mine.shape[:-2])
    a, b = mine[..., None, :], others
    meets = (a[..., 1] < b[..., 3]) & (b[..., 1] < a[..., 3])  # the same height at every width
    tall = np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])
    share = [(a[..., k] < b[..., k + 2]) & (b[..., k] < a[..., k + 2]) for k in (0, 4)]
    across = sum(np.maximum(0.0, np.minimum(a[..., k + 2], b[..., k + 2]) - np.maximum(a[..., k], b[..., k]))
                 for k in (0, 4))
    swapped = (a[..., 2] <= b[..., 0]) != (a[..., 6] <= b[..., 4])
    found = np.where(meets & (share[0] | share[1]), np.maximum(across * tall, 1.0), np.where(meets & swapped, 1e6, 0.0))
    return found.sum(axis=(-1, -2))


def _places(right_first: bool) -> tuple[np.ndarray, np.ndarray]:
    """(on the right, pushed by) for each place a label may go, nearest first: beside its point,
    then a little further up or down each time; the side with room first."""
    pushes = [0.0] + [sign * k * STEP for k in range(1, int(REACH / STEP) + 1) for sign in (-1, 1)]
    order = [(right, dy) for dy in pushes for right in ((True, False) if right_first else (False, True))]
    return np.array([r for r, _ in order]), np.array([dy for _, dy in order])


def _names(points: np.ndarray, width: float, right: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """A name's box at each place, on each plot: (places, 1, 8)."""
    out = []
    for px, py in points:  # the narrowest plot, then the widest
        gap = np.where(dy == 0, SIDE, LEADER)
        left = np.where(right, px + gap, px - gap - width)
        out += [left, py + dy - LINE / 2, left + width, py + dy + LINE / 2]
    return np.stack(out, axis=-1)[:, None, :]


def _leaders(points: np.ndarray, right: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Points along each place's leader line, from just off its marker to its name, as boxes of
    no size: (places, SAMPLES, 8); a name beside its marker has none (all left off the plot)."""
    t = np.linspace(0.0, 1.0, SAMPLES)[None, :]
    out = []
    for px, py in points:
        end = np.where(right, px + LEADER, px - LEADER)[:, None]
        x, y = px + (end - px) * t, py + dy[:, None] * t
        near = (np.abs(dy[:, None] * t) <= POINT) | (dy[:, None] == 0)  # on its own marker, or no line
        x, y = np.where(near, -1e9, x), np.where(near, -1e9, y)
        out += [x, y, x, y]
    return np.stack(out, axis=-1)


def place(points: list[tuple[float, float]], texts: list[str], plot: Plot,
          obstacles: list = ()) -> list[dict]:
    """Plotly annotations naming ``points`` (data coordinates) with ``texts`` ("" for a point left
    unnamed, which still keeps its space); ``obstacles``, more boxes to keep clear of, each a
    function of the plot's width. A place is taken only if its name, and its leader line if it
    has one, are clear of every other name, line, marker and obstacle at every width from the
    narrowest plot to the widest."""
    narrow, wide = plot.widths
    at = np.array([[plot.pixel(x, y, narrow), plot.pixel(x, y, wide)] for x, y in points]).reshape(-1, 2, 2)
    markers = np.concatenate([at - POINT, at + POINT], axis=-1).reshape(-1, 8)
    names = np.array([[*o(narrow), *o(wide)] for o in obstacles]).reshape(-1, 8)  # names placed, and obstacles
    lines = np.zeros((0, 8))  # points along the leader lines drawn
    notes = []
    for i in sorted((i for i, t in enumerate(texts) if t), key=lambda i: at[i][0][1]):
        width = text_width(texts[i])
        right, dy = _places(at[i][0][0] + SIDE + width <= narrow)
        boxes, leaders = _names(at[i], width, right, dy), _leaders(at[i], right, dy)
        inside = ((np.minimum(boxes[:, 0, 0], boxes[:, 0, 4]) >= 0) & (boxes[:, 0, 2] <= narrow)
                  & (boxes[:, 0, 6] <= wide) & (boxes[:, 0, 1] >= 0) & (boxes[:, 0, 3] <= plot.height))
        fixed = np.vstack([names, np.delete(markers, i, axis=0)])
        others = np.vstack([fixed, lines])
        if inside.any():
            right, dy, boxes, leaders = right[inside], dy[inside], boxes[inside], leaders[inside]
        # the nearest clear place, looked for a few at a time; where none is clear, the one that
        # clashes least
        clash = np.full(len(dy), np.inf)
        for start in range(0, len(dy), CHUNK):
            part = slice(start, start + CHUNK)
            clash[part] = _clash(boxes[part], others) + _clash(leaders[part], fixed)
            if (clash[part] == 0).any():
                break
        k = int(np.argmax(clash == 0)) if (clash == 0).any() else int(np.argmin(clash))
        names = np.vstack([names, boxes[k]])
        lines = np.vstack([lines, leaders[k][leaders[k][:, 0] > -1e8]])
        notes.append(_note(points[i], texts[i], bool(right[k]), float(dy[k])))
    return notes


def _note(point: tuple[float, float], text: str, right: bool, dy: float) -> dict:
    """The annotation: beside its point, or pushed away with a line back to it."""
    note = dict(x=point[0], y=point[1], xref="x", yref="y", text=text, xanchor="left" if right else "right",
                yanchor="middle", font=dict(size=FONT_SIZE), bgcolor="rgba(255,255,255,0.85)", borderpad=0)
    if dy == 0:
        return note | dict(showarrow=False, xshift=SIDE if right else -SIDE)
    return note | dict(showarrow=True, ax=LEADER if right else -LEADER, ay=dy, axref="pixel", ayref="pixel",
                       arrowhead=0, arrowwidth=1, arrowcolor=LEADER_COLOUR, standoff=POINT - 2)
