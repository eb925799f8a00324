"""The board pack: the term's safeguarding papers for the board, made in one click as a PDF to
circulate, one offline web page to project, and an Excel workbook of the numbers.

The pack is short unless the appendix is ticked: a cover, a page of summary, the gaps by theme
with their questions, the board's questions and how to read it; the appendix adds each theme's
charts and tables of figures, the definitions and the methods.

Trust leaders choose whether the pack is for trustees (small counts of children shown as "fewer
than 5") or for the leadership (every figure); a trustee's pack is always the trustees' one.
Every pack made is put on record, which is how the next term's pack knows what was closed since.
"""

from __future__ import annotations

import time

import streamlit as st

from reports.formats import MIME, render_pack
from reports.guide import APPENDIX_BOX
from reports.pack import Unavailable, pack_from_dataset
from reports.pdf import PdfUnavailable
from store.challenges import list_challenges
from store.packs import last_pack_before, record_pack
from ui import shell

shell.require_frame()
seen = shell.scope()
if not seen.can_challenge:
    st.warning("The board pack is made by the trust's leaders and trustees.", icon=":material/lock:")
    st.stop()

year, term, _ = shell.selection()
if not shell.dataset().terms:
    st.title("Board pack")
    st.info("No returns are stored yet, so there is no pack to make.", icon=":material/info:")
    st.stop()
st.title(f"Board pack: {term} {year}")
st.caption("A cover, a page of summary (returns in, the gaps counted, the theme heatmap), the gaps by theme with a "
           "question for each, the board's questions carried from term to term, and a page on how to read it, short "
           "enough to read on paper. The appendix adds each theme's charts and tables of figures, the definitions "
           "and the methods. The term is the one chosen in the sidebar.")

FORMATS = {
    "pdf": ("PDF, to circulate", "Make the PDF", ":material/picture_as_pdf:"),
    "html": ("Web page, to project (works offline)", "Make the web page", ":material/web:"),
    "xlsx": ("Excel workbook of the numbers", "Make the workbook", ":material/table_view:"),
}
READERS = {"trustee": "Trustees: counts of children from 1 to 4 shown as \"fewer than 5\"",
           "leader": "The trust's leaders: every figure in full"}

if seen.can_manage:
    reader = st.radio("Who is the pack for?", list(READERS), format_func=READERS.get, key="pack_reader",
                      help="A pack that leaves the leadership team should be the trustees' one.")
else:
    reader = "trustee"
    st.caption(READERS["trustee"] + ".")
appendix = st.checkbox(APPENDIX_BOX, key="pack_appendix",
                       help="Each theme's charts with the table of numbers under each (in the workbook, a sheet a "
                            "theme with every school's figures), the definitions and the methods. Without it the "
                            "pack is short, for reading on paper.")


def build(fmt: str) -> tuple[bytes, str] | None:
    engine = shell.engine()

    def gather():
        data = shell.whole_trust()  # the pack restricts it for trustees itself
        return pack_from_dataset(data, year, term, role=reader, thresholds=shell.thresholds(),
                                 challenges=list_challenges(engine), last_pack=last_pack_before(engine, year, term),
                                 appendix=appendix)

    try:
        pack, content = render_pack(gather, fmt, appendix=appendix)  # a PDF's Chromium starts while it is gathered
    except PdfUnavailable as exc:
        st.warning(str(exc), icon=":material/warning:")
        return None
    except Unavailable as exc:
        st.info(str(exc), icon=":material/info:")
        return None
    record_pack(engine, user=shell.current_user(), academic_year=pack.academic_year, term=pack.term, fmt=fmt,
                reader=reader, appendix=pack.appendix, source=shell.where_from())
    form = "_with_appendix" if pack.appendix else ""
    name = f"board_pack_{pack.academic_year.replace('/', '-')}_{pack.term}_{reader}{form}.{fmt}"
    return content, name


cols = st.columns(3)
for col, (fmt, (label, verb, icon)) in zip(cols, FORMATS.items()):
    with col.container(border=True):
        st.markdown(f"**{label}**")
        key = (fmt, year, term, reader, appendix)
        if st.button(verb, key=f"make_{fmt}", icon=icon):
            started = time.perf_counter()
            with st.spinner("Making the pack…"):
                made = shell.run_safely("making the board pack", build, fmt)
            if made is not None:
                st.session_state[f"pack_{fmt}"] = (key, *made, time.perf_counter() - started)
        held = st.session_state.get(f"pack_{fmt}")
        if held and held[0] == key:
            _, content, name, took = held
            st.download_button(f"Download {name}", content, file_name=name, mime=MIME[fmt],
                               icon=":material/download:", key=f"get_{fmt}")
            st.caption(f"{len(content) / 1024:,.0f} KB, made in {took:.1f} s.")
