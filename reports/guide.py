"""How to read the board pack: its symbols, colours and words, what "fewer than 5" means, and where
the full figures are. One text, as data, for the pack's printed page and its workbook's sheet."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.suppression import fewer_than, suppression_threshold
from analysis.views import NOT_YET_DUE
from charts.palette import HIGHER, LOWER, SEVERITY_COLOUR, SEVERITY_SYMBOL, SEVERITY_WORD

APPENDIX_BOX = "Include the appendix of charts and tables"  # the tick box on the Board pack page
APPENDIX_COMMAND = "python -m reports pack --appendix"

# What each mark on a gap, or in a cell of the heatmap, says; in the order a reader meets them.
MARKS = (
    ("red", "Past the trust's red line on something where more or less is clearly better: training in date, "
            "checks done, chronologies reviewed, meetings attended, the return in on time. The finding names "
            "the line."),
    ("amber", "Past the trust's amber line, not its red one."),
    ("note", "A difference with no better direction (more or fewer concerns, flags or referrals than schools "
             "like it), or a pattern the reviews say is worth asking about: a question, not a judgement."),
    ("clear", "Nothing was raised on that theme for that school this term."),
    ("no data", f"No return for the term. Before the term's deadline a return not in is \"{NOT_YET_DUE}\", "
                "in grey: never missing or late, and it raises no gap."),
)


@dataclass(frozen=True)
class Mark:
    symbol: str
    word: str
    colours: tuple[str, ...]  # palette colours, shown beside the symbol and word, never instead of them
    meaning: str


def marks() -> list[Mark]:
    """The symbols and words of the gaps and the heatmap, with the colour each is drawn in."""
    out = [Mark(SEVERITY_SYMBOL[level], SEVERITY_WORD[level], (SEVERITY_COLOUR[level],), meaning)
           for level, meaning in MARKS]
    out.append(Mark("▲ ▼", "Higher, lower", (HIGHER, LOWER),
                    "In the appendix's charts, a school well above or below schools like it on a measure with no "
                    "better direction: blue higher, purple lower. No judgement, a question."))
    return out


def notes(*, for_trustees: bool, appendix: bool) -> list[tuple[str, str]]:
    """The rest of the page, as (heading, sentences)."""
    t = suppression_threshold()
    small = fewer_than(t)
    if for_trustees:
        hidden = (f"This pack is for trustees. A count of children from 1 to {t - 1} is shown as \"{small}\", "
                  f"so that no child can be recognised from it. Where a total or a difference would give such a "
                  f"count away, that figure is \"not shown\" too, and so is a rate worked out from one. A finding "
                  f"that turns on a hidden count says its numbers are too small to show. A count of none is shown "
                  f"as 0.")
    else:
        hidden = (f"This copy is for the trust's leaders and shows every figure in full. The trustees' copy shows a "
                  f"count of children from 1 to {t - 1} as \"{small}\", and any figure that would give one away "
                  f"as \"not shown\": give trustees theirs, not this one.")
    held = ("each theme's charts, with the table of numbers under each (in the workbook, a sheet a theme with "
            "every school's figure on each measure), and the definitions and methods")
    where = (f"This pack includes its appendix: {held}." if appendix else
             f"This is the short pack. Its appendix has {held}: tick \"{APPENDIX_BOX}\" on the Board pack page, "
             f"or run {APPENDIX_COMMAND}.")
    where += " The dashboard's pages show each theme and each school term by term."
    return [
        (f"\"{small[0].upper()}{small[1:]}\"", hidden),
        ("Blank is not zero", "A question a school left blank in its return stays blank: it is never counted as "
                              "0. A school that has not returned has no figures for the term."),
        ("Returns", "In: received for the term. Late: received after the term's deadline. Missing: not received, "
                    "and the deadline has passed. Not yet due: not received, and the deadline has not passed."),
        ("A gap and its question", "Each gap says what was found at one school, and the line it was held against. "
                                   "The question beside it is one the board could ask; the question under each "
                                   "theme is the one the reviews behind it put to every board."),
        ("The board's questions", "What the board has asked about gaps, with the answers and actions, carried "
                                  "from term to term until closed. \"The gap now\" says whether the gap is still "
                                  "found this term."),
        ("Where the full figures are", where),
    ]
