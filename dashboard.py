"""The dashboard's frame: page settings, the database, the page list and the shared sidebar.

Run with `make run` (or `streamlit run dashboard.py`). Pages live in pages/ and only render;
everything they show comes from loaders, store and the layers after them.
"""

from __future__ import annotations

import streamlit as st

from pages import common

st.set_page_config(
    page_title="Safeguarding returns",
    page_icon=":material/shield_person:",
    layout="wide",
)

engine = common.engine()

PAGES = [
    st.Page("pages/upload.py", title="Upload a return", icon=":material/upload_file:", url_path="upload"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption(f"Signed in as **{common.current_user()}**")
page.run()
