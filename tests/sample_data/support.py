"""Helpers shared by the sample data tests."""

from __future__ import annotations

import pytest

from sample_data import generate

COMMITTED = generate.SAMPLE_DIR


def checker():
    """``check_return``; the tests that need it wait for the loader rather than fail on import."""
    return pytest.importorskip("loaders.checker").check_return
