"""The gap rules: each a small named function that reads one term's data and returns the gaps it
finds, each with the finding in one sentence, the question a trustee could ask, and the learning
from the reviews behind it.

Severity: ``red`` or ``amber`` only where the indicator has a polarity (higher or lower is
clearly better); ``note`` for a difference with no judgement in it, raised as a question.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd

from analysis.compare import TRUST, phase_of
from analysis.context import Context, SchoolTerm
from analysis.funnel import binomial_limits
from analysis.indicators import INDICATORS_BY_ID, NO_JUDGEMENT, PER_100
from analysis.themes import KCSIE, SCIE_ADOLESCENTS, SCIE_MULTI, SCIE_NEGLECT, COMPLEXITY, THEMES_BY_ID, Source
from analysis.suppression import suppression_threshold
from loaders.registry import DESIGNATED_TEACHER, DSL_ROLE, MEASURES_BY_ID, REFERRALS, TRAINING

SEVERITY_ORDER = {"red": 0, "amber": 1, "note": 2}
FLAGS, DRIFT, REVIEWED = ("neglect.active_flags",), ("neglect.monitoring_only_2_terms",), ("neglect.chronology_reviewed",)
ABSENT, PLANS = "neglect.persistently_absent", ("neglect.early_help_plan", "neglect.cp_plan_neglect")
REPORTS_DUE, REPORTS_DONE = ("multi_agency.cp_reports.due",), ("multi_agency.cp_reports.done",)
LADO = ("multi_agency.lado.due", "multi_agency.lado.done")
SW, SW_ABSENT = ("about.social_worker",), ("inclusion.sw_persistently_absent",)
ROLL_ID = "about.pupils_on_roll"
ABSENT_PUPILS, LOOKED_AFTER = "inclusion.persistently_absent", "about.looked_after"
HARM_THRESHOLD_FROM = 2  # the template version whose lado row holds only allegations that may meet it
NOT_ACCEPTED = tuple(f"referrals.{r.id}.not_accepted" for r in REFERRALS.rows)
CHANGED_SHARPLY = "The figure is more than three times last term's."


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
        return asdict(self)


RULES: list[Callable[[Context], list[Gap]]] = []


def rule(fn: Callable[[Context], list[Gap]]) -> Callable[[Context], list[Gap]]:
    RULES.append(fn)
    return fn


def _gap(st: SchoolTerm, theme: str, indicator: str, rule_name: str, severity: str, finding: str,
         question: str, learning: str, source: Source) -> Gap:
    finding = finding[:1].upper() + finding[1:]  # "fewer than 5 of ..." opens a sentence too
    return Gap(st.urn, st.name, st.academic_year, st.term, theme, indicator, rule_name, severity,
               finding, question, learning, str(source))


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _shown(ctx: Context, st: SchoolTerm, x: float, *measures: str) -> bool:
    """Whether this reader may read ``x``, a count of these measures (one, a sum or a
    difference), exactly. A reader who must not see small numbers reads a count of children or
    of allegations only when it is 0, or is 5 or more and every measure in it is shown in that
    reader's own tables (a count hidden there, to protect another, stays hidden here)."""
    if not ctx.data.suppress or not any(MEASURES_BY_ID[m].suppressed for m in measures):
        return True
    if x == 0:
        return True
    return x >= suppression_threshold() and not any(ctx.hidden_count(st, m) for m in measures)


def _of(ctx: Context, st: SchoolTerm, part: float, whole: float, noun: str, part_ids: tuple[str, ...],
        whole_ids: tuple[str, ...]) -> str:
    """"6 of 9 flagged children (67%)", or, when this reader may not read both counts, the share
    in words: "under half of the flagged children" (never "all", which would give a count back)."""
    if _shown(ctx, st, part, *part_ids) and _shown(ctx, st, whole, *whole_ids):
        return f"{_n(part)} of {_n(whole)}{noun} ({_pct(part / whole)})"
    band = "under half" if part / whole < 0.5 else "half or more"
    return f"{band} of the{noun}"


def _n(x: float) -> str:
    return f"{int(round(x)):,}"


