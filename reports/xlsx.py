"""The board pack as an Excel workbook, each sheet with a frozen header row and filters: a summary,
the gap list, the board's questions and how to read the pack; with the appendix, one sheet per
review theme (every school's figure on each of its measures) and the definitions and methods.

Written through analysis.exports.to_xlsx_bytes, so no cell is ever a formula, whatever a school
typed into its return. Counts and values stay numbers; a hidden count is the words that stand
for it ("fewer than 5", "not shown"), never a number.
"""

from __future__ import annotations

import pandas as pd

from analysis.challenges import table as board_table
from analysis.exports import to_xlsx_bytes
from analysis.themes import THEMES_BY_ID
from charts.palette import SEVERITY_WORD
from reports import guide
from reports.pack import Pack, board_since_words, definitions, methods, reader_note

SUMMARY, GAPS, BOARD, GUIDE, DEFINITIONS = "Summary", "Gaps", "Board questions", "How to read", "Definitions"
GAP_COLUMNS = {"severity": "Severity", "school": "School", "urn": "URN", "theme": "Theme",
               "finding": "What we found", "question": "A question to ask", "learning": "The learning behind it",
               "source": "Source"}


def render_xlsx(pack: Pack) -> bytes:
    sheets = {SUMMARY: _summary(pack), GAPS: _gaps(pack.gaps), BOARD: _board(pack), GUIDE: _guide(pack)}
    if pack.appendix:
        for s in pack.sections:
            sheets[s.theme.short] = _theme(s)
        sheets[DEFINITIONS] = _definitions(pack)
    return to_xlsx_bytes(sheets)


def _summary(pack: Pack) -> pd.DataFrame:
    as_at = pack.data_as_at.strftime("%d/%m/%Y %H:%M") if pack.data_as_at else "no return yet"
    rows = [
        ("Trust", pack.trust),
        ("Pack", pack.title),
        ("Term", f"{pack.term} {pack.academic_year}"),
        ("Made on", pack.made.strftime("%d/%m/%Y")),
        ("Data as at", as_at),
        ("For", reader_note(pack)),
        ("Appendix", "included: a sheet per theme with every school's figures, and the definitions" if pack.appendix
         else f"not included: tick \"{guide.APPENDIX_BOX}\" on the Board pack page for a sheet per theme with "
              "every school's figures, and the definitions"),
        ("Schools expected", pack.expected),
        ("Returns in", pack.returned),
        ("Returns not in", pack.returns_rest),
        ("Gaps found", len(pack.gaps)),
    ]
    for level in ("red", "amber", "note"):
        rows.append((f"Gaps: {SEVERITY_WORD[level]}", int((pack.gaps["severity"] == level).sum())))
    rows.append(("Board questions open or answered", len(pack.board_open)))
    rows.append(("Board questions overdue", int(pack.board_open["overdue"].sum()) if len(pack.board_open) else 0))
    rows.append(("Board questions closed since the last pack", len(pack.board_closed)))
    for i, g in enumerate(pack.top_gaps.itertuples(), 1):
        rows.append((f"Top gap {i}", f"{g.school}: {g.finding} Ask: {g.question}"))
    return pd.DataFrame(rows, columns=["Item", "Value"])


def _gaps(gaps: pd.DataFrame) -> pd.DataFrame:
    out = gaps[list(GAP_COLUMNS)].copy()
    out["severity"] = [SEVERITY_WORD.get(s, s) for s in out["severity"]]
    out["theme"] = [THEMES_BY_ID[t].title if t in THEMES_BY_ID else t for t in out["theme"]]
    return out.rename(columns=GAP_COLUMNS)


def _theme(section) -> pd.DataFrame:
    """The theme's measures, one row a school and measure; a theme with none (oversight) has the
    table of its own chart instead."""
    if not section.measures.empty:
        return section.measures
    if section.charts:
        return section.charts[0][1].table
    return pd.DataFrame({"Note": ["No figures for this theme this term."]})


def _board(pack: Pack) -> pd.DataFrame:
    """The challenge log: open and answered items, then those closed since the last pack, one row each."""
    parts = []
    for frame, word in ((pack.board_open, "Open or answered"), (pack.board_closed, f"Closed {board_since_words(pack)}")):
        if not frame.empty:
            parts.append(board_table(frame).assign(**{"In this pack as": word}))
    if not parts:
        return pd.DataFrame({"Note": ["The board has no question open, and none was closed since the last pack."]})
    out = pd.concat(parts, ignore_index=True)
    return out[["In this pack as", *[c for c in out.columns if c != "In this pack as"]]]


def _definitions(pack: Pack) -> pd.DataFrame:
    frame = definitions()
    notes = pd.DataFrame({"Theme": "Method", "Measure": "", "Definition": methods(pack), "Unit": "", "Direction": ""})
    return pd.concat([frame, notes], ignore_index=True)


def _guide(pack: Pack) -> pd.DataFrame:
    """How to read the pack: each mark with its word and meaning, then the notes."""
    rows = [(f"{m.symbol} {m.word}", m.meaning) for m in guide.marks()]
    rows += guide.notes(for_trustees=pack.for_trustees, appendix=pack.appendix)
    return pd.DataFrame(rows, columns=["Topic", "What it means"])
