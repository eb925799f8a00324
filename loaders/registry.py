"""The termly return's contract (RETURN_TEMPLATE.md, versions 1 and 2) as data.

Every other part of the product learns from here what a return holds: which sheets, which
rows and columns, their labels, the type of each cell and the rules between cells. Code walks
this data; nothing else spells out a measure id by hand.

Version 2 adds rows and relabels one; each row says the version that first asks it (``since``)
and the label it had before (``earlier``). A return is read under its own version's rules: a
measure its version does not ask is *not asked*, which is neither blank nor 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import problems

VERSIONS = (1, 2)
TEMPLATE_VERSION = VERSIONS[-1]  # the version the template hands out
TERMS = ("Autumn", "Spring", "Summer")
LEAD_ROLES = (
    "Designated safeguarding lead",
    "Deputy DSL",
    "Designated teacher for looked-after children",
)
DSL_ROLE = LEAD_ROLES[0]
DESIGNATED_TEACHER = LEAD_ROLES[2]
PHASES = ("Primary", "Secondary", "All-through", "Special", "Alternative provision")

# What a count counts, which decides whether a reader who must not see small numbers (a trustee)
# sees it: children, and allegations about staff (they can identify a person), are suppressed;
# events (meetings, reports, courses) and staff totals are not.
CHILDREN = "children"
STAFF = "staff allegations"
EVENTS = "events"
SUPPRESSED = frozenset({CHILDREN, STAFF})

# Value types a cell may hold.
COUNT = "count"  # whole number >= 0
INTEGER = "integer"  # whole number (the template version)
TEXT = "text"
DATE = "date"
URN = "urn"  # 6-digit Unique Reference Number, kept as a string
YEAR = "year"  # academic year, normalised to 2025/26
TERM = "term"  # Autumn, Spring or Summer
PHASE = "phase"  # one of PHASES


@dataclass(frozen=True)
class Measure:
    """One cell of the return, with the stable id the rest of the product uses."""

    id: str
    sheet: str  # sheet id
    row: str  # row id
    column: str | None  # column id, None on one-value rows
    label: str  # the row's label as the template prints it
    type: str
    required: bool = False  # About fields the return cannot be filed without
    counts: str | None = None  # CHILDREN, STAFF or EVENTS for a count; None for anything else
    since: int = 1  # the first template version that asks it

    @property
    def suppressed(self) -> bool:
        """Whether a count from 1 to 4 of this measure is hidden from trustees."""
        return self.counts in SUPPRESSED

    def asked_in(self, version: int) -> bool:
        return version >= self.since


@dataclass(frozen=True)
class Column:
    id: str
    label: str


@dataclass(frozen=True)
class Row:
    id: str
    label: str
    type: str = COUNT
    required: bool = False
    hint: str = ""  # what due/done mean on the Multi-agency sheet, shown in the template
    counts: str | None = None  # what the row counts, when not what its sheet's rows count
    since: int = 1  # the first template version that asks it
    earlier: tuple[tuple[int, str], ...] = ()  # (last version, label) for labels it had before

    def asked_in(self, version: int) -> bool:
        return version >= self.since

    def label_in(self, version: int) -> str:
        """The label the template of that version printed."""
        for last, label in sorted(self.earlier):
            if version <= last:
                return label
        return self.label

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label the row has had: a file of any version is read by any of them."""
        return (self.label, *(label for _, label in self.earlier))


@dataclass(frozen=True)
class Sheet:
    """A sheet of the return.

    kind: "pairs" (label | value), "table" (label | one column per Column), or "leads" (one row
    per person). ``header`` is the label of the first column, printed in the template.
    """

    id: str
    title: str
    kind: str
    header: str
    rows: tuple[Row, ...] = ()
    columns: tuple[Column, ...] = ()
    notes_column: bool = False
    instructions: str = ""
    counts: str | None = None  # what the sheet's count rows count (a row may say otherwise)

    def rows_in(self, version: int) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.asked_in(version))


