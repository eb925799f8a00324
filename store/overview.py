"""What the dashboard reads: the newest version of every school-term, as long-form values and
as one row per return.

A school-term's newest version is the one that counts; older versions stay in the database for
the record but never reach a chart.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store import values as coding
from store.schema import leads, return_queries, return_values, returns, schools

VALUE_COLUMNS = ["urn", "academic_year", "term", "measure_id", "value"]
OVERVIEW_COLUMNS = [
    "urn", "name", "academic_year", "term", "version", "submitted_at", "date_completed",
    "n_blank", "n_queries", "n_explained", "return_id",
]


def newest_only(table: sa.Table = returns):
    """A condition true for a return row when no later version exists for its school-term."""
    newer = returns.alias("newer")
    return ~sa.exists().where(
        newer.c.urn == table.c.urn,
        newer.c.academic_year == table.c.academic_year,
        newer.c.term == table.c.term,
        newer.c.version > table.c.version,
    )


def latest_values(engine: Engine, *, academic_year: str | None = None, term: str | None = None,
                  urns: Iterable[str] | None = None) -> pd.DataFrame:
    """Long form (urn, academic_year, term, measure_id, value) from each school-term's newest version.

    Every measure id of the contract appears for every return; a blank cell is None (never 0).
    Values are typed: counts int, dates date, text str.
    """
    query = _filtered(_values_query(), academic_year, term, urns)
    if query is None:
        return pd.DataFrame(columns=VALUE_COLUMNS)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    typed = [(u, y, t, m, coding.from_columns(m, num, text)) for u, y, t, m, num, text in rows]
    return pd.DataFrame(typed, columns=VALUE_COLUMNS, dtype=object)


def value_columns(engine: Engine, *, chunk: int = 100_000, only: Collection[int] | None = None) -> pd.DataFrame:
    """The rows of ``latest_values`` for every school-term, read through the driver's cursor into
    typed columns (store.values.columns_from_rows): the keys categorical, ``value`` a float (a
    count or an integer; NaN when blank) and ``text`` anything else, typed as ``latest_values``
    types it (None when blank or a number). Ordered by key, as Python orders text.

    A fraction of the memory and time of a row of Python objects per value: what analysis reads.
    ``only``: the values of these returns alone (each the newest of its school-term).
    """
    v = return_values
    newest = sa.select(returns.c.id).where(newest_only())
    values_query = sa.select(v.c.return_id, v.c.measure_id, v.c.value_num, v.c.value_text)
    keys_query = sa.select(returns.c.id, returns.c.urn, returns.c.academic_year, returns.c.term)
    if only is None:
        values_query = values_query.where(v.c.return_id.in_(newest))
    else:
        ids = sorted(int(i) for i in only)
        values_query = values_query.where(v.c.return_id.in_(ids))
        keys_query = keys_query.where(returns.c.id.in_(ids))
    values_sql = _sql(engine, values_query, literal=only is not None)
    # A return's school and term never change, so every version's keys can be read afterwards.
    keys_sql = _sql(engine, keys_query, literal=only is not None)
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(values_sql)
            parts = []
            while rows := cursor.fetchmany(chunk):
                parts.append(coding.chunk_columns(rows))
            cursor.execute(keys_sql)
            keys = cursor.fetchall()
        finally:
            cursor.close()
    return coding.columns_from_chunks(parts, keys, VALUE_COLUMNS[:3])


def _sql(engine: Engine, query, *, literal: bool = False) -> str:
    """The SQL text of ``query`` for the driver's own cursor; ``literal`` puts its parameters (here
    only integers: return ids) in the text."""
    return str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": literal}))


def _values_query():
    return (
        sa.select(returns.c.urn, returns.c.academic_year, returns.c.term, return_values.c.measure_id,
                  return_values.c.value_num, return_values.c.value_text)
        .join(return_values, return_values.c.return_id == returns.c.id)
        .where(newest_only())
        .order_by(returns.c.urn, returns.c.academic_year, returns.c.term, return_values.c.measure_id)
    )


def returns_overview(engine: Engine) -> pd.DataFrame:
    """One row per school-term (its newest version): who, when, how many blanks and queries."""
    q = return_queries
    v = return_values
    n_blank = (
        sa.select(sa.func.count()).where(v.c.return_id == returns.c.id, v.c.value_num.is_(None),
                                         v.c.value_text.is_(None))
        .scalar_subquery()
    )
    n_queries = sa.select(sa.func.count()).where(q.c.return_id == returns.c.id).scalar_subquery()
    n_explained = (
        sa.select(sa.func.count()).where(q.c.return_id == returns.c.id, q.c.explanation.is_not(None))
        .scalar_subquery()
    )
    query = (
        sa.select(
            returns.c.urn, schools.c.name, returns.c.academic_year, returns.c.term, returns.c.version,
            returns.c.submitted_at, returns.c.date_completed, n_blank.label("n_blank"),
            n_queries.label("n_queries"), n_explained.label("n_explained"), returns.c.id.label("return_id"),
        )
        .join(schools, schools.c.urn == returns.c.urn)
        .where(newest_only())
        .order_by(returns.c.academic_year, returns.c.term, schools.c.name)
    )
    with engine.connect() as conn:
        return _frame(conn, query, OVERVIEW_COLUMNS)


def _frame(conn, query, columns: list[str]) -> pd.DataFrame:
    """The rows of ``query`` as a frame, made from plain tuples (pandas makes a frame from a list
    of tuples in one pass; from SQLAlchemy's rows it asks each row what it is)."""
    return pd.DataFrame([tuple(row) for row in conn.execute(query)], columns=columns)


def _filtered(query, academic_year, term, urns):
    if academic_year is not None:
        query = query.where(returns.c.academic_year == academic_year)
    if term is not None:
        query = query.where(returns.c.term == term)
    if urns is not None:
        urns = [str(u) for u in urns]
        if not urns:
            return None
        query = query.where(returns.c.urn.in_(urns))
    return query


LEAD_COLUMNS = ["urn", "academic_year", "term", "role", "name", "last_full_training", "last_refresher"]
QUERY_COLUMNS = ["urn", "academic_year", "term", "code", "sheet", "cell", "message", "explanation"]
SUBMISSION_COLUMNS = ["urn", "academic_year", "term", "version", "submitted_at"]


def latest_leads(engine: Engine, only: Collection[int] | None = None) -> pd.DataFrame:
    """The safeguarding leads named in each school-term's newest version (``only``: of these returns)."""
    return _of_newest(engine, leads, LEAD_COLUMNS, only)


def latest_queries(engine: Engine, only: Collection[int] | None = None) -> pd.DataFrame:
    """The queries raised on each school-term's newest version, with the DSL's explanation
    (``only``: of these returns)."""
    return _of_newest(engine, return_queries, QUERY_COLUMNS, only)


def _of_newest(engine: Engine, table: sa.Table, columns: list[str], only: Collection[int] | None = None) -> pd.DataFrame:
    """The rows of ``table`` (leads, queries) that belong to each school-term's newest version, in
    the order they were stored: the school-term, then ``table``'s own ``columns``."""
    own = [table.c[name] for name in columns[3:]]
    query = (
        sa.select(returns.c.urn, returns.c.academic_year, returns.c.term, *own)
        .join(table, table.c.return_id == returns.c.id)
        .where(newest_only() if only is None else returns.c.id.in_(sorted(int(i) for i in only)))
        .order_by(returns.c.urn, returns.c.academic_year, returns.c.term, table.c.id)
    )
    with engine.connect() as conn:
        return _frame(conn, query, columns)


def stored_returns(engine: Engine) -> pd.DataFrame:
    """Every version ever stored, as (id, urn, academic_year, term): a return, once stored, never
    changes, so two reads with the same ids hold the same returns."""
    query = sa.select(returns.c.id, returns.c.urn, returns.c.academic_year, returns.c.term)
    with engine.connect() as conn:  # whole numbers and text: the driver's own rows are the same
        cursor = conn.connection.cursor()
        try:
            cursor.execute(_sql(engine, query))
            rows = cursor.fetchall()
        finally:
            cursor.close()
    return pd.DataFrame(rows, columns=["id", "urn", "academic_year", "term"])


def submissions(engine: Engine, only: Collection[int] | None = None) -> pd.DataFrame:
    """Every version ever stored (``only``: these returns), without its bytes: when each
    school-term first arrived, and how often it was resubmitted."""
    query = sa.select(*(returns.c[c] for c in SUBMISSION_COLUMNS)).order_by(
        returns.c.urn, returns.c.academic_year, returns.c.term, returns.c.version)
    if only is not None:
        query = query.where(returns.c.id.in_(sorted(int(i) for i in only)))
    with engine.connect() as conn:
        return _frame(conn, query, SUBMISSION_COLUMNS)


def data_version(engine: Engine) -> tuple[int, int]:
    """(How many returns are stored, the newest's id): a quick check of whether anything was stored.
    Not what the pages' views are kept by: that is the store's generation (store.db.generation),
    which a renamed school moves too."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(sa.func.count(), sa.func.max(returns.c.id))).one()
    return int(row[0]), int(row[1] or 0)


SAMPLE_USER = "sample data"  # who the sample trust's returns are stored as
# Who a trial upload in the demonstration is stored as (an address that can belong to nobody): a
# return of it for one of the sample trust's schools is demonstration data, like the sample's own.
DEMO_USER = "demo@example.invalid"


def _sample_urns():
    return sa.select(returns.c.urn).where(returns.c.submitted_by == SAMPLE_USER)


def sample_schools(engine: Engine) -> frozenset[str]:
    """The URNs of the sample trust's schools: those it has returns for."""
    with engine.connect() as conn:
        return frozenset(conn.execute(_sample_urns().distinct()).scalars())


def only_sample(engine: Engine) -> bool:
    """True while every stored return is the sample trust's, or a trial upload made in the
    demonstration for one of its schools (or none is stored)."""
    demo = sa.and_(returns.c.submitted_by == DEMO_USER, returns.c.urn.in_(_sample_urns()))
    with engine.connect() as conn:
        real = conn.execute(sa.select(returns.c.id).where(returns.c.submitted_by != SAMPLE_USER, ~demo)
                            .limit(1)).first()
    return real is None
