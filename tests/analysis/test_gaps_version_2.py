"""The gap rules version 2 of the return brings, each firing on the return built for it and not
otherwise, and telling a trustee nothing a hidden count would give away.

- allegations that may meet the harm threshold not referred to the LADO: red (version 2); the
  same shortfall on version 1's mixed row is a question;
- children with a social worker persistently absent far more often than the school's pupils:
  a question;
- looked-after children on roll and no designated teacher named: amber.
A version 1 return is not asked the new measures, so neither these rules nor "many blanks" count
them against it.
"""

from __future__ import annotations

import re

from analysis import gaps as g
from analysis.context import Context

from .conftest import clean_leads


def trust_of(trust, **first):
    trust.add("100001", **first)
    trust.add("100002")
    trust.add("100003")
    return trust


def version_1(changes=None) -> dict:
    """A version 1 return: the template version 1, and nothing of what version 2 added."""
    later = ("about.phase", "about.social_worker", "inclusion.sw_persistently_absent",
             "inclusion.private_fostering", "multi_agency.low_level.due", "multi_agency.low_level.done")
    return {"about.template_version": 1, **{m: None for m in later}, **(changes or {})}


def as_trustee(ctx: Context) -> Context:
    """The same term as a trustee reads it: their own view of the data, small counts hidden."""
    from analysis.context import restrict
    from store.access import scope_for
    from store.users import User

    view = restrict(ctx.data, scope_for(User("trustee@trust.example", None, "trustee", ())))
    return Context(view, ctx.academic_year, ctx.term, ctx.t)


def no_small_count(text: str) -> bool:
    return not re.search(r"(?<![\d.,])[1-4](?![\d.,%])", text)


# --- allegations not referred -------------------------------------------------------------------


def test_an_allegation_that_may_meet_the_harm_threshold_not_referred_is_red(trust):
    ctx = trust_of(trust, changes={"multi_agency.lado.due": 6, "multi_agency.lado.done": 5}).context()
    (found,) = g.allegations_not_referred(ctx)
    assert (found.urn, found.severity, found.theme, found.indicator) == ("100001", "red", "multi_agency", "ma_lado")
    assert found.finding == ("The school did not refer 1 of 6 allegations about staff that may meet the harm "
                             "threshold (17%) to the LADO, against a line of every one referred (100%).")


def test_on_version_1s_mixed_row_the_same_shortfall_is_a_question(trust):
    changes = version_1({"multi_agency.lado.due": 6, "multi_agency.lado.done": 5})
    (found,) = g.allegations_not_referred(trust_of(trust, changes=changes).context())
    assert found.severity == "note"
    assert found.finding.startswith("The school did not refer 1 of 6 allegations about staff (17%) to the LADO, against a line "
                                    "of every one referred (100%). "
                                    "This return's row counted every allegation, low-level concerns among them")
    assert "harm threshold" in found.question


def test_every_allegation_referred_or_none_received_raises_nothing(trust):
    for due, done in ((4, 4), (0, 0), (3, None)):
        ctx = trust_of(type(trust)(), changes={"multi_agency.lado.due": due, "multi_agency.lado.done": done}).context()
        assert g.allegations_not_referred(ctx) == []


def mine(found):
    return [x for x in found if x.urn == "100001"]


def test_a_trustee_reads_a_shortfall_of_small_counts_as_too_small_to_judge(trust):
    ctx = as_trustee(trust_of(trust, changes={"multi_agency.lado.due": 3, "multi_agency.lado.done": 2}).context())
    (found,) = mine(g.allegations_not_referred(ctx))
    assert found.severity == "note" and "too small to show" in found.finding
    assert no_small_count(found.finding)


def test_a_trustee_reads_a_shortfall_in_words_when_the_counts_that_decide_it_are_shown(trust):
    trust.add("100001", changes={"multi_agency.lado.due": 12, "multi_agency.lado.done": 9})
    for urn in ("100002", "100003"):
        trust.add(urn, changes={"multi_agency.lado.due": 10, "multi_agency.lado.done": 10})
    ctx = as_trustee(trust.context())
    (found,) = g.allegations_not_referred(ctx)
    assert found.severity == "red"
    assert found.finding == ("The school did not refer under half of the allegations about staff that may meet "
                             "the harm threshold to the LADO, against a line of every one referred (100%).")


# --- children with a social worker persistently absent ---------------------------------------


def test_children_with_a_social_worker_absent_far_more_than_the_school_is_a_question(trust):
    # the school: 133 of 800 pupils (17%); children with a social worker: 20 of 30 (67%)
    ctx = trust_of(trust, changes={"about.social_worker": 30, "inclusion.sw_persistently_absent": 20}).context()
    (found,) = g.social_worker_absence(ctx)
    assert (found.urn, found.severity, found.theme, found.indicator) == (
        "100001", "note", "neglect", "sw_persistent_absence")
    assert found.finding == ("20 of 30 children with a social worker (67%) are persistently absent, against 17% "
                             "of its pupils as a whole; the trust asks when their share is more than twice the school's, "
                             "beyond what chance would explain.")


