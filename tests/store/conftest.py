"""Checked returns for the store's tests (tests.helpers.returns makes them): every measure id of
the contract, with plausible numbers that obey every rule, and knobs to blank cells or add problems."""

from __future__ import annotations

import pytest

from tests.helpers.returns import make_report


@pytest.fixture
def report_factory():
    return make_report
