"""Helpers shared by the sample data tests."""

from __future__ import annotations

from sample_data import generate

COMMITTED = generate.SAMPLE_DIR
