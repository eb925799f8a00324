"""The made-up trust behind the sample data: its schools, the terms covered, and the patterns
planted in its returns for a trustee to find.

Every school, URN, local authority and person here is fictional. The URNs sit far above the
numbers given to schools in England, so they cannot be mistaken for real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from loaders import registry

TRUST_NAME = "Northfield Learning Trust"

# 2024/25 and 2025/26, every term.
YEARS = ("2024/25", "2025/26")
TERMS: tuple[tuple[str, str], ...] = tuple((y, t) for y in YEARS for t in registry.TERMS)

DUE_DAYS = 14  # a return is due two weeks after the end of term

# The trust moved to version 2 of the template with the second year: 2024/25's returns are
# version 1, and still load under version 1's rules; 2025/26's are version 2.
VERSION_2_FROM = ("2025/26", "Autumn")


def template_version(academic_year: str, term: str) -> int:
    first = registry.term_index(*VERSION_2_FROM)
    return 2 if registry.term_index(academic_year, term) >= first else 1


@dataclass(frozen=True)
class School:
    urn: str
    name: str
    phase: str  # primary, secondary, special, alternative provision
    pupils: int  # on roll in the autumn of the first year
    local_authority: str


SCHOOLS: tuple[School, ...] = (
    School("990001", "Larkspur Hill Primary School", "primary", 420, "Wyvernshire"),
    School("990002", "Kestrel Vale Primary School", "primary", 236, "Wyvernshire"),
    School("990003", "Thornmere Primary School", "primary", 630, "Port Selwick"),
    School("990004", "Ottersby Primary School", "primary", 318, "Wyvernshire"),
    School("990005", "Quillfield Primary School", "primary", 184, "Port Selwick"),
    School("990006", "Saltwhistle Lane Primary School", "primary", 472, "Wyvernshire"),
    School("990007", "Tillowby Junior School", "primary", 352, "Port Selwick"),
    School("990008", "Wrenhaven Academy", "secondary", 1486, "Wyvernshire"),
    School("990009", "Marrowby High School", "secondary", 1124, "Port Selwick"),
    School("990010", "Pellow Ridge Academy", "secondary", 938, "Wyvernshire"),
    School("990011", "Skylark Fold School", "special", 152, "Wyvernshire"),
    School("990012", "Lanternbrook Learning Centre", "alternative provision", 150, "Port Selwick"),
)
SCHOOLS_BY_URN = {s.urn: s for s in SCHOOLS}


@dataclass(frozen=True)
class Pattern:
    """Something planted in the returns that a trustee should be able to spot."""

    id: str
    urn: str
    terms: tuple[tuple[str, str], ...]
    measures: tuple[str, ...]
    description: str


def _terms(first: int = 0, last: int = len(TERMS) - 1) -> tuple[tuple[str, str], ...]:
    return TERMS[first:last + 1]


# Which cells the school with many blanks leaves empty, every term (blank, never 0).
BLANK_IDS: tuple[str, ...] = (
    "about.pupils_sen_support", "about.early_help", "about.filtering_reviewed",
    "training.online_safety.in_date", "training.governors.in_scope", "training.governors.in_date",
    "neglect.chronology_reviewed", "neglect.monitoring_only_2_terms",
    *(f"referrals.{r.id}.{c}" for r in registry.REFERRALS.rows
      for c in ("police", "prevent", "health", "not_accepted", "escalated")),
    "inclusion.part_time_timetable", "inclusion.alternative_provision", "inclusion.cme_reported",
    "inclusion.ehe_removals",
    "multi_agency.cp_reports.due", "multi_agency.cp_reports.done",
    "multi_agency.early_help_reviews.due", "multi_agency.early_help_reviews.done",
    "multi_agency.peps.due", "multi_agency.peps.done",
)

# The quiet secondary's rows: no exploitation and no child-on-child abuse recorded, ever.
SILENT_ROWS = ("cse", "cce", "child_on_child")

# The DSL whose training lapses: last full training and refresher never renewed.
LAPSED_FULL = date(2023, 11, 8)
LAPSED_REFRESHER = date(2024, 6, 12)

# The drifting school's neglect figures, term by term: monitored-only children and the share of
# flagged children whose chronology was reviewed.
DRIFT_MONITORING_ONLY = (5, 7, 9, 11, 13, 15)
DRIFT_CHRONOLOGY_SHARE = (0.40, 0.34, 0.28, 0.23, 0.18, 0.14)

# Share of child protection conferences attended, term by term, at the school where it falls.
CONFERENCE_ATTENDANCE = (0.92, 0.82, 0.70, 0.56, 0.43, 0.30)

# Allegations about staff not all referred to the LADO: (year, term, received, referred). The
# version 1 row mixed every allegation; the version 2 row holds those that may meet the harm threshold.
ALLEGATIONS_NOT_REFERRED = (("2024/25", "Summer", 3, 2), ("2025/26", "Summer", 2, 1))

# Children with a social worker persistently absent, as a share of those children, at the school
# where it runs far above its pupils' own persistent absence (every version 2 term).
SOCIAL_WORKER_ABSENCE = (0.78, 0.81, 0.85)

# The term a school with looked-after children names no designated teacher for them.
NO_DESIGNATED_TEACHER = ("990003", "2025/26", "Summer")

MISSING = ("990006", "2025/26", "Autumn")
LATE = ("990005", "2025/26", "Spring")
LATE_DAYS_AFTER_DEADLINE = 27

PATTERNS: tuple[Pattern, ...] = (
    Pattern("dsl_training_lapsed", "990002", _terms(),
            ("leads.last_full_training", "leads.last_refresher"),
            "The designated safeguarding lead's refresher is more than a year old from Summer "
            "2024/25 and the full DSL training more than two years old from Autumn 2025/26; "
            "neither is renewed."),
    Pattern("neglect_drift", "990003", _terms(),
            ("neglect.monitoring_only_2_terms", "neglect.chronology_reviewed", "neglect.active_flags"),
            "Flagged children monitored in school only for two terms or more rise every term "
            "(5 to 15 of about 20 flagged), while fewer chronologies are reviewed (40% to 14%)."),
    Pattern("no_exploitation_recorded", "990008", _terms(),
            tuple(f"referrals.{r}.concerns" for r in SILENT_ROWS),
            "A secondary of about 1,500 pupils records no child sexual exploitation, no child "
            "criminal exploitation and no child-on-child abuse in any term, while recording "
            "other concerns."),
    Pattern("conference_attendance_falling", "990009", _terms(),
            ("multi_agency.cp_conferences.due", "multi_agency.cp_conferences.done"),
            "Child protection conferences attended fall term by term, from about 92% of those "
            "the school was invited to down to about 30%."),
    Pattern("late_return", LATE[0], ((LATE[1], LATE[2]),), ("about.date_completed",),
            f"The Spring 2025/26 return was completed {LATE_DAYS_AFTER_DEADLINE} days after "
            "its deadline (two weeks after the end of term)."),
    Pattern("missing_return", MISSING[0], ((MISSING[1], MISSING[2]),), (),
            "No return for Autumn 2025/26: there is no file for that school and term."),
    Pattern("allegations_not_referred", "990008", tuple((y, t) for y, t, *_ in ALLEGATIONS_NOT_REFERRED),
            ("multi_agency.lado.due", "multi_agency.lado.done"),
            "An allegation about staff is not referred to the LADO: 2 of 3 referred in Summer 2024/25 "
            "(a version 1 return, whose row mixes every allegation: a question), 1 of 2 that may meet "
            "the harm threshold in Summer 2025/26 (version 2: red)."),
    Pattern("social_worker_absence", "990009",
            tuple(t for t in TERMS if template_version(*t) == 2),
            ("inclusion.sw_persistently_absent", "about.social_worker", "inclusion.persistently_absent",
             "about.pupils_on_roll"),
            "Children with a social worker are persistently absent far more often than the school's "
            "pupils as a whole: about 78%, 81% and 85% of them in the three terms of 2025/26, against "
            "about a quarter of all pupils."),
    Pattern("no_designated_teacher", NO_DESIGNATED_TEACHER[0], ((NO_DESIGNATED_TEACHER[1], NO_DESIGNATED_TEACHER[2]),),
            ("about.looked_after", "leads.role"),
            "Looked-after children on roll in Summer 2025/26, but the Leads sheet names no designated "
            "teacher for looked-after children."),
    Pattern("many_blanks", "990004", _terms(), BLANK_IDS,
            f"{len(BLANK_IDS)} cells are left blank every term (not known), among them whole "
            "rows; they stay blank and are never zeros."),
)

# Schools with no planted pattern at all: the control group.
CLEAN_URNS = tuple(s.urn for s in SCHOOLS if s.urn not in {p.urn for p in PATTERNS})


def deadline(academic_year: str, term: str) -> date:
    return registry.term_end(academic_year, term) + timedelta(days=DUE_DAYS)
