"""The numbers the Overview and the School profile put side by side tie up: the headline's gaps
against the heatmap's cells, what changed since the term before (gaps new and closed, the
largest movements, never one a reader's hidden figure is behind), a school's own trend and its
oversight checks, and a movement's words (better or worse only where a measure has a better
direction)."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from analysis import views
from analysis.context import Context
from analysis.gaps import find_gaps, gaps_frame
from analysis.indicators import HIGHER_BETTER, LOWER_BETTER, NO_JUDGEMENT
from loaders.problems import MORE_THAN_THREE_TIMES_LAST_TERM
from loaders.registry import DSL_ROLE, term_end, term_index

from .conftest import YEAR, clean_leads
from .test_gaps_version_2 import as_trustee

AUTUMN, SPRING = (YEAR, "Autumn"), (YEAR, "Spring")


def frame(*rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["urn", "theme", "severity"])


# ---- the headline's gaps and the heatmap's cells ------------------------------------------------

def test_a_tally_counts_gaps_and_the_cells_they_colour():
    gaps = frame(("A", "workforce", "red"), ("A", "workforce", "red"), ("A", "workforce", "amber"),
                 ("A", "neglect", "amber"), ("B", "workforce", "note"), ("B", "neglect", "note"),
                 ("C", "oversight", "amber"))
    tally = views.gap_tally(gaps)
    assert tally["red"] == views.Tally(gaps=2, schools=1, cells=1, under_worse=0)
    # three amber gaps in three school-themes: two shown amber, one under A's red workforce cell
    assert tally["amber"] == views.Tally(gaps=3, schools=2, cells=2, under_worse=1)
    assert tally["note"] == views.Tally(gaps=2, schools=1, cells=2, under_worse=0)
    assert views.gap_tally(gaps.iloc[:0]) == {level: views.Tally(0, 0, 0, 0) for level in ("red", "amber", "note")}


@pytest.mark.parametrize("role", ["trust_leader", "trustee"])
def test_the_tally_ties_up_with_the_heatmap_on_the_sample_trust(sample_engine, role):
    """Every term: the heatmap's red and amber cells are the tally's cells shown at that level."""
    from analysis.context import restrict
    from analysis.dataset import load_dataset
    from charts.heatmap import theme_heatmap
    from store.access import scope_for
    from store.users import User

    data = restrict(load_dataset(sample_engine), scope_for(User("r@trust.example", None, role, ())))
    for term in data.terms:
        ctx = Context(data, *term)
        gaps = gaps_frame(find_gaps(ctx))
        expected = ctx.expected()
        schools = pd.DataFrame({"urn": [s.urn for s in expected], "name": [s.name for s in expected]})
        cells = theme_heatmap(gaps, schools, {s.urn for s in expected if s.returned}).table.iloc[:, 2:]
        tally = views.gap_tally(gaps)
        for level, symbol in (("red", "✖"), ("amber", "▲"), ("note", "?")):
            assert (cells.map(lambda c, symbol=symbol: c.startswith(symbol))).to_numpy().sum() == tally[level].cells, (term, level)
            assert tally[level].gaps == (gaps["severity"] == level).sum()


# ---- which way a figure moved ------------------------------------------------------------------

@pytest.mark.parametrize("change, polarity, word", [
    (0.1, HIGHER_BETTER, "better"), (-0.1, HIGHER_BETTER, "worse"),
    (0.1, LOWER_BETTER, "worse"), (-0.1, LOWER_BETTER, "better"),
    (0.1, NO_JUDGEMENT, "higher"), (-0.1, NO_JUDGEMENT, "lower"),
    (0.0, HIGHER_BETTER, "about the same"), (0.0, NO_JUDGEMENT, "about the same"),
])
def test_a_movement_is_judged_only_where_the_measure_has_a_better_direction(change, polarity, word):
    assert views.direction(change, polarity) == word


# ---- what changed since the term before ---------------------------------------------------------

def two_terms(trust, autumn: dict | None = None, spring: dict | None = None, **kw):
    """Three schools in Autumn and Spring: ``autumn`` and ``spring`` map a URN to what its return
    that term changes (a school left out of ``spring`` has not returned for Spring)."""
    for urn in ("100001", "100002", "100003"):
        trust.add(urn, year=YEAR, term="Autumn", **(autumn or {}).get(urn, {}))
        if spring is None or urn in spring:
            trust.add(urn, **(spring or {}).get(urn, {}))
    return trust


def changes_of(ctx: Context, limit: int = 10) -> views.TermChanges:
    before = Context(ctx.data, *AUTUMN, ctx.t, ctx.today)
    return views.term_changes(ctx, gaps_frame(find_gaps(ctx)), gaps_frame(find_gaps(before)),
                              list(ctx.data.school_names), limit)


def kinds(gaps: pd.DataFrame) -> set[tuple[str, str]]:
    return set(zip(gaps["urn"], gaps["rule"]))


def test_gaps_new_this_term_and_closed_since_the_term_before(trust):
    no_dsl = [lead for lead in clean_leads() if lead["role"] != DSL_ROLE]
    ctx = two_terms(trust, autumn={"100001": {"changes": {"training.prevent.in_date": 30}}},
                    spring={"100001": {}, "100002": {"leads": no_dsl}, "100003": {}}).context()
    made = changes_of(ctx)
    assert made.before == AUTUMN
    assert kinds(made.new) == {("100002", "no_dsl_named")}
    assert kinds(made.closed) == {("100001", "training_below_threshold")}
    assert set(made.closed["term"]) == {"Autumn"}  # a closed gap is the earlier term's, as it was found then
    assert made.waiting == []


def test_a_school_not_yet_returned_has_closed_nothing(trust):
    ctx = two_terms(trust, autumn={"100003": {"changes": {"training.prevent.in_date": 30}}},
                    spring={"100001": {}, "100002": {}}).context()
    made = changes_of(ctx)
    assert made.closed.empty and made.waiting == ["100003"]
    assert kinds(made.new) == {("100003", "missing_return")}  # its deadline has passed: a gap of this term


def test_a_gap_of_the_same_kind_both_terms_is_neither_new_nor_closed(trust):
    short = {"changes": {"training.prevent.in_date": 30}}
    ctx = two_terms(trust, autumn={"100001": short}, spring={"100001": short, "100002": {}, "100003": {}}).context()
    made = changes_of(ctx)
    assert made.new.empty and made.closed.empty


def test_nothing_to_compare_when_no_school_returned_the_term_before(trust):
    for urn in ("100001", "100002"):
        trust.add(urn)
    ctx = trust.context()
    assert views.term_changes(ctx, gaps_frame(find_gaps(ctx)), gaps_frame([]), ["100001", "100002"]) is None


def test_the_largest_movements_come_first_measured_against_the_schools_size(trust):
    # 100001's flags double on 800 pupils; 100002's part-time timetables go from 2 to 3
    ctx = two_terms(trust, spring={"100001": {"changes": {"neglect.active_flags": 40,
                                                          "neglect.chronology_reviewed": 40}},
                                   "100002": {"changes": {"inclusion.part_time_timetable": 3}},
                                   "100003": {}}).context()
    moved = views.movements(ctx.data.compared, ctx.index, ["100001", "100002", "100003"], limit=50)
    first = moved.iloc[0]
    assert (first["urn"], first["indicator"]) == ("100001", "neglect_flags")
    assert first["before"] == pytest.approx(2.5) and first["now"] == pytest.approx(5.0)
    assert first["change"] == pytest.approx(2.5) and first["theme"] == "neglect"
    small = moved[(moved["urn"] == "100002") & (moved["indicator"] == "part_time")].iloc[0]
    assert abs(small["z"]) < abs(first["z"]) and moved.index[moved["z"].abs().eq(abs(small["z"]))][0] > 0
    assert not ((moved["urn"] == "100003") & (moved["change"] == 0)).any()  # nothing moved: not a movement
    assert len(views.movements(ctx.data.compared, ctx.index, ["100001", "100002", "100003"], limit=2)) == 2


def test_a_trustee_sees_no_movement_with_a_hidden_figure_at_either_end(trust):
    # 100002's permanent exclusions go from 2 (hidden from a trustee) to 9: a leader sees the rise
    ctx = two_terms(trust, autumn={"100002": {"changes": {"inclusion.permanently_excluded": 2}}},
                    spring={"100001": {}, "100002": {"changes": {"inclusion.permanently_excluded": 9}},
                            "100003": {}}).context()
    urns = ["100001", "100002", "100003"]
    leader = views.movements(ctx.data.compared, ctx.index, urns, limit=500)
    assert ((leader["urn"] == "100002") & (leader["indicator"] == "permanent_exclusions")).any()
    seen = as_trustee(ctx)
    trustee = views.movements(seen.data.compared, seen.index, urns, limit=500)
    assert not ((trustee["urn"] == "100002") & (trustee["indicator"] == "permanent_exclusions")).any()
    shown = views.shown_figures(seen.data.compared).set_index(["urn", "indicator", "term_index"])
    for r in trustee.itertuples():  # every movement a trustee reads is between two figures they are shown
        assert (r.urn, r.indicator, seen.index) in shown.index and (r.urn, r.indicator, seen.index - 1) in shown.index


def test_on_the_sample_trust_a_trustees_movements_are_between_figures_a_trustee_is_shown(sample_engine):
    from analysis.context import restrict
    from analysis.dataset import load_dataset
    from store.access import scope_for
    from store.users import User

    data = restrict(load_dataset(sample_engine), scope_for(User("t@trust.example", None, "trustee", ())))
    hidden = data.compared[data.compared["hidden"]].set_index(["urn", "indicator", "term_index"]).index
    assert len(hidden) > 0
    for term in data.terms[1:]:
        index = term_index(*term)
        moved = views.movements(data.compared, index, list(data.school_names), limit=1000)
        assert len(moved) > 0
        for r in moved.itertuples():
            assert (r.urn, r.indicator, index) not in hidden and (r.urn, r.indicator, index - 1) not in hidden


# ---- one school ------------------------------------------------------------------------------

def test_a_schools_trend_is_its_first_and_last_figure_shown():
    """Terms whose figure the reader is not shown (hidden, not asked, blank) are passed over."""
    values = pd.DataFrame({
        "term_index": [6073, 6074, 6075, 6076, 6077],
        "numerator": [None, 10.0, 4.0, 20.0, None],
        "denominator": [800.0, 800.0, 800.0, 800.0, 800.0],
        "value": [None, 1.25, 0.5, 2.5, None],
        "hidden": [True, False, False, False, False],
        "asked": [True, True, False, True, True],
    })
    pooled = pd.DataFrame({"term_index": [6074, 6076], "value": [1.0, 2.0]})
    trend = views.school_trend(values, pooled)
    assert trend == views.Trend(first=6074, first_value=1.25, last=6076, last_value=2.5, trust=2.0)
    assert views.school_trend(values, pooled.iloc[:1]).trust is None  # the trust's figure not shown then
    assert views.school_trend(values.iloc[:3], pooled) is None  # one figure shown: no trend


def test_a_schools_oversight_checks(trust):
    late = datetime.combine(term_end(*SPRING), datetime.min.time()) + pd.Timedelta(days=19)
    q = {"code": MORE_THAN_THREE_TIMES_LAST_TERM.code, "sheet": "Inclusion", "cell": "B7",
         "message": "Suspended is 12.", "explanation": None}
    trust.add("100001", year=YEAR, term="Autumn")
    trust.add("100001", submitted=late, queries=[q], changes={"about.pupils_fsm": None, "about.cin": None})
    seen = views.oversight(trust.context(), "100001")
    assert seen.days_late == 5  # due 14 days after the end of term
    assert seen.blank == 2 and seen.asked > 2 and seen.unexplained == 1
    assert seen.blank_before == 0 and seen.blank_year_ago is None  # no return a year before
    assert views.oversight(trust.context(), "999999") == views.Oversight(None, None, None, None, None, None)
