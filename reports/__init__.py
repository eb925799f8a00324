"""The board pack: one term of the trust's safeguarding returns, for the board, as a single
offline HTML file or an Excel workbook, built from the same analysis and figures as the dashboard.

``reports.pack.build_pack`` gathers; ``reports.html.render_html`` and ``reports.xlsx.render_xlsx``
write; ``python -m reports pack`` does both from the command line.
"""
