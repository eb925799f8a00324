"""The pages a trustee reads most, on a phone (390 by 844) and on a laptop at 200% zoom (1366 by
768 shown twice the size: 683 by 384 CSS pixels): nothing runs off the side of the screen, the
sidebar waits to be opened on the phone, the heatmap gives way to a list of schools and the gap
table to one card a gap, each value under its column's name, and a funnel plot's title and
reading line are text on the page while the names on the plot stay clear of each other.
Screenshots go to test-artifacts/screens/narrow/ for people to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sample_data import trust

from .conftest import require_chromium, settled
from .test_browser import _serve

require_chromium()

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screens" / "narrow"
SIZES = {
    "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True),
    "zoom200": dict(viewport={"width": 683, "height": 384}, device_scale_factor=2),
}
PAGES = {"overview": "", "neglect": "neglect", "school": "school"}

# Every piece of text the page shows outside a figure or a data grid (which scroll themselves):
# its right edge, its left edge and what it says, for each that is drawn.
OFF_THE_SIDE = """() => {
  const width = document.documentElement.clientWidth;
  const main = document.querySelector('[data-testid="stMain"]');
  const out = [];
  for (const el of main.querySelectorAll('p, li, td, th, h1, h2, h3, label, [data-testid="stMetricValue"]')) {
    if (el.closest('.js-plotly-plot, [data-testid="stDataFrame"], [data-testid="stExpanderDetails"]')) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (r.right > width + 1 || r.left < -1) out.push([Math.round(r.left), Math.round(r.right), el.innerText.slice(0, 60)]);
  }
  return out;
}"""


# The page as wide as the screen, or wider: what the reader would have to scroll sideways to see.
SCROLL_WIDTH = "[document.scrollingElement.scrollWidth, document.documentElement.clientWidth]"

# Each funnel plot shown: its width, and the box of every piece of text beside it on the plot
# (the names of schools, the trust's and England's lines), as the browser drew them.
FUNNEL_TEXT = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(plot => plot.getBoundingClientRect().width > 0
    && [...plot.querySelectorAll('.legendtext')].some(t => /expected range|Not compared/.test(t.textContent)))
  .map(plot => ({
    width: plot.getBoundingClientRect().width,
    title: [...plot.querySelectorAll('.gtitle')].map(t => t.textContent).join(' ').trim(),
    notes: [...plot.querySelectorAll('.annotation-text')].map(t => {
      const r = t.getBoundingClientRect();
      return {text: t.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom};
    }).filter(n => n.right > n.left),
  }))"""


