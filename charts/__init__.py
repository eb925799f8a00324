"""Plotly figures built from analysis results. Every figure comes with the table of its numbers
and a one-sentence summary, for screen readers and for print."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go


@dataclass
class Chart:
    figure: go.Figure
    table: pd.DataFrame
    summary: str
    # The title and the line on how to read it, for a page to show as text (which wraps) where a
    # narrow form of the figure leaves them out; the figure's own when it has them.
    title: str = ""
    reading: str = ""
