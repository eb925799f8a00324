"""What a check of one return produces: the problems found, the values read, the leads named.

A problem is data, never an exception (see loaders.problems, which also lists every kind of
problem there is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from .problems import ERROR, QUERY, Problem
from .registry import M


def labelled(row: str, column: str | None = None) -> str:
    """A cell's label: its row's, and on a table its column's too ("Prevent duty, staff in date")."""
    return f"{row}, {column[:1].lower()}{column[1:]}" if column else row


@dataclass(frozen=True)
class Lead:
    role: str
    name: str | None
    last_full_training: date | None
    last_refresher: date | None

    def as_dict(self) -> dict:
        return {
            "role": self.role,
            "name": self.name,
            "last_full_training": _iso(self.last_full_training),
            "last_refresher": _iso(self.last_refresher),
        }


@dataclass
class ReturnReport:
    """The outcome of checking one file.

    ``values`` holds every measure id its template version asks once the file could be read
    (blank as None); ``version`` is the version it was read under (what it says, or when it cannot
    say, what its layout shows), and a measure that version does not ask has no value at all. ``refused`` means the file as a whole was turned away before its cells were read
    (not a spreadsheet, too large, macro-enabled, password-protected, child-level data).
    ``keep_bytes`` is False when the file must not be stored at all (child-level data).
    """

    file: str
    problems: list[Problem] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)
    leads: list[Lead] = field(default_factory=list)
    refused: bool = False
    keep_bytes: bool = True
    sha256: str = ""
    version: int | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def queries(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == QUERY]

    @property
    def valid(self) -> bool:
        return not self.refused and not self.errors

    @property
    def school_term(self) -> tuple[str | None, str | None, str | None]:
        """(URN, academic year, term) as read, any of them None when not readable."""
        v = self.values
        return v.get(M.ABOUT_URN), v.get(M.ABOUT_ACADEMIC_YEAR), v.get(M.ABOUT_TERM)

    def verdict(self) -> str:
        """One line for the top of the report."""
        if self.refused:
            return f"Refused: {self.errors[0].message}" if self.errors else "Refused."
        n_err, n_q = len(self.errors), len(self.queries)
        if n_err:
            extra = f" and {plural(n_q, 'query', 'queries')}" if n_q else ""
            return f"Not ready: {plural(n_err, 'error')} to fix{extra}."
        if n_q:
            return f"Ready to submit, with {plural(n_q, 'query', 'queries')} to explain."
        return "Ready to submit: no problems found."

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "valid": self.valid,
            "errors": [p.as_dict() for p in self.errors],
            "queries": [p.as_dict() for p in self.queries],
            "values": {k: _iso(v) for k, v in self.values.items()},
            "leads": [lead.as_dict() for lead in self.leads],
        }


def _iso(v):
    return v.isoformat() if isinstance(v, date) else v


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 query", "3 queries": ``many`` when the plural is not the word and an s."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
