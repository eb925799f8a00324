"""The Privacy page tells a trustee what is hidden from them and why, in the words and the tables
that analysis.disclosure makes from the contract, at the threshold the server is set to."""

from __future__ import annotations

from analysis.disclosure import figures_frame, groups_frame, rules

from .conftest import as_read, assert_no_exception, open_page, table_as_read


def _page(sign_in, role="trustee"):
    sign_in(role)
    at = open_page("pages/privacy.py")
    assert_no_exception(at)
    return at


def _table(at, i: int):
    """The page's i-th table as a reader sees it, its index (the first column) included."""
    shown = table_as_read(at.table[i].value)
    shown.index = [as_read(v) for v in shown.index]
    shown.index.name = at.table[i].value.index.name
    return shown.reset_index()


def _text(at) -> str:
    return "\n".join(as_read(m.value) for m in at.markdown)


def test_a_trustee_reads_every_rule_and_every_group_of_counts(sample_app, sign_in):
    at = _page(sign_in)
    assert at.title[0].value == "Privacy"
    assert "What trustees do not see" in [h.value for h in at.header]
    text = _text(at)
    for heading, sentences in rules(5):
        assert f"**{heading}.** {sentences}" in text
    assert _table(at, 0).to_dict("list") == groups_frame(5).to_dict("list")
    assert _table(at, 1).to_dict("list") == figures_frame().to_dict("list")
    assert "The threshold is 5" in at.caption[0].value


def test_the_page_follows_the_threshold_the_server_is_set_to(sample_app, sign_in, monkeypatch):
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "7")
    at = _page(sign_in, "trust_leader")
    text = _text(at)
    assert "\u201cfewer than 7\u201d" in text and "fewer than 5" not in text
    small = set(_table(at, 0)["Small counts"])
    assert small == {"hidden: 1 to 6 show as \u201cfewer than 7\u201d", "shown as they are"}


def test_a_threshold_set_wrongly_is_a_sentence_not_a_traceback(sample_app, sign_in, monkeypatch):
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "five")
    sign_in("dsl", ["990002"])
    at = open_page("pages/privacy.py")
    assert_no_exception(at)
    assert any("SUPPRESSION_THRESHOLD" in e.value for e in at.error)
    assert "How long returns are kept" in _text(at)  # the rest of the page is still there
