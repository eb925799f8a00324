"""What the dashboard sets beyond Streamlit's theme so that every page meets WCAG 2.2 AA: each
page's own title in the browser's tab, captions and muted text dark enough to read, a focus
outline that shows wherever the keyboard is, a date's day, month and year each a target of at
least 24 by 24 pixels, and a row of choices that wraps rather than hides its last. On a narrow
screen (a phone, or a small laptop at 200% zoom) tables become stacked cards and figures that
need room give way to a list.

Not a page: `dashboard.py` calls it on every run.
"""

from __future__ import annotations

import re

import streamlit as st

APP = "Safeguarding governance"
# The theme's primaryColor (.streamlit/config.toml), read from there: #0b5394 is 7.8:1 on white
# and 7.4:1 on the sidebar.
ACCENT = st.get_option("theme.primaryColor") or "#0b5394"
# Streamlit draws captions in the text colour at 60% opacity (3.9:1 on white, 3.8:1 on the
# sidebar); this grey is 6.5:1 on white and 6.1:1 on the sidebar, and links in a caption keep
# their full colour.
MUTED = "#5f5e5c"
# At this width and below (a phone; 1280 px shown at 200%) a table of long sentences cannot show
# its last column, and a grid of schools by themes cannot show its words: tables stack into one
# card a row, and figures with a narrow form show that instead.
NARROW = 640

STYLE = f"""<style>
[data-testid="stCaptionContainer"] {{opacity: 1; color: {MUTED};}}
:focus-visible {{outline: 3px solid {ACCENT} !important; outline-offset: 2px;}}
[data-testid="stSidebarNav"] a:focus-visible,
[data-testid="stSidebarUserContent"] a:focus-visible {{outline-offset: -3px;}}
[data-baseweb="select"]:focus-within > div {{outline: 3px solid {ACCENT}; outline-offset: 1px;}}
[data-baseweb="select"] input:focus-visible {{outline: none !important;}}
[data-testid="stDateInput"] [role="spinbutton"] {{display: inline-flex; align-items: center;
  justify-content: center; min-width: 24px; min-height: 24px;}}
[data-testid="stButtonGroup"] > div {{flex-wrap: wrap; row-gap: 0.5rem;}}
@media (max-width: {NARROW}px) {{
  [class*="st-key-wide-"] {{display: none !important;}}
  [class*="st-key-cards-"] table, [class*="st-key-cards-"] tbody, [class*="st-key-cards-"] tr,
  [class*="st-key-cards-"] td {{display: block; width: auto !important;}}
  [class*="st-key-cards-"] thead {{display: none;}}
  [class*="st-key-cards-"] tr {{border: 1px solid #c8c8c8; border-radius: 0.5rem; padding: 0.5rem 0.75rem;
    margin-bottom: 0.75rem;}}
  [class*="st-key-cards-"] td {{border: none; padding: 0.15rem 0 !important;}}
  [class*="st-key-cards-"] td::before {{display: block; font-weight: 600; font-size: 0.85em; color: {MUTED};}}
}}
@media (min-width: {NARROW + 1}px) {{
  [class*="st-key-narrow-"] {{display: none !important;}}
}}
</style>"""


def apply(page: str) -> None:
    """Name the page in the browser's tab ("Neglect · Safeguarding governance") and add the style."""
    st.set_page_config(page_title=f"{page} · {APP}")
    st.html(STYLE)


def wide(key: str):
    """A container shown only on a screen wider than NARROW: the form of something that needs room."""
    return st.container(key=f"wide-{key}")


def narrow(key: str):
    """A container shown only on a narrow screen: the form of the same thing that fits a phone."""
    return st.container(key=f"narrow-{key}")


def _css_text(text: str) -> str:
    """Text as a CSS string's contents: quotes, backslashes and line breaks escaped."""
    return "".join(f"\\{ord(c):x} " if c in '"\\\n\r<>' else c for c in str(text))


PAGE = 100  # rows of a table shown at once: a long one is read a page at a time


def table(frame, *, key: str) -> None:
    """``frame`` as st.table (its cells Markdown, already made literal by the caller), which on a
    narrow screen becomes one card a row, each value under its column's name. A table longer than
    PAGE rows is shown PAGE rows at a time, chosen in a list above it ("101–200 of 3,295"),
    so that a page of a large trust draws at once."""
    rows = len(frame)
    if rows > PAGE:
        start = st.selectbox("Rows shown", range(0, rows, PAGE), key=f"page-{key}-{rows}", width=240,
                             format_func=lambda at: f"{at + 1:,}–{min(at + PAGE, rows):,} of {rows:,}")
        frame = frame.iloc[start:start + PAGE]
    names = [re.sub(r"\\(.)", r"\1", str(c)).replace("\u2060", "") for c in frame.columns]  # as read
    labels = "".join(f'[class*="st-key-cards-{key}"] td:nth-child({i}):before {{content: "{_css_text(c)}";}}'
                     for i, c in enumerate(names, start=1))
    st.html(f"<style>@media (max-width: {NARROW}px) {{{labels}}}</style>")
    with st.container(key=f"cards-{key}"):
        st.table(frame, hide_index=True, border="horizontal")
