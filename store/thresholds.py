"""The gap thresholds a trust has changed from the defaults: stored, reset, and every change audited.

Which thresholds exist, their defaults and their allowed ranges are declared in analysis; the
caller checks a value against them before storing it. This module only keeps what was chosen,
by whom and when, and writes the audit row for each change in the same transaction.
"""

from __future__ import annotations

import math
import numbers
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.audit import DONE, utcnow, write_audit
from store.db import upsert_insert, writing
from store.schema import audit, thresholds

SET, RESET = "set_threshold", "reset_threshold"
CHANGE_COLUMNS = ["at", "actor", "action", "key", "old", "new"]


def load_thresholds(engine: Engine) -> dict[str, float]:
    """The thresholds the trust has changed, by key; those not listed are at their defaults."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(thresholds.c.key, thresholds.c.value)).all()
    return {key: float(value) for key, value in rows}


def set_threshold(engine: Engine, key: str, value: float, *, user: str) -> None:
    """Store ``value`` for ``key`` (audited). Checking it is allowed is the caller's job.

    Storing the value already stored changes nothing and leaves no audit row.
    """
    key, value = _checked_key(key), _checked_value(value)
    with writing(engine) as conn:
        old = _stored(conn, key)
        if old == value:
            return
        at = utcnow()
        insert = upsert_insert(conn, thresholds).values(key=key, value=value, changed_by=user, changed_at=at)
        conn.execute(insert.on_conflict_do_update(
            index_elements=[thresholds.c.key],
            set_={"value": value, "changed_by": user, "changed_at": at},
        ))
        write_audit(conn, actor=user, action=SET, outcome=DONE, at=at,
                    detail={"key": key, "old": old, "new": value})


def reset_threshold(engine: Engine, key: str, *, user: str) -> None:
    """Put ``key`` back to its default (audited); nothing happens when it is at the default already."""
    key = _checked_key(key)
    with writing(engine) as conn:
        old = _stored(conn, key)
        if old is None:
            return
        conn.execute(thresholds.delete().where(thresholds.c.key == key))
        write_audit(conn, actor=user, action=RESET, outcome=DONE, detail={"key": key, "old": old, "new": None})


def threshold_changes(engine: Engine, *, limit: int = 20) -> pd.DataFrame:
    """The newest threshold changes first: at, actor, action, key, old, new (None: the default)."""
    query = (sa.select(audit.c.at, audit.c.actor, audit.c.action, audit.c.detail)
             .where(audit.c.action.in_((SET, RESET))).order_by(audit.c.id.desc()).limit(limit))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    # object columns, so a value at its default stays None rather than turning into NaN
    frame = pd.DataFrame(
        [(_naive(r.at), r.actor, r.action, *(_field(r.detail, f) for f in ("key", "old", "new"))) for r in rows],
        columns=CHANGE_COLUMNS, dtype=object,
    )
    frame["at"] = pd.to_datetime(frame["at"])
    return frame


def _stored(conn: Connection, key: str) -> float | None:
    query = sa.select(thresholds.c.value).where(thresholds.c.key == key).with_for_update()
    value = conn.execute(query).scalar()
    return None if value is None else float(value)


def _checked_key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > thresholds.c.key.type.length:
        raise ValueError(f"{key!r} is not a threshold name.")
    return key.strip()


def _checked_value(value: float) -> float:
    # Only what a database column can hold faithfully; whether it is sensible is the caller's check.
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"A threshold must be a finite number, not {value!r}.")
    return float(value)


def _field(detail, name: str):
    return detail.get(name) if isinstance(detail, dict) else None


def _naive(moment) -> datetime | None:
    return moment.replace(tzinfo=None) if isinstance(moment, datetime) else moment
