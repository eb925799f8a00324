"""The adversary checked: each attack finds a leak planted for it, in facts made by hand and in what
the real pages hand over; it finds nearly everything in a reader's view that hides nothing; and
what it reads as a small count in words agrees with what the dashboard masks."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analysis.privacy import hide_small, mask_small
from loaders.registry import term_index
from tests.privacy import attacks
from tests.privacy.knowledge import FEWER, INF, Knowledge, expr, indicator_parts, part, read_all

# The folder's readings are gathered once per worker: its files run together (tests/conftest.py).
pytestmark = pytest.mark.xdist_group("privacy-readings")

TI = term_index("2025/26", "Autumn")
FLAGS = "neglect_flags"  # children with a neglect flag per 100 pupils: numerator neglect.active_flags


def var(urn, measure="neglect.active_flags", ti=TI):
    return (urn, ti, measure)


def target(urn, value, measure="neglect.active_flags", ti=TI):
    return attacks.Target(expr((var(urn, measure, ti), 1.0)), float(value), measure, urn, ti)


def flags_table(counts: dict, rolls: dict, trust: float | None) -> Knowledge:
    """What a trustee reads of one rate: each school's count (a number or "fewer than 5") over its
    pupils, and the trust's figure."""
    k = Knowledge()
    for urn, count in counts.items():
        k.count(FLAGS, "numerator", urn, TI, count, f"the table's row for {urn}")
        k.count(FLAGS, "denominator", urn, TI, rolls[urn], f"the table's row for {urn}")
    if trust is not None:
        k.trust[(TI, FLAGS)].append((*_exact(trust), "the trust's line"))
    return k


def _exact(v):
    return (v - 1e-9 * abs(v), v + 1e-9 * abs(v))


# ---- each attack on a leak planted by hand --------------------------------------------------------

def test_direct_finds_a_hidden_count_shown_somewhere_else():
    """Flagged children, "not shown" in the rate's table, shown as the base of a share's table."""
    k = flags_table({"A": "not shown", "B": "12"}, {"A": "100", "B": "100"}, None)
    k.count("neglect_chronology", "denominator", "A", TI, "7", "the chronologies table's base for A")
    (leak,) = attacks.direct(k, [target("A", 7)])
    assert leak.found == 7 and "the chronologies table's base for A" in leak.how
    k = flags_table({"A": FEWER, "B": "12"}, {"A": "100", "B": "100"}, None)
    assert attacks.direct(k, [target("A", 3)]) == []


def test_totals_take_the_shown_counts_from_the_trusts_total():
    """23 in all, from the trust's 7.67 per 100 over 300 pupils; 10 + 9 shown: the third is 4."""
    k = flags_table({"A": "10", "B": "9", "C": FEWER}, {u: "100" for u in "ABC"}, 23 / 300 * 100)
    (leak,) = attacks.totals(k, [target("C", 4)])
    assert leak.found == 4
    assert "the trust's total 23" in leak.how and "shown 19 = hidden 4" in leak.how
    # two hidden: the total alone does not split them
    k = flags_table({"A": "10", "B": FEWER, "C": FEWER}, {u: "100" for u in "ABC"}, 17 / 300 * 100)
    assert attacks.totals(k, [target("B", 3), target("C", 4)]) == []


def test_rates_times_their_base_give_the_count():
    k = flags_table({"A": FEWER}, {"A": "120"}, None)
    k.value(FLAGS, "A", TI, *_exact(2.5), "the trend chart's point")
    (leak,) = attacks.rates(k, [target("A", 3)])
    assert leak.found == 3 and "× base 120" in leak.how
    # rounded to one place, 2.5 per 100 of 1,200 pupils could be 29.4 to 30.6: 30 alone
    k = flags_table({"A": "not shown"}, {"A": "1,200"}, None)
    k.value(FLAGS, "A", TI, 2.45, 2.55, "the table's 2.5 per 100")
    assert [x.found for x in attacks.rates(k, [attacks.Target(expr((var("A"), 1.0)), 30.0, "x", "A", TI)])] == [30]