def _share_range(ctx: Context, st: SchoolTerm, part_ids: tuple[str, ...], whole_ids: tuple[str, ...]
                 ) -> tuple[float, float]:
    """The lowest and highest share part / whole could be, from what this reader knows (a part is
    never more than its whole)."""
    p, w = ctx.known_range(st, *part_ids), ctx.known_range(st, *whole_ids)
    w_low, p_high = max(w[0], p[0], 1.0), min(p[1], w[1])
    low = p[0] / w[1] if w[1] != float("inf") else 0.0
    return low, min(1.0, p_high / w_low)


def _unsure(ctx: Context, st: SchoolTerm, outcome: Callable[[float], object], share: tuple[float, float]) -> bool:
    """Whether a rule's outcome for this reader turns on counts hidden from them: it differs
    between the least and the most the share could be (each outcome here only grows or only falls
    with the share). Then raising the gap, or not, would tell them which side of the line the
    hidden count is, so they are told that the counts are too small to judge from instead."""
    return bool(ctx.data.suppress) and outcome(share[0]) != outcome(share[1])


def _too_small(st: SchoolTerm, theme: str, indicator: str, rule_name: str, what: str, question: str,
               learning: str, source: Source) -> Gap:
    return _gap(st, theme, indicator, rule_name, "note",
                f"Some counts behind {what} are too small to show, so whether this is a gap cannot be read "
                "from the figures shown here.", question, learning, source)


def level_below(share: float, amber: float, red: float) -> str | None:
    """"red" below the red line, "amber" below the amber line, else None."""
    return "red" if share < red else "amber" if share < amber else None


# ---- Workforce, leadership and KCSIE -------------------------------------------------------

@rule
def training_below_threshold(ctx: Context) -> list[Gap]:
    """One gap per school, naming every course below the line, at the worst course's severity."""
    gaps = []
    for st in ctx.returned():
        short = []
        for row in TRAINING.rows:
            scope, done = st.count(f"training.{row.id}.in_scope"), st.count(f"training.{row.id}.in_date")
            if scope is None or done is None or scope == 0:
                continue
            severity = level_below(done / scope, ctx.t["training_amber"], ctx.t["training_red"])
            if severity:
                short.append((severity, done / scope, f"{row.label.lower()} {_pct(done / scope)} "
                                                       f"({_n(done)} of {_n(scope)})", row.id))
        if not short:
            continue
        short.sort(key=lambda s: (SEVERITY_ORDER[s[0]], s[1]))
        courses = "; ".join(s[2] for s in short)
        noun = "course is" if len(short) == 1 else "courses are"
        expected = list(dict.fromkeys(COURSE_EXPECTATIONS.get(s[3], COURSE_EXPECTATIONS["whole_staff"]) for s in short))
        gaps.append(_gap(
            st, "workforce", "training", "training_below_threshold", short[0][0],
            f"{len(short)} safeguarding {noun} below the trust's line of {_pct(ctx.t['training_amber'])} of "
            f"staff in date (red below {_pct(ctx.t['training_red'])}): {courses}.",
            "What is stopping the remaining staff completing their training, and by when will they?",
            " ".join(expected), KCSIE))
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


def months_before(end: date, when: date) -> int:
    """Whole months from ``when`` to ``end``."""
    return (end.year - when.year) * 12 + end.month - when.month - (end.day < when.day)


def _years_before(d: date | None, end: date) -> float | None:
    return None if d is None else (end - d).days / 365.25


