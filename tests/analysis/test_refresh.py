"""A dataset brought up to date by reading only what was stored since (analysis.refresh) is the
dataset a full read makes, row for row, with every derived table and gap list the same; and
anything a quick read cannot follow (a school renamed or deleted) is read again whole. On SQLite
and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from pandas.testing import assert_frame_equal

from analysis import deadlines
from analysis.context import Context
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps, gaps_frame
from analysis.refresh import refresh
from loaders.registry import term_index
from sample_data import large
from store.deletion import delete_school
from store.returns import rename_school, save_return

SCHOOLS, TERMS = 12, 6


@pytest.fixture
def trust(engine):
    """A made-up trust stored but for its last term's returns of four schools, which are handed
    back; and one school's return of the term before last, corrected, to store as a new version."""
    plan = large.large_trust(SCHOOLS, TERMS, seed=7)
    last, before_last = plan.terms[-1], plan.terms[-2]
    held_back, corrected = [], None
    for planned, report, content in large.iter_reports(plan):
        here = (planned.academic_year, planned.term)
        if here == last and len(held_back) < 4:
            held_back.append((report, content))
            continue
        if here == before_last and corrected is None:
            values = dict(report.values)
            values["inclusion.persistently_absent"] = (values.get("inclusion.persistently_absent") or 0) + 3
            corrected = _changed(dataclasses.replace(report, values=values), content + b" corrected")
        save_return(engine, report, content, user="setup@trust.example", source="test")
    return engine, held_back, corrected, plan


def _changed(report, content: bytes):
    """A report and bytes as a DSL's corrected return would be: its own file, checked again."""
    return dataclasses.replace(report, sha256=hashlib.sha256(content).hexdigest()), content


def _work(data, year: str, term: str):
    """What the pages make of a dataset: the derived tables and a term's gap list."""
    assert len(data.indicators)
    ctx = Context(data, year, term, {}, deadlines.current_date())
    return gaps_frame(find_gaps(ctx))


def _same(refreshed, full, terms) -> None:
    for name in ("schools", "values", "returns", "leads", "queries"):
        assert_frame_equal(getattr(refreshed, name), getattr(full, name), check_categorical=False, obj=name)
        assert list(getattr(refreshed, name).dtypes) == list(getattr(full, name).dtypes), name
    assert_frame_equal(refreshed.wide, full.wide, obj="wide")
    assert_frame_equal(refreshed.indicators, full.indicators, obj="indicators")
    for index in sorted(set(full.indicators["term_index"])):
        assert_frame_equal(refreshed.compared_at(index), full.compared_at(index), obj=f"compared {index}")
    for name in ("count_rows", "versions", "date_rows", "lead_rows", "change_queries", "submitted", "first_return"):
        assert repr(sorted(getattr(refreshed, name).items())) == repr(sorted(getattr(full, name).items())), name
    assert refreshed.terms == full.terms and refreshed.complete_terms == full.complete_terms
    for year, term in terms:
        assert_frame_equal(_work(refreshed, year, term), _work(full, year, term), obj=f"gaps {term} {year}")


def test_a_refreshed_dataset_is_the_one_a_full_read_makes(trust):
    engine, held_back, corrected, plan = trust
    last, before_last = plan.terms[-1], plan.terms[-2]
    old = load_dataset(engine)
    for term in (before_last, plan.terms[-3]):
        _work(old, *term)  # the views an earlier generation had made
    for report, content in [*held_back, corrected]:
        save_return(engine, report, content, user="dsl@school.example", source="test")

    refreshed = refresh(engine, old)
    assert refreshed is not old and refreshed.stored > old.stored
    assert refreshed.first_changed == term_index(*before_last)
    assert "wide" in refreshed.__dict__ and "_school_terms" in refreshed.__dict__  # carried, not made again
    _same(refreshed, load_dataset(engine), [last, before_last, plan.terms[-3]])
    # a dataset refreshed once refreshes again
    report, content = held_back[0]
    save_return(engine, *_changed(report, content + b" again"), user="dsl@school.example", source="test")
    again = refresh(engine, refreshed)
    assert again.first_changed == term_index(*last)
    # a corrected return's values are written over its rows: the keys are not made again
    assert np.shares_memory(again.values["urn"].array.codes, refreshed.values["urn"].array.codes)
    _same(again, load_dataset(engine), [last])


def test_nothing_stored_since_keeps_the_same_dataset(trust):
    engine = trust[0]
    old = load_dataset(engine)
    assert refresh(engine, old) is old


def test_a_renamed_or_deleted_school_is_read_again_whole(trust):
    engine, held_back, _, plan = trust
    old = load_dataset(engine)
    urn = sorted(old.schools["urn"])[0]
    rename_school(engine, urn, "Renamed Academy", user="leader@trust.example")
    renamed = refresh(engine, old)
    assert renamed.first_changed is None and renamed.school_names[urn] == "Renamed Academy"
    _same(renamed, load_dataset(engine), [plan.terms[-1]])
    delete_school(engine, urn, user="leader@trust.example")
    gone = refresh(engine, renamed)
    assert gone.first_changed is None and urn not in set(gone.values["urn"])
    _same(gone, load_dataset(engine), [plan.terms[-1]])


def test_a_readers_part_is_never_refreshed_from(trust):
    """A reader's part of the trust (restricted, its small numbers hidden) has no record of what it
    was read from: refreshing from it reads the whole trust."""
    from analysis.context import restrict
    from store.access import Scope

    engine = trust[0]
    part = restrict(load_dataset(engine), Scope("trustee", "t@x", None, suppress=True))
    assert part.stored is None
    fresh = refresh(engine, part)
    assert fresh is not part and fresh.first_changed is None and not fresh.suppress
