"""Users, roles and passwords: stored as given, every change audited, passwords hashed with scrypt
and never kept or logged in clear, sign-in limited per account and address (with a lock that
grows), per address and across the trust, and a lock cleared by a trust's administrator."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from store import users as users_module
from store.audit import audit_log
from store.schema import audit, login_attempts, users
from store.users import (
    FAILURES_BEFORE_LOCK,
    FIRST_LOCK,
    LONGEST_LOCK,
    MAX_FAILURES_PER_SOURCE,
    BadEmail,
    BadPassword,
    DuplicateUser,
    LastTrustLeader,
    NoSchool,
    TooManyAttempts,
    UnknownRole,
    UnknownUser,
    User,
    UserError,
    add_user,
    get_user,
    hash_password,
    list_users,
    lock_for,
    password_matches,
    remove_user,
    set_password,
    set_role,
    unlock,
    verify_password,
)

PASSWORD = "lantern meadow copper"
CEO = "ceo@trust.example"


@pytest.fixture
def leader(engine):
    add_user(engine, "CEO@Trust.Example", role="trust_leader", name="Avery Quill", password=PASSWORD,
             actor="setup")
    return engine


def audit_rows(engine, action=None):
    query = sa.select(audit).order_by(audit.c.id)
    if action:
        query = query.where(audit.c.action == action)
    with engine.connect() as conn:
        return conn.execute(query).all()


def everything_stored(engine) -> str:
    """Every row of the users, attempts and audit tables as text: where a password must not be."""
    with engine.connect() as conn:
        rows = [dict(r._mapping) for table in (users, login_attempts, audit) for r in conn.execute(sa.select(table))]
    return json.dumps(rows, default=str)


# Adding, reading, listing ----------------------------------------------------------------------

def test_a_user_is_stored_lower_cased_with_role_name_and_schools(engine):
    added = add_user(engine, " Dsl@School.Example ", role="dsl", name="  Rowan   Ashdown ",
                     urns=["140002", 140001, "140002"], actor="ceo@trust.example")
    assert added == User("dsl@school.example", "Rowan Ashdown", "dsl", ("140001", "140002"))
    assert get_user(engine, "DSL@school.example") == added
    assert get_user(engine, "nobody@school.example") is None
    assert get_user(engine, "not an email") is None


def test_list_users_shows_who_and_how_but_never_the_hash(leader):
    add_user(leader, "dsl@school.example", role="dsl", urns=["140001"], actor=CEO)
    frame = list_users(leader)
    assert list(frame.columns) == ["email", "name", "role", "urns", "password", "disabled", "created_at"]
    assert list(frame["email"]) == [CEO, "dsl@school.example"]
    assert list(frame["urns"]) == [(), ("140001",)]
    assert list(frame["password"]) == [True, False] and not frame["disabled"].any()
    assert "scrypt" not in frame.to_json()


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(email="x@trust.example", role="governor"), UnknownRole, "not a role"),
    (dict(email="x@trust.example", role="dsl"), NoSchool, "at least one school"),
    (dict(email="x@trust.example", role="dsl", urns=["12345"]), UserError, "6 digits"),
    (dict(email="x@trust.example", role="trustee", urns=["140001"]), UserError, "Only a DSL"),
    (dict(email="not-an-email", role="trustee"), BadEmail, "not an email address"),
    (dict(email="two@@trust.example", role="trustee"), BadEmail, "not an email address"),
    (dict(email="x@trust.example", role="trustee", password="short"), BadPassword, "at least 12"),
])
def test_bad_requests_are_plain_sentences_and_store_nothing(engine, kwargs, error, words):
    kwargs = dict(kwargs)
    email = kwargs.pop("email")
    with pytest.raises(error, match=words) as caught:
        add_user(engine, email, actor=CEO, **kwargs)
    assert isinstance(caught.value, ValueError) and str(caught.value).endswith(".")
    assert list_users(engine).empty and audit_rows(engine) == []


def test_a_duplicate_user_is_refused_whatever_the_case(leader):
    with pytest.raises(DuplicateUser, match="already a user"):
        add_user(leader, "ceo@TRUST.example", role="trustee", actor=CEO)
    assert get_user(leader, CEO).role == "trust_leader"


def test_adding_is_audited_with_who_what_and_from_where_never_the_password(engine):
    add_user(engine, "chair@trust.example", role="trustee", name="Sol Brightwater", password=PASSWORD,
             actor=CEO, source="web")
    row = audit_rows(engine)[-1]
    assert (row.actor, row.action, row.outcome, row.source) == (CEO, "add_user", "done", "web")
    assert row.detail == {"email": "chair@trust.example", "role": "trustee", "urns": [], "name": "Sol Brightwater",
                          "password": True, "restored": False}
    assert PASSWORD not in everything_stored(engine)


# Passwords -------------------------------------------------------------------------------------

def test_the_hash_is_scrypt_with_its_parameters_and_a_salt_of_its_own(leader):
    add_user(leader, "coo@trust.example", role="trust_leader", password=PASSWORD, actor=CEO)
    with leader.connect() as conn:
        hashes = conn.execute(sa.select(users.c.password_hash)).scalars().all()
    kinds = [h.split("$") for h in hashes]
    assert all(k[0] == "scrypt" and len(k) == 6 for k in kinds)
    n, r, p = map(int, kinds[0][1:4])
    assert 128 * n * r * p >= 16 * 2**20  # memory-hard: at least 16 MiB a check
    assert hashes[0] != hashes[1]  # the same password, different salts
    assert all(PASSWORD not in h for h in hashes)


def test_password_matches_only_the_right_password_and_a_well_formed_hash():
    stored = hash_password(PASSWORD)
    assert password_matches(PASSWORD, stored)
    assert not password_matches(PASSWORD.upper(), stored)
    assert not password_matches(PASSWORD, None)
    assert not password_matches(PASSWORD, "plain text")
    assert not password_matches(PASSWORD, stored.replace("$16384$", "$1073741824$"))  # would need 1 TiB
    assert not password_matches(None, stored)


def test_the_same_password_typed_in_another_unicode_form_matches():
    stored = hash_password("café au lait noir")
    assert password_matches("cafe\u0301 au lait noir", stored)


def test_set_password_replaces_the_old_one_and_is_audited(leader):
    set_password(leader, CEO, "a brand new passphrase", actor=CEO)
    assert verify_password(leader, CEO, PASSWORD, source="10.0.0.1") is None
    assert verify_password(leader, CEO, "a brand new passphrase", source="10.0.0.1").email == CEO
    assert audit_rows(leader, "set_password")[0].detail == {"email": CEO, "password": True}


# Roles -----------------------------------------------------------------------------------------

def test_set_role_changes_role_and_schools_and_audits_old_and_new(leader):
    add_user(leader, "head@school.example", role="trustee", actor=CEO)
    changed = set_role(leader, "head@school.example", "dsl", urns=["140007"], actor=CEO, source="web")
    assert changed == get_user(leader, "head@school.example") == User("head@school.example", None, "dsl", ("140007",))
    row = audit_rows(leader, "set_role")[0]
    assert row.detail == {"email": "head@school.example", "old_role": "trustee", "role": "dsl",
                          "old_urns": [], "urns": ["140007"]}
    assert (row.actor, row.source) == (CEO, "web")


def test_a_dsl_keeps_their_schools_unless_new_ones_are_given(leader):
    add_user(leader, "dsl@school.example", role="dsl", urns=["140001", "140002"], actor=CEO)
    set_role(leader, "dsl@school.example", "dsl", urns=["140003"], actor=CEO)
    assert get_user(leader, "dsl@school.example").urns == ("140003",)
    set_role(leader, "dsl@school.example", "trustee", actor=CEO)
    assert get_user(leader, "dsl@school.example").urns == ()
    with pytest.raises(NoSchool):
        set_role(leader, "dsl@school.example", "dsl", actor=CEO)


def test_setting_the_role_a_user_has_changes_nothing(leader):
    add_user(leader, "dsl@school.example", role="dsl", urns=["140001"], actor=CEO)
    before = len(audit_rows(leader))
    set_role(leader, "dsl@school.example", "dsl", actor=CEO)
    set_role(leader, "dsl@school.example", "dsl", urns=["140001"], actor=CEO)
    assert len(audit_rows(leader)) == before


def test_set_role_of_nobody_or_to_no_role_is_refused(leader):
    with pytest.raises(UnknownUser, match="no user"):
        set_role(leader, "nobody@trust.example", "trustee", actor=CEO)
    with pytest.raises(UnknownRole):
        set_role(leader, CEO, "owner", actor=CEO)


def test_the_last_trust_leader_cannot_be_demoted_or_removed(leader):
    with pytest.raises(LastTrustLeader, match="only trust leader"):
        set_role(leader, CEO, "trustee", actor=CEO)
    with pytest.raises(LastTrustLeader):
        remove_user(leader, CEO, actor=CEO)
    add_user(leader, "coo@trust.example", role="trust_leader", actor=CEO)
    set_role(leader, CEO, "trustee", actor="coo@trust.example")
    assert get_user(leader, CEO).role == "trustee"


# Removing --------------------------------------------------------------------------------------

def test_a_removed_user_is_kept_disabled_cannot_sign_in_and_is_audited(leader):
    add_user(leader, "dsl@school.example", role="dsl", urns=["140001"], password=PASSWORD, actor=CEO)
    remove_user(leader, "DSL@school.example", actor=CEO, source="web")
    gone = get_user(leader, "dsl@school.example")
    assert gone.disabled and gone.urns == ()
    assert verify_password(leader, "dsl@school.example", PASSWORD, source="10.0.0.1") is None
    assert list_users(leader).set_index("email").loc["dsl@school.example", "password"] == False  # noqa: E712
    row = audit_rows(leader, "remove_user")[0]
    assert (row.actor, row.source, row.detail) == (CEO, "web", {"email": "dsl@school.example", "role": "dsl",
                                                                 "urns": ["140001"]})
    with pytest.raises(UnknownUser, match="has been removed"):
        remove_user(leader, "dsl@school.example", actor=CEO)
    with pytest.raises(UnknownUser):
        set_role(leader, "dsl@school.example", "trustee", actor=CEO)


def test_adding_a_removed_user_again_brings_them_back(leader):
    add_user(leader, "dsl@school.example", role="dsl", urns=["140001"], actor=CEO)
    remove_user(leader, "dsl@school.example", actor=CEO)
    back = add_user(leader, "dsl@school.example", role="trustee", password=PASSWORD, actor=CEO)
    assert back == get_user(leader, "dsl@school.example") and not back.disabled
    assert audit_rows(leader, "add_user")[-1].detail["restored"] is True
    assert verify_password(leader, "dsl@school.example", PASSWORD, source="10.0.0.1") == back


# Signing in ------------------------------------------------------------------------------------

def test_sign_in_returns_the_user_for_the_right_password_only(leader):
    assert verify_password(leader, " CEO@trust.example", PASSWORD, source="10.0.0.1") == get_user(leader, CEO)
    assert verify_password(leader, CEO, "lantern meadow copper!", source="10.0.0.1") is None
    assert verify_password(leader, "nobody@trust.example", PASSWORD, source="10.0.0.1") is None
    add_user(leader, "sso@trust.example", role="trustee", actor=CEO)
    assert verify_password(leader, "sso@trust.example", "", source="10.0.0.1") is None


def test_every_sign_in_is_audited_with_where_from_and_never_the_password(leader):
    verify_password(leader, CEO, PASSWORD, source="10.0.0.1")
    verify_password(leader, CEO, "wrong horse battery", source="10.0.0.2")
    verify_password(leader, "nobody@trust.example", "wrong horse battery", source="10.0.0.2")
    verify_password(leader, PASSWORD, PASSWORD, source="10.0.0.3")  # a password typed into the email box
    rows = audit_rows(leader, "sign_in")
    assert [(r.actor, r.outcome, r.source) for r in rows] == [
        (CEO, "accepted", "10.0.0.1"), (CEO, "rejected", "10.0.0.2"),
        ("nobody@trust.example", "rejected", "10.0.0.2"), ("(not an email address)", "rejected", "10.0.0.3")]
    assert [r.detail for r in rows[1:3]] == [{"reason": "wrong password"}, {"reason": "no such user"}]
    stored = everything_stored(leader)
    assert PASSWORD not in stored and "wrong horse battery" not in stored
    assert list(audit_log(leader)["action"])[:4] == ["sign_in"] * 4


def test_after_five_failures_the_account_is_refused_from_that_address_without_checking_the_password(
        leader, monkeypatch):
    for _ in range(FAILURES_BEFORE_LOCK):
        assert verify_password(leader, CEO, "wrong horse battery", source="10.0.0.1") is None
    checked = []
    monkeypatch.setattr(users_module, "password_matches", lambda *a: checked.append(a) or True)
    with pytest.raises(TooManyAttempts) as refused:
        verify_password(leader, CEO, PASSWORD, source="10.0.0.1")
    assert checked == []
    assert str(refused.value) == ("Too many failed sign-ins for this account from this computer or network. "
                                  "Please wait 1 minute and try again.")
    assert timedelta(seconds=50) < refused.value.retry_after <= FIRST_LOCK
    last = audit_rows(leader, "sign_in")[-1]
    assert (last.outcome, last.source, last.detail) == (
        "refused", "10.0.0.1", {"reason": "too many failed attempts", "whose": "account"})


def test_a_stranger_failing_from_one_address_does_not_lock_the_owner_out_elsewhere(leader):
    for _ in range(3 * FAILURES_BEFORE_LOCK):
        try:
            verify_password(leader, CEO, "wrong horse battery", source="203.0.113.7")
        except TooManyAttempts:
            pass
    with pytest.raises(TooManyAttempts):
        verify_password(leader, CEO, PASSWORD, source="203.0.113.7")
    assert verify_password(leader, CEO, PASSWORD, source="198.51.100.1").email == CEO  # the owner, at school
    assert verify_password(leader, CEO, PASSWORD, source=None).email == CEO  # or from an unknown address


def test_the_lock_doubles_with_each_further_failure_up_to_an_hour_and_refusals_do_not_extend_it(leader, monkeypatch):
    assert [lock_for(n) for n in range(FAILURES_BEFORE_LOCK - 1, FAILURES_BEFORE_LOCK + 8)] == [
        timedelta(0), *(timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32)), LONGEST_LOCK, LONGEST_LOCK]
    start = users_module.utcnow()
    clock = {"now": start}
    monkeypatch.setattr(users_module, "utcnow", lambda: clock["now"])
    for _ in range(FAILURES_BEFORE_LOCK):
        verify_password(leader, CEO, "wrong horse battery", source="10.0.0.1")
    clock["now"] = start + timedelta(seconds=30)
    with pytest.raises(TooManyAttempts, match="wait 1 minute and"):  # refused, not counted
        verify_password(leader, CEO, PASSWORD, source="10.0.0.1")
    clock["now"] = start + timedelta(seconds=61)  # the minute is up: one more guess, wrong
    assert verify_password(leader, CEO, "wrong horse battery", source="10.0.0.1") is None
    clock["now"] = start + timedelta(seconds=61 + 90)
    with pytest.raises(TooManyAttempts, match="wait 1 minute and"):  # two minutes from the sixth failure
        verify_password(leader, CEO, PASSWORD, source="10.0.0.1")
    clock["now"] = start + timedelta(seconds=61 + 121)
    assert verify_password(leader, CEO, PASSWORD, source="10.0.0.1").email == CEO


def test_a_success_clears_the_failures_before_it(leader):
    for _ in range(FAILURES_BEFORE_LOCK - 1):
        verify_password(leader, CEO, "wrong horse battery", source="10.0.0.1")
    assert verify_password(leader, CEO, PASSWORD, source="10.0.0.1") is not None
    for _ in range(FAILURES_BEFORE_LOCK - 1):
        assert verify_password(leader, CEO, "wrong horse battery", source="10.0.0.1") is None
    assert verify_password(leader, CEO, PASSWORD, source="10.0.0.1") is not None


def test_accounts_that_do_not_exist_are_limited_the_same_way(engine):
    for _ in range(FAILURES_BEFORE_LOCK):
        verify_password(engine, "guess@trust.example", "anything at all", source="10.0.0.1")
    with pytest.raises(TooManyAttempts, match="for this account"):
        verify_password(engine, "guess@trust.example", "anything at all", source="10.0.0.1")
    assert verify_password(engine, "guess@trust.example", "anything at all", source="10.0.0.2") is None


def test_with_no_address_known_the_account_is_still_locked(leader):
    for _ in range(FAILURES_BEFORE_LOCK):
        verify_password(leader, CEO, "wrong horse battery", source=None)
    with pytest.raises(TooManyAttempts, match="for this account"):
        verify_password(leader, CEO, PASSWORD, source=None)


def test_one_address_guessing_many_accounts_is_refused(leader, monkeypatch):
    monkeypatch.setattr(users_module, "password_matches", lambda *a: False)  # keep the test quick
    for i in range(MAX_FAILURES_PER_SOURCE):
        verify_password(leader, f"guess{i}@trust.example", "anything at all", source="203.0.113.7")
    with pytest.raises(TooManyAttempts, match="from this computer or network"):
        verify_password(leader, CEO, PASSWORD, source="203.0.113.7")
    monkeypatch.undo()
    assert verify_password(leader, CEO, PASSWORD, source="198.51.100.1").email == CEO
    assert verify_password(leader, CEO, PASSWORD, source=None).email == CEO  # an unknown address: per account only


def test_parallel_guesses_cannot_slip_past_the_limit(leader):
    outcomes = []
    lock = threading.Lock()

    def guess():
        try:
            result = verify_password(leader, CEO, "wrong horse battery", source="10.0.0.1")
        except TooManyAttempts:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(None) == FAILURES_BEFORE_LOCK
    assert outcomes.count("refused") == 12 - FAILURES_BEFORE_LOCK
    with leader.connect() as conn:
        checked = conn.execute(sa.select(sa.func.count()).select_from(login_attempts)
                               .where(login_attempts.c.refused.is_(False))).scalar()
    assert checked == FAILURES_BEFORE_LOCK


def test_guessing_spread_over_many_addresses_is_stopped_trust_wide_but_not_for_an_owner_at_home(
        leader, monkeypatch):
    from store import sessions

    sessions.start(leader, CEO, source="192.0.2.50")  # the owner signed in from home last week
    monkeypatch.setattr(users_module, "MAX_FAILURES_TRUST_WIDE", 12)
    real = users_module.password_matches
    monkeypatch.setattr(users_module, "password_matches", lambda *a: False)  # keep the test quick
    for i in range(12):  # one guess each from twelve addresses: no address and no pair is locked
        verify_password(leader, f"guess{i}@trust.example", "anything at all", source=f"203.0.113.{i}")
    monkeypatch.setattr(users_module, "password_matches", real)
    for source in ("198.51.100.1", None):
        with pytest.raises(TooManyAttempts) as refused:
            verify_password(leader, CEO, PASSWORD, source=source)
        assert str(refused.value) == (
            "Too many failed sign-ins to this dashboard just now, from many places. Please wait 15 minutes and try "
            "again. You can still sign in now from a computer or network you have signed in from before.")
    assert verify_password(leader, CEO, PASSWORD, source="192.0.2.50").email == CEO
    assert audit_rows(leader, "sign_in")[-2].detail == {"reason": "too many failed attempts", "whose": "trust"}


def test_unlock_clears_the_lock_from_every_address_and_is_audited(leader):
    for source in ("10.0.0.1", "10.0.0.2"):
        for _ in range(FAILURES_BEFORE_LOCK):
            verify_password(leader, CEO, "wrong horse battery", source=source)
        with pytest.raises(TooManyAttempts):
            verify_password(leader, CEO, PASSWORD, source=source)
    assert unlock(leader, " CEO@Trust.Example", actor="command line", source="command line") == 12
    assert verify_password(leader, CEO, PASSWORD, source="10.0.0.1").email == CEO
    assert verify_password(leader, CEO, PASSWORD, source="10.0.0.2").email == CEO
    assert unlock(leader, CEO, actor="command line") == 0  # nothing held against it now
    rows = audit_rows(leader, "unlock")
    assert [(r.actor, r.outcome, r.detail) for r in rows] == [
        ("command line", "done", {"email": CEO, "failures_cleared": 12}),
        ("command line", "done", {"email": CEO, "failures_cleared": 0})]


def test_unlock_of_nobody_is_refused_with_a_sentence(leader):
    with pytest.raises(UnknownUser, match="There is no user nobody@trust.example."):
        unlock(leader, "nobody@trust.example", actor="command line")
    with pytest.raises(BadEmail):
        unlock(leader, "not an address", actor="command line")


def test_old_attempts_are_cleared_but_the_audit_keeps_them(leader, monkeypatch):
    start = users_module.utcnow()
    monkeypatch.setattr(users_module, "utcnow", lambda: start - timedelta(days=2))
    verify_password(leader, CEO, "wrong horse battery", source="10.0.0.1")
    monkeypatch.setattr(users_module, "utcnow", lambda: start)
    verify_password(leader, CEO, PASSWORD, source="10.0.0.1")
    with leader.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(login_attempts)).scalar() == 1
    assert len(audit_rows(leader, "sign_in")) == 2
