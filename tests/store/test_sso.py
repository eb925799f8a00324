"""Who single sign-on says a person is: the claim that names them as Google and Microsoft Entra ID
send it, matched to a user whatever the letters' case, within ALLOWED_EMAIL_DOMAINS; a plain
sentence when nothing usable came; every sign-in, let in or refused, and sign-out on record."""

from __future__ import annotations

import pytest

import settings
from store import sso
from store.audit import audit_log
from store.users import add_user, remove_user

ANY = frozenset()  # no ALLOWED_EMAIL_DOMAINS


@pytest.mark.parametrize("claims, expected", [
    # Google: email with email_verified
    ({"email": "Ash@Trust.Example.org", "email_verified": True}, ("ash@trust.example.org", "email")),
    ({"email": "ash@trust.example.org", "email_verified": "true"}, ("ash@trust.example.org", "email")),
    # a provider that does not say whether it checked: taken as sent
    ({"email": "ash@trust.example.org"}, ("ash@trust.example.org", "email")),
    # not verified: the address is not vouched for, so the user name is tried instead
    ({"email": "ash@trust.example.org", "email_verified": False}, (None, None)),
    ({"email": "ash@trust.example.org", "email_verified": "false", "preferred_username": "Ash@Trust.example.org"},
     ("ash@trust.example.org", "preferred_username")),
    # Microsoft Entra ID without a mailbox: no email, the UPN in preferred_username
    ({"preferred_username": "Ash.Quill@Trust.example.org", "name": "Ash Quill"},
     ("ash.quill@trust.example.org", "preferred_username")),
    ({"preferred_username": "ash", "upn": "ash@trust.example.org"}, ("ash@trust.example.org", "upn")),
    ({"email": "not an address", "upn": "ash@trust.example.org"}, ("ash@trust.example.org", "upn")),
    # nothing that is an email address
    ({"preferred_username": "jdoe"}, (None, None)),
    ({"sub": "248289761001"}, (None, None)),
    ({"email": None, "preferred_username": 42}, (None, None)),
])
def test_the_address_comes_from_email_else_a_user_name_that_is_an_address(claims, expected):
    assert sso.claimed_email(claims) == expected


def test_an_address_is_matched_to_a_user_whatever_its_case(engine):
    add_user(engine, "ash@trust.example.org", role="trust_leader", actor="setup")
    outcome = sso.resolve(engine, {"email": "ASH@Trust.Example.ORG", "email_verified": True}, ANY)
    assert outcome.user is not None and outcome.user.role == "trust_leader"
    assert (outcome.email, outcome.claim, outcome.reason, outcome.message) == (
        "ash@trust.example.org", "email", None, None)
    entra = sso.resolve(engine, {"preferred_username": "Ash@trust.example.org"}, ANY)
    assert entra.user == outcome.user


def test_an_unknown_or_removed_address_is_turned_away_politely(engine):
    add_user(engine, "ash@trust.example.org", role="trust_leader", actor="setup")
    add_user(engine, "former@trust.example.org", role="trustee", actor="setup")
    remove_user(engine, "former@trust.example.org", actor="setup")
    stranger = sso.resolve(engine, {"email": "stranger@trust.example.org"}, ANY)
    assert stranger.user is None and stranger.reason == sso.NO_SUCH_USER
    assert stranger.message.startswith("You are signed in as stranger@trust.example.org, but that address has no "
                                       "access to this dashboard.")
    former = sso.resolve(engine, {"email": "former@trust.example.org"}, ANY)
    assert former.user is None and former.reason == sso.REMOVED
    assert "has no access" in former.message


def test_an_address_outside_the_allowed_domains_is_refused_even_for_a_user(engine):
    add_user(engine, "contractor@example.com", role="trustee", actor="setup")
    add_user(engine, "dsl@kestrel.example.org", role="dsl", urns=["990002"], actor="setup")
    allowed = frozenset({"trust.example.org", "kestrel.example.org"})
    outside = sso.resolve(engine, {"email": "contractor@example.com"}, allowed)
    assert outside.user is None and outside.reason == sso.OUTSIDE_DOMAINS
    assert "only lets in addresses ending @kestrel.example.org or @trust.example.org" in outside.message
    inside = sso.resolve(engine, {"email": "DSL@Kestrel.example.org"}, allowed)
    assert inside.user is not None and inside.user.urns == ("990002",)
    # a domain is matched whole: a subdomain, or a look-alike ending, is outside
    for email in ("a@mail.trust.example.org", "a@nottrust.example.org"):
        assert sso.resolve(engine, {"email": email}, allowed).reason == sso.OUTSIDE_DOMAINS


