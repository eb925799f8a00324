"""When a board pack was made, and for which term: an audit row each time, so the next term's pack
can say which of the board's questions were closed since the last one. The first pack made for
trustees for a term also tells each trustee, by email, that it is ready (store.outbox)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from loaders.registry import TERMS, term_index
from store import outbox
from store.audit import DONE, write_audit
from store.db import writing
from store.schema import audit

MADE = "board_pack"


def record_pack(engine: Engine, *, user: str, academic_year: str, term: str, fmt: str, reader: str,
                appendix: bool = False, source: str = "web") -> None:
    """Put on record that a pack for a term was made (audited as an export): its format, whom it was
    for, and whether it had the appendix of charts and tables or was the short form."""
    with writing(engine) as conn:
        write_audit(conn, actor=user, action=MADE, outcome=DONE, academic_year=academic_year, term=term,
                    detail={"format": fmt, "for": reader, "appendix": bool(appendix)}, source=source)
        if reader == "trustee":
            outbox.queue_pack_ready(conn, year=academic_year, term=term)


def last_pack_before(engine: Engine, academic_year: str, term: str) -> datetime | None:
    """When the newest pack for an earlier term than this one was made; None when there was none."""
    query = (sa.select(audit.c.at, audit.c.academic_year, audit.c.term)
             .where(audit.c.action == MADE).order_by(audit.c.id.desc()))
    now = term_index(academic_year, term)
    with engine.connect() as conn:
        for at, year, made_for in conn.execute(query):
            if year and made_for in TERMS and term_index(year, made_for) < now:
                return at
    return None
