"""Gap rules as data: ratio rules are rows walked by one function, every rule is registered once,
every id a rule names is checked on import, and the rules that read a school's own earlier terms
or count children out of sight fire where they should, stay quiet where they should not, and
tell a trustee nothing a hidden count would give away."""

from __future__ import annotations

import csv
import re
from dataclasses import replace
from pathlib import Path

import pytest

from analysis import gaps as g
from analysis.context import Context, restrict
from loaders.problems import MORE_THAN_THREE_TIMES_LAST_TERM

from .conftest import TERM, YEAR, clean_leads
from .test_gaps_version_2 import as_trustee, no_small_count, version_1

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ratio_rule_gaps.csv"
EARLIER = (("2024/25", "Summer"), ("2025/26", "Autumn"))  # the two terms before Spring 2025/26


def row_of(name: str) -> g.RatioRule:
    return next(r for r in g.RATIO_RULES if r.name == name)


# ---- the registry and the check on import ----------------------------------------------------

@pytest.mark.parametrize("change, named", [
    ({"whole": ("neglect.active_flag",)}, "measure 'neglect.active_flag'"),
    ({"part": ("neglect.monitoring_only_2_term",)}, "measure 'neglect.monitoring_only_2_term'"),
    ({"lines": ("drift_ambr", "drift_red")}, "threshold 'drift_ambr'"),
    ({"theme": "neglekt"}, "theme 'neglekt'"),
    ({"indicator": "neglect_drfit"}, "indicator 'neglect_drfit'"),
])
def test_a_misspelt_id_in_a_ratio_row_is_refused_naming_the_rule_and_the_id(change, named):
    with pytest.raises(g.RuleError, match=re.escape(f"The gap rule 'neglect_drift' names the {named}")):
        replace(row_of("neglect_drift"), **change)


def test_a_misspelt_id_in_a_rising_row_or_a_rule_function_is_refused():
    with pytest.raises(g.RuleError, match="'rising_part_time' names the measure 'inclusion.part_time'"):
        replace(g.RISING_RULES[0], measure="inclusion.part_time")

    def suspensions_up(ctx: Context) -> list:
        return [st for st in ctx.returned() if st.count("inclusion.suspendd")]

    with pytest.raises(g.RuleError, match="'suspensions_up' names the measure 'inclusion.suspendd'"):
        g.rule(themes=("adolescents",), indicators=("suspensions",))(suspensions_up)

    def suspensions_high(ctx: Context) -> list:
        return [st for st in ctx.returned() if st.count("inclusion.suspended") > ctx.t["suspension_line"]]

    with pytest.raises(g.RuleError, match="'suspensions_high' names the threshold 'suspension_line'"):
        g.rule(themes=("adolescents",), indicators=("suspensions",), thresholds=("suspension_line",))(suspensions_high)


def test_a_row_is_refused_when_it_would_judge_a_measure_with_no_better_direction():
    drift = row_of("neglect_drift")
    with pytest.raises(g.RuleError, match="raise it as a note"):
        replace(drift, indicator="neglect_absent", part=("neglect.persistently_absent",))
    assert replace(drift, indicator="neglect_absent", part=("neglect.persistently_absent",), severity=g.NOTE)
    with pytest.raises(g.RuleError, match="held against a line"):
        replace(g.RISING_RULES[0], indicator="ma_peps", measure="multi_agency.peps.done")


def test_a_row_is_refused_when_its_finding_does_not_state_its_line():
    with pytest.raises(g.RuleError, match="state the line"):
        replace(row_of("neglect_drift"), finding="{of} have been monitored in school only for two terms or more.")


def test_a_row_is_refused_when_a_version_it_reads_did_not_ask_its_measures():
    with pytest.raises(g.RuleError, match="did not ask"):
        replace(row_of("neglect_drift"), indicator="sw_persistent_absence", part=("inclusion.sw_persistently_absent",),
                whole=("about.social_worker",), severity=g.NOTE, versions=(1, 2))


def test_every_rule_is_registered_once_and_every_row_belongs_to_one():
    names = [r.name for r in g.RULES]
    assert len(names) == len(set(names))
    for row in g.RATIO_RULES + g.RISING_RULES:
        assert row in g.RULES_BY_NAME[row.name].rows


