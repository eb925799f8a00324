"""The dashboard's server: Streamlit serving dashboard.py, with the sign-in route and the reading of
trusted proxies' headers (ui/serving.py) mounted on the same server.

Start it with `make run`, or `streamlit run app.py` (Streamlit finds ``app`` below and serves it).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

import streamlit as st
from starlette.middleware import Middleware
from streamlit import delta_generator

from ui import serving

# The first element a session draws has Streamlit walk the whole call stack, reading each frame's
# source, to see whether it runs in an interactive interpreter (only to print a hint there): a
# tenth of a second or more of the first visitor's wait with the dashboard's modules loaded. This
# is `streamlit run`, so the answer is known.
delta_generator._use_warning_has_been_displayed = True

networks, ignored = serving.trusted_networks()
if ignored:
    logging.getLogger("dashboard").warning(
        "TRUSTED_PROXIES: %s %s neither an address nor a network, so left out.",
        ", ".join(map(repr, ignored)), "is" if len(ignored) == 1 else "are")


@asynccontextmanager
async def warm_up(_app):
    """The imports, the database and the first page's views, made before the first visitor in a
    thread of their own (ui/serving.py), started once Streamlit's runtime is up: so the server
    answers at once, and the warm-up goes on while the first browser loads the page."""
    serving.warm_up()
    yield


app = st.App(
    "dashboard.py",
    lifespan=warm_up,
    routes=serving.routes(st.get_option("server.baseUrlPath") or ""),
    middleware=[Middleware(serving.ForwardedClient, trusted=networks)],
)
