"""Delete a school's data: every version of its returns with their files, values, leads, queries
and explanations, its unfinished uploads, the board's questions about it, the emails about it (sent
or waiting), and the school itself, in one audited write.

The audit trail keeps the record that the deletion happened (who, when, which school, how many
returns); it never held a return's contents, so nothing of the deleted data survives in it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.audit import DONE, write_audit
from store.db import writing
from store.schema import challenges, drafts, leads, outbox, return_queries, return_values, returns, schools


def delete_school(engine: Engine, urn: str, *, user: str) -> dict[str, int]:
    """Remove everything stored for a school; how many rows of each kind went. LookupError if unknown."""
    with writing(engine) as conn:
        if conn.execute(sa.select(schools.c.urn).where(schools.c.urn == urn)).first() is None:
            raise LookupError(f"No school with URN {urn}.")
        ids = sa.select(returns.c.id).where(returns.c.urn == urn).scalar_subquery()
        counts = {
            "values": conn.execute(return_values.delete().where(return_values.c.return_id.in_(ids))).rowcount,
            "leads": conn.execute(leads.delete().where(leads.c.return_id.in_(ids))).rowcount,
            "queries": conn.execute(return_queries.delete().where(return_queries.c.return_id.in_(ids))).rowcount,
            "returns": conn.execute(returns.delete().where(returns.c.urn == urn)).rowcount,
            "drafts": conn.execute(drafts.delete().where(drafts.c.urn == urn)).rowcount,
            "challenges": conn.execute(challenges.delete().where(challenges.c.urn == urn)).rowcount,
            "emails": conn.execute(outbox.delete().where(outbox.c.urn == urn)).rowcount,
        }
        conn.execute(schools.delete().where(schools.c.urn == urn))
        write_audit(conn, actor=user, action="delete_school", outcome=DONE, urn=urn, detail=counts)
    return counts
