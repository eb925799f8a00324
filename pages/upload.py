"""Upload a return: get the template, upload the filled file, fix what the check reports,
explain the queries, submit, and see the versions already stored for that school and term.

A checked upload is kept as a draft in the database as soon as it is read, so a dropped
connection or a closed laptop loses nothing: the DSL comes back to it here. Queries are explained
once no error is left; a submit with queries unexplained asks once to confirm. After a submit the
page opens on its receipt. In the demonstration, a trial upload for one of the sample trust's
schools is stored as demonstration data, and the page says so before Submit.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from analysis.exports import to_csv_bytes
from loaders.personal import explanation_details
from loaders.registry import TERMS, M, term_end
from loaders.report import ERROR, ReturnReport, plural
from loaders.template import template_bytes
from store import drafts, overview, returns
from store.access import TRUSTEE
from store.importer import check_against_last_term
from ui import identity, shell

shell.require_frame()

ACCEPTED_TYPES = ["xlsx", "xls", "ods"]  # never .xlsm: a workbook carrying macros is refused whole

eng = shell.engine()
user = shell.current_user()
scope = shell.scope()
state = st.session_state
state.setdefault("upload_round", 0)  # bumped after a submit, to clear the uploader
state.setdefault("audited", set())  # files whose attempt is on record this session
demo = identity.mode(eng) == "demo"


def current_term(today: date | None = None) -> tuple[str, str]:
    """The term a DSL is most likely returning: the first whose end is no more than 30 days past."""
    today = today or date.today()
    start = today.year - 1 if today.month < 9 else today.year
    for first in (start - 1, start):
        year = f"{first}/{(first + 1) % 100:02d}"
        for term in TERMS:
            if term_end(year, term) >= today - timedelta(days=30):
                return year, term
    return f"{start}/{(start + 1) % 100:02d}", "Summer"


def year_choices(latest: str) -> list[str]:
    first = int(latest[:4])
    return [f"{y}/{(y + 1) % 100:02d}" for y in range(first, first - 4, -1)]


def template_section() -> None:
    st.header("1. Download the template")
    schools = shell.schools()
    options = {f"{r.name} ({r.urn})": (r.urn, r.name) for r in schools.itertuples()}
    other = "Another school: enter its URN" if scope.urns is None else None
    year_now, term_now = current_term()
    left, mid, right = st.columns([3, 1, 1])
    choice = left.selectbox("School", [*options, *([other] if other else [])], key="tpl_school")
    if choice is None:
        st.info("No school is linked to your account yet: ask your trust's data officer.")
        return
    year = mid.selectbox("Academic year", year_choices(year_now), key="tpl_year")
    term = right.selectbox("Term", TERMS, index=TERMS.index(term_now), key="tpl_term")
    if choice == other:
        a, b = st.columns([1, 3])
        urn = a.text_input("URN (6 digits)", max_chars=6, key="tpl_urn").strip()
        name = b.text_input("School name", key="tpl_name").strip()
        if urn and not (urn.isdigit() and len(urn) == 6):
            st.warning("A URN is the school's 6-digit Unique Reference Number, for example 149001.")
            urn = ""
    else:
        urn, name = options[choice]
    label = f"Download the {term} {year} return" + (f" for {shell.literal(name)}" if name else "")
    st.download_button(
        label,
        data=lambda: template_bytes(urn=urn or None, school_name=name or None, year=year, term=term),
        file_name=f"safeguarding_return_{urn or 'school'}_{year.replace('/', '-')}_{term}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        icon=":material/download:",
        on_click="ignore",
    )
    st.caption(
        "Fill in the shaded cells. Leave a cell blank only when the number is not known; "
        "enter 0 when there were none. Never enter a child's name, UPN or date of birth."
    )


def drafts_section() -> None:
    saved = drafts.load_drafts(eng, user)
    if not saved:
        return
    st.markdown("**Unfinished uploads**: checked but not yet submitted. Carry on where you left off.")
    for d in saved:
        cols = st.columns([6, 1, 1])
        cols[0].info(
            f"**{shell.literal(d.file_name)}** for URN {shell.literal(d.urn)}, "
            f"{shell.literal(f'{d.term} {d.academic_year}')}: checked "
            f"{d.updated_at:%d %b %Y %H:%M}, not yet submitted.",
            icon=":material/pending:",
        )
        if cols[1].button("Continue", key=f"resume-{d.urn}-{d.academic_year}-{d.term}"):
            state["resumed"] = {"file_name": d.file_name, "content": bytes(d.content)}
            state["upload_round"] += 1
            st.rerun()
        if cols[2].button("Discard", key=f"discard-{d.urn}-{d.academic_year}-{d.term}"):
            drafts.discard_draft(eng, user=user, urn=d.urn, academic_year=d.academic_year, term=d.term)
            state.pop("resumed", None)
            st.rerun()


def check(name: str, content: bytes) -> ReturnReport:
    """Check once without history, then again against the school's previous term if there is one
    (never another school's history for someone who cannot upload for it)."""
    return check_against_last_term(eng, content, name, allowed=scope.can_upload)


def not_yours(report: ReturnReport) -> bool:
    """A return for a school outside the user's scope, or in the demonstration for a school outside
    the sample trust: refused with a sentence, and on record."""
    urn = report.school_term[0]
    if report.refused or urn is None:
        return False
    if not scope.can_upload(urn):
        st.error(f"This return is for URN {shell.literal(urn)}, which is not a school you upload for, so it has not "
                 "been checked or kept. If it should be, ask your trust's data officer to add the school to your "
                 "account.", icon=":material/block:")
        reason = "not a school this user uploads for"
    elif demo and urn not in overview.sample_schools(eng):
        st.error(f"This return is for URN {shell.literal(urn)}, which is not one of the sample trust's schools. This "
                 "dashboard is a demonstration, so it keeps trial uploads for the sample schools only; this one has "
                 "not been checked or kept. To store your trust's own returns, a trust leader first sets up signing "
                 "in (see Signing in in the README).", icon=":material/block:")
        reason = "not a sample school, in the demonstration"
    else:
        return False
    if report.sha256 not in state["audited"]:
        returns.record_attempt(eng, report, user=user, size=None, outcome="refused", source=shell.where_from(),
                               detail={"reason": reason})
        state["audited"].add(report.sha256)
    return True


def record_once(report: ReturnReport, content: bytes) -> None:
    """Put the attempt on record (refusals and rejections) and keep a valid one as a draft."""
    if report.sha256 in state["audited"]:
        return
    urn, year, term = report.school_term
    if report.valid:
        drafts.save_draft(
            eng, user=user, urn=urn, academic_year=year, term=term, file_name=report.file,
            content=content, report_json=report.as_json(), explanations=saved_explanations(report),
        )
    else:
        outcome = "refused" if report.refused else "rejected"
        returns.record_attempt(eng, report, user=user, size=len(content), outcome=outcome,
                               source=shell.where_from())
    state["audited"].add(report.sha256)


def let_go(uploaded) -> None:
    """Drop a file refused for child data from this session: the uploader starts empty again, and
    the bytes Streamlit holds for the upload are released (only its in-memory store can be asked)."""
    state["upload_round"] += 1
    if uploaded is None:
        return
    try:
        from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        ctx = get_script_run_ctx()
        if ctx is not None and isinstance(ctx.uploaded_file_mgr, MemoryUploadedFileManager):
            ctx.uploaded_file_mgr.remove_file(session_id=ctx.session_id, file_id=uploaded.file_id)
    except Exception:  # noqa: BLE001 - the widget is reset either way; the session's end frees the rest
        pass


def saved_explanations(report: ReturnReport) -> dict[str, str]:
    urn, year, term = report.school_term
    for d in drafts.load_drafts(eng, user):
        if (d.urn, d.academic_year, d.term) == (urn, year, term):
            return dict(d.explanations or {})
    return {}


def problems_frame(report: ReturnReport) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Severity": "Error: fix it" if p.severity == ERROR else "Query: explain it",
                "Sheet": p.sheet or "",
                "Cell": p.cell or "",
                "What we found and what to do": p.message,
            }
            for p in report.problems
        ],
        columns=["Severity", "Sheet", "Cell", "What we found and what to do"],
    )