def test_drift_and_chronologies_are_two_rows_of_the_same_walker(trust):
    drift, chronology = g.neglect_drift.rows, g.chronologies_not_reviewed.rows
    assert len(drift) == len(chronology) == 1 and all(isinstance(r, g.RatioRule) for r in drift + chronology)
    for urn in ("100001", "100002", "100003"):
        trust.add(urn, changes={"neglect.monitoring_only_2_terms": 8, "neglect.chronology_reviewed": 10})
    ctx = trust.context()
    walked = g.walk_ratios(ctx, drift + chronology)
    assert sorted(x.rule for x in walked) == ["chronologies_not_reviewed"] * 3 + ["neglect_drift"] * 3
    assert {x.finding for x in walked} == {x.finding for x in g.neglect_drift(ctx) + g.chronologies_not_reviewed(ctx)}


def test_a_ratio_row_reads_nothing_from_a_return_whose_version_did_not_ask_it(trust):
    asked = g.RatioRule("sw_absent_share", "neglect", "sw_persistent_absence", ("inclusion.sw_persistently_absent",),
                        ("about.social_worker",), (0.5, 0.5), g.FROM, "{of} are persistently absent, from {amber}.",
                        "Why?", "Learning.", g.SCIE_NEGLECT, noun=" children with a social worker",
                        too_small="the children with a social worker", severity=g.NOTE, versions=(2,))
    trust.add("100001", changes={"inclusion.sw_persistently_absent": 15})
    trust.add("100002", changes=version_1())
    trust.add("100003", changes={"inclusion.sw_persistently_absent": None})  # blank: not 0
    (found,) = g.walk_ratios(trust.context(), (asked,))
    assert (found.urn, found.severity) == ("100001", "note")
    assert found.finding == "15 of 19 children with a social worker (79%) are persistently absent, from 50%."


def test_every_gap_on_the_sample_carries_a_theme_and_indicator_its_rule_declares(sample_engine):
    from analysis.dataset import load_dataset

    data = load_dataset(sample_engine)
    found = [x for term in data.terms for x in g.find_gaps(Context(data, *term))]
    assert {x.rule for x in found} >= {"neglect_drift", "children_missing_education", "rising_suspensions"}
    for x in found:
        declared = g.RULES_BY_NAME.get(x.rule) or next(r for r in g.RULES if r.name in (
            "missing_or_late_return", "statistical_outliers") and x.indicator in r.indicators)
        assert x.theme in declared.themes and x.indicator in declared.indicators, x


# ---- every finding says what it was held against -------------------------------------------------

# How a finding states the line it was judged against: the trust's line and its figure, the rule's
# expectation, the date or interval a check was due by, the funnel's limits, a count's earlier terms.
STATES_ITS_LINE = re.compile(
    r"the trust's line of \d+%|against a line of every one referred|the trust asks (?:whenever|when|about|for)|"
    r"KCSIE requires|\(due every |it was due by \d|after it was due \(by \d|beyond what chance would explain|"
    r"rose in each of the last two terms")
TOO_SMALL = "are too small to show, so whether this is a gap cannot be read"


def lines_stated(gaps) -> list[str]:
    return [f"{x.rule}: {x.finding}" for x in gaps if TOO_SMALL not in x.finding and not STATES_ITS_LINE.search(x.finding)]


def test_every_finding_on_the_sample_states_the_line_it_was_held_against(sample_engine):
    """As a leader and as a trustee, every term: e.g. "The return arrived 27 days after it was due
    (by 14 April 2026)", "... below the trust's line of 95% (red below 80%)"."""
    from analysis.dataset import load_dataset
    from store.access import scope_for
    from store.users import User

    data = load_dataset(sample_engine)
    rules = set()
    for role in ("trust_leader", "trustee"):
        view = restrict(data, scope_for(User("reader@trust.example", None, role, ())))
        found = [x for term in data.terms for x in g.find_gaps(Context(view, *term))]
        rules |= {x.rule for x in found}
        assert not lines_stated(found), "\n".join(lines_stated(found)[:20])
    assert len(rules) >= 20


def test_the_rules_the_sample_does_not_raise_state_their_lines_too(trust):
    from loaders.registry import DSL_ROLE

    q = {"code": MORE_THAN_THREE_TIMES_LAST_TERM.code, "sheet": "Inclusion", "cell": "B7",
         "message": "Suspended is 12, last term 3.", "explanation": None}
    trust.add("100001", leads=[lead for lead in clean_leads() if lead["role"] != DSL_ROLE], queries=[q])
    trust.add("100002", changes={"referrals.neglect.escalated": 0})
    trust.add("100003", changes={"neglect.persistently_absent": 15})
    found = g.find_gaps(trust.context())
    assert {"no_dsl_named", "unexplained_change", "not_accepted_never_escalated",
            "absent_without_early_help"} <= {x.rule for x in found}
    assert not lines_stated(found), lines_stated(found)
    for x in found:
        if x.rule == "no_dsl_named":
            assert x.finding == "The return names no designated safeguarding lead; KCSIE requires one in every school."


