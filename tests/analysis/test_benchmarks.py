"""England's figures are set beside an indicator only where they measure the same thing, for the
period they say, and sources are cited by their exact titles."""

import csv

from analysis.benchmarks import CSV, benchmarks, england
from analysis.indicators import INDICATORS
from analysis.themes import THEMES


def test_every_indicator_benchmark_exists_and_is_in_its_unit():
    for ind in INDICATORS:
        if ind.benchmark:
            value, bench = england(ind.id)
            assert bench.id == ind.benchmark and value > 0
            assert ("percent" in bench.unit) == (ind.unit != "per 100 pupils"), ind.id


def test_pupils_suspended_are_not_compared_with_a_count_of_suspensions():
    assert england("suspensions") is None
    assert "not pupils" in benchmarks()["suspensions_rate"].label


def test_absence_figures_are_for_the_whole_year():
    for id_, value in (("persistent_absence", 20.0), ("severe_absence", 2.3)):
        bench = benchmarks()[id_]
        assert bench.value == value and "whole year" in bench.period


def test_children_missing_education_is_no_share_of_pupils():
    # they are not on a roll, so England's count cannot be a percentage of pupils
    assert not any("missing education" in b.label and "percent" in b.unit for b in benchmarks().values())


def test_scie_is_cited_by_its_exact_title():
    exact = "Analysis of Serious Case Reviews (SCRs) for the education sector"
    cited = {s.title for t in THEMES for s in t.sources if s.publisher == "Social Care Institute for Excellence"}
    assert cited == {exact}
    with CSV.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["publisher"] == "Social Care Institute for Excellence"]
    assert rows and {r["source"] for r in rows} == {exact}
