"""No email carries a count of children, a child's detail or a finding, and a DSL's carry no other
school: every email of every kind, as the sample trust would send them over a simulated term
(a DSL for every school, leaders, trustees, board questions whose findings and words hold counts
of children, returns stored, the pack made), and the Notifications page's previews, read as an
adversary would read them."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from analysis.context import Context
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps
from analysis.notify import queue_due
from store import mail
from store.challenges import add_challenge
from store.packs import record_pack
from store.returns import save_return
from store.schema import outbox
from store.users import add_user
from tests.helpers.returns import make_report

CHILD_WORDS = (r"child(?:ren)?|pupils?|students?|learners?|young\s+people|boys?|girls?|babies|famil(?:y|ies)|"
               r"referrals?|concerns?|cases?|flags?|flagged|allegations?|suspensions?|exclusions?|incidents?|"
               r"siblings?|looked[- ]after|on\s+roll")
# a number (not part of a date, a year or a term's name) with a word about children within three words
COUNT_OF_CHILDREN = re.compile(rf"(?<![\d/])\b\d+\b(?![/:]\d)(?:\W+\w+){{0,3}}?\W+(?:{CHILD_WORDS})\b", re.I)
DATES = re.compile(r"\b\d{4}/\d{2}\b|\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|"
                   r"October|November|December)(?: \d{4})?\b|\b\d{4}\b")
QUESTION = "Why were 3 children on this list not seen by a social worker?"
ANSWER_WORDS = "Two children were referred."


@pytest.fixture(scope="module")
def term_of_emails(sample_engine, tmp_path_factory):
    """Every email the sample trust queues over a simulated Autumn 2026/27 (and the previews)."""
    from store.db import dispose, make_engine
    from store.upgrades import copy_sqlite, sqlite_file

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SMTP_HOST", "127.0.0.1")
        mp.setenv("MAIL_FROM", "dashboard@trust.example.org")
        mp.setenv("DASHBOARD_URL", "https://safeguarding.example.org")
        path = tmp_path_factory.mktemp("texts") / "sample.db"
        copy_sqlite(sqlite_file(sample_engine), path)  # its WAL too
        engine = make_engine(f"sqlite:///{path}")
        data = load_dataset(engine)
        names = data.school_names
        for urn in names:
            add_user(engine, f"dsl-{urn}@school.example.org", role="dsl", urns=[urn], name=f"DSL of {urn}", actor="t")
        for who, role in (("ceo", "trust_leader"), ("officer", "trust_leader"), ("chair", "trustee"),
                          ("vice", "trustee")):
            add_user(engine, f"{who}@trust.example.org", role=role, actor="t")
        findings = set()
        for year, term in data.terms:
            findings |= {g.finding for g in find_gaps(Context(data, year, term))}
        gaps = find_gaps(Context(data, "2025/26", "Summer"))
        for i, g in enumerate(gaps[:12]):  # a question on gaps of several schools, actions falling due in the term
            add_challenge(engine, urn=g.urn, theme=g.theme, rule=g.rule, indicator=g.indicator, academic_year="2025/26",
                          term="Summer", finding=g.finding, question=QUESTION, asked_by="Chair",
                          meeting_date=date(2026, 12, 1), user="chair@trust.example.org",
                          answer=ANSWER_WORDS, answered_by="Head", action=f"See the 4 children named in {g.finding}",
                          owner="DSL", due_date=date(2027, 1, 5) + timedelta(days=3 * i))
        for i, urn in enumerate(sorted(names)[:8]):  # eight schools return, one late
            report, content = make_report(urn, "2026/27", "Autumn", name=names[urn], queries=i % 3)
            save_return(engine, report, content, user=f"dsl-{urn}@school.example.org",
                        submitted_at=datetime(2027, 1, 4 + 2 * i, 11))
        day = date(2026, 12, 14)
        while day <= date(2027, 2, 8):
            queue_due(engine, day)
            day += timedelta(days=1)
        record_pack(engine, user="ceo@trust.example.org", academic_year="2026/27", term="Autumn", fmt="pdf",
                    reader="trustee")
        with engine.connect() as conn:
            sent = [dict(r) for r in conn.execute(sa.select(outbox)).mappings()]
        dispose(engine)
    previews = mail.examples(names[sorted(names)[0]], names[sorted(names)[1]], "2026/27", "Autumn", date(2027, 1, 14))
    return sent, previews, findings, names


def test_the_simulated_term_sent_every_kind(term_of_emails):
    sent, previews, _, _ = term_of_emails
    kinds = {e["kind"] for e in sent}
    assert kinds == set(mail.KINDS) - {mail.TEST}, kinds
    assert {p.kind for p in previews} == set(mail.KINDS)


def test_no_email_carries_a_count_of_children(term_of_emails):
    sent, previews, _, _ = term_of_emails
    texts = [e["subject"] + "\n" + e["body"] for e in sent] + [p.subject + "\n" + p.body for p in previews]
    counts = {m.group(0) for t in texts for m in COUNT_OF_CHILDREN.finditer(t)}
    assert counts == set()
    # the check does catch a count of children
    assert COUNT_OF_CHILDREN.search(QUESTION) and COUNT_OF_CHILDREN.search("3 of the flagged children")
    assert not COUNT_OF_CHILDREN.search("due in 14 days: 2 schools, 3 queries, version 2, No. 4 (Neglect)")


def test_no_email_carries_a_finding_or_the_words_typed_about_children(term_of_emails):
    sent, _, findings, _ = term_of_emails
    assert findings
    for e in sent:
        text = e["subject"] + "\n" + e["body"]
        assert not [f for f in findings if f in text], e["subject"]
        assert QUESTION not in text and ANSWER_WORDS not in text and "children named" not in text


def test_a_dsls_emails_name_their_own_school_and_no_other(term_of_emails):
    sent, _, _, names = term_of_emails
    to_dsls = [e for e in sent if e["recipient"].startswith("dsl-")]
    assert {e["kind"] for e in to_dsls} == {"return_due", "receipt", "question", "action_due", "action_overdue"}
    for e in to_dsls:
        own = e["recipient"][4:10]
        assert e["urn"] == own
        text = e["subject"] + "\n" + e["body"]
        assert names[own] in text
        assert [n for urn, n in names.items() if urn != own and n in text] == []


def test_a_trustees_email_holds_no_figure_at_all(term_of_emails):
    sent, previews, _, _ = term_of_emails
    to_trustees = [e["subject"] + "\n" + e["body"] for e in sent if e["kind"] == "pack_ready"]
    to_trustees += [p.subject + "\n" + p.body for p in previews if p.kind == "pack_ready"]
    assert len(to_trustees) == 3
    for text in to_trustees:
        words = DATES.sub("", re.sub(r"https?://\S+", "", text))  # the link names the term too
        assert not re.search(r"\d", words), text
