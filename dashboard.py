"""The dashboard's frame: page settings, sign-in, the page list for the user's role and the
shared sidebar.

Run with `make run` (or `streamlit run dashboard.py`). Pages live in pages/ and only render;
everything they show comes from loaders, store, analysis and charts, read within the signed-in
user's scope (ui/shell.py).
"""

from __future__ import annotations

import streamlit as st

from store import outbox
from store.access import DSL, ROLES, TRUST_LEADER, TRUSTEE
from ui import identity, look, shell

st.set_page_config(
    page_title=look.APP,
    page_icon=":material/shield_person:",
    layout="wide",
)

def page(path: str, title: str, icon: str, **kw) -> st.Page:
    return st.Page(path, title=title, icon=f":material/{icon}:", **kw)


def pages_for(role: str, *, overview_first: bool = True) -> dict[str, list[st.Page]]:
    """The page list for a role. Hiding a page is for tidiness only: each page and every read of
    data checks the user's scope itself."""
    data = [page("pages/returns.py", "Returns", "fact_check", url_path="returns")]
    if role != TRUSTEE:
        data.append(page("pages/upload.py", "Upload a return", "upload_file", url_path="upload"))
    data.append(page("pages/about.py", "About the data", "info", url_path="about"))
    if role not in (TRUSTEE, DSL):
        data += [page("pages/settings.py", "Settings", "tune", url_path="settings"),
                 page("pages/schools.py", "Schools", "domain", url_path="schools"),
                 page("pages/audit.py", "Record of changes", "history", url_path="record"),
                 page("pages/notifications.py", "Notifications", "mail", url_path="notifications")]
    data += [page("pages/privacy.py", "Privacy", "lock", url_path="privacy"),
             page("pages/account.py", "My account", "account_circle", url_path="account")]
    board = [page("pages/board_questions.py", "Board questions", "record_voice_over", url_path="board-questions")]
    if role != DSL:
        board.append(page("pages/pack.py", "Board pack", "picture_as_pdf", url_path="pack"))
    return {
        "Trust" if role != DSL else "Your school": [
            page("pages/overview.py", "Overview", "dashboard", default=overview_first),
            page("pages/school.py", "School profile", "school", url_path="school"),
            *board,
        ],
        "Themes": [
            page("pages/neglect.py", "Neglect", "child_care", url_path="neglect"),
            page("pages/adolescents.py", "Adolescents and risk outside the home", "directions_walk",
                 url_path="adolescents"),
            page("pages/multi_agency.py", "Multi-agency working", "diversity_3", url_path="multi-agency"),
            page("pages/workforce.py", "Workforce and KCSIE", "badge", url_path="workforce"),
        ],
        "Data": data,
    }


def emails_put_aside(engine) -> None:
    """For trust leaders, in the sidebar: emails that failed for a day and wait for one of them."""
    failed = shell.run_safely("reading the emails", outbox.failed_count, engine)
    if failed:
        st.warning(f"{failed} email{' has' if failed == 1 else 's have'} not gone out for a day.",
                   icon=":material/mail:")
        st.page_link("pages/notifications.py", label="See why on Notifications", icon=":material/arrow_forward:")


def signing_in() -> None:
    """Where someone not signed in stands: identity.gate draws the way in."""


def not_signed_in() -> None:
    """The page list for someone not signed in, hidden: the way in at the root address, and every
    page at its own, so a link into one finds its page. Without it the run would name no pages, and
    Streamlit would list every file in pages/, helpers included."""
    everything = [p for section in pages_for(TRUST_LEADER, overview_first=False).values() for p in section]
    st.navigation([st.Page(signing_in, title="Sign in", url_path="sign-in", default=True), *everything],
                  position="hidden")
    look.apply("Sign in")


def frame() -> None:
    """Sign-in, the page list for the user's role, the shared sidebar, then the page itself."""
    global navigated
    engine = shell.engine(before_stop=not_signed_in)
    shell.frame_started()
    if identity.mode(engine) == "demo":
        identity.demo_role_switcher(shell.all_school_names())
    user = identity.gate(engine, before_stop=not_signed_in)  # nothing below runs for someone not signed in
    current = st.navigation(pages_for(user.role))
    look.apply(current.title)
    navigated = True
    with st.sidebar:
        shell.sidebar()
        if identity.mode(engine) == "demo":
            st.caption(f"Trying it as **{shell.literal(user.name)}**")
        else:
            st.caption(f"Signed in as **{shell.literal(user.name or user.email)}** "
                       f"({shell.literal(ROLES.get(user.role, user.role))})")
        if identity.mode(engine) == "local":
            st.button("Sign out", on_click=identity.sign_out, args=(engine,), icon=":material/logout:")
        elif identity.mode(engine) == "sso":
            st.button("Sign out", on_click=identity.sso_sign_out, args=(engine, user.email), icon=":material/logout:")
        if user.role == TRUST_LEADER:
            emails_put_aside(engine)
    current.run()


navigated = False
try:
    frame()
except Exception as exc:  # noqa: BLE001 - a fault of the database is a sentence; anything else re-raised
    shell.database_trouble(exc, before_stop=None if navigated else not_signed_in)
