"""Fixtures for the sample trust: its planned values, a fresh generation, and the committed
returns as the loader reads them (each checked against its previous term, as the store does)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loaders import check_return
from loaders.registry import previous_term
from sample_data import generate

from .support import COMMITTED


@pytest.fixture(scope="session")
def planned() -> list[generate.PlannedReturn]:
    return generate.plan_trust()


@pytest.fixture(scope="session")
def fresh(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    generate.generate(root)
    return root


@pytest.fixture(scope="session")
def fresh_again(tmp_path_factory) -> tuple[Path, float]:
    """A second generation, and how long it took."""
    root = tmp_path_factory.mktemp("sample_again")
    start = time.perf_counter()
    generate.generate(root)
    return root, time.perf_counter() - start


@pytest.fixture(scope="session")
def committed_reports(planned):
    """filename -> ReturnReport for every committed return, with the previous term's values."""
    reports = {}
    previous_by_key = {}
    for p in planned:
        path = COMMITTED / "returns" / p.filename
        if not path.exists():
            continue
        key = (p.school.urn, *previous_term(p.academic_year, p.term))
        report = check_return(path.read_bytes(), path.name, previous=previous_by_key.get(key))
        previous_by_key[(p.school.urn, p.academic_year, p.term)] = report.values
        reports[p.filename] = report
    return reports

