"""The dashboard's server: Streamlit serving dashboard.py, with the sign-in route and the reading of
trusted proxies' headers (ui/serving.py) mounted on the same server.

Start it with `make run`, or `streamlit run app.py` (Streamlit finds ``app`` below and serves it).
"""

from __future__ import annotations

import logging

import streamlit as st
from starlette.middleware import Middleware

from ui import serving

networks, ignored = serving.trusted_networks()
if ignored:
    logging.getLogger("dashboard").warning(
        "TRUSTED_PROXIES: %s %s neither an address nor a network, so left out.",
        ", ".join(map(repr, ignored)), "is" if len(ignored) == 1 else "are")

serving.warm_up()  # the imports, the database and the first page's views, before the first visitor

app = st.App(
    "dashboard.py",
    routes=serving.routes(st.get_option("server.baseUrlPath") or ""),
    middleware=[Middleware(serving.ForwardedClient, trusted=networks)],
)