def test_a_gap_within_the_trusts_multiple_or_within_chance_is_not_raised(trust):
    # 10 of 30 (33%) is twice the school's 17% but not beyond chance above it; 4 of 5 is too few to tell
    for sw, absent in ((30, 10), (5, 4), (0, 0), (None, 3), (30, None)):
        ctx = trust_of(type(trust)(), changes={"about.social_worker": sw,
                                               "inclusion.sw_persistently_absent": absent}).context()
        assert g.social_worker_absence(ctx) == [], (sw, absent)


def test_the_trust_sets_how_many_times_the_schools_absence_is_worth_asking_about(trust):
    changes = {"about.social_worker": 30, "inclusion.sw_persistently_absent": 14}  # 47% against 17%
    assert g.social_worker_absence(trust_of(trust, changes=changes).context(thresholds={"sw_absence_times": 1}))
    assert g.social_worker_absence(trust_of(type(trust)(), changes=changes).context()) == []


def test_a_trustee_reads_the_social_worker_gap_in_words_when_its_part_is_small(trust):
    # 3 of 10 against 5 of 3,000 pupils: however few "fewer than 5" is, the rule fires
    changes = {"about.social_worker": 10, "inclusion.sw_persistently_absent": 3, "inclusion.persistently_absent": 5}
    trust.add("100001", pupils=3000, changes=changes)
    trust.add("100002")
    trust.add("100003")
    ctx = as_trustee(trust.context(thresholds={"sw_absence_times": 1}))
    (found,) = mine(g.social_worker_absence(ctx))
    assert found.finding.startswith("Under half of the children with a social worker are persistently absent")
    assert no_small_count(found.finding)


def test_a_version_1_return_is_never_asked_about_children_with_a_social_worker(trust):
    ctx = trust_of(trust, changes=version_1()).context()
    assert g.social_worker_absence(ctx) == []


# --- looked-after children and no designated teacher -----------------------------------------


def test_looked_after_children_and_no_designated_teacher_is_amber(trust):
    leads = [lead for lead in clean_leads() if lead["role"].startswith("Designated teacher") is False]
    (found,) = g.no_designated_teacher(trust_of(trust, leads=leads).context())
    assert (found.urn, found.severity, found.theme, found.indicator) == (
        "100001", "amber", "workforce", "designated_teacher")
    assert found.finding == ("The return counts 3 looked-after children on roll but names no designated teacher "
                             "for them; KCSIE requires one wherever a school has looked-after children.")


def test_in_either_version_and_not_without_looked_after_children(trust):
    leads = [lead for lead in clean_leads() if not lead["role"].startswith("Designated teacher")]
    assert g.no_designated_teacher(trust_of(trust, leads=leads, changes=version_1()).context())
    for looked_after in (0, None):
        ctx = trust_of(type(trust)(), leads=leads, changes={"about.looked_after": looked_after}).context()
        assert g.no_designated_teacher(ctx) == []


def test_a_trustee_is_not_told_how_few_looked_after_children_there_are(trust):
    leads = [lead for lead in clean_leads() if not lead["role"].startswith("Designated teacher")]
    (found,) = mine(g.no_designated_teacher(as_trustee(trust_of(trust, leads=leads).context())))
    assert found.finding == ("The return counts looked-after children on roll but names no designated teacher "
                             "for them; KCSIE requires one wherever a school has looked-after children.")


# --- not asked is not blank -------------------------------------------------------------------


def test_what_version_1_was_not_asked_is_not_counted_as_blank(trust):
    ctx = trust_of(trust, changes=version_1()).context()
    st = ctx.school_term("100001")
    assert st.version == 1 and st.blank_share == 0
    assert "about.social_worker" not in st.counts
    assert g.many_blanks(ctx) == []


def test_a_trustee_is_told_the_counts_are_too_small_when_the_answer_turns_on_hidden_ones(trust):
    # 4 of 4 with a social worker absent: a reader who sees "fewer than 5" of each could not tell
    # whether the rule fires, so raising it or not would say something of the hidden counts.
    changes = {"about.social_worker": 4, "inclusion.sw_persistently_absent": 4}
    ctx = as_trustee(trust_of(trust, changes=changes).context(thresholds={"sw_absence_times": 1}))
    (found,) = mine(g.social_worker_absence(ctx))
    assert found.severity == "note" and "too small to show" in found.finding
    assert no_small_count(found.finding)