# ---- the walker gives the findings the hand-written rules gave -----------------------------------

LINE = re.compile(r", (?:below the trust's line of \d+%(?: \(red below \d+%\))?|at or above the trust's line of "
                  r"\d+% \(red from \d+%\)|against a line of every one referred \(100%\))(?=[.])")


def test_the_walker_gives_the_sample_trusts_ratio_gaps_as_the_hand_written_rules_did(sample_engine):
    """tests/fixtures/ratio_rule_gaps.csv holds the sample trust's ratio-rule gaps, for a leader and
    a trustee, as the rules gave them before they were rows. The same gaps are raised now, each
    finding now stating its line; and version 1's counts too small to judge carry version 1's
    learning (they carried version 2's)."""
    from analysis.dataset import load_dataset
    from store.access import scope_for
    from store.users import User

    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        before = list(csv.DictReader(fh))
    data = load_dataset(sample_engine)
    now = []
    for role in ("trust_leader", "trustee"):
        view = restrict(data, scope_for(User("reader@trust.example", None, role, ())))
        for term in data.terms:
            for x in g.find_gaps(Context(view, *term)):
                if x.rule in {r.name for r in g.RATIO_RULES}:
                    assert LINE.search(x.finding) or "too small" in x.finding or x.rule == "training_below_threshold"
                    varies = x.rule in ("training_below_threshold", "allegations_not_referred")
                    learning = x.learning if varies else ""
                    if "too small" in x.finding and x.rule == "allegations_not_referred":
                        learning = row_of("allegations_not_referred").learning  # as before: version 2's
                    now.append({"role": role, "academic_year": term[0], "term": term[1], "urn": x.urn,
                                "rule": x.rule, "indicator": x.indicator, "severity": x.severity,
                                "finding": LINE.sub("", x.finding), "question": x.question if varies else "",
                                "learning": learning})
    assert len(now) == len(before) > 300
    assert now == before


# ---- children going missing from home, and children missing education ---------------------------

def three(trust, **first):
    trust.add("100001", **first)
    trust.add("100002")
    trust.add("100003")
    return trust


NONE_REFERRED = {f"referrals.missing.{r}": 0 for r in g.REFERRAL_ROUTES}


def test_missing_episodes_with_no_referral_are_a_question(trust):
    ctx = three(trust, changes={"referrals.missing.concerns": 6, **NONE_REFERRED}).context()
    (found,) = g.missing_without_referral(ctx)
    assert (found.urn, found.severity, found.theme, found.indicator) == ("100001", "note", "adolescents",
                                                                        "missing_concerns")
    assert "for 6 children this term and made no referral" in found.finding
    assert "the trust asks whenever none is made" in found.finding


@pytest.mark.parametrize("changes", [
    {"referrals.missing.concerns": 6, **NONE_REFERRED, "referrals.missing.police": 1},  # one passed on
    {"referrals.missing.concerns": 0, **NONE_REFERRED},  # none went missing
    {"referrals.missing.concerns": None, **NONE_REFERRED},  # blank: not known, never 0
    {"referrals.missing.concerns": 6, **NONE_REFERRED, "referrals.missing.health": None},  # a route blank
])
def test_missing_episodes_rule_is_quiet_when_a_child_was_referred_or_a_count_is_blank(trust, changes):
    assert g.missing_without_referral(three(trust, changes=changes).context()) == []


def test_a_trustee_is_told_of_missing_episodes_without_the_small_count(trust):
    ctx = as_trustee(three(trust, changes={"referrals.missing.concerns": 2, **NONE_REFERRED}).context())
    (found,) = g.missing_without_referral(ctx)
    assert "for children this term" in found.finding and no_small_count(found.finding)


def test_children_missing_education_are_a_question_naming_how_many(trust):
    ctx = three(trust, changes={"inclusion.cme_reported": 3}).context()
    (found,) = g.children_missing_education(ctx)
    assert (found.urn, found.severity, found.indicator) == ("100001", "note", "cme")
    assert found.finding.startswith("3 children were reported to the local authority as missing education")
    trust2 = type(trust)()
    (one,) = g.children_missing_education(three(trust2, changes={"inclusion.cme_reported": 1}).context())
    assert one.finding.startswith("1 child was reported")


@pytest.mark.parametrize("reported", [0, None])
def test_no_child_missing_education_or_a_blank_raises_nothing(trust, reported):
    assert g.children_missing_education(three(trust, changes={"inclusion.cme_reported": reported}).context()) == []


