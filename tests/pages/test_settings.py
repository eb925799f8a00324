"""The settings page as a trust leader uses it: see every threshold, change one, have a bad value
refused in a plain sentence, put one back to its default, and see each change on record."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from analysis.thresholds import THRESHOLDS, THRESHOLDS_BY_ID, listed, validate
from store import db, upgrades
from store.audit import audit_log
from store.thresholds import load_thresholds, set_threshold
from ui.identity import DEMO_EMAIL as DEMO_USER

from .conftest import ROOT, assert_no_exception


def open_settings() -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "settings.py"), default_timeout=30)
    at.run()
    assert_no_exception(at)
    return at


def engine_of(env):
    engine = db.make_engine(f"sqlite:///{env / 'app.db'}")
    upgrades.upgrade(engine)
    return engine


def field(at, key):
    return next(n for n in at.number_input if n.key.startswith(f"threshold-{key}-"))


def buttons(at, label):
    return [b for b in at.button if b.label == label]


def save(at):
    buttons(at, "Save changes")[0].click().run()
    assert_no_exception(at)
    return at


def markdown(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_every_threshold_is_listed_with_its_default_and_value_now(app_env):
    at = open_settings()
    assert at.title[0].value == "Settings"
    # the single deadline of old is not offered to a trust that never set it: each term has its own
    assert len(at.number_input) == len(THRESHOLDS) - 1 == len(listed({}))
    assert not [n for n in at.number_input if n.key.startswith("threshold-return_due_days-")]
    text = markdown(at)
    captions = "\n".join(c.value for c in at.caption)
    for spec in listed({}):
        assert f"**{spec.label}**" in text
        assert spec.meaning in captions
        shown = field(at, spec.id).value
        assert shown == (spec.default * 100 if spec.unit == "share" else spec.default), spec.id
    assert "Default  \n90%" in text and "Default  \n600 pupils" in text
    assert buttons(at, "Back to the default") == []
    assert any("No threshold has been changed yet" in c.value for c in at.caption)


def test_a_change_is_stored_audited_and_shown(app_env):
    at = open_settings()
    field(at, "training_red").set_value(85)
    field(at, "large_school").set_value(450)
    at = save(at)

    engine = engine_of(app_env)
    assert load_thresholds(engine) == {"training_red": 0.85, "large_school": 450.0}
    log = audit_log(engine)
    assert set(log["action"]) == {"set_threshold"} and set(log["actor"]) == {DEMO_USER}
    assert {"key": "training_red", "old": None, "new": 0.85} in list(log["detail"])
    successes = [s.value for s in at.success]
    assert "Saved. Training: red below: 90% to 85%." in successes
    assert "Saved. A school of no recorded phase counts as large from (pupils): 600 pupils to 450 pupils." in successes
    assert field(at, "training_red").value == 85
    assert "Now  \n**85%** (changed)" in markdown(at)
    assert len(buttons(at, "Back to the default")) == 2
    recent = at.table[0].value
    assert list(recent.columns) == ["When (UTC)", "Who", "What changed"]
    assert set(recent["Who"]) == {DEMO_USER}
    assert "Training: red below: the default (90%) to 85%." in list(recent["What changed"])


def test_a_bad_value_is_refused_with_the_plain_sentence_and_nothing_is_saved(app_env):
    at = open_settings()
    field(at, "training_red").set_value(150)
    field(at, "large_school").set_value(10)
    field(at, "return_due_summer").set_value(45)
    at = save(at)

    engine = engine_of(app_env)
    assert load_thresholds(engine) == {}, "a batch with a bad value saves none of it, the good change neither"
    assert audit_log(engine).empty
    errors = [e.value for e in at.error]
    assert len(errors) == 3
    assert any(validate("training_red", 1.5) in e and "You entered 150%" in e for e in errors)
    assert any(validate("large_school", 10) in e and "You entered 10." in e for e in errors)
    assert any("Nothing was saved" in e for e in errors)
    assert not at.success
    # Every typed value stays in its box to be corrected, and saving again once it is saves it all.
    assert field(at, "training_red").value == 150 and field(at, "return_due_summer").value == 45
    field(at, "training_red").set_value(85)
    field(at, "large_school").set_value(450)
    at = save(at)
    assert load_thresholds(engine) == {"training_red": 0.85, "large_school": 450.0, "return_due_summer": 45.0}
    assert len(audit_log(engine)) == 3
    assert "Now  \n**45 days** (changed)" in markdown(at)


def test_a_fraction_of_a_day_is_refused(app_env):
    at = open_settings()
    field(at, "return_due_autumn").set_value(10.5)
    at = save(at)
    assert load_thresholds(engine_of(app_env)) == {}
    assert [e.value for e in at.error] == [
        "Not saved: Autumn return due (days after term end) must be a whole number. You entered 10.5."]


def test_each_term_has_its_own_deadline_and_the_old_single_one_stays_the_fallback(app_env):
    engine = engine_of(app_env)
    set_threshold(engine, "return_due_days", 21, user="coo@trust")  # set before terms had their own
    at = open_settings()
    text = markdown(at)
    for term in ("autumn", "spring", "summer"):
        assert field(at, f"return_due_{term}").value == 21
    assert "**Return due, any term (days after term end)**" in text and "Default  \n21 days (any term)" in text
    field(at, "return_due_summer").set_value(60)
    at = save(at)
    assert load_thresholds(engine) == {"return_due_days": 21.0, "return_due_summer": 60.0}
    assert audit_log(engine).iloc[0]["detail"] == {"key": "return_due_summer", "old": None, "new": 60.0}
    assert "Saved. Summer return due (days after term end): 21 days to 60 days." in [s.value for s in at.success]
    # typing the fallback's value again is following it again: the term's own value goes
    field(at, "return_due_summer").set_value(21)
    save(at)
    assert load_thresholds(engine) == {"return_due_days": 21.0}
    assert audit_log(engine).iloc[0]["action"] == "reset_threshold"


def test_back_to_the_default_removes_the_change_and_is_audited(app_env):
    engine = engine_of(app_env)
    set_threshold(engine, "drift_red", 0.25, user="coo@trust")
    at = open_settings()
    assert field(at, "drift_red").value == 25
    (reset,) = buttons(at, "Back to the default")
    reset.click().run()
    assert_no_exception(at)

    assert load_thresholds(engine) == {}
    last = audit_log(engine).iloc[0]
    assert (last["action"], last["actor"]) == ("reset_threshold", DEMO_USER)
    assert last["detail"] == {"key": "drift_red", "old": 0.25, "new": None}
    assert field(at, "drift_red").value == THRESHOLDS_BY_ID["drift_red"].default * 100
    assert buttons(at, "Back to the default") == []
    assert any("back to the default, 30%" in s.value for s in at.success)
    whats = list(at.table[0].value["What changed"])
    assert whats[0] == "Neglect drift: red from: back to the default (30%) from 25%."
    assert "coo@trust" in set(at.table[0].value["Who"])


def test_typing_the_default_again_is_the_same_as_going_back_to_it(app_env):
    engine = engine_of(app_env)
    set_threshold(engine, "training_red", 0.85, user="coo@trust")
    at = open_settings()
    field(at, "training_red").set_value(90)
    save(at)
    assert load_thresholds(engine) == {}
    assert audit_log(engine).iloc[0]["action"] == "reset_threshold"


def test_saving_with_nothing_changed_stores_nothing(app_env):
    at = save(open_settings())
    assert any("Nothing to save" in i.value for i in at.info)
    assert audit_log(engine_of(app_env)).empty


def test_a_failure_on_our_side_is_an_apology_not_a_traceback(app_env, monkeypatch):
    import store.thresholds

    calls = []

    def broken(*args, **kwargs):  # the second value's audit row fails, after the first is written
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(store.thresholds, "write_audit", broken)
    at = open_settings()
    field(at, "training_red").set_value(85)
    field(at, "large_school").set_value(450)
    at = save(at)
    assert len(calls) == 2
    assert any(e.value.startswith("Sorry: something went wrong on our side while saving the settings")
               for e in at.error)
    assert not at.success
    assert load_thresholds(engine_of(app_env)) == {}


def test_red_and_amber_the_wrong_way_round_is_refused_whole(app_env):
    at = open_settings()
    field(at, "training_red").set_value(99)  # red below 99% while amber is below 100%: fine
    field(at, "training_amber").set_value(95)  # amber below 95% would put red inside amber
    field(at, "large_school").set_value(450)  # fine on its own, but saved only with the rest
    at = save(at)
    assert load_thresholds(engine_of(app_env)) == {}
    assert any("must not be above" in e.value for e in at.error)
    assert any("Nothing was saved" in e.value for e in at.error)
