"""The trust's dataset brought up to date after a write, reading only what changed.

A return, once stored, never changes: a correction is a new version, and only a school's deletion
removes returns. So when the store's generation moves, the returns stored since the last read are
the ids not seen before, and the school-terms they belong to are all that changed. ``refresh``
reads those school-terms' rows alone and makes the new dataset from the old one: the old rows of
every other school-term kept, the derived tables (the wide counts, the indicators, each term's
comparison, each school-term's view) carried over for what did not change and worked out for what
did. The result is the dataset a full read would make, row for row (tests/analysis/test_refresh.py).

Anything else (a school renamed, added, deleted or given a phase; more changed than a quick read
pays for) is read again whole. A write that stored no return (a threshold, the board's log) leaves
the dataset as it was: the same object is returned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from analysis.context import Dataset
from analysis.dataset import load_dataset, school_table
from analysis.rates import KEYS, indicator_values, wide_counts, with_changes
from loaders.registry import term_index
from store import overview

# Beyond this many changed school-terms a full read is as quick (an import of a term's returns).
MOST_CHANGED = 200


def refresh(engine: Engine, old: Dataset | None) -> Dataset:
    """The dataset as the store holds it now, made from ``old`` (a dataset of the same database
    read earlier by ``load`` or ``refresh``) by reading only the school-terms that changed."""
    if old is None or old.stored is None:  # a reader's part of the trust: never refreshed
        return load_dataset(engine)
    stamps = overview.stored_returns(engine)
    now = frozenset(stamps["id"].tolist())
    added = now - old.stored
    if old.stored - now:  # a return deleted: its school went
        return load_dataset(engine)
    named = school_table(engine)
    if not named.equals(old.schools):
        return load_dataset(engine)
    if not added:
        return old
    new = stamps[stamps["id"].isin(added)]
    changed = set(zip(new["urn"], new["academic_year"], new["term"]))
    if len(changed) > MOST_CHANGED:
        return load_dataset(engine)
    # the newest version of each changed school-term (a school-term's versions only grow)
    newest = stamps[~_unchanged(stamps, changed)]
    newest = newest.sort_values("id").drop_duplicates(KEYS, keep="last")
    ids = newest["id"].tolist()
    arrived = overview.submissions(engine, only=added)
    part = Dataset(schools=named, values=overview.value_columns(engine, only=ids), returns=arrived,
                   leads=overview.latest_leads(engine, only=ids), queries=overview.latest_queries(engine, only=ids))
    data = Dataset(schools=named, values=_values(old.values, part.values, changed),
                   returns=_submissions(old.returns, arrived),
                   leads=_rows(old.leads, part.leads, changed), queries=_rows(old.queries, part.queries, changed))
    data.stored = now
    data.first_changed = min(term_index(y, t) for _, y, t in changed)
    _carry(old, part, data, changed)
    return data


def _unchanged(frame: pd.DataFrame, changed: set[tuple]) -> np.ndarray:
    """A mask of ``frame``'s rows whose school-term is not among ``changed`` (the rows of the
    changed schools looked at one by one: a few among many)."""
    keep = np.ones(len(frame), dtype=bool)
    if frame.empty or not changed:
        return keep
    near = np.flatnonzero(frame["urn"].isin({urn for urn, _, _ in changed}).to_numpy())
    rows = frame.iloc[near]
    hit = np.fromiter((k in changed for k in zip(rows["urn"], rows["academic_year"], rows["term"])),
                      dtype=bool, count=len(near))
    keep[near[hit]] = False
    return keep


def _rows(old: pd.DataFrame, new: pd.DataFrame, changed: set[tuple]) -> pd.DataFrame:
    """Leads or queries: the old rows of unchanged school-terms and the new rows, in the order a
    full read gives them (school-term, then as stored)."""
    kept = old[_unchanged(old, changed)]
    both = pd.concat([kept, new], ignore_index=True) if len(new) else kept.reset_index(drop=True)
    return both.sort_values(KEYS, kind="stable").reset_index(drop=True)


def _submissions(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every version stored: the old ones (none changes once stored) and the new, in the order a
    full read gives them (school-term, then version)."""
    if not len(old):
        return new
    both = pd.concat([old, new], ignore_index=True)
    return both.sort_values([*KEYS, "version"], kind="stable").reset_index(drop=True)