def verdict(report: ReturnReport) -> None:
    line = shell.literal(report.verdict())  # a refusal may quote the file
    if report.refused or report.errors:
        st.error(line, icon=":material/block:")
    elif report.queries:
        st.warning(line, icon=":material/help:")
    else:
        st.success(line, icon=":material/check_circle:")


def report_section(report: ReturnReport) -> None:
    verdict(report)
    if report.refused:
        return
    urn, year, term = report.school_term
    name = report.values.get(M.ABOUT_SCHOOL_NAME)
    if urn and year and term:
        st.markdown(f"**{shell.literal(name or 'School')}** (URN {shell.literal(urn)}), "
                    f"**{shell.literal(f'{term} {year}')}**")
    if report.problems:
        frame = problems_frame(report)
        # A static table wraps long messages; a data grid would cut them off.
        st.table(shell.literal_table(frame), hide_index=True, border="horizontal")
        st.download_button(
            "Download these problems (CSV)",
            to_csv_bytes(frame),
            file_name=f"{report.file.rsplit('.', 1)[0]}_problems.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click=shell.record, args=("export",), kwargs={"detail": {"what": "check report", "file": report.file}},
        )


def query_label(query) -> str:
    """A query as its box or its line names it: a cell's or a sheet's message names its place."""
    return query.message if (query.sheet or "the file") in query.message else f"{query.where}: {query.message}"


