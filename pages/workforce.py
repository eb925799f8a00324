"""The workforce, leadership and KCSIE theme: training and checks by school, then the measures
compared and the theme's gaps."""

import streamlit as st

from analysis.views import compliance_cells
from charts.tables import compliance_grid
from ui import shell
from ui.theme_page import render

shell.require_frame()


def checks(ctx, urns) -> None:
    st.header(f"Training and checks, {ctx.term} {ctx.academic_year}")
    cells = compliance_cells(ctx)
    cells = cells[cells["urn"].isin(urns)]
    if cells.empty:
        st.info("No returns for this term.")
        return
    st.caption("Each cell: ✔ in date, ▲ amber, ✖ red against the trust's thresholds, with the share of staff "
               "in date or the date of the last check.")
    shell.show_chart(compliance_grid(cells), key="compliance")


render("workforce", extra=checks)