@dataclass(frozen=True)
class Rule:
    """``left <= sum(right)``: an error when broken. Each id names a measure."""

    problem: problems.Kind  # the catalogue's entry for breaking it
    sheet: str
    left: str
    right: tuple[str, ...]
    message: str  # what to tell the DSL, with {left}, {right} and {right_at} (its cells) filled in

    @property
    def code(self) -> str:
        return self.problem.code

    @property
    def since(self) -> int:
        """The first template version that asks every measure it compares."""
        return max(MEASURES_BY_ID[m].since for m in (self.left, *self.right))


def _rows(*pairs: tuple[str, str], **kw) -> tuple[Row, ...]:
    return tuple(Row(rid, label, **kw) for rid, label in pairs)


ABOUT = Sheet(
    id="about",
    title="About",
    kind="pairs",
    counts=CHILDREN,
    header="Field",
    columns=(Column("value", "Value"),),
    instructions="Who this return is from and for which term, the school's context at term end, "
    "and the dates of three governance checks.",
    rows=(
        Row("template_version", "Template version", INTEGER, required=True),
        Row("urn", "School URN", URN, required=True),
        Row("school_name", "School name", TEXT, required=True),
        Row("phase", "Phase", PHASE, since=2),
        Row("academic_year", "Academic year", YEAR, required=True),
        Row("term", "Term", TERM, required=True),
        Row("completed_by", "Completed by (role)", TEXT),
        Row("date_completed", "Date completed", DATE),
        Row("pupils_on_roll", "Pupils on roll", COUNT, required=True),
        Row("pupils_fsm", "Pupils eligible for free school meals"),
        Row("pupils_ehcp", "Pupils with an EHC plan"),
        Row("pupils_sen_support", "Pupils on SEN support"),
        Row("looked_after", "Looked-after children on roll"),
        Row("cp_plans", "Children on a child protection plan at term end"),
        Row("cin", "Children in need at term end"),
        Row("early_help", "Children open to early help at term end"),
        Row("social_worker", "Children with a social worker at term end", since=2),
        Row("cp_policy_reviewed", "Child protection policy last reviewed", DATE),
        Row("filtering_reviewed", "Filtering and monitoring last reviewed", DATE),
        Row("central_record_checked", "Single central record last checked", DATE),
    ),
)

TRAINING = Sheet(
    id="training",
    title="Training",
    kind="table",
    counts=EVENTS,
    header="Training",
    notes_column=True,
    instructions="For each course: how many staff it applies to, and how many of them are in date.",
    columns=(Column("in_scope", "Staff in scope"), Column("in_date", "Staff in date")),
    rows=_rows(
        ("whole_staff", "Safeguarding and child protection (all staff)"),
        ("kcsie_part_one", "Keeping children safe in education part one read"),
        ("prevent", "Prevent duty"),
        ("online_safety", "Online safety, including filtering and monitoring"),
        ("safer_recruitment", "Safer recruitment (interview panel members)"),
        ("governors", "Governors: safeguarding training"),
    ),
)

LEADS = Sheet(
    id="leads",
    title="Leads",
    kind="leads",
    header="Role",
    instructions="One row per person: the designated safeguarding lead, each deputy and the "
    "designated teacher. Names are optional. Leave a date blank if you do not know it.",
    columns=(
        Column("name", "Name"),
        Column("last_full_training", "Last full DSL training"),
        Column("last_refresher", "Last refresher"),
    ),
)

NEGLECT = Sheet(
    id="neglect",
    title="Neglect",
    kind="table",
    counts=CHILDREN,
    header="Measure",
    columns=(Column("count", "Count"),),
    instructions="Counts of children, at term end unless the row says otherwise.",
    rows=_rows(
        ("active_flags", "Children with an active neglect flag at term end"),
        ("new_flags", "New neglect flags this term"),
        ("chronology_reviewed", "Flagged children whose chronology was reviewed this term"),
        ("persistently_absent", "Flagged children persistently absent (below 90% attendance)"),
        ("early_help_plan", "Flagged children with an early help plan"),
        ("cp_plan_neglect", "Flagged children on a child protection plan under neglect"),
        ("monitoring_only_2_terms", "Flagged children monitored in school only for two terms or more"),
    ),
)

