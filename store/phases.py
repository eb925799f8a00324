"""A school's phase (Primary, Secondary, All-through, Special, Alternative provision): what its
schools are compared with.

The phase comes from the school's returns (version 2 asks for it): the first return that gives
one records it where none is recorded yet (the upload's own audit row says so). From then on it
is the trust leader's to set or correct, on the Schools page or with ``python -m store schools
set-phase``, each change an audit row of its own; a return never overwrites it, and the school
list says when the newest return says something else. A school with no phase is compared with
the whole trust.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from loaders import registry, values
from loaders.registry import M
from store.audit import DONE, write_audit
from store.db import writing
from store.overview import newest_only
from store.schema import return_values, returns, schools

PHASE = M.ABOUT_PHASE
NO_PHASE = "none"  # what a trust leader gives to take a phase away
NO_PHASE_WORDS = "no phase recorded: compared with the whole trust"


class PhaseError(ValueError):
    """A phase or school that cannot be set, in one plain sentence."""


class UnknownSchool(LookupError):
    """No school with that URN is known."""


@dataclass(frozen=True)
class SchoolPhase:
    urn: str
    name: str
    phase: str | None  # as recorded; None when none is
    said: str | None  # what the newest return says, when it says anything

    @property
    def differs(self) -> bool:
        return self.said is not None and self.said != self.phase


def phase_of(text) -> str | None:
    """The contract's name for a phase a person typed (any case; common other names too), or
    None for "none" or nothing; PhaseError for anything else."""
    if text is None or not str(text).strip() or str(text).strip().lower() == NO_PHASE:
        return None
    read = values.read_phase(str(text))
    if isinstance(read, values.Bad) or read is None:
        raise PhaseError(f"'{' '.join(str(text).split())}' is not a phase: give one of "
                         f"{', '.join(registry.PHASES[:-1])} or {registry.PHASES[-1]}, or '{NO_PHASE}' for no "
                         "phase.")
    return read


def shown(phase) -> str | None:
    """A recorded phase under the contract's name (an older database may hold 'primary')."""
    if not isinstance(phase, str) or not phase.strip():
        return None
    read = values.read_phase(phase)
    return read if isinstance(read, str) else phase


def school_phases(engine: Engine) -> list[SchoolPhase]:
    """Every school with its phase and what its newest return says, by name."""
    said = (
        sa.select(returns.c.urn, return_values.c.value_text, returns.c.academic_year, returns.c.term)
        .join(return_values, return_values.c.return_id == returns.c.id)
        .where(newest_only(), return_values.c.measure_id == PHASE, return_values.c.value_text.is_not(None))
    )
    with engine.connect() as conn:
        rows = conn.execute(sa.select(schools.c.urn, schools.c.name, schools.c.phase)
                            .order_by(schools.c.name, schools.c.urn)).all()
        latest: dict[str, tuple[int, str]] = {}
        for urn, text, year, term in conn.execute(said):
            index = registry.term_index(year, term)
            if urn not in latest or index > latest[urn][0]:
                latest[urn] = (index, text)
    return [SchoolPhase(urn, name, shown(phase), shown(latest.get(urn, (0, None))[1])) for urn, name, phase in rows]


def set_phase(engine: Engine, urn: str, phase: str | None, *, user: str, source: str | None = None) -> bool:
    """Record a school's phase (None for none), as a trust leader's choice; whether it changed.
    PhaseError for a phase not in the contract, UnknownSchool for a URN the trust does not have."""
    phase = phase_of(phase)
    urn = str(urn).strip()
    with writing(engine) as conn:
        row = conn.execute(sa.select(schools.c.phase).where(schools.c.urn == urn)).first()
        if row is None:
            raise UnknownSchool(f"No school with URN {urn} is stored: a school is added with its first return.")
        if shown(row.phase) == phase:
            return False
        conn.execute(schools.update().where(schools.c.urn == urn).values(phase=phase))
        write_audit(conn, actor=user, action="set_phase", outcome=DONE, urn=urn, source=source,
                    detail={"from": row.phase, "to": phase})
    return True


def phase_from_return(conn: Connection, urn: str, phase: object) -> bool:
    """A return's phase, recorded where the school has none yet (inside the return's own save,
    whose audit row notes it); whether it was."""
    if not isinstance(phase, str) or phase not in registry.PHASES:
        return False
    return bool(conn.execute(schools.update().where(schools.c.urn == urn, schools.c.phase.is_(None))
                             .values(phase=phase)).rowcount)
