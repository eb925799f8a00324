"""Every indicator the dashboard computes, as data: what it divides by what, its unit, its polarity.

Polarity decides whether a colour may judge. Compliance measures are "higher is better" and may
be red, amber or green against the trust's thresholds; counts of concerns, flags and referrals
have no polarity, because a school that notices and refers more is often the safer school, and
are shown only as higher or lower than the trust.
"""

from __future__ import annotations

from dataclasses import dataclass

from loaders.registry import MEASURES_BY_ID, MULTI_AGENCY, REFERRALS, TRAINING

PER_100 = "per 100 pupils"
SHARE = "share"

HIGHER_BETTER = "higher_better"
LOWER_BETTER = "lower_better"
NO_JUDGEMENT = "none"

ROLL = ("about.pupils_on_roll",)


@dataclass(frozen=True)
class Indicator:
    id: str
    theme: str
    label: str
    numerator: tuple[str, ...]  # measure ids, summed; missing when any is missing
    denominator: tuple[str, ...]
    unit: str
    polarity: str
    definition: str
    benchmark: str | None = None  # id in sample_data/benchmarks.csv, when England has a comparable figure
    benchmark_scale: float = 1.0  # to turn the benchmark's unit into this indicator's (annual to termly)
    funnel: bool = True  # compare schools with funnel limits
    # For an indicator without a polarity, which side of the trust is worth a trustee's question:
    # a low rate of concerns may mean harm unnoticed, a high one what lies behind it ("both");
    # for exclusions, absence and removals from roll only the high side is ("higher").
    ask: str = "both"

    @property
    def judges(self) -> bool:
        return self.polarity != NO_JUDGEMENT


def _rate(id_, theme, label, numerator, definition, **kw) -> Indicator:
    return Indicator(id_, theme, label, tuple(numerator), ROLL, PER_100, NO_JUDGEMENT, definition, **kw)


def _share(id_, theme, label, numerator, denominator, polarity, definition, **kw) -> Indicator:
    return Indicator(id_, theme, label, tuple(numerator), tuple(denominator), SHARE, polarity, definition, **kw)


def _concerns(rows: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"referrals.{r}.concerns" for r in rows)


NEGLECT = (
    _rate("neglect_flags", "neglect", "Children with a neglect flag", ["neglect.active_flags"],
          "Children with an active neglect flag at term end, per 100 pupils on roll."),
    _rate("neglect_new_flags", "neglect", "New neglect flags", ["neglect.new_flags"],
          "Neglect flags raised this term, per 100 pupils on roll."),
    _rate("neglect_concerns", "neglect", "Children with neglect concerns", _concerns(("neglect",)),
          "Children with a neglect concern recorded this term, per 100 pupils on roll."),
    _share("neglect_chronology", "neglect", "Flagged children: chronology reviewed",
           ["neglect.chronology_reviewed"], ["neglect.active_flags"], HIGHER_BETTER,
           "Share of flagged children whose chronology was reviewed this term."),
    _share("neglect_drift", "neglect", "Flagged children on monitoring only for 2+ terms",
           ["neglect.monitoring_only_2_terms"], ["neglect.active_flags"], LOWER_BETTER,
           "Share of flagged children monitored in school only, with no plan, for two terms or more."),
    _share("neglect_absent", "neglect", "Flagged children persistently absent",
           ["neglect.persistently_absent"], ["neglect.active_flags"], NO_JUDGEMENT,
           "Share of flagged children below 90% attendance: attendance is a sign of neglect the reviews name.", ask="higher"),
    _share("neglect_early_help", "neglect", "Flagged children with an early help plan",
           ["neglect.early_help_plan"], ["neglect.active_flags"], NO_JUDGEMENT,
           "Share of flagged children with an early help plan.", ask="lower"),
    _share("neglect_cp_plan", "neglect", "Flagged children on a CP plan for neglect",
           ["neglect.cp_plan_neglect"], ["neglect.active_flags"], NO_JUDGEMENT,
           "Share of flagged children on a child protection plan under the neglect category."),
    _share("fsm_share", "neglect", "Pupils eligible for free school meals", ["about.pupils_fsm"], ROLL,
           NO_JUDGEMENT, "Share of pupils eligible for free school meals: context for neglect, which often sits beside poverty.",
           funnel=False),
    _share("sw_persistent_absence", "neglect", "Children with a social worker persistently absent",
           ["inclusion.sw_persistently_absent"], ["about.social_worker"], NO_JUDGEMENT,
           "Share of children with a social worker (in need, on a child protection plan or looked after) below "
           "90% attendance, set beside the school's pupils as a whole: missing school is one of the signs the "
           "reviews name. Asked from the second version of the return on.", ask="higher"),
)