REFERRAL_COLUMNS = (
    Column("concerns", "Children with concerns recorded"),
    Column("early_help", "Referred to early help"),
    Column("social_care", "Referred to children's social care"),
    Column("police", "Referred to police"),
    Column("prevent", "Referred to Prevent"),
    Column("health", "Referred to health, including CAMHS"),
    Column("not_accepted", "Referrals not accepted"),
    Column("escalated", "Escalated by school"),
)
REFERRAL_ROUTES = ("early_help", "social_care", "police", "prevent", "health")

REFERRALS = Sheet(
    id="referrals",
    title="Referrals",
    kind="table",
    counts=CHILDREN,
    header="Category",
    columns=REFERRAL_COLUMNS,
    instructions="One row per category of concern: how many children had concerns recorded this "
    "term, and where they were referred.",
    rows=_rows(
        ("neglect", "Neglect"),
        ("physical", "Physical abuse"),
        ("emotional", "Emotional abuse"),
        ("sexual", "Sexual abuse"),
        ("domestic_abuse", "Domestic abuse"),
        ("cse", "Child sexual exploitation"),
        ("cce", "Child criminal exploitation, including county lines"),
        ("child_on_child", "Child-on-child abuse, including harmful sexual behaviour"),
        ("online", "Online harm"),
        ("radicalisation", "Radicalisation and extremism"),
        ("mental_health", "Mental health and self-harm"),
        ("missing", "Missing from home or care"),
        ("other", "Other"),
    ),
)

INCLUSION = Sheet(
    id="inclusion",
    title="Inclusion",
    kind="table",
    counts=CHILDREN,
    header="Measure",
    columns=(Column("count", "Count"),),
    instructions="Counts of pupils this term.",
    rows=_rows(
        ("persistently_absent", "Pupils persistently absent (below 90% attendance)"),
        ("severely_absent", "Pupils severely absent (below 50% attendance)"),
        ("suspended", "Pupils suspended this term"),
        ("permanently_excluded", "Pupils permanently excluded this term"),
        ("part_time_timetable", "Pupils on a part-time timetable"),
        ("alternative_provision", "Pupils in alternative provision"),
        ("cme_reported", "Children missing education reported to the local authority"),
        ("ehe_removals", "Pupils removed from roll for elective home education"),
    ) + _rows(
        ("sw_persistently_absent", "Children with a social worker persistently absent (below 90% attendance)"),
        ("private_fostering", "Private fostering arrangements notified to the local authority this term"),
        since=2,
    ),
)

MULTI_AGENCY = Sheet(
    id="multi_agency",
    title="Multi-agency",
    kind="table",
    counts=EVENTS,
    header="Activity",
    columns=(Column("due", "Due"), Column("done", "Done")),
    instructions="For each activity this term: how many were due and how many were done.",
    rows=(
        Row("cp_conferences", "Child protection conferences", hint="invited / attended"),
        Row("cp_reports", "Reports for child protection conferences", hint="requested / submitted on time"),
        Row("core_groups", "Core group meetings", hint="invited / attended"),
        Row("cin_meetings", "Child in need meetings", hint="invited / attended"),
        Row("strategy", "Strategy meetings", hint="invited / attended"),
        Row("early_help_reviews", "Early help reviews", hint="held / attended"),
        Row("peps", "Personal education plans (looked-after children)", hint="due / completed on time",
            counts=CHILDREN),
        Row("lado", "Allegations about staff that may meet the harm threshold", hint="received / referred to the LADO",
            counts=STAFF, earlier=((1, "Allegations about staff"),)),
        Row("low_level", "Low-level concerns about staff", hint="recorded / reviewed by the DSL or headteacher",
            counts=STAFF, since=2),
    ),
)

SHEETS: tuple[Sheet, ...] = (ABOUT, TRAINING, LEADS, NEGLECT, REFERRALS, INCLUSION, MULTI_AGENCY)
SHEETS_BY_ID = {s.id: s for s in SHEETS}