def test_the_allowed_domains_come_from_the_setting(engine, monkeypatch):
    add_user(engine, "contractor@example.com", role="trustee", actor="setup")
    monkeypatch.setenv("ALLOWED_EMAIL_DOMAINS", "trust.example.org")
    assert sso.resolve(engine, {"email": "contractor@example.com"}).reason == sso.OUTSIDE_DOMAINS
    monkeypatch.delenv("ALLOWED_EMAIL_DOMAINS")
    monkeypatch.setattr(settings, "_secrets", lambda: {})
    assert sso.resolve(engine, {"email": "contractor@example.com"}).user is not None


@pytest.mark.parametrize("value, expected", [
    ("Trust.Example.org, @kestrel.example.org  other.example.net",
     {"trust.example.org", "kestrel.example.org", "other.example.net"}),
    (["trust.example.org", " @Kestrel.example.org "], {"trust.example.org", "kestrel.example.org"}),
    ("", set()),
    (" , ", set()),
])
def test_allowed_email_domains_are_read_from_a_list_or_a_string(value, expected, monkeypatch):
    monkeypatch.delenv("ALLOWED_EMAIL_DOMAINS", raising=False)
    monkeypatch.setattr(settings, "_secrets", lambda: {"ALLOWED_EMAIL_DOMAINS": value})
    assert settings.allowed_email_domains() == expected


def test_allowed_email_domains_written_inside_the_auth_section_still_count(monkeypatch):
    monkeypatch.delenv("ALLOWED_EMAIL_DOMAINS", raising=False)
    monkeypatch.setattr(settings, "_secrets", lambda: {"auth": {"client_id": "x",
                                                               "allowed_email_domains": "trust.example.org"}})
    assert settings.allowed_email_domains() == {"trust.example.org"}


def test_no_usable_address_says_what_came_and_what_to_ask_for(engine):
    outcome = sso.resolve(engine, {"sub": "x1", "preferred_username": "jdoe", "name": "Jo Doe"}, ANY)
    assert outcome.user is None and outcome.email is None and outcome.reason == sso.NO_IDENTITY
    assert "it sent no email address and a user name “jdoe” that is not an email address" in outcome.message
    assert "Ask your trust's IT" in outcome.message and "Microsoft Entra ID" in outcome.message
    unverified = sso.resolve(engine, {"email": "ash@trust.example.org", "email_verified": False}, ANY)
    assert "the email ash@trust.example.org marked as not verified and no user name" in unverified.message
    nothing = sso.resolve(engine, {"sub": "x1"}, ANY)
    assert "it sent no email address and no user name" in nothing.message
    long = sso.resolve(engine, {"upn": "x" * 500}, ANY)
    assert len(long.message) < 800


def test_sign_ins_let_in_or_refused_and_sign_outs_are_on_record(engine):
    add_user(engine, "ash@trust.example.org", role="trust_leader", actor="setup")
    claims = {"preferred_username": "Ash@trust.example.org", "sub": "1", "tid": "t"}
    sso.record_sign_in(engine, sso.resolve(engine, claims, ANY), claims=claims, source="192.0.2.1")
    sso.record_sign_out(engine, "ash@trust.example.org", source="192.0.2.1")
    stranger = {"email": "stranger@example.net"}
    sso.record_sign_in(engine, sso.resolve(engine, stranger, ANY), claims=stranger, source=None)
    nobody = {"sub": "2", "preferred_username": "jdoe", "name": "Jo Doe"}
    sso.record_sign_in(engine, sso.resolve(engine, nobody, ANY), claims=nobody, source=None)

    log = audit_log(engine, actions=["sign_in", "sign_out"]).iloc[::-1]
    assert list(zip(log["actor"], log["action"], log["outcome"])) == [
        ("ash@trust.example.org", "sign_in", "accepted"),
        ("ash@trust.example.org", "sign_out", "done"),
        ("stranger@example.net", "sign_in", "refused"),
        (sso.NO_ADDRESS, "sign_in", "refused"),
    ]
    details = list(log["detail"])
    assert details[0] == {"by": "single sign-on", "claim": "preferred_username"}
    assert details[2] == {"by": "single sign-on", "claim": "email", "reason": "no such user"}
    # what came instead of an address: the claims' names, never their values
    assert details[3] == {"by": "single sign-on", "claim": None, "reason": "no email address",
                          "claims": ["name", "preferred_username", "sub"]}
    assert log["source"].iloc[0] == "192.0.2.1"
