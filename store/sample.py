"""The sample trust: fill an empty database with the synthetic returns in sample_data/returns.

Used on first start so the dashboard has something to show. Each return counts as submitted at
09:00 on its own date completed, so the sample's late return looks late.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import settings
from store.db import writing
from store.upgrades import upgrade
from store.importer import import_paths
from store.schema import returns, schools

SAMPLE_DIR = settings.ROOT / "sample_data"
from store.overview import SAMPLE_USER


def sample_files(folder: Path | None = None) -> list[Path]:
    return sorted((folder or SAMPLE_DIR / "returns").glob("*.xlsx"))


def ensure_sample(engine: Engine, folder: Path | None = None) -> int:
    """Import every sample return when the database holds no returns; how many were imported.

    Does nothing (returns 0) once any return is stored, so it is safe on every start.
    """
    upgrade(engine)
    with engine.connect() as conn:
        if conn.execute(sa.select(returns.c.id).limit(1)).first() is not None:
            return 0
    files = sample_files(folder)
    if not files:
        return 0
    outcomes = import_paths([str(f) for f in files], user=SAMPLE_USER, engine=engine,
                            submitted_at_from_return=True, source="sample")
    _fill_phases(engine, (folder or SAMPLE_DIR / "returns").parent / "schools.csv")
    return sum(1 for o in outcomes if o.saved is not None)


def _fill_phases(engine: Engine, schools_csv: Path) -> None:
    """Returns carry no phase; the sample's school list does, so copy it where none is set."""
    try:
        with schools_csv.open(newline="", encoding="utf-8") as fh:
            phases = {row["urn"].strip(): (row.get("phase") or "").strip() for row in csv.DictReader(fh)}
    except (OSError, KeyError, csv.Error):
        return
    with writing(engine) as conn:
        for urn, phase in phases.items():
            if phase:
                conn.execute(schools.update().where(schools.c.urn == urn, schools.c.phase.is_(None))
                             .values(phase=phase))