def test_another_terms_figure_and_the_change_give_this_terms():
    from tests.privacy.knowledge import Change

    k = flags_table({"A": FEWER}, {"A": "120"}, None)
    k.value(FLAGS, "A", TI - 1, *_exact(2.5), "last term's point")
    k.changes.append(Change("A", TI, FLAGS, 1, 0.75, 0.85, "the change shown, +0.8 per 100"))
    (leak,) = attacks.other_terms(k, [target("A", 4)])
    assert leak.found == 4 and "+0.8 per 100" in leak.how


def test_more_than_three_times_last_terms_gives_last_terms_small_count():
    """6 this term, "fewer than 5" last term: more than three times as many leaves only 1."""
    from tests.privacy.knowledge import _growth

    k = Knowledge()
    k.bound(expr((var("A", "inclusion.suspended", TI - 1), 1.0)), 1, 4, "the table", "fewer")
    _growth(k, "A", TI, "inclusion.suspended", "6", None, "the check's query")
    (leak,) = attacks.other_terms(k, [target("A", 1, "inclusion.suspended", TI - 1)])
    assert leak.found == 1 and leak.target.ti == TI - 1
    k = Knowledge()  # 9: last term 1 or 2
    k.bound(expr((var("A", "inclusion.suspended", TI - 1), 1.0)), 1, 4, "the table", "fewer")
    _growth(k, "A", TI, "inclusion.suspended", "9", None, "the check's query")
    assert attacks.other_terms(k, [target("A", 2, "inclusion.suspended", TI - 1)]) == []


def test_the_query_only_fires_on_a_rise_of_5_or_more():
    """Last term 1, this term 5 or 6 ("not shown", and no more than 6 by some other fact): more than
    three times 1 allows both, a rise of at least 5 only 6; the linear programme knows it too."""
    from tests.privacy.knowledge import _growth

    k = Knowledge()
    now = expr((var("A", "inclusion.suspended", TI), 1.0))
    k.bound(now, 5, 6, "the table and another fact", "not shown")
    _growth(k, "A", TI, "inclusion.suspended", None, "1", "the check's query")
    hidden = attacks.Target(now, 6.0, "inclusion.suspended", "A", TI)
    assert [x.found for x in attacks.other_terms(k, [hidden])] == [6]
    assert [x.found for x in attacks.bounds(k, [hidden])] == [6]


def test_a_place_on_the_funnel_narrows_a_hidden_count():
    """200 pupils, the trust at 0.5 per 100: one child expected. "Above the trust (95%)" needs at
    least 4 (4 or more happens 1.9% of the time, 3 or more 8%), and "fewer than 5" at most 4."""
    from tests.privacy.knowledge import Position

    k = flags_table({"A": FEWER}, {"A": "200"}, 0.5)
    k.groups[(TI, FLAGS)]["A"] = "trust"
    k.spreads[(TI, FLAGS)] = 0.0
    k.positions.append(Position("A", TI, FLAGS, "above_95", "the table's 'above the trust (95%)'"))
    (leak,) = attacks.position(k, [target("A", 4)])
    assert leak.found == 4
    k.positions[0].position = "within"  # 1 to 3 would all be within
    assert attacks.position(k, [target("A", 2)]) == []