def _overlapping(notes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes share more than a hair (half a pixel each way)."""
    return [(a["text"], b["text"]) for i, a in enumerate(notes) for b in notes[i + 1:]
            if a["left"] < b["right"] - 0.5 and b["left"] < a["right"] - 0.5
            and a["top"] < b["bottom"] - 0.5 and b["top"] < a["bottom"] - 0.5]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, browser):
    for url in _serve(tmp_path_factory.mktemp("narrow_data")):
        # a server just started answers its very first visit with the first page, whatever was asked
        warm = browser.new_page()
        warm.goto(url, wait_until="domcontentloaded")
        settled(warm)
        warm.close()
        yield url


@pytest.fixture(scope="module", params=list(SIZES))
def screen(request, browser):
    context = browser.new_context(**SIZES[request.param])
    yield request.param, context
    context.close()


def _open(context, url: str, name: str):
    page = context.new_page()
    page.goto(url, wait_until="domcontentloaded")
    settled(page)
    page.wait_for_timeout(500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    # Streamlit scrolls its main section, not the page: a tall window shows all of it at once.
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": page.viewport_size["width"], "height": min(int(height) + 50, 16_000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return page


@pytest.mark.parametrize("name", list(PAGES))
def test_nothing_runs_off_the_side_of_the_screen(app_url, screen, name):
    size, context = screen
    page = _open(context, f"{app_url}/{PAGES[name]}", f"{size}-{name}")
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.evaluate(OFF_THE_SIDE) == []
        scrolled, screen_width = page.evaluate(SCROLL_WIDTH)
        assert scrolled <= screen_width, "the page scrolls sideways"
        if size == "phone":  # the page list waits behind its button rather than covering the page
            box = page.locator('[data-testid="stSidebar"]').bounding_box()
            assert box is None or box["x"] + box["width"] <= 1
    finally:
        page.close()


def test_on_a_phone_the_heatmap_is_a_list_and_each_gap_a_card(app_url, browser):
    context = browser.new_context(**SIZES["phone"])
    page = _open(context, app_url, "phone-overview-cards")
    try:
        assert not page.locator(".st-key-wide-heatmap").is_visible()
        listed = page.locator(".st-key-narrow-heatmap li")
        names = {school.name for school in trust.SCHOOLS}
        shown = [listed.nth(i).inner_text() for i in range(listed.count())]
        assert sorted(line.split(":")[0] for line in shown) == sorted(names)
        assert all(any(mark in line for mark in "✖▲?✔–") for line in shown)

        cards = page.locator(".st-key-cards-gaps")
        headers = cards.locator("th").all_inner_texts()
        assert headers[:2] == ["Gap", "School"]
        assert not cards.locator("thead").is_visible()
        first = cards.locator("tbody tr").first
        cells = first.locator("td")
        labels = [cells.nth(i).evaluate("td => getComputedStyle(td, '::before').content") for i in range(cells.count())]
        assert labels == [f'"{h}"' for h in headers]  # each value under its column's name
        boxes = [cells.nth(i).bounding_box() for i in range(cells.count())]
        assert all(b["x"] >= 0 and b["x"] + b["width"] <= 390 for b in boxes)
        assert boxes == sorted(boxes, key=lambda b: b["y"])  # one under another, not side by side
    finally:
        page.close()
        context.close()


def test_at_full_width_the_heatmap_is_a_chart_and_the_gaps_a_table(app_url, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    try:
        page.goto(app_url, wait_until="domcontentloaded")
        settled(page)
        assert page.locator(".st-key-wide-heatmap .js-plotly-plot").is_visible()
        assert not page.locator(".st-key-narrow-heatmap").is_visible()
        assert page.locator(".st-key-cards-gaps thead").is_visible()
    finally:
        page.close()


# A theme page whose first measure has a school outside the expected range in the sample trust,
# and a school's profile (the school is named on its funnel whatever the number of schools).
FUNNEL_PAGES = {"adolescents": "adolescents", "school": "school?school=990010"}


@pytest.mark.parametrize("name", list(FUNNEL_PAGES))
def test_on_a_phone_a_funnels_words_wrap_on_the_page_and_its_names_never_overlap(app_url, browser, name):
    context = browser.new_context(**SIZES["phone"])
    page = _open(context, f"{app_url}/{FUNNEL_PAGES[name]}", f"phone-{name}-funnel")
    try:
        assert page.locator('[data-testid="stException"]').count() == 0
        scrolled, screen_width = page.evaluate(SCROLL_WIDTH)
        assert scrolled <= screen_width == 390
        funnels = page.evaluate(FUNNEL_TEXT)
        assert len(funnels) == 1, "only the phone's form of the funnel is shown"
        (funnel,) = funnels
        assert funnel["width"] <= 390
        notes = funnel["notes"]
        assert len(notes) >= 2, notes  # the trust's line and at least one school
        assert _overlapping(notes) == []
        assert all(n["left"] >= 0 and n["right"] <= screen_width for n in notes), notes
        # the title and how to read it are the page's own text, which wraps, not the figure's
        assert page.locator(".st-key-narrow-" + ("school_funnel" if name == "school" else "funnel_exploitation_concerns")
                            ).get_by_text("Each marker is a school;").is_visible()
        assert funnel["title"] == "", "plotly cannot wrap a title: on a phone the page says it"
    finally:
        page.close()
        context.close()


def test_at_full_width_a_funnel_names_every_school_under_its_own_title(app_url, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = _open(context, f"{app_url}/adolescents", "laptop-adolescents-funnel")
    try:
        (funnel,) = page.evaluate(FUNNEL_TEXT)
        assert len(funnel["notes"]) >= len(trust.SCHOOLS) + 1  # every school, and the trust's line
        assert funnel["title"].startswith("Children with exploitation concerns: each school against")
        assert _overlapping(funnel["notes"]) == []
        assert not page.locator(".st-key-narrow-funnel_exploitation_concerns").is_visible()
    finally:
        page.close()
        context.close()
