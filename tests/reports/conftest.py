"""The board pack of the sample trust, made once per session for a trust leader and a trustee:
short (the default), and the same pack with its appendix."""

from __future__ import annotations

from dataclasses import replace

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


@pytest.fixture(scope="session")
def leader_appendix(leader_pack):
    """The leader's pack with its appendix: the same gathering, the appendix asked for."""
    return replace(leader_pack, appendix=True)


@pytest.fixture(scope="session")
def trustee_appendix(trustee_pack):
    return replace(trustee_pack, appendix=True)


def counts_people(indicator: str) -> bool:
    """Whether a gap's or chart's indicator counts children or allegations about staff, which a
    trustee sees suppressed; events (meetings, reports) and staff totals are shown as they are."""
    from analysis.indicators import INDICATORS_BY_ID
    from analysis.privacy import about_children

    return indicator not in INDICATORS_BY_ID or about_children(indicator)


def event_labels() -> tuple[str, ...]:
    """The labels of the indicators that count events, as chart titles begin with them."""
    from analysis.indicators import INDICATORS

    return tuple(i.label for i in INDICATORS if not counts_people(i.id))


def event_findings(*packs) -> set[str]:
    """The findings on events, in each pack's wording: their counts are not suppressed."""
    return {g.finding for pack in packs for g in pack.gaps.itertuples() if not counts_people(g.indicator)}