def test_a_phase_groups_lines_give_its_figure_and_its_total():
    """Three primaries compared with each other: the limits drawn around their pooled 23 flagged of
    300 pupils give the group's figure, and with 10 and 9 shown, the third's hidden 4. Placed
    against its group's figure, "above the expected range" narrows a hidden count too."""
    from analysis.indicators import INDICATORS_BY_ID
    from charts.funnel import _limit_lines
    from tests.privacy.knowledge import Position
    from tests.privacy.knowledge import _limit_lines as read_lines

    k = flags_table({"A": "10", "B": "9", "C": FEWER}, {u: "100" for u in "ABC"}, None)
    for u in "ABC":
        k.groups[(TI, FLAGS)][u] = "Primary"
    drawn = {meta: (list(xs), list(ys)) for meta, (xs, ys), _, _ in
             _limit_lines(23 / 300 * 100, 0.0, np.array([100.0, 100.0, 100.0]), "per 100 pupils")}
    read_lines(k, INDICATORS_BY_ID[FLAGS], TI, "Primary", drawn, "the Primary lines")
    assert not k.unparsed and k.targets[(TI, FLAGS, "Primary")][0][0] == pytest.approx(23 / 3, rel=1e-6)
    (leak,) = attacks.totals(k, [target("C", 4)])
    assert leak.found == 4 and "the Primary schools'" in leak.how
    # lines drawn around no figure at all: the reader says it cannot read them
    drawn["upper_95"] = (drawn["upper_95"][0], [y * 1.5 for y in drawn["upper_95"][1]])
    k2 = Knowledge()
    read_lines(k2, INDICATORS_BY_ID[FLAGS], TI, "Primary", drawn, "bent lines")
    assert k2.unparsed and not k2.targets
    # a school placed against its group, not the trust
    k = flags_table({"A": FEWER}, {"A": "200"}, 5.0)
    k.groups[(TI, FLAGS)]["A"] = "Primary"
    k.targets[(TI, FLAGS, "Primary")].append((0.5 - 1e-9, 0.5 + 1e-9, "the Primary lines"))
    k.spreads[(TI, FLAGS)] = 0.0
    k.positions.append(Position("A", TI, FLAGS, "above_95", "the table"))
    (leak,) = attacks.position(k, [target("A", 4)])
    assert leak.found == 4 and "the Primary schools' figure" in leak.how


def test_bounds_solve_what_no_single_fact_gives():
    """A 10 shown, two "fewer than 5", 12 in all: the two can only be 1 and 1."""
    k = flags_table({"A": "10", "B": FEWER, "C": FEWER}, {u: "100" for u in "ABC"}, 4.0)
    ts = [target("B", 1), target("C", 1)]
    assert attacks.totals(k, ts) == [] and attacks.direct(k, ts) == []
    assert sorted(x.found for x in attacks.bounds(k, ts)) == [1, 1]
    k = flags_table({"A": "10", "B": FEWER, "C": FEWER}, {u: "100" for u in "ABC"}, 5.0)  # 5 in all: not pinned
    assert attacks.bounds(k, [target("B", 2), target("C", 3)]) == []


def test_whole_numbers_close_what_the_linear_programme_leaves_open():
    """x from 1 to 3, twice y is x + 1, three times z is x: by fractions x is anything from 1 to 3,
    by whole numbers it must be odd and a multiple of 3, so 3."""
    k = Knowledge()
    x, y, z = var("A"), var("A", "neglect.new_flags"), var("A", "neglect.chronology_reviewed")
    k.bound(expr((x, 1.0)), 1, 3, "x", "fewer")
    k.bound(expr((y, 2.0), (x, -1.0)), 1, 1, "a relation")
    k.bound(expr((z, 3.0), (x, -1.0)), 0, 0, "another")
    p = attacks.Programme(k)
    assert p.range_of(expr((x, 1.0))) == pytest.approx((1, 3))
    (leak,) = attacks.bounds(k, [target("A", 3)], p)
    assert leak.found == 3


def test_the_fast_solver_and_linprog_agree():
    rng = np.random.default_rng(4)
    from scipy.sparse import csr_matrix

    for _ in range(20):
        a = csr_matrix(rng.integers(-3, 4, size=(6, 5)).astype(float))
        lo, hi = np.full(6, -INF), rng.integers(5, 30, size=6).astype(float)
        box = [(0.0, float(b)) for b in rng.integers(3, 10, size=5)]
        solver = attacks.Solver(a, lo, hi, box)
        assert solver._fast is not None, "scipy's own HiGHS bindings are there"
        for j in range(5):
            c = np.eye(5)[j]
            for sign in (1, -1):
                assert math.isclose(solver.extreme(c, sign), solver._slow(c, sign), abs_tol=1e-6)


# ---- what the pages hand over, with a leak planted in it -------------------------------------