ADOLESCENTS = (
    _rate("exploitation_concerns", "adolescents", "Children with exploitation concerns",
          _concerns(("cse", "cce")), "Children with a sexual or criminal exploitation concern this term, per 100 pupils."),
    _rate("child_on_child_concerns", "adolescents", "Children with child-on-child concerns",
          _concerns(("child_on_child",)), "Children with a child-on-child abuse concern this term, per 100 pupils."),
    _rate("online_concerns", "adolescents", "Children with online harm concerns", _concerns(("online",)),
          "Children with an online harm concern this term, per 100 pupils."),
    _rate("missing_concerns", "adolescents", "Children missing from home or care", _concerns(("missing",)),
          "Children with a concern about going missing from home or care this term, per 100 pupils."),
    _rate("mental_health_concerns", "adolescents", "Children with mental health or self-harm concerns",
          _concerns(("mental_health",)), "Children with a mental health or self-harm concern this term, per 100 pupils."),
    _rate("suspensions", "adolescents", "Pupils suspended", ["inclusion.suspended"],
          "Pupils suspended this term, per 100 pupils. England's published rate counts suspensions, not pupils, "
          "so it is not set beside this one.", ask="higher"),
    _rate("permanent_exclusions", "adolescents", "Pupils permanently excluded", ["inclusion.permanently_excluded"],
          "Pupils permanently excluded this term, per 100 pupils.", benchmark="permanent_exclusions_rate",
          benchmark_scale=1 / 3, ask="higher"),
    _rate("part_time", "adolescents", "Pupils on a part-time timetable", ["inclusion.part_time_timetable"],
          "Pupils on a part-time timetable, per 100 pupils.", ask="higher"),
    _rate("alternative_provision", "adolescents", "Pupils in alternative provision", ["inclusion.alternative_provision"],
          "Pupils placed in alternative provision, per 100 pupils.", ask="higher"),
    _rate("cme", "adolescents", "Children missing education reported", ["inclusion.cme_reported"],
          "Children reported to the local authority as missing education this term, per 100 pupils.", ask="higher"),
    _rate("ehe", "adolescents", "Removed from roll for home education", ["inclusion.ehe_removals"],
          "Pupils removed from roll for elective home education this term, per 100 pupils.", ask="higher"),
    _share("persistent_absence", "adolescents", "Pupils persistently absent", ["inclusion.persistently_absent"], ROLL,
           NO_JUDGEMENT, "Share of pupils below 90% attendance.", benchmark="persistent_absence", ask="higher"),
    _share("severe_absence", "adolescents", "Pupils severely absent", ["inclusion.severely_absent"], ROLL,
           NO_JUDGEMENT, "Share of pupils below 50% attendance.", benchmark="severe_absence", ask="higher"),
)

_MA_WORDS = {
    "cp_conferences": ("Child protection conferences attended", "attended of those the school was invited to"),
    "cp_reports": ("Conference reports on time", "submitted on time of those requested"),
    "core_groups": ("Core group meetings attended", "attended of those the school was invited to"),
    "cin_meetings": ("Child in need meetings attended", "attended of those the school was invited to"),
    "strategy": ("Strategy meetings attended", "attended of those the school was invited to"),
    "early_help_reviews": ("Early help reviews attended", "attended of those held"),
    "peps": ("Personal education plans on time", "completed on time of those due"),
    "lado": ("Allegations referred to the LADO", "referred to the LADO of the allegations about staff received "
             "(from the return's second version on, those that may meet the harm threshold; before, every allegation)"),
    "low_level": ("Low-level concerns about staff reviewed", "reviewed by the DSL or headteacher of the low-level "
                  "concerns about staff recorded (asked from the return's second version on)"),
}

MULTI_AGENCY_INDICATORS = tuple(
    _share(f"ma_{row.id}", "multi_agency", _MA_WORDS[row.id][0], [f"multi_agency.{row.id}.done"],
           [f"multi_agency.{row.id}.due"], HIGHER_BETTER, f"Share {_MA_WORDS[row.id][1]} this term.")
    for row in MULTI_AGENCY.rows
) + (
    _share("escalation", "multi_agency", "Referrals not accepted that the school escalated",
           tuple(f"referrals.{r.id}.escalated" for r in REFERRALS.rows),
           tuple(f"referrals.{r.id}.not_accepted" for r in REFERRALS.rows),
           NO_JUDGEMENT,
           "Escalations by the school set against referrals not accepted: does the school challenge when it is still worried?",
           funnel=False),
    _rate("private_fostering", "multi_agency", "Private fostering arrangements notified", ["inclusion.private_fostering"],
          "Private fostering arrangements the school notified to the local authority this term, per 100 pupils. "
          "Asked from the second version of the return on."),
)

WORKFORCE = tuple(
    _share(f"training_{row.id}", "workforce", row.label, [f"training.{row.id}.in_date"], [f"training.{row.id}.in_scope"],
           HIGHER_BETTER, f"Share of staff in scope who are in date: {row.label.lower()}.")
    for row in TRAINING.rows
)

INDICATORS: tuple[Indicator, ...] = NEGLECT + ADOLESCENTS + MULTI_AGENCY_INDICATORS + WORKFORCE
INDICATORS_BY_ID = {i.id: i for i in INDICATORS}


def _check_registry() -> None:
    for ind in INDICATORS:
        for mid in ind.numerator + ind.denominator:
            if mid not in MEASURES_BY_ID:
                raise KeyError(f"{ind.id} names an unknown measure {mid}")


_check_registry()
