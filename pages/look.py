"""What the dashboard sets beyond Streamlit's theme so that every page meets WCAG 2.2 AA: each
page's own title in the browser's tab, captions and muted text dark enough to read, a focus
outline that shows wherever the keyboard is, and a date's day, month and year each a target of at
least 24 by 24 pixels.

Not a page: `dashboard.py` calls it on every run.
"""

from __future__ import annotations

import streamlit as st

APP = "Safeguarding governance"
# The theme's primaryColor (.streamlit/config.toml), read from there: #0b5394 is 7.8:1 on white
# and 7.4:1 on the sidebar.
ACCENT = st.get_option("theme.primaryColor") or "#0b5394"
# Streamlit draws captions in the text colour at 60% opacity (3.9:1 on white, 3.8:1 on the
# sidebar); this grey is 6.5:1 on white and 6.1:1 on the sidebar, and links in a caption keep
# their full colour.
MUTED = "#5f5e5c"

STYLE = f"""<style>
[data-testid="stCaptionContainer"] {{opacity: 1; color: {MUTED};}}
:focus-visible {{outline: 3px solid {ACCENT} !important; outline-offset: 2px;}}
[data-testid="stSidebarNav"] a:focus-visible,
[data-testid="stSidebarUserContent"] a:focus-visible {{outline-offset: -3px;}}
[data-baseweb="select"]:focus-within > div {{outline: 3px solid {ACCENT}; outline-offset: 1px;}}
[data-baseweb="select"] input:focus-visible {{outline: none !important;}}
[data-testid="stDateInput"] [role="spinbutton"] {{display: inline-flex; align-items: center;
  justify-content: center; min-width: 24px; min-height: 24px;}}
</style>"""


def apply(page: str) -> None:
    """Name the page in the browser's tab ("Neglect · Safeguarding governance") and add the style."""
    st.set_page_config(page_title=f"{page} · {APP}")
    st.html(STYLE)
