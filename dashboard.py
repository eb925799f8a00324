"""The dashboard's frame: page settings, the database, the page list and the shared sidebar.

Run with `make run` (or `streamlit run dashboard.py`). Pages live in pages/ and only render;
everything they show comes from loaders, store, analysis and charts.
"""

from __future__ import annotations

import streamlit as st

from pages import common

st.set_page_config(
    page_title="Safeguarding governance",
    page_icon=":material/shield_person:",
    layout="wide",
)

common.engine()
common.frame_started()


def page(path: str, title: str, icon: str, **kw) -> st.Page:
    return st.Page(path, title=title, icon=f":material/{icon}:", **kw)


PAGES = {
    "Trust": [
        page("pages/overview.py", "Overview", "dashboard", default=True),
        page("pages/school.py", "School profile", "school", url_path="school"),
    ],
    "Themes": [
        page("pages/neglect.py", "Neglect", "child_care", url_path="neglect"),
        page("pages/adolescents.py", "Adolescents and risk outside the home", "directions_walk", url_path="adolescents"),
        page("pages/multi_agency.py", "Multi-agency working", "diversity_3", url_path="multi-agency"),
        page("pages/workforce.py", "Workforce and KCSIE", "badge", url_path="workforce"),
    ],
    "Data": [
        page("pages/returns.py", "Returns", "fact_check", url_path="returns"),
        page("pages/upload.py", "Upload a return", "upload_file", url_path="upload"),
        page("pages/about.py", "About the data", "info", url_path="about"),
        page("pages/settings.py", "Settings", "tune", url_path="settings"),
        page("pages/audit.py", "Record of changes", "history", url_path="record"),
    ],
}

current = st.navigation(PAGES)
with st.sidebar:
    common.sidebar()
    st.caption(f"Signed in as **{common.current_user()}**")
current.run()