def test_a_trustee_reads_children_missing_education_without_a_small_count(trust):
    trust.add("100001", changes={"inclusion.cme_reported": 3})
    trust.add("100002", changes={"inclusion.cme_reported": 12})
    trust.add("100003", changes={"inclusion.cme_reported": 9})
    found = {x.urn: x.finding for x in g.children_missing_education(as_trustee(trust.context()))}
    assert found["100001"].startswith("Children were reported") and no_small_count(found["100001"])
    assert "how many is not shown" in found["100001"]
    assert set(found) == {"100001", "100002", "100003"}


# ---- counts rising in each of a school's last terms ---------------------------------------------

def over_terms(trust, measure: str, first: tuple, others: tuple = (2, 2, 2), *, pupils: int = 800):
    """Three terms (Summer 2024/25, Autumn and Spring 2025/26) of three schools; the first school's
    counts of ``measure`` are ``first``, oldest first, the others' ``others``."""
    for urn, counts in (("100001", first), ("100002", others), ("100003", others)):
        for (year, term), n in zip((*EARLIER, (YEAR, TERM)), counts):
            trust.add(urn, year=year, term=term, pupils=pupils, changes={measure: n})
    return trust


RISING = [(r.name, r.measure) for r in g.RISING_RULES]


@pytest.mark.parametrize("name, measure", RISING)
def test_a_count_up_in_each_of_the_last_two_terms_is_a_question_naming_the_terms(trust, name, measure):
    found = g.RULES_BY_NAME[name](over_terms(trust, measure, (6, 9, 14)).context())
    (x,) = found
    assert (x.urn, x.severity, x.theme) == ("100001", "note", "adolescents")
    assert x.finding.endswith("rose in each of the last two terms: 6 in Summer 2024/25, 9 in Autumn 2025/26, "
                              "14 this term.")


@pytest.mark.parametrize("counts", [(6, 9, 9), (9, 6, 14), (14, 9, 6), (6, 6, 6), (6, None, 14), (None, 9, 14),
                                    (6, 9, None)])
@pytest.mark.parametrize("name, measure", RISING)
def test_a_count_not_up_in_each_term_or_blank_in_one_raises_nothing(trust, name, measure, counts):
    assert g.RULES_BY_NAME[name](over_terms(trust, measure, counts).context()) == []


def test_a_term_without_a_return_leaves_nothing_to_compare(trust):
    for urn in ("100001", "100002"):
        for (year, term), n in zip((*EARLIER, (YEAR, TERM)), (6, 9, 14)):
            if urn == "100002" or term != "Autumn":
                trust.add(urn, year=year, term=term, changes={"inclusion.part_time_timetable": n})
    assert [x.urn for x in g.rising_part_time(trust.context())] == ["100002"]


def test_a_trustee_reads_a_rise_of_small_counts_as_too_small_to_judge_whether_it_rose_or_not(trust):
    """Counts of 1 to 4 that rose, and counts of 1 to 4 that fell, read the same to a trustee."""
    risen = as_trustee(over_terms(trust, "inclusion.part_time_timetable", (1, 2, 3), (9, 9, 9)).context())
    fallen = as_trustee(over_terms(type(trust)(), "inclusion.part_time_timetable", (3, 2, 1), (9, 9, 9)).context())
    (up,), (down,) = ([x for x in g.rising_part_time(ctx) if x.urn == "100001"] for ctx in (risen, fallen))
    assert up.finding == down.finding and "too small to show" in up.finding and no_small_count(up.finding)


def test_a_trustee_reads_a_rise_the_shown_counts_settle_in_words(trust):
    # 0 and 0 are shown; this term's count is hidden (1 to 4), so it rose whatever it is
    ctx = as_trustee(over_terms(trust, "inclusion.suspended", (0, 0, 2), (0, 0, 0)).context())
    assert g.rising_suspensions(ctx) == []  # no rise from 0 to 0: nothing to tell
    ctx = as_trustee(over_terms(type(trust)(), "inclusion.suspended", (0, 3, 20), (9, 9, 9)).context())
    (x,) = g.rising_suspensions(ctx)
    assert "rose in each of the last two terms, from Summer 2024/25 to Autumn 2025/26 to this term" in x.finding
    assert "not shown" in x.finding and not re.search(r"\d+ in ", x.finding)


def test_a_trustee_reads_the_counts_of_a_rise_when_every_one_is_shown(trust):
    ctx = as_trustee(over_terms(trust, "inclusion.suspended", (6, 9, 14), (9, 9, 9)).context())
    (x,) = g.rising_suspensions(ctx)
    assert "6 in Summer 2024/25, 9 in Autumn 2025/26, 14 this term" in x.finding