def test_a_hidden_count_put_in_a_charts_hover_data_is_found(small):
    from charts.funnel import POSITION_WORDS

    """The trustee's real harvest, with one funnel chart's hover data given a hidden school's real
    count, as a careless chart would: the adversary reads it and names the chart."""
    hidden = next(t for t in small.targets if t.what == "neglect.active_flags" and t.urn)
    chart = next(i for i in small.items if i.kind == "chart" and i.term_index == hidden.ti
                 and i.title.startswith("Children with a neglect flag: each school against"))
    planted = copy.deepcopy(chart)
    planted.where += " (planted)"
    points = planted.data["data"][-1]
    points["x"] = list(points["x"]) + [float(small.data.wide.set_index(["urn", "term_index"])
                                             .loc[(hidden.urn, hidden.ti), "about.pupils_on_roll"])]
    points["y"] = list(points["y"]) + [0.0]
    points["customdata"] = list(points["customdata"]) + [[small.name_of(hidden.urn), hidden.value,
                                                          POSITION_WORDS["within"], "within", "", "trust"]]
    k = read_all([planted], small.data.school_names)
    assert [(x.target, x.found) for x in attacks.direct(k, small.targets) if x.target == hidden] == \
        [(hidden, hidden.value)]
    assert "(planted)" in attacks.direct(k, [hidden])[0].how
    # a new column in the hover data is something the adversary has not been taught: it says so
    points["customdata"] = [list(row) + [1] for row in points["customdata"]]
    assert read_all([planted], small.data.school_names).unparsed


def test_a_reader_who_sees_every_figure_gives_every_count_away(small):
    """Fed a trust leader's view of the small trust's last term, the adversary works out every
    count of children the trustee's tables hide: its parsing and its attacks do find counts."""
    from tests.privacy.conftest import Reading
    from tests.privacy.harvest import harvest_pages

    leader = Reading("small trust, as its leaders see it", small.path, role="trust_leader")
    last = small.data.terms[-1]
    leader.__dict__["items"] = harvest_pages(small.path, "trust_leader", terms=[last], trends=0,
                                             pages=("neglect", "adolescents", "multi_agency", "school")).items
    ti = term_index(*last)
    parts = {part(i, which, u, ti) for i, which in indicator_parts() for u in small.data.school_names}
    hidden = [t for t in small.targets if t.ti == ti and t.expr in parts]  # what the tables are made of
    assert len(hidden) > 20 and not leader.k.unparsed, leader.k.unparsed[:5]
    found = {x.target.expr for x in attacks.direct(leader.k, hidden)}
    missed = [f"{t.what} {t.urn}" for t in hidden if t.expr not in found]
    assert not missed, f"{len(found)} of {len(hidden)} found; not: {missed}"


# ---- free text --------------------------------------------------------------------------------

def _said(*texts) -> list[str]:
    k = Knowledge()
    k.texts = [(t, "here") for t in texts]
    return [text for _, text, _ in attacks.free_text(k)]


def test_sentences_with_a_small_count_of_children_are_found():
    assert _said("Why were 2 children not seen?", "Only three flagged pupils were visited.",
                 "5 of 7 allegations about staff (71%) were not referred to the LADO.", "one family moved") == [
        "Why were 2 children not seen?", "Only three flagged pupils were visited.",
        "5 of 7 allegations about staff (71%) were not referred to the LADO.", "one family moved"]


def test_sentences_about_events_staff_years_and_schools_are_not():
    assert _said("The school attended 2 of 4 strategy meetings it was invited to (50%).",
                 "The school attended 1 of 2 child protection conferences it was invited to (50%).",
                 "2 safeguarding courses are below the trust's line: prevent duty 98% (39 of 40).",
                 "Year 3 pupils", "in 3 of 12 schools", "no one was referred", "fewer than 5 children",
                 "For trustees: counts of children from 1 to 4 are shown as \"fewer than 5\".",
                 "9 of 12 allegations about staff were referred to the LADO.") == []


WORDS = {1: ["1", "one", "One"], 2: ["2", "two", "Two"], 3: ["3", "three", "Three"], 4: ["4", "four", "Four"]}
NOUNS = ["children", "pupils", "flagged children", "allegations", "referrals", "families"]
FILLER = ["Why", "were", "seen", "on", "14/01/2026", "in", "2025/26", "and", "moved", "the", "school", "Year 3"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(FILLER),
    st.tuples(st.integers(1, 4), st.integers(0, 2), st.sampled_from(NOUNS)).map(
        lambda p: f"{WORDS[p[0]][p[1]]} {p[2]}"),
), min_size=1, max_size=10))
def test_what_the_dashboard_masks_the_adversary_no_longer_reads_as_a_small_count(tokens):
    """Free text with small counts of children in it, however spelt: the adversary finds each one
    before mask_small, and none after."""
    text = " ".join(tokens)
    counted = any(t.split()[0] in sum(WORDS.values(), []) and len(t.split()) > 1 and t not in FILLER
                  for t in tokens)
    assert bool(_said(text)) == counted, text
    assert _said(mask_small(text, 5)) == [], mask_small(text, 5)


