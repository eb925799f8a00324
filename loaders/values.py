"""Turn one raw cell into the value the contract expects, or say plainly what is wrong with it.

Each reader takes what the spreadsheet library handed back (str, float, int, bool, date,
datetime, or None/"" for an empty cell) and returns the coerced value, None for blank, or a
``Bad`` holding the advice to give. Blank is never zero. The caller adds where the cell is.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from . import labels, problems, registry

DATE_MIN, DATE_MAX = date(2000, 1, 1), date(2099, 12, 31)  # no return date falls outside
EXCEL_EPOCH = date(1899, 12, 30)
SERIAL_MIN, SERIAL_MAX = (DATE_MIN - EXCEL_EPOCH).days, (DATE_MAX - EXCEL_EPOCH).days
VERSION_ADVICE = ("The template version must be " + " or ".join(map(str, registry.VERSIONS)) + ", as the "
                  "dashboard's templates set it: download a new template and copy your figures into it.")
PHASE_ADVICE = ("The Phase must be one of " + ", ".join(registry.PHASES[:-1]) + " or " + registry.PHASES[-1]
                + ": pick it from the list, or leave it blank if you are not sure.")

# Words people type for "none" or "not known"; each gets advice on blank versus 0.
NOT_KNOWN_WORDS = {"n/a", "na", "n a", "nil", "none", "null", "-", "--", "unknown", "not known", "tbc",
                   "tba", "?", "zero", "no", "nk", "x", "not applicable", "nothing"}
MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


@dataclass(frozen=True)
class Bad:
    """Why a cell's content cannot be used: the kind of problem (from the catalogue) and what the
    DSL should do about this cell."""

    kind: problems.Kind
    advice: str

    @property
    def code(self) -> str:
        return self.kind.code


def is_blank(raw) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def describe(raw) -> str:
    """What was found, as the DSL would recognise it: "five", 2.5, TRUE, 20/03/2026."""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, datetime):
        return raw.strftime("%d/%m/%Y %H:%M") if raw.time() != time() else raw.strftime("%d/%m/%Y")
    if isinstance(raw, date):
        return raw.strftime("%d/%m/%Y")
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, str):
        text = raw.strip()
        return f'"{text[:60]}…"' if len(text) > 60 else f'"{text}"'
    return str(raw)


def read(kind: str, raw):
    """Dispatch on the registry's value type."""
    return READERS[kind](raw)


def read_count(raw):
    # The usual spelling first: a plain whole number, as calamine hands most counts back.
    kind = type(raw)
    if kind is int and raw >= 0:
        return raw
    if kind is float and raw >= 0 and raw.is_integer():  # (never true of inf or nan)
        return int(raw)
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        return Bad(problems.NOT_A_NUMBER, "This cell needs a count, not TRUE or FALSE: enter a whole number such "
                                   "as 5, or leave it blank if the number is not known.")
    if isinstance(raw, (date, time, timedelta)):
        return Bad(problems.DATE_IN_COUNT, "This cell needs a count, not a date or time: enter a whole number such "
                                    "as 5, or leave it blank if the number is not known.")
    if isinstance(raw, str):
        raw = _count_text(raw.strip())
        if isinstance(raw, Bad):
            return raw
    if not isinstance(raw, (int, float)) or (isinstance(raw, float) and not math.isfinite(raw)):
        return Bad(problems.NOT_A_NUMBER, "Enter a whole number, or leave it blank if the number is not known.")
    if raw < 0:
        return Bad(problems.NEGATIVE, "A count cannot be negative: enter 0 or more, or leave it blank if not known.")
    if isinstance(raw, float) and not raw.is_integer():
        return Bad(problems.NOT_WHOLE, "A count is a whole number of children (or staff, or meetings): enter a "
                                "whole number such as 2 or 3.")
    return int(raw)


def _count_text(text: str):
    """A count typed as text: the number it spells (checked as any other), or what to enter."""
    if text.startswith("#"):
        return EXCEL_ERROR
    number = _number_text(text)
    if number is not None:
        return number
    if text.lower().strip(".") in NOT_KNOWN_WORDS:
        return Bad(problems.NOT_A_NUMBER, "A count must be a number: leave the cell blank if the number is "
                                   "not known, or enter 0 if there were none.")
    return Bad(problems.NOT_A_NUMBER, f"Enter a whole number such as {_example(text)}, or leave it blank "
                               "if the number is not known (0 means none).")


def read_integer(raw):
    """The template version: one the contract knows."""
    if is_blank(raw):
        return None
    number = raw
    if isinstance(raw, str):
        number = _number_text(re.sub(r"^(version|v)\s*", "", raw.strip().lower()))
    if isinstance(number, bool) or not isinstance(number, (int, float)) or number not in registry.VERSIONS:
        return Bad(problems.WRONG_TEMPLATE_VERSION, VERSION_ADVICE)
    return int(number)


def read_text(raw):
    if is_blank(raw):
        return None
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, (date, datetime)):
        return raw.strftime("%d/%m/%Y")
    return " ".join(str(raw).split())


