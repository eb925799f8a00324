"""Stored thresholds: only the changed ones are kept, each change is audited in the same write,
and a reset puts a threshold back to its default."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from store.audit import audit_log
from store.schema import audit, thresholds
from store.thresholds import load_thresholds, reset_threshold, set_threshold, threshold_changes


def _audit_rows(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(audit).order_by(audit.c.id)).all()


def test_a_fresh_database_has_nothing_changed(engine):
    assert load_thresholds(engine) == {}
    assert threshold_changes(engine).empty


def test_set_stores_the_value_and_audits_old_and_new(engine):
    set_threshold(engine, "training_red", 0.85, user="ceo@trust")
    set_threshold(engine, "large_school", 500, user="ceo@trust")
    set_threshold(engine, "training_red", 0.8, user="coo@trust")

    assert load_thresholds(engine) == {"training_red": 0.8, "large_school": 500.0}
    first, second, third = _audit_rows(engine)
    assert (first.action, first.outcome, first.actor) == ("set_threshold", "done", "ceo@trust")
    assert first.detail == {"key": "training_red", "old": None, "new": 0.85}
    assert second.detail == {"key": "large_school", "old": None, "new": 500.0}
    assert third.actor == "coo@trust" and third.detail == {"key": "training_red", "old": 0.85, "new": 0.8}
    with engine.connect() as conn:
        row = conn.execute(sa.select(thresholds).where(thresholds.c.key == "training_red")).one()
    assert row.changed_by == "coo@trust" and row.changed_at == third.at


def test_setting_the_same_value_again_changes_nothing(engine):
    set_threshold(engine, "blank_share", 0.3, user="ceo@trust")
    set_threshold(engine, "blank_share", 0.3, user="someone@else")
    assert len(_audit_rows(engine)) == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(thresholds.c.changed_by)).scalar() == "ceo@trust"


def test_reset_removes_the_change_and_audits_it(engine):
    set_threshold(engine, "drift_red", 0.25, user="ceo@trust")
    set_threshold(engine, "drift_amber", 0.1, user="ceo@trust")
    reset_threshold(engine, "drift_red", user="coo@trust")

    assert load_thresholds(engine) == {"drift_amber": 0.1}
    last = _audit_rows(engine)[-1]
    assert (last.action, last.actor) == ("reset_threshold", "coo@trust")
    assert last.detail == {"key": "drift_red", "old": 0.25, "new": None}


def test_resetting_a_default_is_a_no_op(engine):
    reset_threshold(engine, "drift_red", user="ceo@trust")
    assert _audit_rows(engine) == []


def test_changes_are_listed_newest_first(engine):
    set_threshold(engine, "training_red", 0.85, user="a@trust")
    set_threshold(engine, "training_red", 0.8, user="b@trust")
    reset_threshold(engine, "training_red", user="c@trust")
    changes = threshold_changes(engine)
    assert list(changes.columns) == ["at", "actor", "action", "key", "old", "new"]
    assert list(changes["actor"]) == ["c@trust", "b@trust", "a@trust"]
    assert list(changes["action"]) == ["reset_threshold", "set_threshold", "set_threshold"]
    assert changes.iloc[0][["key", "old"]].tolist() == ["training_red", 0.8]
    assert changes.iloc[0]["new"] is None
    assert len(threshold_changes(engine, limit=2)) == 2


def test_other_audit_rows_are_not_threshold_changes(engine, report_factory):
    from store.returns import record_attempt

    report, content = report_factory(errors=1)
    record_attempt(engine, report, user="dsl@school", size=len(content))
    set_threshold(engine, "training_red", 0.85, user="ceo@trust")
    assert len(audit_log(engine)) == 2
    assert list(threshold_changes(engine)["action"]) == ["set_threshold"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "0.9", None, True])
def test_a_value_no_column_can_hold_is_refused_and_nothing_is_written(engine, value):
    with pytest.raises(ValueError):
        set_threshold(engine, "training_red", value, user="ceo@trust")
    assert load_thresholds(engine) == {} and _audit_rows(engine) == []


def test_a_failed_audit_leaves_no_stored_value(engine, monkeypatch):
    import store.thresholds as stored

    def broken_audit(*args, **kwargs):
        raise RuntimeError("the audit could not be written")

    monkeypatch.setattr(stored, "write_audit", broken_audit)
    with pytest.raises(RuntimeError):
        set_threshold(engine, "training_red", 0.85, user="ceo@trust")
    assert load_thresholds(engine) == {}


