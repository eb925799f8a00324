"""``python -m analysis compare`` run as a data officer would, on a database holding the sample trust.

The contract: exit 0 with what the funnel plots draw for the term (a JSON list with --json, one
object per indicator and school; a table otherwise), 1 with one plain sentence when there is
nothing to compare from, 2 on bad usage; never a traceback. Each object's limits are the lines
the chart draws at that school's base, and its verdict the side of them its value lies.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis import funnel
from analysis.compare import ENGLAND_GROUPS, PHASES
from analysis.indicators import INDICATORS_BY_ID
from charts.funnel import funnel_plot
from loaders.registry import term_index
from tests.analysis.test_cli import WIDTH, run

KEYS = ["indicator", "urn", "numerator", "denominator", "value", "expected", "lower_998", "lower_95", "upper_95",
        "upper_998", "verdict", "group"]


@pytest.fixture(scope="module")
def latest(sample_url) -> list[dict]:
    done = run("compare", "--json", db=sample_url)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_json_is_one_object_per_indicator_and_school_in_the_promised_shape(latest, dataset):
    year, term = dataset.latest_term()
    c = dataset.compared
    placed = c[(c["term_index"] == term_index(year, term)) & (c["position"] != "")]
    assert len(latest) == len(placed) > 300
    assert {(r["indicator"], r["urn"]) for r in latest} == set(zip(placed["indicator"], placed["urn"]))
    for r in latest:
        assert list(r) == KEYS
        assert r["group"] in ("trust", *PHASES, *ENGLAND_GROUPS) and r["verdict"] in funnel.POSITIONS
        assert isinstance(r["numerator"], int) and isinstance(r["denominator"], int) and r["denominator"] > 0
        assert r["lower_998"] <= r["lower_95"] <= r["upper_95"] <= r["upper_998"]
        ind = INDICATORS_BY_ID[r["indicator"]]
        assert ind.funnel
        scale = 100 if ind.unit == "per 100 pupils" else 1
        assert r["value"] == pytest.approx(r["numerator"] / r["denominator"] * scale)
        # the verdict is the side of the limits the value lies, on a line being within
        assert funnel.positions(np.array([r["value"]]), *(np.array([r[k]]) for k in
                                ("lower_95", "upper_95", "lower_998", "upper_998")))[0] == r["verdict"]


def test_the_limits_are_the_lines_the_chart_draws_at_each_schools_base(latest, dataset):
    year, term = dataset.latest_term()
    c = dataset.compared
    now = c[c["term_index"] == term_index(year, term)]
    for indicator in ("neglect_flags", "persistent_absence", "training_prevent", "ma_cp_conferences",
                      "permanent_exclusions"):
        figure = funnel_plot(now[now["indicator"] == indicator], dataset.school_names, indicator).figure
        lines = {t.meta: (t.x, t.y) for t in figure.data if t.meta}
        rows = [r for r in latest if r["indicator"] == indicator]
        assert rows
        for r in rows:
            for key in ("lower_998", "lower_95", "upper_95", "upper_998"):
                drawn = np.interp(r["denominator"], *lines[f"{r['group']}|{key}"])
                assert drawn == pytest.approx(r[key], rel=1e-12, abs=1e-12)


def test_the_sample_special_school_is_held_against_englands_special_schools(latest):
    # the sample trust's one special school: too few like it in the trust, so England's figure for
    # special schools where there is one (permanent exclusions), and not placed where there is none
    special = {r["indicator"]: r for r in latest if r["urn"] == "990011"}
    assert special["permanent_exclusions"]["group"] == "England (special)"
    assert "persistent_absence" not in special and "neglect_flags" not in special


def test_the_issues_ten_expected_reads_as_phes_limits(latest):
    # every rate's limits are the Poisson control limits around its expected count
    for r in latest:
        if INDICATORS_BY_ID[r["indicator"]].unit != "per 100 pupils":
            continue
        lo, hi = funnel.poisson_limits(np.array([r["expected"]]), 0.95)
        assert r["lower_95"] == pytest.approx(lo[0] / r["denominator"] * 100)
        assert r["upper_95"] == pytest.approx(hi[0] / r["denominator"] * 100)


def test_year_and_term_choose_the_term(sample_url, dataset):
    done = run("compare", "--json", "--year", "2024-25", "--term", "autumn", db=sample_url)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    c = dataset.compared
    placed = c[(c["term_index"] == term_index("2024/25", "Autumn")) & (c["position"] != "")]
    assert len(rows) == len(placed) and rows[0]["value"] in set(placed["value"])


def test_the_table_reads_indicator_by_indicator_and_ends_with_a_count(sample_url, dataset):
    done = run("compare", db=sample_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip("\n").splitlines()
    year, term = dataset.latest_term()
    assert lines[0].startswith(f"Funnel comparison for {term} {year}: each school against the pooled figure")
    assert all(len(line) <= WIDTH for line in lines)
    assert any(line.startswith("Children with a neglect flag (per 100 pupils): Primary ") for line in lines)
    assert any("Larkspur" in line and "(990001)" in line for line in lines)
    assert "compared for " + f"{term} {year} on 38 indicators" in " ".join(lines[-3:])


def test_a_narrow_terminal_gets_one_paragraph_a_school(sample_url):
    done = run("compare", db=sample_url, env={"COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert any(line.startswith("  Larkspur Hill Primary School (990001) against") for line in lines)
