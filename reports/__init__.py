"""The board pack: one term of the trust's safeguarding returns, for the board, as a single
offline HTML file, a PDF or an Excel workbook, built from the same analysis and figures as the
dashboard; short unless its appendix of charts and tables is asked for.

``reports.pack.build_pack`` gathers; ``reports.html.render_html``, ``reports.pdf`` and
``reports.xlsx.render_xlsx`` write; ``reports.formats.render_pack`` gathers and writes in a format,
for the Board pack page and ``python -m reports pack`` alike.
"""