def explanations_section(report: ReturnReport) -> dict[str, str]:
    """One box per query once no error is left; each change is saved to the draft at once. While
    errors block, the queries are listed without boxes."""
    if not report.queries:
        return {}
    st.header("3. Explain the queries")
    if report.errors:
        st.info(f"{plural(len(report.queries), 'query', 'queries')} can be explained once the errors above are "
                "fixed. Fix them in your file and upload it again; then a box opens for each query.",
                icon=":material/pending:")
        st.markdown("\n".join(f"- {shell.literal(query_label(q))}" for q in report.queries))
        return {}
    st.caption("A query does not stop the return. A sentence for each helps the trust read your numbers.")
    urn, year, term = report.school_term
    saved = saved_explanations(report)
    typed: dict[str, str] = {}
    for i, q in enumerate(report.queries):
        key = f"explain-{report.sha256[:12]}-{i}"
        if key not in state:
            state[key] = saved.get(q.key, "")
        typed[q.key] = st.text_area(
            shell.literal(query_label(q)),
            key=key,
            on_change=_save_explanation,
            args=(urn, year, term, q.key, key),
            height=68,
        ).strip()
        kind = explanation_details(typed[q.key])
        if kind:
            st.error(f"This explanation looks like a child's details ({kind}), so it has not been saved. Explain "
                     "the numbers without a child's name, UPN, date of birth or address.", icon=":material/block:")
            typed[q.key] = ""
    return {k: v for k, v in typed.items() if v}


def _save_explanation(urn: str, year: str, term: str, query_key: str, widget_key: str) -> None:
    text = state[widget_key].strip()
    if explanation_details(text):
        return  # never saved, not even in the draft; the box says why
    shell.run_safely(
        "saving your explanation",
        drafts.update_explanations,
        eng, user=user, urn=urn, academic_year=year, term=term,
        explanations={query_key: text},
    )
    shell.record("explain", urn=urn, detail={"term": f"{term} {year}", "query": query_key, "explained": bool(text)})


def submit_section(report: ReturnReport, content: bytes, explanations: dict[str, str]) -> None:
    """Submit; with queries unexplained, ask once to confirm first. The page then opens on the receipt."""
    st.header("4. Submit")
    if not report.valid:
        st.button("Submit the return", disabled=True, help="Fix the errors above first.")
        return
    if demo:
        st.info("This is a demonstration: your upload is stored as demonstration data and shown to the other "
                "demonstration roles.", icon=":material/science:")
    open_queries = [q for q in report.queries if q.key not in explanations]
    asking = state.get("confirm_submit") == report.sha256
    if asking and open_queries:
        st.warning(f"{plural(len(open_queries), 'query has', 'queries have')} no explanation. Submit anyway?",
                   icon=":material/help:")
        left, right = st.columns([1, 2])
        go = left.button("Submit anyway", type="primary", icon=":material/send:")
        if right.button("Go back and explain", icon=":material/edit_note:"):
            state.pop("confirm_submit", None)
            st.rerun()
    else:
        go = st.button("Submit the return", type="primary", icon=":material/send:")
        if go and open_queries:
            state["confirm_submit"] = report.sha256
            st.rerun()
    if go:
        store(report, content, explanations)


