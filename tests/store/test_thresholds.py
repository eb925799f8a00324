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




# ---- a batch, as the Settings page saves it: every value checked, then all of it or none ----------

def test_a_batch_is_saved_whole_with_an_audit_row_for_each_value(engine):
    from analysis.change_thresholds import change_thresholds

    set_threshold(engine, "drift_red", 0.25, user="ceo@trust")
    outcome = change_thresholds(engine, {"training_red": 0.85, "return_due_summer": 60, "drift_red": None,
                                         "large_school": 600}, user="coo@trust")
    assert outcome.refused == {}
    # large_school typed at its default is no change at all, so it leaves no row
    assert outcome.saved == {"training_red": (None, 0.85), "return_due_summer": (None, 60.0), "drift_red": (0.25, None)}
    assert load_thresholds(engine) == {"training_red": 0.85, "return_due_summer": 60.0}
    rows = _audit_rows(engine)[1:]
    assert [(r.action, r.actor, r.detail["key"]) for r in rows] == [
        ("set_threshold", "coo@trust", "training_red"), ("set_threshold", "coo@trust", "return_due_summer"),
        ("reset_threshold", "coo@trust", "drift_red")]
    assert len({r.at for r in rows}) == 1, "one change, made at one moment"


@pytest.mark.parametrize("bad, sentence", [
    ({"training_red": 1.5}, "Training: red below must be between 0 and 1."),
    ({"return_due_autumn": 91}, "Autumn return due (days after term end) must be between 0 and 90."),
    ({"return_due_spring": 10.5}, "Spring return due (days after term end) must be a whole number."),
    ({"drift_amber": "0.2"}, "Neglect drift: amber from must be a number."),
    ({"drift_amber": float("nan")}, "Neglect drift: amber from must be a number."),
    ({"no_such_line": 3}, "There is no setting called no_such_line."),
    ({"training_red": 0.99, "training_amber": 0.95}, "Training: red below must not be above training: amber below."),
])
def test_a_batch_with_one_bad_value_saves_nothing(engine, bad, sentence):
    from analysis.change_thresholds import change_thresholds

    set_threshold(engine, "large_school", 500, user="ceo@trust")
    before = _audit_rows(engine)
    outcome = change_thresholds(engine, {"large_school": 450, "return_due_summer": 60, **bad}, user="coo@trust")
    assert outcome.saved == {}
    assert list(outcome.refused.values()) == [sentence]
    assert load_thresholds(engine) == {"large_school": 500.0}
    assert _audit_rows(engine) == before


def test_a_batch_checks_red_and_amber_against_what_is_stored(engine):
    from analysis.change_thresholds import change_thresholds

    set_threshold(engine, "drift_amber", 0.2, user="ceo@trust")
    outcome = change_thresholds(engine, {"drift_red": 0.15, "large_school": 450}, user="coo@trust")
    assert outcome.refused == {"drift_red": "Neglect drift: red from must not be below neglect drift: amber from."}
    assert load_thresholds(engine) == {"drift_amber": 0.2}
    assert change_thresholds(engine, {"drift_red": 0.35}, user="coo@trust").saved == {"drift_red": (None, 0.35)}


def test_a_batch_that_fails_half_way_leaves_nothing_stored(engine, monkeypatch):
    import store.thresholds as stored
    from analysis.change_thresholds import change_thresholds

    written, write_audit = [], stored.write_audit

    def audit_then_fail(conn, **kwargs):  # the first value and its audit row are written, then the second fails
        written.append(kwargs["detail"]["key"])
        if len(written) == 2:
            raise RuntimeError("the audit could not be written")
        return write_audit(conn, **kwargs)

    monkeypatch.setattr(stored, "write_audit", audit_then_fail)
    with pytest.raises(RuntimeError):
        change_thresholds(engine, {"training_red": 0.85, "large_school": 450}, user="coo@trust")
    assert written == ["training_red", "large_school"]
    assert load_thresholds(engine) == {}