def _values(old: pd.DataFrame, new: pd.DataFrame, changed: set[tuple]) -> pd.DataFrame:
    """The long values of unchanged school-terms and of the changed ones, in the columns and
    order store.overview.value_columns gives (keys categorical in Python's order of text): the
    new rows slotted in among the old, which are in that order already."""
    keep = _unchanged(old, changed)
    names = KEYS + ["measure_id"]
    written = _written_over(old, new, keep, names)
    if written is not None:
        return written
    dtypes, old_codes, new_codes = {}, [], []
    for name in names:
        before, added = _as_categorical(old[name]), _as_categorical(new[name])
        categories = before.categories
        if not added.categories.isin(categories).all():
            categories = pd.Index(sorted(set(categories) | set(added.categories)), dtype=object)
            before = before.set_categories(categories)
        dtypes[name] = pd.CategoricalDtype(categories)
        old_codes.append(before.codes[keep].astype(np.int64))
        new_codes.append(categories.get_indexer(added.categories)[added.codes].astype(np.int64))
    # one number per row that sorts as its keys do
    sizes = [len(dtypes[name].categories) + 1 for name in names]
    old_key, new_key = np.zeros(int(keep.sum()), dtype=np.int64), np.zeros(len(new), dtype=np.int64)
    for size, a, b in zip(sizes, old_codes, new_codes):
        old_key, new_key = old_key * size + a, new_key * size + b
    slots = np.searchsorted(old_key, new_key)
    frame = pd.DataFrame({name: pd.Categorical.from_codes(np.insert(a, slots, b), dtype=dtypes[name])
                          for name, a, b in zip(names, old_codes, new_codes)})
    for name in ("value", "text"):
        frame[name] = pd.Series(np.insert(old[name].to_numpy()[keep], slots, new[name].to_numpy()),
                                dtype=old[name].dtype)
    return frame


def _written_over(old: pd.DataFrame, new: pd.DataFrame, keep: np.ndarray, names: list[str]) -> pd.DataFrame | None:
    """``old`` with ``new``'s values written over the rows it replaces, when those rows have the
    same keys, in the same order, as ``new``'s (a corrected return asks what the first one asked):
    the key columns kept as they are, not made again. None when they differ."""
    at = np.flatnonzero(~keep)
    if len(at) != len(new) or not len(at):
        return None
    for name in names:
        before, added = _as_categorical(old[name]), _as_categorical(new[name])
        found = before.categories.get_indexer(added.categories)
        if (added.codes < 0).any() or (found < 0).any() or not np.array_equal(before.codes[at], found[added.codes]):
            return None
    columns = {}
    for name in ("value", "text"):
        column = old[name].to_numpy().copy()
        column[at] = new[name].to_numpy()
        columns[name] = pd.Series(column, index=old.index, dtype=old[name].dtype)
    return old.assign(**columns)


def _as_categorical(column: pd.Series) -> pd.Categorical:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return pd.Categorical(column.astype(object), categories=pd.Index(sorted(set(column)), dtype=object))


def _carry(old: Dataset, part: Dataset, data: Dataset, changed: set[tuple]) -> None:
    """Into ``data``'s caches: what ``old`` had worked out, for what did not change, with what
    ``part`` (the changed school-terms alone) works out for the rest."""
    cached = old.__dict__
    # A term's comparison reads each school's change since last term and since a year before.
    terms = {term_index(y, t) + later for _, y, t in changed for later in (0, 1, 3)}
    if "wide" in cached:
        data.__dict__["wide"] = _wide(old.wide, part.wide, data.values, changed)
        if "indicators" in cached:
            data.__dict__["indicators"] = _indicators(data.wide)
    for name in ("versions", "date_rows", "lead_rows", "change_queries"):
        if name in cached:
            mine = getattr(part, name)
            data.__dict__[name] = {k: v for k, v in cached[name].items() if k not in changed} | mine
    if "compared" in cached or "_compared_by_term" in cached:
        by_term = dict(cached.get("_compared_by_term", {}))
        if "compared" in cached:
            for index, rows in old.compared.groupby("term_index", sort=False):
                by_term.setdefault(index, rows.reset_index(drop=True))
        data.__dict__["_compared_by_term"] = {i: rows for i, rows in by_term.items() if i not in terms}
    views = cached.get("_school_terms")
    if views:
        data.__dict__["_school_terms"] = {(urn, index, due): view for (urn, index, due), view in views.items()
                                          if (urn, view.academic_year, view.term) not in changed}


def _wide(old: pd.DataFrame, new: pd.DataFrame, values: pd.DataFrame, changed: set[tuple]) -> pd.DataFrame:
    """The wide counts: old rows of unchanged school-terms and the changed ones' rows, in key order,
    with the columns a full read makes (the count measures present in key order, then the rest)."""
    frame = pd.concat([old[_unchanged(old, changed)], new], ignore_index=True)
    frame = frame.sort_values(KEYS, kind="stable").reset_index(drop=True)
    columns = list(wide_counts(values.iloc[0:0]).columns)  # the shape of a wide table with nothing in it
    measure = values["measure_id"].array
    present = set(measure.categories[np.bincount(measure.codes[measure.codes >= 0],
                                                 minlength=len(measure.categories)) > 0])
    counts = [c for c in columns if c not in KEYS and c != "term_index"]
    ordered = KEYS + sorted(c for c in counts if c in present) + [c for c in counts if c not in present] + ["term_index"]
    return frame.reindex(columns=pd.Index(ordered, dtype=object))


def _indicators(wide: pd.DataFrame) -> pd.DataFrame:
    """The indicators of every school-term, from the wide counts: quick enough to make whole."""
    return with_changes(indicator_values(wide))
