"""The loader's fixtures: a filled return, valid by default (tests.helpers.workbooks builds it)."""

from __future__ import annotations

import pytest

from tests.helpers.workbooks import Built, build_return


@pytest.fixture
def make_return():
    return build_return


@pytest.fixture(scope="session")
def valid_xlsx() -> Built:
    return build_return()
