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
