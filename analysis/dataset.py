"""Read what analysis needs from the store, once, into a Dataset."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from analysis.context import Dataset
from store import overview
from store.returns import schools


def load_dataset(engine: Engine) -> Dataset:
    return Dataset(
        schools=schools(engine)[["urn", "name", "phase"]],
        values=overview.latest_values(engine),
        returns=overview.submissions(engine),
        leads=overview.latest_leads(engine),
        queries=overview.latest_queries(engine),
    )
