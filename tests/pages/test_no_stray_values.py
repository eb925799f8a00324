"""No page shows a number's stand-in for nothing: never "nan", "None" or "-0.0" (nor "-0 points"),
in any text, table cell or metric, for any term, read as a trust leader or as a trustee; and one of
anything is never plural ("1 gaps", "1 days").

Every page each reader can open is run in AppTest for every term with a return (every school on
the school profile, every measure on a theme page), as the privacy harvest runs them, and every
element it sends is read; a trustee's are the adversary's own reading of them (tests/privacy/
conftest.py), harvested once per worker in the privacy folder's xdist group. A blank figure reads
"no data" (or is left empty), never "nan"; a change too small to show reads "0.0", never "-0.0"."""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from tests.privacy import harvest
from tests.privacy.conftest import TRUSTS, Reading, get_reading

LEADER_PAGES = harvest.TRUSTEE_PAGES + ("settings", "audit", "schools", "upload")
# "nan" and "None" as words; a negative zero however it is rounded ("-0", "-0.0", "-0%")
STRAY = re.compile(r"(?<![\w.])(?:nan|NaN|None)(?![\w])|(?<![\w.])-0(?:\.0+)?(?![\d.])")
# one of something, in the plural
ONE_PLURAL = re.compile(r"(?<![\w.,])1 (?:gaps|schools|school-themes|cells|days|points|terms|years|months|children"
                        r"|pupils|referrals|questions|courses|changes|returns)\b")


def strays(item, plurals: bool = True) -> list[str]:
    """What in one harvested item reads as a stand-in for nothing, or one of something in the
    plural (unless ``plurals`` is False): the words, with their place."""
    found = []
    bad = (STRAY, ONE_PLURAL) if plurals else (STRAY,)
    if item.kind in ("text", "metric"):
        for m in (m for pattern in bad for m in pattern.finditer(str(item.data))):
            found.append(f"{item.where}: ...{str(item.data)[max(0, m.start() - 50):m.end() + 20]}...")
    elif item.kind == "table":
        frame: pd.DataFrame = item.data
        for column in frame.columns:
            if any(pattern.search(str(column)) for pattern in bad):
                found.append(f"{item.where}: the column {column!r}")
            for i, v in enumerate(frame[column]):
                # a missing value in a table is drawn as "None" by the data grid
                if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
                    found.append(f"{item.where}: row {i}, column {column!r} is empty ({v!r}), drawn as None")
                elif any(pattern.search(str(v)) for pattern in bad):
                    found.append(f"{item.where}: row {i}, column {column!r}: {v!r}")
    return found


def everything_wrong(items) -> list[str]:
    """Every stand-in for nothing in what a reader received; and every plural wrong, but in a
    chart's own summary (the caption drawn under it, the charts module's words)."""
    found = []
    for before, item in zip([None, *items], items):
        summary = item.kind == "text" and before is not None and before.kind == "chart"
        found += strays(item, plurals=not summary)
    return found


@pytest.fixture(scope="module")
def trust_files(tmp_path_factory):
    """The sample trust, and the small trust whose counts are mostly 1 to 4 (so hidden), for a
    trust leader to read."""
    return {name: make(tmp_path_factory.mktemp(name.replace(" ", "_"))) for name, make in TRUSTS.items()}


@pytest.mark.parametrize("role, pages", [
    ("trust_leader", LEADER_PAGES),
    # the adversary's reading (every page, term, measure and school; the packs made too), shared
    # with the privacy folder's tests, so on their worker
    pytest.param("trustee", harvest.TRUSTEE_PAGES, marks=pytest.mark.xdist_group("privacy-readings")),
])
@pytest.mark.parametrize("which", list(TRUSTS))
def test_no_page_shows_nan_none_or_a_negative_zero(request, tmp_path_factory, which, role, pages):
    if role == "trustee":
        reading = get_reading(which, tmp_path_factory)
    else:
        reading = Reading(which, request.getfixturevalue("trust_files")[which], role,
                          {"pages": pages, "trends": 0, "packs": "none"})
    read = reading.pages
    assert read.runs > len(pages)  # every page, for more than one term
    unread = harvest.pages_not_read_every_term(read.items, pages, reading.data.terms)
    assert not unread, f"pages not read for every term (the terms read): {unread}"
    found = everything_wrong(read.items)
    by_page: dict[str, list[str]] = {}
    for line in sorted(set(found)):
        by_page.setdefault(line.split(",")[0], []).append(line)
    assert not found, f"{len(found)} stand-ins for nothing:\n" + "\n".join(x for lines in by_page.values()
                                                                            for x in lines[:5])


@pytest.mark.parametrize("text", ["named / nan", "None", "-0.0 per 100", "-0 points", "NaN%", "-0%", "1 gaps new",
                                  "at 1 schools", "arrived 1 days after", "+1 points"])
def test_the_check_catches_each_stand_in(text):
    assert strays(harvest.Item("text", "here", text))


@pytest.mark.parametrize("text", ["no data", "0.0 per 100", "-0.4 per 100", "+10 points", "Nancy", "nano",
                                  "2025-01-05", "10.5", "-0.05 in 2025-0", "11 gaps", "1 gap", "▲ +1 point",
                                  "1 of 12 schools", "21 days"])
def test_the_check_passes_what_is_fine(text):
    assert not strays(harvest.Item("text", "here", text)), text


def test_a_charts_summary_is_read_for_stand_ins_but_its_plurals_are_its_own():
    chart = harvest.Item("chart", "here", {})
    assert not everything_wrong([chart, harvest.Item("text", "here", "Across 1 schools")])
    assert everything_wrong([chart, harvest.Item("text", "here", "The figure is nan")])
    assert everything_wrong([harvest.Item("text", "here", "Across 1 schools")])
