"""The gap rules' thresholds, with documented defaults a trust leader can change.

Changes are stored (and audited) by the store; this module only declares what may be set, the
default, and what it means, so the settings page and the About page read from one place.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

WHOLE_UNITS = ("days", "months", "years", "pupils")
TERM_DUE = {"Autumn": "return_due_autumn", "Spring": "return_due_spring", "Summer": "return_due_summer"}


@dataclass(frozen=True)
class Threshold:
    id: str
    label: str
    default: float
    unit: str  # "share", "pupils", "days", "terms", "times"
    meaning: str
    minimum: float = 0.0
    maximum: float | None = None
    # A threshold the trust has not set takes the value of ``fallback`` when that one is set (the
    # per-term deadlines fall back to the single one a trust could set before them).
    fallback: str | None = None
    # Superseded by others: listed for a trust only while it has a value stored.
    superseded: bool = False

    @property
    def whole(self) -> bool:
        """Whether only whole numbers make sense (days, months, years, pupils)."""
        return self.unit in WHOLE_UNITS


THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("training_amber", "Training: amber below", 1.0, "share",
              "A course with fewer staff in date than this share is amber.", maximum=1.0),
    Threshold("training_red", "Training: red below", 0.9, "share",
              "A course with fewer staff in date than this share is red.", maximum=1.0),
    Threshold("dsl_full_years", "DSL full training valid for (years)", 2, "years",
              "Full DSL training older than this at term end is out of date (KCSIE: every two years).", 1, 5),
    Threshold("dsl_refresher_years", "DSL refresher valid for (years)", 1, "years",
              "A refresher older than this at term end is out of date (KCSIE: at least annually).", 1, 3),
    Threshold("governance_months", "Policy and checks valid for (months)", 12, "months",
              "The child protection policy, the filtering and monitoring review and the single central "
              "record check are out of date when older than this at term end.", 1, 36),
    Threshold("drift_amber", "Neglect drift: amber from", 0.15, "share",
              "Share of flagged children on monitoring only for two terms or more that is amber.", maximum=1.0),
    Threshold("drift_red", "Neglect drift: red from", 0.3, "share",
              "Share of flagged children on monitoring only for two terms or more that is red.", maximum=1.0),
    Threshold("chronology_amber", "Chronologies reviewed: amber below", 0.9, "share",
              "Share of flagged children whose chronology was reviewed this term, below which it is amber.", maximum=1.0),
    Threshold("chronology_red", "Chronologies reviewed: red below", 0.75, "share",
              "Share of flagged children whose chronology was reviewed this term, below which it is red.", maximum=1.0),
    Threshold("attendance_amber", "Meetings attended: amber below", 0.95, "share",
              "Share of child protection conferences and strategy meetings attended, below which it is amber.", maximum=1.0),
    Threshold("attendance_red", "Meetings attended: red below", 0.8, "share",
              "Share of child protection conferences and strategy meetings attended, below which it is red.", maximum=1.0),
    Threshold("reports_amber", "Reports on time: amber below", 0.9, "share",
              "Share of conference reports submitted on time, below which it is amber.", maximum=1.0),
    Threshold("reports_red", "Reports on time: red below", 0.7, "share",
              "Share of conference reports submitted on time, below which it is red.", maximum=1.0),
    Threshold("large_school", "A school of no recorded phase counts as large from (pupils)", 600, "pupils",
              "Schools with older pupils (secondary, all-through, alternative provision, special) recording no "
              "exploitation or child-on-child concerns all year are asked about; a school whose phase is not "
              "recorded is asked about from this size.", 50),
    Threshold("return_due_autumn", "Autumn return due (days after term end)", 14, "days",
              "The Autumn term ends on 31 December; a return submitted later than this many days after is late.",
              0, 90, fallback="return_due_days"),
    Threshold("return_due_spring", "Spring return due (days after term end)", 14, "days",
              "The Spring term ends on 31 March; a return submitted later than this many days after is late.",
              0, 90, fallback="return_due_days"),
    Threshold("return_due_summer", "Summer return due (days after term end)", 14, "days",
              "The Summer term ends on 31 July; a trust may give until September (61 days: 30 September). A "
              "return submitted later than this many days after is late.", 0, 90, fallback="return_due_days"),
    Threshold("return_due_days", "Return due, any term (days after term end)", 14, "days",
              "The single line set before each term had its own: a term not given its own days above uses it.",
              0, 90, superseded=True),
    Threshold("sw_absence_times", "Social worker absence: ask from (times the school's)", 2, "times",
              "Children with a social worker persistently absent more than this many times as often as the "
              "school's pupils as a whole, beyond what chance would explain, are asked about.", 1, 10),
    Threshold("blank_share", "Many blanks: from", 0.2, "share",
              "A return with at least this share of its counts blank is raised for oversight.", maximum=1.0),
)

THRESHOLDS_BY_ID = {t.id: t for t in THRESHOLDS}
DEFAULTS: dict[str, float] = {t.id: t.default for t in THRESHOLDS}


def resolve(overrides: dict[str, float] | None = None) -> dict[str, float]:
    """The defaults with the trust's stored changes laid over them (unknown names ignored); a
    threshold with a fallback and no value of its own takes the fallback's."""
    out = dict(DEFAULTS)
    own = {key: float(value) for key, value in (overrides or {}).items() if key in out and value is not None}
    out.update(own)
    for t in THRESHOLDS:
        if t.fallback and t.id not in own:
            out[t.id] = out[t.fallback]
    return out


def default_for(key: str, overrides: dict[str, float] | None = None) -> float:
    """What ``key`` is when the trust gives it no value of its own: its default, or its fallback's
    value where the trust set that."""
    return resolve({k: v for k, v in (overrides or {}).items() if k != key})[key]


def listed(overrides: dict[str, float] | None = None) -> tuple[Threshold, ...]:
    """The thresholds a trust is shown: all but the superseded ones it has no value stored for."""
    return tuple(t for t in THRESHOLDS if not t.superseded or t.id in (overrides or {}))


# Pairs where the red line must sit beyond the amber one.
BELOW_PAIRS = (("training_amber", "training_red"), ("chronology_amber", "chronology_red"),
               ("attendance_amber", "attendance_red"), ("reports_amber", "reports_red"))
ABOVE_PAIRS = (("drift_amber", "drift_red"),)


def conflicts(values: dict[str, float]) -> dict[str, str]:
    """Plain sentences for red and amber lines set the wrong way round, by the red line's id."""
    out = {}
    for amber, red in BELOW_PAIRS:
        if values[red] > values[amber]:
            out[red] = f"{THRESHOLDS_BY_ID[red].label} must not be above {THRESHOLDS_BY_ID[amber].label.lower()}."
    for amber, red in ABOVE_PAIRS:
        if values[red] < values[amber]:
            out[red] = f"{THRESHOLDS_BY_ID[red].label} must not be below {THRESHOLDS_BY_ID[amber].label.lower()}."
    return out


def validate(key: str, value: float) -> str | None:
    """A plain sentence when a proposed value is not allowed (not a number, not whole where it must
    be, out of range), else None."""
    spec = THRESHOLDS_BY_ID.get(key)
    if spec is None:
        return f"There is no setting called {key}."
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        return f"{spec.label} must be a number."
    if spec.whole and value != int(value):
        return f"{spec.label} must be a whole number."
    if value < spec.minimum or (spec.maximum is not None and value > spec.maximum):
        if spec.maximum is None:
            return f"{spec.label} must be at least {spec.minimum:g}."
        return f"{spec.label} must be between {spec.minimum:g} and {spec.maximum:g}."
    return None