def _measures() -> tuple[Measure, ...]:
    out: list[Measure] = []
    for sheet in SHEETS:
        if sheet.kind == "leads":
            continue
        for row in sheet.rows:
            counts = (row.counts or sheet.counts) if row.type == COUNT else None
            if sheet.kind == "pairs":
                out.append(Measure(f"{sheet.id}.{row.id}", sheet.id, row.id, None, row.label, row.type, row.required,
                                   counts, row.since))
            elif len(sheet.columns) == 1:
                # One-value rows (Measure | Count) are `sheet.row`.
                out.append(Measure(f"{sheet.id}.{row.id}", sheet.id, row.id, None, row.label, row.type,
                                   counts=counts, since=row.since))
            else:
                for col in sheet.columns:
                    out.append(Measure(f"{sheet.id}.{row.id}.{col.id}", sheet.id, row.id, col.id, row.label, row.type,
                                       counts=counts, since=row.since))
    return tuple(out)


MEASURES: tuple[Measure, ...] = _measures()  # every measure of every version
MEASURES_BY_ID: dict[str, Measure] = {m.id: m for m in MEASURES}
COUNT_IDS: tuple[str, ...] = tuple(m.id for m in MEASURES if m.type == COUNT)
# What each version asks, in the contract's order.
ASKED: dict[int, tuple[Measure, ...]] = {v: tuple(m for m in MEASURES if m.asked_in(v)) for v in VERSIONS}
ASKED_IDS: dict[int, frozenset[str]] = {v: frozenset(m.id for m in ms) for v, ms in ASKED.items()}


def constant(measure_id: str) -> str:
    """The name a measure id goes by in code: "neglect.active_flags" -> ``NEGLECT_ACTIVE_FLAGS``."""
    return measure_id.upper().replace(".", "_")


class Names:
    """Every measure id by its name, so that no code outside the contract spells one by hand:
    ``M.NEGLECT_ACTIVE_FLAGS == "neglect.active_flags"``. A name the contract does not have raises
    AttributeError, wherever it is used."""

    def __init__(self, measures: tuple[Measure, ...]):
        ids = {constant(m.id): m.id for m in measures}
        if len(ids) != len(measures):
            raise ValueError("two measure ids share a name")
        object.__setattr__(self, "_ids", ids)

    def __getattr__(self, name: str) -> str:
        try:
            return self.__dict__["_ids"][name]
        except KeyError:
            raise AttributeError(f"the return has no measure named {name}") from None

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError("measure ids are fixed by the contract")

    def __dir__(self) -> list[str]:
        return sorted(self._ids)


M = Names(MEASURES)


@dataclass(frozen=True)
class GovernanceDate:
    """One of the three governance checks the About sheet dates; each is in date when within 12
    months of the term end (RETURN_TEMPLATE.md)."""

    measure: str  # its measure id
    check: str  # the check as a sentence names it: "The child protection policy"
    short: str  # in a few words, for a table's column: "CP policy"
    indicator: str  # what the gap list files a finding about it under


GOVERNANCE_DATES: tuple[GovernanceDate, ...] = (
    GovernanceDate(M.ABOUT_CP_POLICY_REVIEWED, "The child protection policy", "CP policy", "policy_reviewed"),
    GovernanceDate(M.ABOUT_FILTERING_REVIEWED, "The filtering and monitoring review", "Filtering review",
                   "filtering_reviewed"),
    GovernanceDate(M.ABOUT_CENTRAL_RECORD_CHECKED, "The single central record check", "Central record",
                   "central_record_checked"),
)


def asked(measure_id: str, version: int | None) -> bool:
    """Whether a return of that template version asks the measure. A version not known (a return
    whose version could not be read) is taken as the newest."""
    measure = MEASURES_BY_ID[measure_id]
    return measure.asked_in(TEMPLATE_VERSION if version is None else int(version))


def label_of(measure_id: str, version: int | None = None) -> str:
    """A measure's row label as the template of that version printed it (the newest when None)."""
    m = MEASURES_BY_ID[measure_id]
    row = next(r for r in SHEETS_BY_ID[m.sheet].rows if r.id == m.row)
    return row.label_in(TEMPLATE_VERSION if version is None else version)