def read_date(raw):
    if is_blank(raw):
        return None
    if isinstance(raw, bool):
        return _bad_date()
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        return raw if DATE_MIN <= raw <= DATE_MAX else _bad_date("That date is not plausible. ")
    if isinstance(raw, (int, float)):
        if math.isfinite(raw) and SERIAL_MIN <= raw <= SERIAL_MAX:  # an Excel serial day number
            return EXCEL_EPOCH + timedelta(days=int(raw))
        return _bad_date()
    if isinstance(raw, str):
        parsed = _date_text(raw.strip().lower())
        if parsed is None:
            return _bad_date()
        if not DATE_MIN <= parsed <= DATE_MAX:
            return _bad_date("That date is not plausible. ")
        return parsed
    return _bad_date()


def read_year(raw):
    """Academic year in any common form -> '2025/26'."""
    if is_blank(raw):
        return None
    advice = Bad(problems.BAD_YEAR, "Write the academic year as 2025/26 (the second year follows the first).")
    if not isinstance(raw, str):
        return advice
    m = re.fullmatch(r"(\d{4})\s*(?:/|-|–|—|to)\s*(\d{2}|\d{4})", raw.strip().lower())
    if not m:
        return advice
    first, second = int(m.group(1)), m.group(2)
    follows = int(second) == first + 1 if len(second) == 4 else int(second) == (first + 1) % 100
    if not follows or not 2000 <= first <= 2098:
        return advice
    return f"{first}/{(first + 1) % 100:02d}"


def read_term(raw):
    if is_blank(raw):
        return None
    if isinstance(raw, str):
        text = re.sub(r"\s+term$", "", " ".join(raw.lower().split()))
        for term in registry.TERMS:
            if text == term.lower():
                return term
    return Bad(problems.BAD_TERM, "Enter the term as Autumn, Spring or Summer.")


# Other names a DSL may give the phase; the contract's own names (any case or spacing) are read too.
_PHASE_NAMES = {labels.normalise(p): p for p in registry.PHASES}
_PHASE_NAMES.update({labels.normalise(alias): phase for alias, phase in (
    ("Infant", "Primary"), ("Junior", "Primary"), ("First", "Primary"), ("Primary school", "Primary"),
    ("Infant school", "Primary"), ("Junior school", "Primary"), ("First school", "Primary"),
    ("Secondary school", "Secondary"), ("All through", "All-through"), ("Allthrough", "All-through"),
    ("All-age", "All-through"), ("Through school", "All-through"), ("Special school", "Special"),
    ("AP", "Alternative provision"), ("Pupil referral unit", "Alternative provision"),
    ("PRU", "Alternative provision"), ("Alternative provision academy", "Alternative provision"),
)})


def read_phase(raw):
    """The school's phase, as one of the contract's names."""
    if is_blank(raw):
        return None
    phase = _PHASE_NAMES.get(labels.normalise(raw)) if isinstance(raw, str) else None
    return phase or Bad(problems.BAD_PHASE, PHASE_ADVICE)


def read_urn(raw):
    if is_blank(raw):
        return None
    advice = Bad(problems.BAD_URN, "Enter the school's 6-digit URN (Unique Reference Number), e.g. 123456.")
    if isinstance(raw, bool):
        return advice
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = str(raw).strip().replace(" ", "") if isinstance(raw, (int, str)) else ""
    return text if re.fullmatch(r"[1-9]\d{5}", text) else advice


# A cell showing one of the spreadsheet's errors (#DIV/0!, #REF!, ...), typed or calculated.
EXCEL_ERROR = Bad(problems.EXCEL_ERROR, "That is an error the spreadsheet shows: replace it with the number, or leave "
                                 "the cell blank if it is not known.")


def _number_text(text: str) -> float | int | None:
    """'12', ' 7 ', '1,200', '12.0', '-3', '2.5' -> a number; anything else None."""
    text = text.replace("\u00a0", "").replace(" ", "")
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", text):
        text = text.replace(",", "")
    if re.fullmatch(r"[-+]?\d+", text):
        return int(text)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+)", text):
        return float(text)
    return None


_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}


def _example(text: str) -> int:
    """'five' -> 5, so the advice shows the number the DSL meant; otherwise 5."""
    return _WORD_NUMBERS.get(text.lower(), 5)


def _bad_date(prefix: str = "") -> Bad:
    return Bad(problems.BAD_DATE, f"{prefix}Enter a date such as 20/03/2026, or leave it blank if it is not known.")


def _date_text(text: str) -> date | None:
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t]00:00(?::00)?)?", text)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})", text)
    if m:
        return _safe_date(_full_year(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?[ -]([a-z]+)\.?,?[ -](\d{4}|\d{2})", text)
    if m and m.group(2)[:3] in MONTHS:
        return _safe_date(_full_year(m.group(3)), MONTHS[m.group(2)[:3]], int(m.group(1)))
    return None


def _full_year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # 26 -> 2026, 95 -> 1995 (and then out of range)
        year += 2000 if year < 70 else 1900
    return year


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


READERS = {
    registry.COUNT: read_count,
    registry.INTEGER: read_integer,
    registry.TEXT: read_text,
    registry.DATE: read_date,
    registry.URN: read_urn,
    registry.YEAR: read_year,
    registry.TERM: read_term,
    registry.PHASE: read_phase,
}
