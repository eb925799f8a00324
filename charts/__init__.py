"""Plotly figures built from analysis results. Every figure comes with the table of its numbers
and a one-sentence summary, for screen readers and for print."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from charts.palette import TEMPLATE


@dataclass
class Chart:
    figure: go.Figure
    table: pd.DataFrame
    summary: str
    # The title and the line on how to read it, for a page to show as text (which wraps) where a
    # narrow form of the figure leaves them out; the figure's own when it has them.
    title: str = ""
    reading: str = ""


def laid_out(data: list, spec: dict) -> go.Figure:
    """A new figure of ``data`` laid out by ``spec`` (charts.palette.layout), the same as one made
    empty and then given ``spec`` by ``update_layout``: the palette's template laid over plotly's
    default (the dashboard's theme gives plotly one). Made in one step, without plotly's checks of
    each property, which for a grid of a school a row take longer than all the rest; the charts'
    tests make every figure again with the checks on."""
    if spec.get("template") is TEMPLATE:
        spec = {**spec, "template": _over_default(pio.templates.default)}  # plotly copies what it is given
    return go.Figure(data=data, layout=spec, _validate=False)


@lru_cache(maxsize=4)
def _over_default(default: str) -> dict:  # noqa: ARG001 - the default template's name: the cache key
    """The palette's template laid over the default one (named ``default``), as plotly lays it."""
    made = go.Figure()
    made.update_layout(template=TEMPLATE)
    return made.layout.template.to_plotly_json()
