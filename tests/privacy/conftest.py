"""What the adversary reads, gathered once per test session for each trust: everything a trustee
receives, what it makes of it, and the real counts it must not be able to work out.

Gathering is the slow part (the sample trust's pages, six terms of them, take about a minute and
a half of one core; the small trust's half a minute); every test of the folder shares it, and so
does the check for stray values on the trustee's pages (tests/pages/test_no_stray_values.py), in
the same xdist group."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

from tests.privacy import attacks, harvest, knowledge, trusts

TRUSTS = {"sample trust": trusts.sample_trust, "small trust": trusts.small_trust}


@dataclass
class Reading:
    """One trust as the adversary sees it (as ``role``) and as it really is."""

    name: str
    path: Path
    role: str = "trustee"
    kw: dict = field(default_factory=dict)

    @cached_property
    def data(self):
        """The real, unsuppressed data: the answers, never shown to the adversary."""
        from analysis.dataset import load_dataset
        from store import db

        engine = db.make_engine(f"sqlite:///{self.path}")
        try:
            return load_dataset(engine)
        finally:
            db.dispose(engine)

    @cached_property
    def pages(self) -> harvest.Harvest:
        """What the pages send the reader: every page, term, measure and school, run in AppTest."""
        return harvest.harvest_pages(self.path, self.role, **self.kw)

    @cached_property
    def items(self) -> list[harvest.Item]:
        """The pages' items, then the packs' and the command line's."""
        return harvest.everything(self.path, self.role, pages=self.pages)

    @cached_property
    def k(self) -> knowledge.Knowledge:
        return knowledge.read_all(self.items, self.data.school_names)

    @cached_property
    def targets(self) -> list[attacks.Target]:
        return attacks.targets(self.data, self.k)

    @cached_property
    def programme(self) -> attacks.Programme:
        return attacks.Programme(self.k)

    def name_of(self, urn) -> str:
        return self.data.school_names.get(urn, "the trust") if urn else "the trust"


_READINGS: dict[str, Reading] = {}


def get_reading(name: str, tmp_path_factory: pytest.TempPathFactory) -> Reading:
    """The trust ``name`` read by a trustee: made once per worker, in a folder of the session's."""
    if name not in _READINGS:
        _READINGS[name] = Reading(name, TRUSTS[name](tmp_path_factory.mktemp(name.replace(" ", "_"))))
    return _READINGS[name]


@pytest.fixture(scope="session", params=list(TRUSTS))
def reading(request, tmp_path_factory) -> Reading:
    """Each trust read by a trustee, gathered once per session."""
    return get_reading(request.param, tmp_path_factory)


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Reading:
    """The small trust read by a trustee (the same reading as ``reading``'s)."""
    return get_reading("small trust", tmp_path_factory)