# ---- the trust's total against the suppression of one table, by an independent solver ----------

def _one_table(counts, bases, indicator):
    n = len(counts)
    frame = pd.DataFrame({
        "urn": [f"S{i}" for i in range(n)], "academic_year": "2025/26", "term": "Autumn", "term_index": TI,
        "indicator": indicator, "numerator": [float(c) for c in counts], "denominator": [float(b) for b in bases],
    })
    scale = 100.0 if indicator == FLAGS else 1.0
    frame["value"] = frame["numerator"] / frame["denominator"].where(frame["denominator"] > 0) * scale
    pooled = frame[frame["denominator"] > 0]
    trust = pooled["numerator"].sum() / pooled["denominator"].sum() * scale if len(pooled) else np.nan
    frame["trust"], frame["position"] = trust, ""
    return frame, scale


def _read_table(shown: pd.DataFrame, indicator: str, scale: float) -> Knowledge:
    """A trustee's reading of hide_small's output: counts or their notes, and the trust's figure."""
    k = Knowledge()
    for r in shown.itertuples():
        for which in ("numerator", "denominator"):
            note = getattr(r, f"{which}_note")
            k.count(indicator, which, r.urn, TI, note or getattr(r, which), f"{r.urn}'s {which}")
    trust = shown["trust"].iloc[0]
    if not pd.isna(trust):
        k.trust[(TI, indicator)].append((*_exact(trust), "the trust's figure"))
    return k


def _pinned(frame, indicator, scale, rules: bool = False) -> list[str]:
    """What the adversary works out of hide_small's output for ``frame``: "S1 measure = 3"."""
    from analysis.indicators import INDICATORS_BY_ID
    from tests.privacy.knowledge import contract

    shown = hide_small(frame, threshold=5)
    k = _read_table(shown, indicator, scale)
    if rules:
        contract(k, {(u, TI) for u in frame["urn"]})
    ts = []
    for r in frame.itertuples():
        for which in ("numerator", "denominator"):
            (measure,) = getattr(INDICATORS_BY_ID[indicator], which)
            if shown.loc[r.Index, f"{which}_note"]:
                ts.append(attacks.Target(expr(((r.urn, TI, measure), 1.0)), getattr(r, which), measure, r.urn, TI))
    return [f"{x.target.urn} {x.target.what} = {x.found:g}" for x in attacks.bounds(k, ts)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(150, 900)), min_size=3, max_size=7))
def test_one_rates_suppression_leaves_no_count_its_trust_total_pins(rows):
    """One rate's table for one term, as hide_small shows it, with the trust's figure: no hidden
    count is pinned, by the adversary's own solver (not the suppression's)."""
    frame, scale = _one_table([c for c, _ in rows], [b for _, b in rows], FLAGS)
    assert _pinned(frame, FLAGS, scale) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9)).map(lambda p: (min(p), max(p))),
                min_size=3, max_size=6))
@example(rows=[(0, 0), (1, 5), (5, 5)])  # 5 of 5 reviewed, hidden beside a 1 of 5: "not shown" <= 5 is 5
def test_one_shares_suppression_leaves_no_count_its_trust_figure_and_part_of_a_whole_pin(rows):
    """One share's table (flagged children whose chronology was reviewed, of those flagged), as
    hide_small shows it, with the trust's share and the contract's rule that a part is at most its
    whole: no hidden count is pinned."""
    frame, scale = _one_table([a for a, _ in rows], [b for _, b in rows], "neglect_chronology")
    found = _pinned(frame, "neglect_chronology", scale, rules=True)
    assert found == [], f"(reviewed, flagged) {list(zip(frame['numerator'], frame['denominator']))}: {found}"
