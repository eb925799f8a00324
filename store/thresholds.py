"""The gap thresholds a trust has changed from the defaults: stored, reset, and every change audited.

Which thresholds exist, their defaults and their allowed ranges are declared in analysis, and
analysis.change_thresholds checks a batch against them inside the one transaction that stores it.
This module only keeps what was chosen, by whom and when, and writes the audit row for each change
in the same transaction.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from datetime import datetime

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.audit import DONE, utcnow, write_audit
from store.db import is_sqlite, upsert_insert, writing
from store.schema import audit, thresholds

SET, RESET = "set_threshold", "reset_threshold"
CHANGE_COLUMNS = ["at", "actor", "action", "key", "old", "new"]


def load_thresholds(engine: Engine) -> dict[str, float]:
    """The thresholds the trust has changed, by key; those not listed are at their defaults."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(thresholds.c.key, thresholds.c.value)).all()
    return {key: float(value) for key, value in rows}


def save_thresholds(engine: Engine, decide: Callable[[dict[str, float]], Mapping[str, float | None]], *,
                    user: str) -> dict[str, tuple[float | None, float | None]]:
    """Store a batch of threshold changes in one transaction, each with its audit row, or none.

    ``decide`` is called under the write lock with the values stored now (by key) and returns the
    batch: key to its new value, or None for back to the default. Whatever it raises rolls the
    whole batch back and reaches the caller, so the caller's checks see exactly what is stored.
    Returns what changed, key to (old, new); a value already stored changes nothing and leaves no
    audit row. Whether a value is sensible is the caller's check; this only refuses what no column
    can hold faithfully.
    """
    with writing(engine) as conn:
        if not is_sqlite(conn):  # SQLite's write lock is already taken; here another batch waits for this one
            conn.execute(sa.text("LOCK TABLE thresholds IN SHARE ROW EXCLUSIVE MODE"))
        rows = conn.execute(sa.select(thresholds.c.key, thresholds.c.value)).all()
        stored = {key: float(value) for key, value in rows}
        batch = {_checked_key(key): None if value is None else _checked_value(value)
                 for key, value in decide(dict(stored)).items()}
        at, done = utcnow(), {}
        for key, value in batch.items():
            old = stored.get(key)
            if old == value:
                continue
            if value is None:
                conn.execute(thresholds.delete().where(thresholds.c.key == key))
            else:
                insert = upsert_insert(conn, thresholds).values(key=key, value=value, changed_by=user, changed_at=at)
                conn.execute(insert.on_conflict_do_update(
                    index_elements=[thresholds.c.key],
                    set_={"value": value, "changed_by": user, "changed_at": at},
                ))
            write_audit(conn, actor=user, action=RESET if value is None else SET, outcome=DONE, at=at,
                        detail={"key": key, "old": old, "new": value})
            done[key] = (old, value)
    return done


def set_threshold(engine: Engine, key: str, value: float, *, user: str) -> None:
    """Store ``value`` for ``key`` (audited). Checking it is allowed is the caller's job.

    Storing the value already stored changes nothing and leaves no audit row.
    """
    key, value = _checked_key(key), _checked_value(value)
    save_thresholds(engine, lambda _stored: {key: value}, user=user)


def reset_threshold(engine: Engine, key: str, *, user: str) -> None:
    """Put ``key`` back to its default (audited); nothing happens when it is at the default already."""
    key = _checked_key(key)
    save_thresholds(engine, lambda _stored: {key: None}, user=user)


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
