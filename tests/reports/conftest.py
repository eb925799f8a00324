"""The board pack of the sample trust, made once per session for a trust leader and a trustee."""

from __future__ import annotations

import pytest

from analysis.dataset import load_dataset


def url_of(engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def sample_url(sample_engine) -> str:
    return url_of(sample_engine)


@pytest.fixture(scope="session")
def sample_data(sample_engine):
    return load_dataset(sample_engine)


@pytest.fixture(scope="session")
def leader_pack(sample_url):
    from reports.pack import build_pack

    return build_pack(sample_url, role="leader")


@pytest.fixture(scope="session")
def trustee_pack(sample_url):
    from reports.pack import build_pack

    return build_pack(sample_url, role="trustee")