@rule
def dsl_training_out_of_date(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        for lead in st.leads:
            if lead["role"] != DSL_ROLE and lead["role"] != "Deputy DSL":
                continue
            who = "the designated safeguarding lead" if lead["role"] == DSL_ROLE else "a deputy DSL"
            severity = "red" if lead["role"] == DSL_ROLE else "amber"
            for field, limit_key, what in (
                ("last_full_training", "dsl_full_years", "full DSL training"),
                ("last_refresher", "dsl_refresher_years", "refresher"),
            ):
                age = _years_before(lead[field], st.end)
                limit = ctx.t[limit_key]
                if age is None:
                    finding = f"The date of {who}'s last {what} was not given."
                    sev = "amber"
                elif age > limit:
                    finding = (f"{who[0].upper()}{who[1:]}'s last {what} was on {lead[field]:%d %B %Y}, "
                               f"{age:.1f} years before the end of term (due every {limit:g} year"
                               f"{'s' if limit != 1 else ''}).")
                    sev = severity
                else:
                    continue
                gaps.append(_gap(st, "workforce", "dsl_training", "dsl_training_out_of_date", sev, finding,
                                 f"When is {who}'s {what} booked, and who covers the role meanwhile?",
                                 "KCSIE: the DSL and deputies are trained every two years and refresh their "
                                 "knowledge at least annually.", KCSIE))
    return gaps


@rule
def no_dsl_named(ctx: Context) -> list[Gap]:
    return [
        _gap(st, "workforce", "dsl_named", "no_dsl_named", "red",
             "The return names no designated safeguarding lead.",
             "Who is the school's designated safeguarding lead, and why is no one recorded?",
             "KCSIE requires a designated safeguarding lead from the senior leadership team.", KCSIE)
        for st in ctx.returned() if not any(lead["role"] == DSL_ROLE for lead in st.leads)
    ]


@rule
def no_designated_teacher(ctx: Context) -> list[Gap]:
    """Looked-after children on roll and no designated teacher for them named on the return."""
    gaps = []
    for st in ctx.returned():
        looked_after = st.count(LOOKED_AFTER)
        if not looked_after or any(lead["role"] == DESIGNATED_TEACHER for lead in st.leads):
            continue
        children = f"{_n(looked_after)} looked-after {'child' if looked_after == 1 else 'children'}" \
            if _shown(ctx, st, looked_after, LOOKED_AFTER) else "looked-after children"
        gaps.append(_gap(st, "workforce", "designated_teacher", "no_designated_teacher", "amber",
                         f"The return counts {children} on roll but names no designated teacher for them.",
                         "Who is the designated teacher for the school's looked-after children, and why is no "
                         "one recorded?",
                         "KCSIE: a school must appoint a designated teacher to promote the educational "
                         "achievement of looked-after and previously looked-after children.", KCSIE))
    return gaps


GOVERNANCE_DATES = (
    ("about.cp_policy_reviewed", "The child protection policy", "policy_reviewed"),
    ("about.filtering_reviewed", "The filtering and monitoring review", "filtering_reviewed"),
    ("about.central_record_checked", "The single central record check", "central_record_checked"),
)


@rule
def governance_checks_out_of_date(ctx: Context) -> list[Gap]:
    gaps = []
    months = ctx.t["governance_months"]
    for st in ctx.returned():
        for mid, what, indicator in GOVERNANCE_DATES:
            when = st.date(mid)
            line = f"due every {months:g} months"
            if when is None:
                finding, sev = f"{what} date was not given ({line}).", "amber"
            else:
                age = months_before(st.end, when)
                if age < months - 1:
                    continue
                # red once the line is passed; amber in its last month, while there is time to act
                sev = "red" if age >= months else "amber"
                due = "overdue" if sev == "red" else "due within a month"
                finding = (f"{what} is {due} ({line}; last done {when:%d %B %Y}, {age} months before the end "
                           "of term).")
            gaps.append(_gap(st, "workforce", indicator, "governance_checks_out_of_date", sev, finding,
                             f"When will {what[0].lower()}{what[1:]} be done, and who signs it off?",
                             "KCSIE expects the policy and the filtering and monitoring arrangements reviewed "
                             "at least annually and the single central record kept up to date.", KCSIE))
    return gaps


# ---- Neglect ------------------------------------------------------------------------------

@rule
def neglect_drift(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        flags, drift = st.count("neglect.active_flags"), st.count("neglect.monitoring_only_2_terms")
        if not flags or drift is None:
            continue
        def level(share: float) -> str | None:
            return "red" if share >= ctx.t["drift_red"] else "amber" if share >= ctx.t["drift_amber"] else None
        question = "What would move these children on to early help or a referral, and who decides?"
        learning = ("The reviews found neglect builds up slowly and professionals get used to it; monitoring "
                    "without a plan lets it drift.")
        if _unsure(ctx, st, level, _share_range(ctx, st, DRIFT, FLAGS)):
            gaps.append(_too_small(st, "neglect", "neglect_drift", "neglect_drift",
                                   "the flagged children monitored in school only", question, learning, SCIE_NEGLECT))
            continue
        sev = level(drift / flags)
        if sev:
            gaps.append(_gap(st, "neglect", "neglect_drift", "neglect_drift", sev,
                             f"{_of(ctx, st, drift, flags, ' children with a neglect flag', DRIFT, FLAGS)} have "
                             "been monitored in "
                             "school only for two terms or more.", question, learning, SCIE_NEGLECT))
    return gaps


@rule
def chronologies_not_reviewed(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        flags, done = st.count("neglect.active_flags"), st.count("neglect.chronology_reviewed")
        if not flags or done is None:
            continue
        def level(share: float) -> str | None:
            return level_below(share, ctx.t["chronology_amber"], ctx.t["chronology_red"])
        question = "How does the DSL see the pattern for a flagged child if the chronology is not reviewed?"
        learning = ("Poor use of chronologies was a recurring finding: single incidents looked minor while the "
                    "pattern was serious.")
        if _unsure(ctx, st, level, _share_range(ctx, st, REVIEWED, FLAGS)):
            gaps.append(_too_small(st, "neglect", "neglect_chronology", "chronologies_not_reviewed",
                                   "the chronologies reviewed", question, learning, COMPLEXITY))
            continue
        sev = level(done / flags)
        if sev:
            gaps.append(_gap(st, "neglect", "neglect_chronology", "chronologies_not_reviewed", sev,
                             "Chronologies were reviewed this term for "
                             f"{_of(ctx, st, done, flags, ' flagged children', REVIEWED, FLAGS)}.",
                             question, learning, COMPLEXITY))
    return gaps


@rule
def absent_without_early_help(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        absent, help_, cp = (st.count(m) for m in ("neglect.persistently_absent", "neglect.early_help_plan",
                                                     "neglect.cp_plan_neglect"))
        if absent is None or help_ is None or cp is None:
            continue
        question = "Are the flagged children who are missing school getting help beyond the school?"
        learning = "Poor attendance was one of the signs of neglect the reviews kept finding."
        seen_absent, seen_plans = ctx.known_range(st, ABSENT), ctx.known_range(st, *PLANS)
        if ctx.data.suppress and (seen_absent[0] > seen_plans[1]) != (seen_absent[1] > seen_plans[0]):
            gaps.append(_too_small(st, "neglect", "neglect_absent", "absent_without_early_help",
                                   "the flagged children persistently absent and those with a plan", question,
                                   learning, SCIE_NEGLECT))
            continue
        if absent <= help_ + cp:
            continue
        plans = help_ + cp
        if _shown(ctx, st, absent, ABSENT) and _shown(ctx, st, plans, *PLANS):
            finding = (f"{_n(absent)} flagged children are persistently absent, but only {_n(plans)} flagged "
                       f"{'child has' if plans == 1 else 'children have'} an early help or child protection plan.")
        else:
            finding = ("More flagged children are persistently absent than have an early help or child "
                       "protection plan.")
        gaps.append(_gap(st, "neglect", "neglect_absent", "absent_without_early_help", "note", finding,
                         question, learning, SCIE_NEGLECT))
    return gaps


@rule
def social_worker_absence(ctx: Context) -> list[Gap]:
    """Children with a social worker persistently absent more often than the school's pupils as a
    whole, by more than the trust's chosen multiple and beyond what chance would explain for so
    few children (above the 95% binomial limit): a question, since absence has no judgement."""
    gaps = []
    times = ctx.t["sw_absence_times"]
    question = ("What keeps children with a social worker out of school more than their classmates, and do "
                "their social workers know?")
    learning = "Poor attendance was one of the signs of neglect the reviews kept finding."
    for st in ctx.returned():
        sw, absent_sw = st.count(SW[0]), st.count(SW_ABSENT[0])
        pupils, absent = st.count("about.pupils_on_roll"), st.count(ABSENT_PUPILS)
        if not sw or absent_sw is None or not pupils or absent is None:
            continue
        school = absent / pupils

        def beyond(part: np.ndarray, whole: np.ndarray, share: float) -> np.ndarray:
            _, upper = binomial_limits(np.full(whole.shape, min(1.0, times * share)), whole, 0.95)
            return (whole > 0) & (part > upper)

        if ctx.data.suppress and len(_outcomes(ctx, st, beyond, SW_ABSENT, SW, (ABSENT_PUPILS, ROLL_ID))) > 1:
            gaps.append(_too_small(st, "neglect", "sw_persistent_absence", "social_worker_absence",
                                   "the children with a social worker persistently absent", question, learning,
                                   SCIE_NEGLECT))
            continue
        if not beyond(np.array([absent_sw]), np.array([sw]), school)[0]:
            continue
        theirs = _of(ctx, st, absent_sw, sw, " children with a social worker", SW_ABSENT, SW)
        whole = f"{_pct(school)} of its pupils as a whole" if _shown(ctx, st, absent, ABSENT_PUPILS) \
            else "its pupils as a whole"
        gaps.append(_gap(st, "neglect", "sw_persistent_absence", "social_worker_absence", "note",
                         f"{theirs} are persistently absent, against {whole}.", question, learning, SCIE_NEGLECT))
    return gaps


UNBOUNDED_SPAN = 200  # how far past its lowest a count known only as "5 or more" is tried


def _outcomes(ctx: Context, st: SchoolTerm, outcome: Callable, part_ids: tuple[str, ...],
              whole_ids: tuple[str, ...], rate_ids: tuple[str, str]) -> set[bool]:
    """Every outcome a rule could have, over every part and whole (counts, the part never above
    the whole) and every share part / whole of ``rate_ids`` this reader could take the return to
    hold: more than one, and raising the gap or not would tell them something of hidden counts."""
    (p_lo, p_hi), (w_lo, w_hi) = ctx.known_range(st, *part_ids), ctx.known_range(st, *whole_ids)
    (n_lo, n_hi), (d_lo, d_hi) = ctx.known_range(st, rate_ids[0]), ctx.known_range(st, rate_ids[1])
    shares = {n_lo / d_hi if d_hi != float("inf") else 0.0, min(1.0, n_hi / max(d_lo, 1.0))}
    parts = np.arange(p_lo, min(p_hi, p_lo + UNBOUNDED_SPAN) + 1)
    wholes = np.arange(w_lo, min(w_hi, w_lo + UNBOUNDED_SPAN) + 1)
    part, whole = (a.ravel() for a in np.meshgrid(parts, wholes))
    possible = part <= whole
    return {bool(x) for share in shares for x in outcome(part[possible], whole[possible], share)}


# ---- Multi-agency working ------------------------------------------------------------------

@rule
def meetings_without_school(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        for row, what in (("cp_conferences", "child protection conferences"), ("strategy", "strategy meetings")):
            due_id, done_id = f"multi_agency.{row}.due", f"multi_agency.{row}.done"
            due, done = st.count(due_id), st.count(done_id)
            if not due or done is None:
                continue
            sev = level_below(done / due, ctx.t["attendance_amber"], ctx.t["attendance_red"])
            if sev:
                gaps.append(_gap(st, "multi_agency", f"ma_{row}", "meetings_without_school", sev,
                                 f"The school attended {_of(ctx, st, done, due, f' {what} it was invited to', (done_id,), (due_id,))}.",
                                 f"Who goes to {what} for the school, and what happens when they cannot?",
                                 "The reviews ask for an education representative at every conference and "
                                 "strategy discussion.", SCIE_MULTI))
    return gaps


@rule
def late_reports(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        due, done = st.count("multi_agency.cp_reports.due"), st.count("multi_agency.cp_reports.done")
        if not due or done is None:
            continue
        sev = level_below(done / due, ctx.t["reports_amber"], ctx.t["reports_red"])
        if sev:
            gaps.append(_gap(st, "multi_agency", "ma_cp_reports", "late_reports", sev,
                             f"{_of(ctx, st, done, due, ' reports for child protection conferences', REPORTS_DONE, REPORTS_DUE)} "
                             "were submitted on time.",
                             "What gets in the way of conference reports being on time?",
                             "Conferences decide best with the school's account in front of them, in plain "
                             "descriptive language.", SCIE_MULTI))
    return gaps


@rule
def allegations_not_referred(ctx: Context) -> list[Gap]:
    """Red where the return's row holds only allegations that may meet the harm threshold (version
    2); a question where it held every allegation, low-level concerns among them (version 1)."""
    gaps = []
    for st in ctx.returned():
        due, done = st.count("multi_agency.lado.due"), st.count("multi_agency.lado.done")
        if not due or done is None:
            continue
        harm = (st.version or HARM_THRESHOLD_FROM) >= HARM_THRESHOLD_FROM
        what = "allegations about staff that may meet the harm threshold" if harm else "allegations about staff"
        learning = ("KCSIE: allegations that may meet the harm threshold are referred to the local authority "
                    "designated officer.")
        seen_due, seen_done = ctx.known_range(st, LADO[0]), ctx.known_range(st, LADO[1])
        if ctx.data.suppress and (seen_done[1] < seen_due[0]) != (seen_done[0] < seen_due[1]):
            gaps.append(_too_small(st, "multi_agency", "ma_lado", "allegations_not_referred",
                                   f"the {what} received and referred",
                                   "Was every allegation about staff that may meet the harm threshold referred to "
                                   "the LADO, and who decided?", learning, KCSIE))
            continue
        if done >= due:
            continue
        # The count not referred is a difference: shown only if it gives nothing away, else in words.
        finding = f"The school did not refer {_of(ctx, st, due - done, due, f' {what}', LADO, LADO[:1])} to the LADO."
        if harm:
            gaps.append(_gap(st, "multi_agency", "ma_lado", "allegations_not_referred", "red", finding,
                             "Why were these allegations not referred, and who made that decision?", learning, KCSIE))
        else:
            gaps.append(_gap(st, "multi_agency", "ma_lado", "allegations_not_referred", "note",
                             f"{finding} This return's row counted every allegation, low-level concerns among "
                             "them, so some may rightly have stayed in school.",
                             "Did any of the allegations not referred meet the harm threshold, and who decided "
                             "they need not go to the LADO?",
                             "KCSIE: allegations that may meet the harm threshold are referred to the local "
                             "authority designated officer; low-level concerns are recorded and reviewed in "
                             "school.", KCSIE))
    return gaps


@rule
def not_accepted_never_escalated(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        refused, escalated = st.total("not_accepted"), st.total("escalated")
        if refused is None or escalated is None or refused == 0 or escalated > 0:
            continue
        if _shown(ctx, st, refused, *NOT_ACCEPTED):
            finding = (f"{_n(refused)} referral{' was' if refused == 1 else 's were'} not accepted this term and "
                       "none was escalated.")
        else:
            finding = "Referrals were not accepted this term and none was escalated."
        gaps.append(_gap(st, "multi_agency", "escalation", "not_accepted_never_escalated", "note", finding,
                         "When a referral is turned down and the school is still worried, how does it challenge?",
                         "The reviews ask schools to challenge and escalate when they disagree with a decision.",
                         SCIE_MULTI))
    return gaps


# ---- Statistical differences (no judgement) and identification ------------------------------

@rule
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
        st = ctx.school_term(r.urn)
        fmt = (lambda v: f"{v:.1f} per 100 pupils") if ind.unit == PER_100 else _pct
        gaps.append(_gap(st, ind.theme, ind.id, "statistical_outlier", "note",
                         _outlier_finding(ind, r, side, fmt),
                         f"What lies behind this school's {side} figure: the children, or how concerns are "
                         "noticed and recorded?",
                         THEMES_BY_ID[ind.theme].learning.split(". ")[0] + ".", THEMES_BY_ID[ind.theme].sources[0]))
    return gaps


def _outlier_finding(ind, r, side: str, fmt) -> str:
    chance = "beyond what chance would explain for a school this size."
    group = getattr(r, "group", TRUST)
    against = "the trust's" if group == TRUST else f"the trust's {group.lower()} schools'"
    target = getattr(r, "target", r.trust)
    return (f"{ind.label}: {fmt(r.value)} ({_n(r.numerator)} of {_n(r.denominator)}), {side} than {against} "
            f"{fmt(target)}, {chance}")


OLDER_PUPILS = ("Secondary", "All-through", "Alternative provision", "Special")


def _older_pupils(ctx: Context, st: SchoolTerm) -> bool:
    """Exploitation and child-on-child abuse are asked of schools with older pupils: by phase
    (secondary, all-through, alternative provision, special), whatever the size; a school whose
    phase is not recorded is asked when it is large."""
    phase = phase_of(ctx.data.school_phases.get(st.urn))
    if phase is not None:
        return phase in OLDER_PUPILS
    return (st.count("about.pupils_on_roll") or 0) >= ctx.t["large_school"]


@rule
def no_exploitation_identified(ctx: Context) -> list[Gap]:
    gaps = []
    for urn, year_rows in ctx.year_so_far().items():
        st = ctx.school_term(urn)
        if not _older_pupils(ctx, st):
            continue
        for cols, what in ((("cse", "cce"), "exploitation"), (("child_on_child",), "child-on-child abuse")):
            totals = [st_.total_of("concerns", cols) for st_ in year_rows]
            if any(t is None for t in totals) or sum(totals) > 0:
                continue
            gaps.append(_gap(st, "adolescents", "exploitation_concerns" if what == "exploitation" else
                             "child_on_child_concerns", "no_exploitation_identified", "note",
                             f"A school of {_n(st.count('about.pupils_on_roll'))} pupils recorded no {what} concerns "
                             f"in any of the {len(totals)} terms of {st.academic_year} returned so far.",
                             f"How confident are we that staff would recognise {what} and record it?",
                             "The reviews warn more often of harm that went unnoticed than of over-reporting.",
                             SCIE_ADOLESCENTS))
    return gaps


# ---- Oversight and data quality ------------------------------------------------------------

@rule
def missing_or_late_return(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.expected():
        if not st.returned:
            gaps.append(_gap(st, "oversight", "return", "missing_return", "red",
                             f"No return has been received for {st.term} {st.academic_year}.",
                             "Why has this school not returned, and when will it?",
                             "A board can only ask about what it can see.", COMPLEXITY))
        elif st.days_late and st.days_late > 0:
            gaps.append(_gap(st, "oversight", "return", "late_return", "amber",
                             f"The return arrived {st.days_late} days after it was due.",
                             "What got in the way of returning on time?",
                             "A board can only ask about what it can see, when it needs to.", COMPLEXITY))
    return gaps


@rule
def many_blanks(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        share = st.blank_share
        if share is not None and share >= ctx.t["blank_share"]:
            gaps.append(_gap(st, "oversight", "completeness", "many_blanks", "amber",
                             f"{_pct(share)} of the counts in the return were left blank (not known).",
                             "Which numbers can the school not see, and what would it take to know them?",
                             "Warning signs were often there in records no one was reading together.", COMPLEXITY))
    return gaps


@rule
def unexplained_change(ctx: Context) -> list[Gap]:
    gaps = []
    for st in ctx.returned():
        for q in st.unexplained_changes:
            # The check's own words quote the two counts; a reader who must not see small
            # numbers is told what happened without them (either could be a hidden count).
            said = CHANGED_SHARPLY if ctx.data.suppress else q["message"]
            gaps.append(_gap(st, "oversight", "change", "unexplained_change", "amber",
                             f"{q['where']}: {said} No explanation was given.",
                             "What changed at the school this term to move this number so far?",
                             "A sudden change can be the first sign of a problem, or of a recording change.",
                             COMPLEXITY))
    return gaps


def find_gaps(ctx: Context) -> list[Gap]:
    """Every gap for the context's term, worst first, then by school and theme."""
    gaps = [g for fn in RULES for g in fn(ctx)]
    theme_order = {t: i for i, t in enumerate(THEMES_BY_ID)}
    return sorted(gaps, key=lambda g: (SEVERITY_ORDER[g.severity], g.school, theme_order[g.theme], g.indicator))


def gaps_frame(gaps: list[Gap]) -> pd.DataFrame:
    cols = list(Gap.__dataclass_fields__)
    return pd.DataFrame([g.as_dict() for g in gaps], columns=cols)