def store(report: ReturnReport, content: bytes, explanations: dict[str, str]) -> None:
    """Store the return, keep its receipt for the next run, and start the uploader afresh."""
    saved = shell.run_safely(
        "storing your return",
        returns.save_return, eng, report, content, user=user, explanations=explanations,
        source=shell.where_from(),
    )
    if saved:
        state["submitted"] = (receipt(saved, report, explanations), saved.urn, saved.academic_year, saved.term)
        state.pop("confirm_submit", None)
        state.pop("resumed", None)
        state["upload_round"] += 1
        st.rerun()


def receipt(saved, report: ReturnReport, explanations: dict[str, str]) -> str:
    """What was stored: the version, the school and the term; no errors; the queries still open."""
    known = shell.schools()
    names = dict(zip(known["urn"], known["name"]))
    school = names.get(saved.urn) or report.values.get(M.ABOUT_SCHOOL_NAME) or f"URN {saved.urn}"
    total = len(report.queries)
    n_open = sum(1 for q in report.queries if q.key not in explanations)
    if not total:
        queries = "Queries: none."
    elif not n_open:
        queries = f"Queries open: none ({plural(total, 'query', 'queries')}, each explained)."
    else:
        queries = f"Queries open: {n_open} of {total}, with no explanation."
    return (f"**Stored as version {saved.version} for {shell.literal(school)}, "
            f"{shell.literal(f'{saved.term} {saved.academic_year}')}.**  \n"
            f"Errors: none. {queries} Thank you.")


def receipt_section(said: str, urn: str, year: str, term: str) -> None:
    """Straight after a submit the page is its receipt, short enough to be read where the browser
    is: what was stored, the versions now stored, and the way to upload another."""
    st.success(said, icon=":material/task_alt:")
    versions_section(urn, year, term)
    st.button("Upload another return", type="primary", icon=":material/upload_file:")  # the next run: the page


def versions_section(urn: str, year: str, term: str) -> None:
    stored = returns.versions(eng, urn, year, term)
    st.header(f"Versions stored for URN {shell.literal(urn)}, {shell.literal(f'{term} {year}')}")
    if not stored:
        st.caption("None yet: this will be the first.")
        return
    frame = pd.DataFrame(stored)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"]).dt.strftime("%d %b %Y %H:%M")
    frame = frame.rename(
        columns={
            "version": "Version", "submitted_at": "Submitted", "submitted_by": "By",
            "file_name": "File", "n_queries": "Queries", "n_explained": "Explained",
        }
    )
    shown = [c for c in ["Version", "Submitted", "By", "File", "Queries", "Explained"] if c in frame]
    st.dataframe(frame[shown], hide_index=True, width="stretch")
    st.caption("The newest version is the one the dashboard uses; earlier ones are kept.")


def upload_section() -> None:
    st.header("2. Upload your completed return")
    uploaded = st.file_uploader(
        "Your return (.xlsx, .xls or .ods)",
        type=ACCEPTED_TYPES,
        key=f"uploader-{state['upload_round']}",
        help="The file is checked at once; nothing is stored until you submit.",
    )
    if uploaded is not None:
        name, content = uploaded.name, uploaded.getvalue()
        state.pop("resumed", None)
    elif "resumed" in state:
        name, content = state["resumed"]["file_name"], state["resumed"]["content"]
        st.caption(f"Continuing with **{shell.literal(name)}**.")
    else:
        if "refused" in state:  # the refusal of a file already let go (below)
            report_section(state.pop("refused"))
        drafts_section()
        return
    report = shell.run_safely("checking your file", check, name, content)
    if report is None or not_yours(report):
        return
    with shell.apology("keeping a record of this upload"):
        record_once(report, content)
    if not report.keep_bytes:
        let_go(uploaded)
        state["refused"] = report
        st.rerun()
    report_section(report)
    if report.refused:
        return
    explanations = explanations_section(report)
    submit_section(report, content, explanations)
    urn, year, term = report.school_term
    if urn and year and term:
        versions_section(urn, year, term)


st.title("Upload a termly return")
if not scope.active or scope.role == TRUSTEE:
    st.warning("Trustees read the returns; the schools' DSLs upload them.", icon=":material/lock:")
    st.stop()
if "submitted" in state:
    receipt_section(*state.pop("submitted"))
else:
    st.markdown(
        "For designated safeguarding leads: download the template, fill it in, upload it here and "
        "fix anything the check reports. Errors must be fixed before you submit; queries need only a "
        "sentence of explanation."
    )
    template_section()
    upload_section()