def measure_id(sheet: str, row: str, column: str | None = None) -> str:
    """The id of a cell; one-value rows take no column."""
    candidate = f"{sheet}.{row}" if column is None else f"{sheet}.{row}.{column}"
    if candidate not in MEASURES_BY_ID and column is not None and f"{sheet}.{row}" in MEASURES_BY_ID:
        return f"{sheet}.{row}"
    if candidate not in MEASURES_BY_ID:
        raise KeyError(candidate)
    return candidate


def _cross_rules() -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for row in TRAINING.rows:
        rules.append(
            Rule(problems.TRAINING_IN_DATE_ABOVE_SCOPE, "training", f"training.{row.id}.in_date",
                 (f"training.{row.id}.in_scope",),
                 "Staff in date ({left}) is more than staff in scope ({right}). Check both numbers: "
                 "staff in date can be at most the staff the course applies to.")
        )
    for row in NEGLECT.rows:
        if row.id in ("active_flags", "new_flags"):
            continue
        rules.append(
            Rule(problems.NEGLECT_ABOVE_ACTIVE_FLAGS, "neglect", f"neglect.{row.id}", ("neglect.active_flags",),
                 "This count ({left}) is more than the children with an active neglect flag ({right}). "
                 "It counts flagged children, so it can be at most the number flagged.")
        )
    for row in REFERRALS.rows:
        rules.append(
            Rule(problems.REFERRALS_NOT_ACCEPTED_ABOVE_REFERRED, "referrals", f"referrals.{row.id}.not_accepted",
                 tuple(f"referrals.{row.id}.{c}" for c in REFERRAL_ROUTES),
                 "Referrals not accepted ({left}) is more than the referrals made in this row ({right}). "
                 "Check the referral columns for this category.")
        )
    rules.append(
        Rule(problems.INCLUSION_SEVERE_ABOVE_PERSISTENT, "inclusion", "inclusion.severely_absent",
             ("inclusion.persistently_absent",),
             "Pupils severely absent ({left}) is more than pupils persistently absent ({right}). "
             "Every severely absent pupil is also persistently absent, so count them in both rows.")
    )
    rules.append(
        Rule(problems.INCLUSION_SW_ABSENT_ABOVE_SOCIAL_WORKER, "inclusion", "inclusion.sw_persistently_absent",
             ("about.social_worker",),
             "This count ({left}) is more than the children with a social worker at term end ({right}), "
             "in {right_at}. It counts some of those children, so it can be at most that number: check both.")
    )
    for row in MULTI_AGENCY.rows:
        rules.append(
            Rule(problems.MULTI_AGENCY_DONE_ABOVE_DUE, "multi_agency", f"multi_agency.{row.id}.done",
                 (f"multi_agency.{row.id}.due",),
                 "Done ({left}) is more than due ({right}). Done can be at most the number due.")
        )
    return tuple(rules)


RULES: tuple[Rule, ...] = _cross_rules()

# Term end dates, for "in date" checks (RETURN_TEMPLATE.md).
_TERM_END = {"Autumn": (12, 31), "Spring": (3, 31), "Summer": (7, 31)}


def term_end(academic_year: str, term: str) -> date:
    """The last day of a term: Autumn ends in the first calendar year, Spring and Summer in the second."""
    first = int(academic_year[:4])
    month, day = _TERM_END[term]
    return date(first if term == "Autumn" else first + 1, month, day)


def term_index(academic_year: str, term: str) -> int:
    """A sortable number for a term: consecutive terms differ by one."""
    return int(academic_year[:4]) * 3 + TERMS.index(term)


def term_from_index(index: int) -> tuple[str, str]:
    first, t = divmod(index, 3)
    return f"{first}/{(first + 1) % 100:02d}", TERMS[t]


def previous_term(academic_year: str, term: str) -> tuple[str, str]:
    return term_from_index(term_index(academic_year, term) - 1)
