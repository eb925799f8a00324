"""The sample trust's heatmap and funnel plots as Chromium draws them, at the width of a laptop's
page at 200% zoom and of a wide screen: every cell's words fit inside the cell, and no school's name
beside a funnel's marker overlaps another name or covers a marker.

Needs Debian's Chromium at /usr/bin/chromium; elsewhere skipped with the reason, except under CI."""

from __future__ import annotations

import json

import pytest

from analysis.context import Context
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps, gaps_frame
from analysis.indicators import INDICATORS
from charts.funnel import funnel_plot
from charts.heatmap import theme_heatmap
from tests.browser.conftest import ARGS, CHROMIUM, require_chromium

require_chromium()

# The chart's width in CSS pixels: the page's main column on a 1366 px laptop at 200% zoom (683 px
# wide, the sidebar folded away), at 100% (the sidebar open), and the printed pack's figures.
WIDTHS = (650, 1000, 960)

DRAW = """([spec, width]) => {
  const div = document.getElementById('chart');
  div.style.width = width + 'px';
  return Plotly.newPlot(div, spec.data, spec.layout, {displayModeBar: false, staticPlot: true}).then(() => true);
}"""

CELLS = """() => {
  const gd = document.getElementById('chart'), xa = gd._fullLayout.xaxis;
  const cell = xa._length / gd.data[0].x.length - gd.data[0].xgap;
  return {cell, texts: [...gd.querySelectorAll('.scatterlayer .textpoint text')].map(
    t => ({text: t.textContent, width: t.getBBox().width}))};
}"""

NAMES = """() => {
  const gd = document.getElementById('chart'), shapes = gd.layout.shapes.length;
  const box = r => ({left: r.left, top: r.top, right: r.right, bottom: r.bottom});
  const notes = [...gd.querySelectorAll('.annotation')].slice(shapes).map(
    g => ({text: g.textContent, ...box(g.querySelector('.annotation-text-g rect.bg').getBoundingClientRect())}));
  const markers = [...gd.querySelectorAll('.scatterlayer .trace:last-child path.point')].map(
    p => box(p.getBoundingClientRect()));
  return {notes, markers};
}"""


def overlap(a, b, slack: float = 1.0) -> bool:
    return (a["left"] + slack < b["right"] and b["left"] + slack < a["right"]
            and a["top"] + slack < b["bottom"] and b["top"] + slack < a["bottom"])


@pytest.fixture(scope="module")
def page():
    from playwright.sync_api import sync_playwright
    from plotly.offline import get_plotlyjs

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_content(f"<html><head><script>{get_plotlyjs()}</script></head>"
                        "<body style='margin:0'><div id='chart'></div></body></html>")
        yield tab
        browser.close()


def draw(page, chart, width: int) -> None:
    page.evaluate(DRAW, [json.loads(chart.figure.to_json()), width])


@pytest.fixture(scope="module")
def sample(sample_engine):
    data = load_dataset(sample_engine)
    return data, Context(data, *data.terms[-1])


@pytest.mark.parametrize("width", WIDTHS)
def test_every_heatmap_cells_words_fit_inside_it(page, sample, width):
    data, ctx = sample
    chart = theme_heatmap(gaps_frame(find_gaps(ctx)), data.schools, set(data.schools["urn"]))
    draw(page, chart, width)
    drawn = page.evaluate(CELLS)
    assert len(drawn["texts"]) == len(data.schools) * 5
    too_wide = [t for t in drawn["texts"] if t["width"] > drawn["cell"] - 4]
    assert not too_wide, (drawn["cell"], too_wide)


def test_the_longest_cell_fits_at_200_percent_zoom(page, sample):
    """Three kinds of gap in one cell, two of them in double figures, beside a long name."""
    import pandas as pd

    schools = pd.DataFrame({"urn": ["1", "2"], "name": ["Saltwhistle Lane Primary School and Nursery", "Ash"]})
    many = pd.DataFrame([{"urn": "1", "theme": "neglect", "severity": s, "finding": "found"}
                         for s in ["red"] * 12 + ["amber"] * 3 + ["note"] * 10])
    draw(page, theme_heatmap(many, schools, {"1", "2"}), WIDTHS[0])
    drawn = page.evaluate(CELLS)
    assert all(t["width"] <= drawn["cell"] - 4 for t in drawn["texts"]), drawn


@pytest.fixture(scope="module")
def funnels(sample):
    """Every funnel of the sample trust's latest term, made once for every width: (indicator,
    the figure as JSON, how many schools it names)."""
    data, ctx = sample
    now = ctx.compared_term()
    made = []
    for ind in INDICATORS:
        rows = now[now["indicator"] == ind.id]
        if not ind.funnel or rows["value"].notna().sum() == 0:
            continue
        made.append((ind.id, json.loads(funnel_plot(rows, data.school_names, ind.id).figure.to_json()),
                     int(rows["value"].notna().sum())))
    return made


@pytest.mark.parametrize("width", WIDTHS)
def test_no_name_on_a_funnel_overlaps_another_or_covers_a_marker(page, funnels, width):
    walked = 0
    for indicator, spec, named in funnels:
        page.evaluate(DRAW, [spec, width])
        drawn = page.evaluate(NAMES)
        notes, markers = drawn["notes"], drawn["markers"]
        assert len(notes) == named, indicator  # twelve schools: every one named
        for i, a in enumerate(notes):
            clash = [b["text"] for b in notes[i + 1:] if overlap(a, b)]
            assert not clash, f"{indicator} at {width} px: {a['text']!r} overlaps {clash}"
            covered = [m for m in markers if overlap(a, m, slack=2.0)]
            assert not covered, f"{indicator} at {width} px: {a['text']!r} covers a marker"
        walked += 1
    assert walked > 20
