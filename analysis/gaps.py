"""The gap rules, as data where they share a shape and as small named functions where they do not.

Every rule reads one term's data and returns the gaps it finds, each with the finding in one
sentence (stating the line it was held against), the question a trustee could ask, and the
learning from the reviews behind it. Every rule is registered in ``RULES``, one list:

- *ratio rules* (``RATIO_RULES``): a part of a whole held against a line, such as flagged
  children on monitoring only against flagged children, or meetings attended against meetings
  the school was invited to; one row each, walked by ``walk_ratios``;
- *rising rules* (``RISING_RULES``): a count of children that rose in each of a school's last
  terms; one row each, walked by ``walk_rising``;
- the rest (dates, named leads, outliers, returns, blanks, unexplained changes, and counts held
  against none at all), each a function that declares the ids it reads.

Every measure id, indicator id, theme id and threshold key a rule names is checked when this
module is imported: a misspelt one raises, naming the rule and the id.

Severity: ``red`` or ``amber`` only where the indicator has a polarity (higher or lower is
clearly better); ``note`` for a difference with no judgement in it, raised as a question.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial

import numpy as np
import pandas as pd

from analysis.compare import ENGLAND_GROUPS, TRUST, is_england, phase_of
from analysis.context import Context, SchoolTerm
from analysis.funnel import binomial_limits
from analysis.indicators import HIGHER_BETTER, INDICATORS_BY_ID, LOWER_BETTER, NO_JUDGEMENT, PER_100
from analysis.suppression import suppression_threshold
from analysis.themes import COMPLEXITY, KCSIE, SCIE_ADOLESCENTS, SCIE_MULTI, SCIE_NEGLECT, THEMES_BY_ID, Source
from analysis.thresholds import THRESHOLDS_BY_ID
from loaders.registry import (
    DESIGNATED_TEACHER,
    DSL_ROLE,
    GOVERNANCE_DATES,
    MEASURES_BY_ID,
    REFERRAL_ROUTES,
    REFERRALS,
    SHEETS,
    TEMPLATE_VERSION,
    TRAINING,
    VERSIONS,
    M,
    term_index,
)

SEVERITY_ORDER = {"red": 0, "amber": 1, "note": 2}
FLAGS, DRIFT = (M.NEGLECT_ACTIVE_FLAGS,), (M.NEGLECT_MONITORING_ONLY_2_TERMS,)
REVIEWED = (M.NEGLECT_CHRONOLOGY_REVIEWED,)
ABSENT, PLANS = M.NEGLECT_PERSISTENTLY_ABSENT, (M.NEGLECT_EARLY_HELP_PLAN, M.NEGLECT_CP_PLAN_NEGLECT)
LADO = (M.MULTI_AGENCY_LADO_DUE, M.MULTI_AGENCY_LADO_DONE)
SW, SW_ABSENT = (M.ABOUT_SOCIAL_WORKER,), (M.INCLUSION_SW_PERSISTENTLY_ABSENT,)
ROLL_ID = M.ABOUT_PUPILS_ON_ROLL
ABSENT_PUPILS, LOOKED_AFTER = M.INCLUSION_PERSISTENTLY_ABSENT, M.ABOUT_LOOKED_AFTER
HARM_THRESHOLD_FROM = 2  # the template version whose lado row holds only allegations that may meet it
NOT_ACCEPTED = tuple(f"referrals.{r.id}.not_accepted" for r in REFERRALS.rows)
ESCALATED = tuple(f"referrals.{r.id}.escalated" for r in REFERRALS.rows)
CME = M.INCLUSION_CME_REPORTED
MISSING_CONCERNS = M.REFERRALS_MISSING_CONCERNS
MISSING_ROUTES = tuple(f"referrals.missing.{route}" for route in REFERRAL_ROUTES)
CHANGED_SHARPLY = "The figure is more than three times last term's."

# Gap indicators that are no indicator of analysis.indicators: a check, a date, a lead, a return.
GAP_INDICATORS = ("training", "dsl_training", "dsl_named", "designated_teacher",
                  *(check.indicator for check in GOVERNANCE_DATES), "return", "completeness", "change")
_MEASURE_SHAPED = re.compile(r"(?:%s)\.[a-z0-9_]+(?:\.[a-z0-9_]+)?" % "|".join(s.id for s in SHEETS))


@dataclass(frozen=True)
class Gap:
    urn: str
    school: str
    academic_year: str
    term: str
    theme: str
    indicator: str
    rule: str
    severity: str
    finding: str
    question: str
    learning: str
    source: str

    def as_dict(self) -> dict:
        return dict(zip(GAP_FIELDS, _gap_values(self)))


# Every field of a gap is text, so its values need no copying.
GAP_FIELDS = tuple(Gap.__dataclass_fields__)
_gap_values = operator.attrgetter(*GAP_FIELDS)


# ---- the check every rule passes when this module is imported ----------------------------------

class RuleError(ValueError):
    """A rule names an id that does not exist, or is set up in a way no rule may be."""


def check_ids(rule_name: str, *, themes=(), indicators=(), measures=(), thresholds=()) -> None:
    """Raise RuleError naming the rule and the id when any id it names is not a theme, an
    indicator (or a gap's own indicator), a measure of the return or a threshold."""
    for kind, ids, known in (("theme", themes, THEMES_BY_ID), ("indicator", indicators, INDICATORS_BY_ID),
                             ("measure", measures, MEASURES_BY_ID), ("threshold", thresholds, THRESHOLDS_BY_ID)):
        for x in ids:
            if x not in known and not (kind == "indicator" and x in GAP_INDICATORS):
                raise RuleError(f"The gap rule {rule_name!r} names the {kind} {x!r}, and there is no {kind} "
                                "of that id.")


@dataclass(frozen=True)
class Rule:
    """A registered rule: its name (what each gap it raises carries as ``rule``), what finds its
    gaps, and the ids it reads, checked on registration."""

    name: str
    find: Callable[[Context], list[Gap]] = field(repr=False, compare=False)
    themes: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    thresholds: tuple[str, ...] = ()
    rows: tuple = ()  # a rule walked from data: its rows

    def __post_init__(self):
        check_ids(self.name, themes=self.themes, indicators=self.indicators, measures=self.measures,
                  thresholds=self.thresholds)

    @property
    def __name__(self) -> str:
        return self.name

    def __call__(self, ctx: Context) -> list[Gap]:
        return self.find(ctx)


def rule(*, themes: tuple[str, ...], indicators: tuple[str, ...], measures: tuple[str, ...] = (),
         thresholds: tuple[str, ...] = ()) -> Callable[[Callable[[Context], list[Gap]]], Rule]:
    """A rule written as a function, declaring the ids it reads. A measure id written in its body
    is checked as well."""
    def register(fn: Callable[[Context], list[Gap]]) -> Rule:
        return Rule(fn.__name__, fn, themes, indicators, tuple(dict.fromkeys(measures + _measures_in(fn.__code__))),
                    thresholds)
    return register


def _measures_in(code) -> tuple[str, ...]:
    """The strings shaped like a measure id in a function's body (its nested functions too)."""
    out = []
    for c in code.co_consts:
        if isinstance(c, str) and _MEASURE_SHAPED.fullmatch(c):
            out.append(c)
        elif hasattr(c, "co_consts"):
            out += _measures_in(c)
    return tuple(out)


# ---- wording, as each reader may read it ----------------------------------------------------

def _gap(school: SchoolTerm, theme: str, indicator: str, rule_name: str, severity: str, finding: str,
         question: str, learning: str, source: Source) -> Gap:
    finding = finding[:1].upper() + finding[1:]  # "fewer than 5 of ..." opens a sentence too
    return Gap(school.urn, school.name, school.academic_year, school.term, theme, indicator, rule_name, severity,
               finding, question, learning, str(source))


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _shown(ctx: Context, school: SchoolTerm, x: float, *measures: str) -> bool:
    """Whether this reader may read ``x``, a count of these measures (one, a sum or a
    difference), exactly. A reader who must not see small numbers reads a count of children or
    of allegations only when it is 0, or is 5 or more and every measure in it is shown in that
    reader's own tables (a count hidden there, to protect another, stays hidden here)."""
    if not ctx.data.suppress or not any(MEASURES_BY_ID[m].suppressed for m in measures):
        return True
    if x == 0:
        return True
    return x >= suppression_threshold() and not any(ctx.hidden_count(school, m) for m in measures)


def _of(ctx: Context, school: SchoolTerm, part: float, whole: float, noun: str, part_ids: tuple[str, ...],
        whole_ids: tuple[str, ...]) -> str:
    """"6 of 9 flagged children (67%)", or, when this reader may not read both counts, the share
    in words: "under half of the flagged children" (never "all", which would give a count back)."""
    if _shown(ctx, school, part, *part_ids) and _shown(ctx, school, whole, *whole_ids):
        return f"{_n(part)} of {_n(whole)}{noun} ({_pct(part / whole)})"
    band = "under half" if part / whole < 0.5 else "half or more"
    return f"{band} of the{noun}"


def _n(x: float) -> str:
    return f"{int(round(x)):,}"


def plural(n: float, word: str, many: str | None = None) -> str:
    """"1 gap", "2 gaps", "1 child", "3 children": a count with its noun agreeing."""
    return f"{_n(n)} {word if n == 1 else (many or word + 's')}"


def _times(x: float) -> str:
    """A multiple in words before "the school's": "", "twice ", "three times ", "2.5 times "."""
    words = {1: "", 2: "twice ", 3: "three times ", 4: "four times ", 5: "five times "}
    return words.get(x, f"{x:g} times ")


def every(n: float, unit: str) -> str:
    """How often a check is due: "every year", "every 2 years", "every 18 months"."""
    return f"every {unit}" if n == 1 else f"every {n:g} {unit}s"


def _share_range(ctx: Context, school: SchoolTerm, part_ids: tuple[str, ...], whole_ids: tuple[str, ...]
                 ) -> tuple[float, float]:
    """The lowest and highest share part / whole could be, from what this reader knows (a part is
    never more than its whole)."""
    p, w = ctx.known_range(school, *part_ids), ctx.known_range(school, *whole_ids)
    w_low, p_high = max(w[0], p[0], 1.0), min(p[1], w[1])
    low = p[0] / w[1] if w[1] != float("inf") else 0.0
    return low, min(1.0, p_high / w_low)


def _unsure(ctx: Context, outcome: Callable[[float], object], share: tuple[float, float]) -> bool:
    """Whether a rule's outcome for this reader turns on counts hidden from them: it differs
    between the least and the most the share could be (each outcome here only grows or only falls
    with the share). Then raising the gap, or not, would tell them which side of the line the
    hidden count is, so they are told that the counts are too small to judge from instead."""
    return bool(ctx.data.suppress) and outcome(share[0]) != outcome(share[1])


def _too_small(school: SchoolTerm, theme: str, indicator: str, rule_name: str, what: str, question: str,
               learning: str, source: Source) -> Gap:
    return _gap(school, theme, indicator, rule_name, "note",
                f"Some counts behind {what} are too small to show, so whether this is a gap cannot be read "
                "from the figures shown here.", question, learning, source)


def level_below(share: float, amber: float, red: float) -> str | None:
    """"red" below the red line, "amber" below the amber line, else None."""
    return "red" if share < red else "amber" if share < amber else None


def level_from(share: float, amber: float, red: float) -> str | None:
    """"red" at or above the red line, "amber" at or above the amber line, else None."""
    return "red" if share >= red else "amber" if share >= amber else None


def _total(school: SchoolTerm, ids: tuple[str, ...]) -> float | None:
    """A sum of counts; missing when any is blank or not asked."""
    parts = [school.count(m) for m in ids]
    return None if any(p is None for p in parts) else float(sum(parts))


# ---- ratio rules: a part of a whole against a line ------------------------------------------

BELOW, FROM = "below", "from"  # the gap is a share below the line (done of due), or at or above it (drift)
LEVELS, NOTE = "levels", "note"  # red or amber by the lines; or a question, whatever side of the line
PART, MISSED = "part", "missed"  # the finding counts the part, or what the whole lacks (whole - part)
LEVEL = {BELOW: level_below, FROM: level_from}
POLARITY_FOR = {BELOW: HIGHER_BETTER, FROM: LOWER_BETTER}


@dataclass(frozen=True)
class RatioRule:
    """One row of ``RATIO_RULES``: the share ``part / whole`` (sums of measures) of a school's
    return held against an amber and a red line.

    ``finding`` is the sentence, with ``{of}`` for the counts ("6 of 9 flagged children (67%)",
    or in words when this reader may not read them) and ``{amber}`` / ``{red}`` for the lines,
    which every finding states. Rows sharing a ``name`` are one rule; rows with ``joined`` set
    make one gap per school with that indicator, naming every row below its line as ``item``."""

    name: str
    theme: str
    indicator: str
    part: tuple[str, ...]
    whole: tuple[str, ...]
    lines: tuple[str | float, str | float]  # (amber, red): threshold keys, or fixed shares
    direction: str  # BELOW or FROM
    finding: str
    question: str
    learning: str
    source: Source
    noun: str = ""  # the whole, as {of} words it: " children with a neglect flag"
    too_small: str = ""  # what the counts are behind, when too small to judge: "the chronologies reviewed"
    too_small_question: str = ""  # the question then, when not ``question``
    severity: str = LEVELS
    counted: str = PART
    versions: tuple[int, ...] = VERSIONS  # the template versions whose returns it reads
    joined: str = ""  # the gap's indicator, when the rule's rows make one gap per school
    item: str = ""  # this row in a joined gap: "prevent duty"
    units: tuple[str, str] = ("", "")  # a joined gap's count of rows: ("course is", "courses are")

    def __post_init__(self):
        check_ids(self.name, themes=(self.theme,), indicators=(self.indicator,) + ((self.joined,) if self.joined else ()),
                  measures=self.part + self.whole, thresholds=tuple(x for x in self.lines if isinstance(x, str)))
        def wrong(why: str):
            raise RuleError(f"The gap rule {self.name!r} ({self.indicator}): {why}")
        for name, value, allowed in (("direction", self.direction, (BELOW, FROM)),
                                     ("severity", self.severity, (LEVELS, NOTE)),
                                     ("counted", self.counted, (PART, MISSED))):
            if value not in allowed:
                wrong(f"{name} {value!r} is not one of {', '.join(allowed)}.")
        for x in self.lines:
            if not isinstance(x, str) and not 0 <= x <= 1:
                wrong(f"the line {x!r} is not a share from 0 to 1.")
        polarity = INDICATORS_BY_ID[self.indicator].polarity
        if self.severity == LEVELS and polarity != POLARITY_FOR[self.direction]:
            wrong("only a measure with a better direction, the one its lines hold it to, may be red or amber; "
                  "raise it as a note.")
        if "{amber}" not in self.finding or ("{items}" if self.joined else "{of}") not in self.finding:
            wrong("the finding must give the counts and state the line it was held against.")
        if not set(self.versions) <= set(VERSIONS) or not all(
                MEASURES_BY_ID[m].asked_in(v) for m in self.part + self.whole for v in self.versions):
            wrong("it reads a measure that a version it is for did not ask.")
        suppressed = any(MEASURES_BY_ID[m].suppressed for m in self.part + self.whole)
        if suppressed and (not self.too_small or self.joined):
            wrong("its counts may be hidden from a reader: it needs the words for counts too small to judge, "
                  "and cannot be joined.")

    @property
    def thresholds(self) -> tuple[str, ...]:
        return tuple(x for x in self.lines if isinstance(x, str))

    def line(self, ctx: Context) -> tuple[float, float]:
        return tuple(ctx.t[x] if isinstance(x, str) else float(x) for x in self.lines)


def walk_ratios(ctx: Context, rows: tuple[RatioRule, ...]) -> list[Gap]:
    """Every ratio rule's gaps: for each school and row, the share against the row's lines.

    A reader who must not see small numbers is told the counts are too small to judge whenever
    the least and the most the share could be, from what they can see, fall on different sides
    of a line; otherwise they read the finding with any count hidden from them put in words."""
    gaps, joined = [], {}
    for school in ctx.returned():
        for row in rows:
            part, whole = _total(school, row.part), _total(school, row.whole)
            if (school.version or TEMPLATE_VERSION) not in row.versions or not whole or part is None:
                continue
            amber, red = row.line(ctx)
            level = partial(LEVEL[row.direction], amber=amber, red=red)
            if _unsure(ctx, level, _share_range(ctx, school, row.part, row.whole)):
                gaps.append(_too_small(school, row.theme, row.indicator, row.name, row.too_small,
                                       row.too_small_question or row.question, row.learning, row.source))
                continue
            severity = level(part / whole)
            if severity is None:
                continue
            if row.joined:
                joined.setdefault(school.urn, (school, []))[1].append((severity, part / whole, row, part, whole))
                continue
            if row.counted == MISSED:
                of = _of(ctx, school, whole - part, whole, row.noun, row.part + row.whole, row.whole)
            else:
                of = _of(ctx, school, part, whole, row.noun, row.part, row.whole)
            gaps.append(_gap(school, row.theme, row.indicator, row.name, severity if row.severity == LEVELS else "note",
                             row.finding.format(of=of, amber=_pct(amber), red=_pct(red)), row.question,
                             row.learning, row.source))
    for school, short in joined.values():
        short.sort(key=lambda s: (SEVERITY_ORDER[s[0]], s[1]))
        first = short[0][2]
        amber, red = first.line(ctx)
        items = "; ".join(f"{row.item} {_pct(share)} ({_n(part)} of {_n(whole)})" for _, share, row, part, whole in short)
        gaps.append(_gap(school, first.theme, first.joined, first.name, short[0][0],
                         first.finding.format(count=f"{len(short)} {first.units[len(short) != 1]}", items=items,
                                              amber=_pct(amber), red=_pct(red)),
                         first.question, " ".join(dict.fromkeys(s[2].learning for s in short)), first.source))
    return gaps


# What KCSIE expects of each course, for the learning beside a training gap: the annual update is
# for staff safeguarding training, not for safer recruitment or governors' training.
COURSE_EXPECTATIONS = {
    "whole_staff": "KCSIE expects every member of staff trained at induction and updated at least annually.",
    "kcsie_part_one": "KCSIE expects every member of staff to read part one, and to be told when it changes.",
    "prevent": "The Prevent duty expects staff able to recognise and act on a child at risk of radicalisation.",
    "online_safety": "KCSIE expects online safety, filtering and monitoring in staff training, updated at least "
                     "annually.",
    "safer_recruitment": "KCSIE expects at least one member of every interview panel trained in safer recruitment.",
    "governors": "KCSIE expects governors and trustees trained in safeguarding at induction and regularly after.",
}

DRIFT_LEARNING = ("The reviews found neglect builds up slowly and professionals get used to it; monitoring without a "
                  "plan lets it drift.")
LADO_LEARNING = "KCSIE: allegations that may meet the harm threshold are referred to the local authority designated officer."
MEETINGS = (("cp_conferences", "child protection conferences"), ("strategy", "strategy meetings"))

RATIO_RULES: tuple[RatioRule, ...] = (
    # Workforce: one gap per school naming every course below the line, at the worst course's severity.
    *(RatioRule("training_below_threshold", "workforce", f"training_{course.id}", (f"training.{course.id}.in_date",),
                (f"training.{course.id}.in_scope",), ("training_amber", "training_red"), BELOW,
                "{count} below the trust's line of {amber} of staff in date (red below {red}): {items}.",
                "What is stopping the remaining staff completing their training, and by when will they?",
                COURSE_EXPECTATIONS.get(course.id, COURSE_EXPECTATIONS["whole_staff"]), KCSIE, joined="training",
                item=course.label.lower(), units=("safeguarding course is", "safeguarding courses are"))
      for course in TRAINING.rows),
    # Neglect
    RatioRule("neglect_drift", "neglect", "neglect_drift", DRIFT, FLAGS, ("drift_amber", "drift_red"), FROM,
              "{of} have been monitored in school only for two terms or more, at or above the trust's line of "
              "{amber} (red from {red}).",
              "What would move these children on to early help or a referral, and who decides?", DRIFT_LEARNING,
              SCIE_NEGLECT, noun=" children with a neglect flag", too_small="the flagged children monitored in school only"),
    RatioRule("chronologies_not_reviewed", "neglect", "neglect_chronology", REVIEWED, FLAGS,
              ("chronology_amber", "chronology_red"), BELOW,
              "Chronologies were reviewed this term for {of}, below the trust's line of {amber} (red below {red}).",
              "How does the DSL see the pattern for a flagged child if the chronology is not reviewed?",
              "Poor use of chronologies was a recurring finding: single incidents looked minor while the pattern was "
              "serious.", COMPLEXITY, noun=" flagged children", too_small="the chronologies reviewed"),
    # Multi-agency working
    *(RatioRule("meetings_without_school", "multi_agency", f"ma_{row}", (f"multi_agency.{row}.done",),
                (f"multi_agency.{row}.due",), ("attendance_amber", "attendance_red"), BELOW,
                "The school attended {of}, below the trust's line of {amber} (red below {red}).",
                f"Who goes to {what} for the school, and what happens when they cannot?",
                "The reviews ask for an education representative at every conference and strategy discussion.",
                SCIE_MULTI, noun=f" {what} it was invited to")
      for row, what in MEETINGS),
    RatioRule("late_reports", "multi_agency", "ma_cp_reports", (M.MULTI_AGENCY_CP_REPORTS_DONE,),
              (M.MULTI_AGENCY_CP_REPORTS_DUE,), ("reports_amber", "reports_red"), BELOW,
              "{of} were submitted on time, below the trust's line of {amber} (red below {red}).",
              "What gets in the way of conference reports being on time?",
              "Conferences decide best with the school's account in front of them, in plain descriptive language.",
              SCIE_MULTI, noun=" reports for child protection conferences"),
    # Allegations about staff: red where the return's row holds only allegations that may meet the
    # harm threshold (version 2); a question where it held every allegation, low-level concerns
    # among them (version 1).
    RatioRule("allegations_not_referred", "multi_agency", "ma_lado", LADO[1:], LADO[:1], (1.0, 1.0), BELOW,
              "The school did not refer {of} to the LADO, against a line of every one referred ({amber}).",
              "Why were these allegations not referred, and who made that decision?", LADO_LEARNING, KCSIE,
              noun=" allegations about staff that may meet the harm threshold", counted=MISSED,
              too_small="the allegations about staff that may meet the harm threshold received and referred",
              too_small_question="Was every allegation about staff that may meet the harm threshold referred to the "
                                 "LADO, and who decided?",
              versions=tuple(v for v in VERSIONS if v >= HARM_THRESHOLD_FROM)),
    RatioRule("allegations_not_referred", "multi_agency", "ma_lado", LADO[1:], LADO[:1], (1.0, 1.0), BELOW,
              "The school did not refer {of} to the LADO, against a line of every one referred ({amber}). This "
              "return's row counted every allegation, low-level concerns among them, so some may rightly have "
              "stayed in school.",
              "Did any of the allegations not referred meet the harm threshold, and who decided they need not go to "
              "the LADO?",
              "KCSIE: allegations that may meet the harm threshold are referred to the local authority designated "
              "officer; low-level concerns are recorded and reviewed in school.", KCSIE,
              noun=" allegations about staff", counted=MISSED, severity=NOTE,
              too_small="the allegations about staff received and referred",
              too_small_question="Was every allegation about staff that may meet the harm threshold referred to the "
                                 "LADO, and who decided?",
              versions=tuple(v for v in VERSIONS if v < HARM_THRESHOLD_FROM)),
)


# ---- rising rules: a count of children up in each of a school's last terms --------------------

RISING_TERMS = 2  # the earlier terms a count is held against: it rose in each of them
RISING_TERMS_WORDS = "two"


@dataclass(frozen=True)
class RisingRule:
    """One row of ``RISING_RULES``: a count that rose in each of the school's last
    ``RISING_TERMS`` terms (each returned, its count asked and filled), held against its own
    earlier terms. A question: these counts have no better direction of their own."""

    name: str
    theme: str
    indicator: str
    measure: str
    noun: str  # "pupils on a part-time timetable"
    question: str
    learning: str
    source: Source

    def __post_init__(self):
        check_ids(self.name, themes=(self.theme,), indicators=(self.indicator,), measures=(self.measure,))
        if INDICATORS_BY_ID[self.indicator].polarity != NO_JUDGEMENT:
            raise RuleError(f"The gap rule {self.name!r}: a count with a better direction is held against a line, "
                            "not against its own earlier terms.")


def _rises(ranges: list[tuple[float, float]]) -> tuple[bool, bool]:
    """Whether counts within these ranges (this term first, then each earlier term) could rise
    term on term, and whether they must."""
    oldest_first = ranges[::-1]
    must = all(older[1] < newer[0] for older, newer in zip(oldest_first, oldest_first[1:]))
    least = oldest_first[0][0]
    for low, high in oldest_first[1:]:
        least = max(low, least + 1)
        if least > high:
            return False, must
    return True, must


def _term_name(school: SchoolTerm) -> str:
    return f"{school.term} {school.academic_year}"


def walk_rising(ctx: Context, rows: tuple[RisingRule, ...]) -> list[Gap]:
    """Every rising rule's gaps. A reader who must not see small numbers reads the counts only when
    every one of them is shown to them, else the rise in words; and when what they can see leaves
    open whether the counts rose, they are told the counts are too small to judge (said whether
    they rose or not, so that it tells them nothing)."""
    gaps = []
    for school in ctx.returned():
        index = term_index(school.academic_year, school.term)
        terms = [school] + [ctx.school_term(school.urn, index - k) for k in range(1, RISING_TERMS + 1)]
        if not all(t.returned for t in terms):
            continue
        for row in rows:
            counts = [t.count(row.measure) for t in terms]
            if any(c is None for c in counts):
                continue
            earlier = [_term_name(t) for t in terms[:0:-1]]  # oldest first
            if ctx.data.suppress:
                could, must = _rises([ctx.known_range(t, row.measure) for t in terms])
                if could and not must:
                    gaps.append(_too_small(school, row.theme, row.indicator, row.name,
                                           f"the {row.noun} in {', '.join(earlier)} and this term", row.question,
                                           row.learning, row.source))
                    continue
            if not all(older < newer for older, newer in zip(counts[1:], counts)):
                continue
            if all(_shown(ctx, t, c, row.measure) for t, c in zip(terms, counts)):
                said = ", ".join(f"{_n(c)} in {_term_name(t)}" for t, c in zip(terms[:0:-1], counts[:0:-1]))
                finding = (f"The number of {row.noun} rose in each of the last {RISING_TERMS_WORDS} terms: {said}, "
                           f"{_n(counts[0])} this term.")
            else:
                finding = (f"The number of {row.noun} rose in each of the last {RISING_TERMS_WORDS} terms, from "
                           f"{' to '.join(earlier)} to this term; some of the counts are not shown, to protect small "
                           "numbers.")
            gaps.append(_gap(school, row.theme, row.indicator, row.name, "note", finding, row.question, row.learning,
                             row.source))
    return gaps


OUT_OF_SIGHT = ("The reviews warn that exclusion, a reduced timetable or leaving school can put a young person out of "
                "sight of the adults who would notice harm.")

RISING_RULES: tuple[RisingRule, ...] = (
    RisingRule("rising_part_time", "adolescents", "part_time", M.INCLUSION_PART_TIME_TIMETABLE,
               "pupils on a part-time timetable",
               "Why are more pupils on part-time timetables, who reviews each one, and when do they return to full "
               "time?", OUT_OF_SIGHT, SCIE_ADOLESCENTS),
    RisingRule("rising_suspensions", "adolescents", "suspensions", M.INCLUSION_SUSPENDED, "pupils suspended",
               "What lies behind the rise in suspensions, and who checks on each pupil's safety while they are out "
               "of school?", OUT_OF_SIGHT, SCIE_ADOLESCENTS),
    RisingRule("rising_home_education", "adolescents", "ehe", M.INCLUSION_EHE_REMOVALS,
               "pupils removed from roll for elective home education",
               "Why are more families taking their children off roll to educate them at home, and was the local "
               "authority told about each one before they left?", OUT_OF_SIGHT, SCIE_ADOLESCENTS),
)


def _walked(name: str, rows: tuple, walk: Callable) -> Rule:
    """The rule made of the rows of that name."""
    mine = tuple(r for r in rows if r.name == name)
    if not mine:
        raise RuleError(f"No row of the gap rules is called {name!r}.")
    measures = tuple(dict.fromkeys(m for r in mine for m in getattr(r, "part", ()) + getattr(r, "whole", ()) +
                                   ((r.measure,) if hasattr(r, "measure") else ())))
    return Rule(name, lambda ctx: walk(ctx, mine), tuple(dict.fromkeys(r.theme for r in mine)),
                tuple(dict.fromkeys(x for r in mine for x in (r.indicator, getattr(r, "joined", "")) if x)), measures,
                tuple(dict.fromkeys(t for r in mine for t in getattr(r, "thresholds", ()))), mine)


training_below_threshold = _walked("training_below_threshold", RATIO_RULES, walk_ratios)
neglect_drift = _walked("neglect_drift", RATIO_RULES, walk_ratios)
chronologies_not_reviewed = _walked("chronologies_not_reviewed", RATIO_RULES, walk_ratios)
meetings_without_school = _walked("meetings_without_school", RATIO_RULES, walk_ratios)
late_reports = _walked("late_reports", RATIO_RULES, walk_ratios)
allegations_not_referred = _walked("allegations_not_referred", RATIO_RULES, walk_ratios)
rising_part_time = _walked("rising_part_time", RISING_RULES, walk_rising)
rising_suspensions = _walked("rising_suspensions", RISING_RULES, walk_rising)
rising_home_education = _walked("rising_home_education", RISING_RULES, walk_rising)


# ---- rules written as functions ----------------------------------------------------------------

def months_before(end: date, when: date) -> int:
    """Whole months from ``when`` to ``end``."""
    return (end.year - when.year) * 12 + end.month - when.month - (end.day < when.day)


def _years_before(d: date | None, end: date) -> float | None:
    return None if d is None else (end - d).days / 365.25


@rule(themes=("workforce",), indicators=("dsl_training",), thresholds=("dsl_full_years", "dsl_refresher_years"))
def dsl_training_out_of_date(ctx: Context) -> list[Gap]:
    gaps = []
    for school in ctx.returned():
        for lead in school.leads:
            if lead["role"] != DSL_ROLE and lead["role"] != "Deputy DSL":
                continue
            who = "the designated safeguarding lead" if lead["role"] == DSL_ROLE else "a deputy DSL"
            severity = "red" if lead["role"] == DSL_ROLE else "amber"
            for date_key, limit_key, what in (
                ("last_full_training", "dsl_full_years", "full DSL training"),
                ("last_refresher", "dsl_refresher_years", "refresher"),
            ):
                age = _years_before(lead[date_key], school.end)
                limit = ctx.t[limit_key]
                if age is None:
                    finding = f"The date of {who}'s last {what} was not given (due {every(limit, 'year')})."
                    sev = "amber"
                elif age > limit:
                    finding = (f"{who[0].upper()}{who[1:]}'s last {what} was on {lead[date_key]:%d %B %Y}, "
                               f"{age:.1f} years before the end of term (due {every(limit, 'year')}).")
                    sev = severity
                else:
                    continue
                gaps.append(_gap(school, "workforce", "dsl_training", "dsl_training_out_of_date", sev, finding,
                                 f"When is {who}'s {what} booked, and who covers the role meanwhile?",
                                 "KCSIE: the DSL and deputies are trained every two years and refresh their "
                                 "knowledge at least annually.", KCSIE))
    return gaps


@rule(themes=("workforce",), indicators=("dsl_named",))
def no_dsl_named(ctx: Context) -> list[Gap]:
    return [
        _gap(school, "workforce", "dsl_named", "no_dsl_named", "red",
             "The return names no designated safeguarding lead; KCSIE requires one in every school.",
             "Who is the school's designated safeguarding lead, and why is no one recorded?",
             "KCSIE requires a designated safeguarding lead from the senior leadership team.", KCSIE)
        for school in ctx.returned() if not any(lead["role"] == DSL_ROLE for lead in school.leads)
    ]


@rule(themes=("workforce",), indicators=("designated_teacher",), measures=(LOOKED_AFTER,))
def no_designated_teacher(ctx: Context) -> list[Gap]:
    """Looked-after children on roll and no designated teacher for them named on the return."""
    gaps = []
    for school in ctx.returned():
        looked_after = school.count(LOOKED_AFTER)
        if not looked_after or any(lead["role"] == DESIGNATED_TEACHER for lead in school.leads):
            continue
        children = f"{_n(looked_after)} looked-after {'child' if looked_after == 1 else 'children'}" \
            if _shown(ctx, school, looked_after, LOOKED_AFTER) else "looked-after children"
        gaps.append(_gap(school, "workforce", "designated_teacher", "no_designated_teacher", "amber",
                         f"The return counts {children} on roll but names no designated teacher for them; KCSIE "
                         "requires one wherever a school has looked-after children.",
                         "Who is the designated teacher for the school's looked-after children, and why is no "
                         "one recorded?",
                         "KCSIE: a school must appoint a designated teacher to promote the educational "
                         "achievement of looked-after and previously looked-after children.", KCSIE))
    return gaps


@rule(themes=("workforce",), indicators=tuple(g.indicator for g in GOVERNANCE_DATES),
      measures=tuple(g.measure for g in GOVERNANCE_DATES), thresholds=("governance_months",))
def governance_checks_out_of_date(ctx: Context) -> list[Gap]:
    gaps = []
    months = ctx.t["governance_months"]
    for school in ctx.returned():
        for check in GOVERNANCE_DATES:
            when, what = school.date(check.measure), check.check
            line = f"due {every(months, 'month')}"
            if when is None:
                finding, sev = f"{what} date was not given ({line}).", "amber"
            else:
                age = months_before(school.end, when)
                if age < months - 1:
                    continue
                # red once the line is passed; amber in its last month, while there is time to act
                sev = "red" if age >= months else "amber"
                due = "overdue" if sev == "red" else "due within a month"
                finding = (f"{what} is {due} ({line}; last done {when:%d %B %Y}, {plural(age, 'month')} before the end "
                           "of term).")
            gaps.append(_gap(school, "workforce", check.indicator, "governance_checks_out_of_date", sev, finding,
                             f"When will {what[0].lower()}{what[1:]} be done, and who signs it off?",
                             "KCSIE expects the policy and the filtering and monitoring arrangements reviewed "
                             "at least annually and the single central record kept up to date.", KCSIE))
    return gaps


# ---- Neglect ------------------------------------------------------------------------------

@rule(themes=("neglect",), indicators=("neglect_absent",), measures=(ABSENT, *PLANS))
def absent_without_early_help(ctx: Context) -> list[Gap]:
    gaps = []
    for school in ctx.returned():
        absent, help_, cp = (school.count(m) for m in (M.NEGLECT_PERSISTENTLY_ABSENT, M.NEGLECT_EARLY_HELP_PLAN,
                                                     M.NEGLECT_CP_PLAN_NEGLECT))
        if absent is None or help_ is None or cp is None:
            continue
        question = "Are the flagged children who are missing school getting help beyond the school?"
        learning = "Poor attendance was one of the signs of neglect the reviews kept finding."
        seen_absent, seen_plans = ctx.known_range(school, ABSENT), ctx.known_range(school, *PLANS)
        if ctx.data.suppress and (seen_absent[0] > seen_plans[1]) != (seen_absent[1] > seen_plans[0]):
            gaps.append(_too_small(school, "neglect", "neglect_absent", "absent_without_early_help",
                                   "the flagged children persistently absent and those with a plan", question,
                                   learning, SCIE_NEGLECT))
            continue
        if absent <= help_ + cp:
            continue
        plans = help_ + cp
        line = "; the trust asks whenever more are persistently absent than have a plan."
        if _shown(ctx, school, absent, ABSENT) and _shown(ctx, school, plans, *PLANS):
            finding = (f"{plural(absent, 'flagged child', 'flagged children')} "
                       f"{'is' if absent == 1 else 'are'} persistently absent, but only "
                       f"{plural(plans, 'flagged child has', 'flagged children have')} an early help or child "
                       f"protection plan{line}")
        else:
            finding = ("More flagged children are persistently absent than have an early help or child "
                       f"protection plan{line}")
        gaps.append(_gap(school, "neglect", "neglect_absent", "absent_without_early_help", "note", finding,
                         question, learning, SCIE_NEGLECT))
    return gaps


@rule(themes=("neglect",), indicators=("sw_persistent_absence",),
      measures=(*SW, *SW_ABSENT, ROLL_ID, ABSENT_PUPILS), thresholds=("sw_absence_times",))
def social_worker_absence(ctx: Context) -> list[Gap]:
    """Children with a social worker persistently absent more often than the school's pupils as a
    whole, by more than the trust's chosen multiple and beyond what chance would explain for so
    few children (above the 95% binomial limit): a question, since absence has no judgement."""
    gaps = []
    times = ctx.t["sw_absence_times"]
    question = ("What keeps children with a social worker out of school more than their classmates, and do "
                "their social workers know?")
    learning = "Poor attendance was one of the signs of neglect the reviews kept finding."
    found = []
    for school in ctx.returned():
        sw, absent_sw = school.count(SW[0]), school.count(SW_ABSENT[0])
        pupils, absent = school.count(M.ABOUT_PUPILS_ON_ROLL), school.count(ABSENT_PUPILS)
        if sw and absent_sw is not None and pupils and absent is not None:
            found.append((school, sw, absent_sw, absent, absent / pupils))
    # every school's limit solved at once: the solver works on arrays
    _, limit = binomial_limits(np.array([min(1.0, times * f[4]) for f in found]), np.array([f[1] for f in found]), 0.95)
    for (school, sw, absent_sw, absent, overall), upper in zip(found, limit):

        def beyond(part: np.ndarray, whole: np.ndarray, share: float) -> np.ndarray:
            _, upper = binomial_limits(np.full(whole.shape, min(1.0, times * share)), whole, 0.95)
            return (whole > 0) & (part > upper)

        if ctx.data.suppress and len(_outcomes(ctx, school, beyond, SW_ABSENT, SW, (ABSENT_PUPILS, ROLL_ID))) > 1:
            gaps.append(_too_small(school, "neglect", "sw_persistent_absence", "social_worker_absence",
                                   "the children with a social worker persistently absent", question, learning,
                                   SCIE_NEGLECT))
            continue
        if not absent_sw > upper:  # as beyond() decides it, for the counts as they are
            continue
        theirs = _of(ctx, school, absent_sw, sw, " children with a social worker", SW_ABSENT, SW)
        whole = f"{_pct(overall)} of its pupils as a whole" if _shown(ctx, school, absent, ABSENT_PUPILS) \
            else "its pupils as a whole"
        gaps.append(_gap(school, "neglect", "sw_persistent_absence", "social_worker_absence", "note",
                         f"{theirs} are persistently absent, against {whole}; the trust asks when their share is "
                         f"more than {_times(times)}the school's, beyond what chance would explain.", question,
                         learning, SCIE_NEGLECT))
    return gaps


UNBOUNDED_SPAN = 200  # how far past its lowest a count known only as "5 or more" is tried


def _outcomes(ctx: Context, school: SchoolTerm, outcome: Callable, part_ids: tuple[str, ...],
              whole_ids: tuple[str, ...], rate_ids: tuple[str, str]) -> set[bool]:
    """Every outcome a rule could have, over every part and whole (counts, the part never above
    the whole) and every share part / whole of ``rate_ids`` this reader could take the return to
    hold: more than one, and raising the gap or not would tell them something of hidden counts."""
    (p_lo, p_hi), (w_lo, w_hi) = ctx.known_range(school, *part_ids), ctx.known_range(school, *whole_ids)
    (n_lo, n_hi), (d_lo, d_hi) = ctx.known_range(school, rate_ids[0]), ctx.known_range(school, rate_ids[1])
    shares = {n_lo / d_hi if d_hi != float("inf") else 0.0, min(1.0, n_hi / max(d_lo, 1.0))}
    parts = np.arange(p_lo, min(p_hi, p_lo + UNBOUNDED_SPAN) + 1)
    wholes = np.arange(w_lo, min(w_hi, w_lo + UNBOUNDED_SPAN) + 1)
    part, whole = (a.ravel() for a in np.meshgrid(parts, wholes))
    possible = part <= whole
    return {bool(x) for share in shares for x in outcome(part[possible], whole[possible], share)}



# ---- Multi-agency working ------------------------------------------------------------------

@rule(themes=("multi_agency",), indicators=("escalation",), measures=NOT_ACCEPTED + ESCALATED)
def not_accepted_never_escalated(ctx: Context) -> list[Gap]:
    gaps = []
    for school in ctx.returned():
        refused, escalated = school.total("not_accepted"), school.total("escalated")
        if refused is None or escalated is None or refused == 0 or escalated > 0:
            continue
        line = "; the trust asks whenever a referral turned down is not escalated."
        if _shown(ctx, school, refused, *NOT_ACCEPTED):
            finding = (f"{plural(refused, 'referral was', 'referrals were')} not accepted this term and none was "
                       f"escalated{line}")
        else:
            finding = f"Referrals were not accepted this term and none was escalated{line}"
        gaps.append(_gap(school, "multi_agency", "escalation", "not_accepted_never_escalated", "note", finding,
                         "When a referral is turned down and the school is still worried, how does it challenge?",
                         "The reviews ask schools to challenge and escalate when they disagree with a decision.",
                         SCIE_MULTI))
    return gaps


# ---- Statistical differences (no judgement) and identification ------------------------------

@rule(themes=tuple(THEMES_BY_ID), indicators=tuple(INDICATORS_BY_ID))
def statistical_outliers(ctx: Context) -> list[Gap]:
    """Beyond the 99.8% funnel limit on an indicator with no polarity: a question, not a failing."""
    gaps = []
    rows = ctx.compared_term()
    rows = rows[rows["position"].isin(["above_998", "below_998"])]
    for r in rows.itertuples():
        ind = INDICATORS_BY_ID[r.indicator]
        side = "higher" if r.position == "above_998" else "lower"
        if ind.polarity != NO_JUDGEMENT or ind.ask not in ("both", side):
            continue
        school = ctx.school_term(r.urn)
        fmt = (lambda v: f"{v:.1f} per 100 pupils") if ind.unit == PER_100 else _pct
        gaps.append(_gap(school, ind.theme, ind.id, "statistical_outlier", "note",
                         _outlier_finding(ind, r, side, fmt),
                         f"What lies behind this school's {side} figure: the children, or how concerns are "
                         "noticed and recorded?",
                         THEMES_BY_ID[ind.theme].learning.split(". ")[0] + ".", THEMES_BY_ID[ind.theme].sources[0]))
    return gaps


def _outlier_finding(ind, r, side: str, fmt) -> str:
    chance = "beyond what chance would explain for a school this size."
    group = getattr(r, "group", TRUST)
    against = ("the trust's" if group == TRUST else f"England's {ENGLAND_GROUPS[group].lower()} schools'"
               if is_england(group) else f"the trust's {group.lower()} schools'")
    target = getattr(r, "target", r.trust)
    return (f"{ind.label}: {fmt(r.value)} ({_n(r.numerator)} of {_n(r.denominator)}), {side} than {against} "
            f"{fmt(target)}, {chance}")


OLDER_PUPILS = ("Secondary", "All-through", "Alternative provision", "Special")


def _older_pupils(ctx: Context, school: SchoolTerm) -> bool:
    """Exploitation and child-on-child abuse are asked of schools with older pupils: by phase
    (secondary, all-through, alternative provision, special), whatever the size; a school whose
    phase is not recorded is asked when it is large."""
    phase = phase_of(ctx.data.school_phases.get(school.urn))
    if phase is not None:
        return phase in OLDER_PUPILS
    return (school.count(M.ABOUT_PUPILS_ON_ROLL) or 0) >= ctx.t["large_school"]


@rule(themes=("adolescents",), indicators=("exploitation_concerns", "child_on_child_concerns"),
      measures=(ROLL_ID, M.REFERRALS_CSE_CONCERNS, M.REFERRALS_CCE_CONCERNS, M.REFERRALS_CHILD_ON_CHILD_CONCERNS),
      thresholds=("large_school",))
def no_exploitation_identified(ctx: Context) -> list[Gap]:
    gaps = []
    for urn, year_rows in ctx.year_so_far().items():
        school = ctx.school_term(urn)
        if not _older_pupils(ctx, school):
            continue
        for cols, what in ((("cse", "cce"), "exploitation"), (("child_on_child",), "child-on-child abuse")):
            totals = [st_.total_of("concerns", cols) for st_ in year_rows]
            if any(t is None for t in totals) or sum(totals) > 0:
                continue
            gaps.append(_gap(school, "adolescents", "exploitation_concerns" if what == "exploitation" else
                             "child_on_child_concerns", "no_exploitation_identified", "note",
                             f"A school of {_n(school.count(ROLL_ID))} pupils recorded no {what} concerns "
                             f"in {'its one term' if len(totals) == 1 else f'any of the {len(totals)} terms'} of "
                             f"{school.academic_year} returned so far; the trust asks whenever a school with older "
                             "pupils records none.",
                             f"How confident are we that staff would recognise {what} and record it?",
                             "The reviews warn more often of harm that went unnoticed than of over-reporting.",
                             SCIE_ADOLESCENTS))
    return gaps


# ---- Adolescents: children out of sight ------------------------------------------------------

MISSING_LEARNING = ("Going missing is a warning sign and a route into exploitation; the reviews ask that what a school "
                    "knows is passed to those who can act on it.")


@rule(themes=("adolescents",), indicators=("missing_concerns",), measures=(MISSING_CONCERNS, *MISSING_ROUTES))
def missing_without_referral(ctx: Context) -> list[Gap]:
    """Children with a concern about going missing from home or care recorded this term, and none
    of them referred anywhere: a question, since some episodes are rightly handled in school."""
    gaps = []
    for school in ctx.returned():
        concerns, referred = school.count(MISSING_CONCERNS), _total(school, MISSING_ROUTES)
        if not concerns or referred is None or referred > 0:
            continue
        if ctx.data.suppress and ctx.known_range(school, MISSING_CONCERNS)[0] < 1:
            continue  # a count this reader cannot see at all: raising it would say it is not 0
        children = f"{_n(concerns)} {'child' if concerns == 1 else 'children'}" \
            if _shown(ctx, school, concerns, MISSING_CONCERNS) else "children"
        gaps.append(_gap(school, "adolescents", "missing_concerns", "missing_without_referral", "note",
                         f"The school recorded a concern about going missing from home or care for {children} this "
                         "term and made no referral to early help, children's social care, police, Prevent or "
                         "health; the trust asks whenever none is made.",
                         "Who was told about each child who went missing, and was a return home interview offered?",
                         MISSING_LEARNING, SCIE_ADOLESCENTS))
    return gaps


@rule(themes=("adolescents",), indicators=("cme",), measures=(CME,))
def children_missing_education(ctx: Context) -> list[Gap]:
    """Children reported to the local authority as missing education: a question whenever there
    are any (reporting them is right; where they are now is the question)."""
    gaps = []
    for school in ctx.returned():
        reported = school.count(CME)
        if not reported:
            continue
        if ctx.data.suppress and ctx.known_range(school, CME)[0] < 1:
            continue  # a count this reader cannot see at all: raising it would say it is not 0
        if _shown(ctx, school, reported, CME):
            who = f"{_n(reported)} {'child was' if reported == 1 else 'children were'}"
        else:
            who = "Children were"
            reported = None
        finding = (f"{who} reported to the local authority as missing education this term"
                   f"{'' if reported else ' (how many is not shown, to protect small numbers)'}; the trust asks "
                   "about any child reported.")
        gaps.append(_gap(school, "adolescents", "cme", "children_missing_education", "note", finding,
                         "Where are the children reported missing education now, and does the school hear what the "
                         "local authority's search found?", MISSING_LEARNING, SCIE_ADOLESCENTS))
    return gaps


# ---- Oversight and data quality ------------------------------------------------------------

@rule(themes=("oversight",), indicators=("return",), thresholds=("return_due_autumn", "return_due_spring",
                                                                    "return_due_summer", "return_due_days"))
def missing_or_late_return(ctx: Context) -> list[Gap]:
    if not ctx.past_due:
        return []  # the term's returns are not yet due: none is missing, none can be late
    gaps = []
    for school in ctx.expected():
        if not school.returned:
            gaps.append(_gap(school, "oversight", "return", "missing_return", "red",
                             f"No return has been received for {school.term} {school.academic_year}; it was due by "
                             f"{ctx.due:%-d %B %Y}.",
                             "Why has this school not returned, and when will it?",
                             "A board can only ask about what it can see.", COMPLEXITY))
        elif school.days_late and school.days_late > 0:
            gaps.append(_gap(school, "oversight", "return", "late_return", "amber",
                             f"The return arrived {plural(school.days_late, 'day')} after it was due (by "
                             f"{ctx.due:%-d %B %Y}).",
                             "What got in the way of returning on time?",
                             "A board can only ask about what it can see, when it needs to.", COMPLEXITY))
    return gaps


@rule(themes=("oversight",), indicators=("completeness",), thresholds=("blank_share",))
def many_blanks(ctx: Context) -> list[Gap]:
    gaps = []
    for school in ctx.returned():
        share = school.blank_share
        if share is not None and share >= ctx.t["blank_share"]:
            gaps.append(_gap(school, "oversight", "completeness", "many_blanks", "amber",
                             f"{_pct(share)} of the counts in the return were left blank (not known), at or above "
                             f"the trust's line of {_pct(ctx.t['blank_share'])}.",
                             "Which numbers can the school not see, and what would it take to know them?",
                             "Warning signs were often there in records no one was reading together.", COMPLEXITY))
    return gaps


@rule(themes=("oversight",), indicators=("change",))
def unexplained_change(ctx: Context) -> list[Gap]:
    gaps = []
    for school in ctx.returned():
        for q in school.unexplained_changes:
            # The check's own words quote the two counts; a reader who must not see small
            # numbers is told what happened without them (either could be a hidden count).
            said = CHANGED_SHARPLY if ctx.data.suppress else q["message"]
            gaps.append(_gap(school, "oversight", "change", "unexplained_change", "amber",
                             f"{q['where']}: {said} No explanation was given; the trust asks for one whenever the "
                             "check queries a change.",
                             "What changed at the school this term to move this number so far?",
                             "A sudden change can be the first sign of a problem, or of a recording change.",
                             COMPLEXITY))
    return gaps


# ---- every rule, in one list -------------------------------------------------------------------

RULES: tuple[Rule, ...] = (
    # Workforce, leadership and KCSIE
    training_below_threshold, dsl_training_out_of_date, no_dsl_named, no_designated_teacher,
    governance_checks_out_of_date,
    # Neglect
    neglect_drift, chronologies_not_reviewed, absent_without_early_help, social_worker_absence,
    # Multi-agency working
    meetings_without_school, late_reports, allegations_not_referred, not_accepted_never_escalated,
    # Statistical differences (no judgement) and identification
    statistical_outliers, no_exploitation_identified,
    # Adolescents: children out of sight
    missing_without_referral, rising_part_time, rising_suspensions, rising_home_education,
    children_missing_education,
    # Oversight and data quality
    missing_or_late_return, many_blanks, unexplained_change,
)
RULES_BY_NAME = {r.name: r for r in RULES}


def _check_registered() -> None:
    """Every rule registered once, and every row belongs to a registered rule."""
    if len(RULES_BY_NAME) != len(RULES):
        raise RuleError("A gap rule is registered twice.")
    for row in RATIO_RULES + RISING_RULES:
        if row.name not in RULES_BY_NAME or row not in RULES_BY_NAME[row.name].rows:
            raise RuleError(f"The gap rule row {row.name!r} ({row.indicator}) is not registered in RULES.")


_check_registered()


def find_gaps(ctx: Context) -> list[Gap]:
    """Every gap for the context's term, worst first, then by school and theme."""
    gaps = [g for fn in RULES for g in fn(ctx)]
    theme_order = {t: i for i, t in enumerate(THEMES_BY_ID)}
    return sorted(gaps, key=lambda g: (SEVERITY_ORDER[g.severity], g.school, theme_order[g.theme], g.indicator))


def gaps_frame(gaps: list[Gap]) -> pd.DataFrame:
    return pd.DataFrame([_gap_values(g) for g in gaps], columns=list(GAP_FIELDS))
