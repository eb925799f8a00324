"""The dataset read in typed columns (store.overview.value_columns) holds exactly what the row
by row read (store.overview.latest_values) gives, on SQLite and PostgreSQL; and comparisons
worked out for one term alone are those worked out for every term."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from analysis.context import Context, Dataset, as_columns
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps, gaps_frame
from analysis.views import term_changes
from loaders import registry
from store.overview import latest_values, value_columns
from store.sample import ensure_sample

KEYS = ["urn", "academic_year", "term", "measure_id"]
NUMERIC = {m.id for m in registry.MEASURES if m.type in (registry.COUNT, registry.INTEGER)}


@pytest.fixture
def sample_in(engine):
    """The sample trust stored in each database in turn."""
    ensure_sample(engine)
    return engine


def _typed(frame: pd.DataFrame) -> list[tuple]:
    """Each row as latest_values types it: counts int, dates date, text str, blank None."""
    rows = []
    for u, y, t, m, v, x in zip(*(frame[c] for c in KEYS), frame["value"], frame["text"]):
        value = x if math.isnan(v) else int(v) if m in NUMERIC or float(v).is_integer() else v
        rows.append((u, y, t, m, value))
    return rows


def _exactly(rows: list[tuple]) -> list[tuple]:
    """Rows with each value's type beside it, so 3 and 3.0 and "3" differ."""
    return [(*r[:4], type(r[4]).__name__, r[4]) for r in rows]


def test_the_columns_hold_what_the_rows_held(sample_in):
    old = latest_values(sample_in)
    new = value_columns(sample_in)
    assert len(old) > 1000
    assert all(isinstance(new[k].dtype, pd.CategoricalDtype) for k in KEYS)
    assert new["value"].dtype == float
    rows = [tuple(r) for r in old.itertuples(index=False)]
    if sample_in.dialect.name == "sqlite":  # same order too where the database orders text as Python does
        assert _exactly(_typed(new)) == _exactly(rows)
    assert _exactly(_typed(new)) == _exactly(sorted(rows, key=lambda r: r[:4]))


def test_a_dataset_is_the_same_whichever_way_it_was_read(sample_in):
    new = load_dataset(sample_in)
    old = Dataset(schools=new.schools, values=latest_values(sample_in), returns=new.returns, leads=new.leads,
                  queries=new.queries)
    pd.testing.assert_frame_equal(new.wide, old.wide)
    pd.testing.assert_frame_equal(new.compared, old.compared)
    assert new.versions == old.versions
    assert new.date_rows == old.date_rows and new.date_rows
    pd.testing.assert_frame_equal(pd.DataFrame(new.count_rows), pd.DataFrame(old.count_rows))  # NaN is NaN


def test_as_columns_splits_a_typed_table():
    typed = pd.DataFrame([("1", "2025/26", "Autumn", "referrals.neglect.concerns", 4),
                          ("1", "2025/26", "Autumn", "about.date_completed", None),
                          ("1", "2025/26", "Autumn", "about.completed_by", "DSL")], columns=KEYS + ["value"])
    split = as_columns(typed)
    assert split["value"].tolist()[0] == 4.0 and math.isnan(split["value"].tolist()[1])
    assert split["text"].tolist() == [None, None, "DSL"]
    assert as_columns(split) is split


def test_one_terms_comparisons_are_those_of_every_term(sample_engine):
    every = load_dataset(sample_engine)
    every.compared  # noqa: B018 - every term worked out first
    for index in sorted(set(every.compared["term_index"])) + [-1]:
        alone = load_dataset(sample_engine)
        pd.testing.assert_frame_equal(alone.compared_at(index), every.compared_at(index))
        assert "compared" not in alone.__dict__  # no term but the one asked was compared


def test_the_gap_list_and_its_changes_are_the_same_worked_out_a_term_at_a_time(sample_engine):
    every = load_dataset(sample_engine)
    every.compared  # noqa: B018
    lazy = load_dataset(sample_engine)
    year, term = every.terms[-1]
    before = registry.term_from_index(registry.term_index(year, term) - 1)
    found = {}
    for data in (every, lazy):
        now_ctx, before_ctx = Context(data, year, term), Context(data, *before)
        now, was = gaps_frame(find_gaps(now_ctx)), gaps_frame(find_gaps(before_ctx))
        changes = term_changes(now_ctx, now, was, data.schools["urn"])
        found[id(data)] = (now, was, changes)
    assert "compared" not in lazy.__dict__
    (now_a, was_a, ch_a), (now_b, was_b, ch_b) = found[id(every)], found[id(lazy)]
    assert len(now_a) > 0
    pd.testing.assert_frame_equal(now_a, now_b)
    pd.testing.assert_frame_equal(was_a, was_b)
    pd.testing.assert_frame_equal(ch_a.movements, ch_b.movements)
    assert len(ch_a.movements) > 0
