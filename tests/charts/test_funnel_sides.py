"""Every school on every funnel plot is drawn on the side of the lines its label says.

The contract: for every indicator and term, in the sample trust and in generated trusts, a point
labelled "above the 95% limit" is drawn above the 95% line and below the 99.8% one, a point
labelled "as expected by chance" is drawn on or between the 95% lines, and so on; and every label
is the exact test of the school's count (Poisson for rates, binomial for shares). The lines are
read from the figure itself, at each point's own base; the labels from the points' hover data.
Points at 0% and 100%, five of five staff in date, and counts where under one child is expected
are all walked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, poisson

from analysis import funnel
from analysis.compare import compare
from analysis.dataset import load_dataset
from analysis.indicators import INDICATORS, PER_100
from analysis.rates import indicator_values, wide_counts, with_changes
from charts.funnel import funnel_plot
from sample_data import large
from store.access import scope_for
from store.users import User

LINES = ("lower_95", "upper_95", "lower_998", "upper_998")
FUNNELS = [i for i in INDICATORS if i.funnel]


def walk(compared: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """Every labelled point of every funnel figure: indicator, term, base, value, label, and the
    side of the figure's own lines it is drawn on. A figure whose trust figure is hidden from the
    reader draws no lines (they would give it away): its points are left out."""
    found = []
    for ind in FUNNELS:
        for term_index, rows in compared[compared["indicator"] == ind.id].groupby("term_index"):
            figure = funnel_plot(rows, names, ind.id).figure
            lines = {tuple(t.meta.split("|")): (np.asarray(t.x, dtype=float), np.asarray(t.y, dtype=float))
                     for t in figure.data if t.meta and t.meta.split("|")[-1] in LINES}
            points = figure.data[-1]
            if points.customdata is None:
                continue
            x, y = np.asarray(points.x, dtype=float), np.asarray(points.y, dtype=float)
            labels = np.asarray(points.customdata)[:, 3]
            groups = np.asarray(points.customdata)[:, 5]
            labelled = labels != ""
            if not labelled.any():
                continue
            if rows["trust"].isna().all():
                assert not lines
                continue
            # each comparison group (schools of a phase, or the whole trust) has its own four lines
            for group in set(groups[labelled]):
                mine = labelled & (groups == group)
                assert {m for g, m in lines if g == group} == set(LINES), \
                    f"{ind.id} {term_index}: {group} schools placed, but no lines drawn"
                for m in LINES:
                    assert np.isin(x[mine], lines[(group, m)][0]).all(), f"{group} {m}: not through every base"
                at = [np.interp(x[mine], *lines[(group, m)]) for m in LINES]
                drawn = funnel.positions(y[mine], *at)
                found.append(pd.DataFrame({"indicator": ind.id, "term_index": term_index, "base": x[mine],
                                           "value": y[mine], "label": labels[mine], "drawn": drawn}))
    return pd.concat(found, ignore_index=True)


def exact_labels(compared: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(label, exact test) for every placed row compared with no allowance for spread between
    schools, the test computed from the tails alone around the figure of its comparison group:
    beyond the 95% (99.8%) limit when a count at least that extreme has under a 2.5% (0.1%) chance."""
    rows = compared[(compared["position"] != "") & (compared["spread"] == 0)]
    count, base = rows["numerator"].round().to_numpy(), rows["denominator"].round().to_numpy()
    trust = rows["target"].to_numpy(dtype=float)
    rate = rows["indicator"].isin(RATES).to_numpy()
    with np.errstate(invalid="ignore"):
        high = np.where(rate, poisson.sf(count - 1, trust / 100 * base), binom.sf(count - 1, base, trust))
        low = np.where(rate, poisson.cdf(count, trust / 100 * base), binom.cdf(count, base, trust))
    exact = np.full(len(rows), "within", dtype=object)
    for t, above, below in ((0.025, "above_95", "below_95"), (0.001, "above_998", "below_998")):
        exact[low < t] = below
        exact[high < t] = above
    return rows["position"].to_numpy(), exact


RATES = {i.id for i in INDICATORS if i.unit == PER_100}


def assert_sides_agree(compared: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    points = walk(compared, names)
    wrong = points[points["drawn"] != points["label"]]
    assert wrong.empty, f"{len(wrong)} of {len(points)} points drawn on the other side from their label:\n{wrong.head(20)}"
    labels, exact = exact_labels(compared)
    assert (labels == exact).all(), f"{(labels != exact).sum()} labels are not the exact test"
    return points


def edges(points: pd.DataFrame) -> dict[str, int]:
    shares = ~points["indicator"].isin(RATES)
    return {
        "0%": int((shares & (points["value"] == 0)).sum()),
        "100%": int((shares & (points["value"] == 1)).sum()),
        "5 of 5 on training": int((points["indicator"].str.startswith("training_") & (points["base"] == 5)
                                   & (points["value"] == 1)).sum()),
    }


def test_the_sample_trust_every_indicator_every_term(sample_engine):
    data = load_dataset(sample_engine)
    points = assert_sides_agree(data.compared, data.school_names)
    placed = data.compared[data.compared["position"] != ""]
    assert len(points) == len(placed) > 1500  # every placed school-term-indicator of the six terms
    assert {"Primary", "Secondary"} <= set(placed["group"])  # like with like
    assert set(points["label"]) == set(funnel.POSITIONS)
    assert all(n > 0 for n in edges(points).values()), edges(points)


def test_the_sample_trust_as_a_trustee_sees_it(sample_engine):
    from analysis.context import restrict

    data = restrict(load_dataset(sample_engine), scope_for(User("trustee@example.org", None, "trustee", ())))
    points = walk(data.compared, data.school_names)
    assert len(points) and (points["drawn"] == points["label"]).all()


def generated(n_schools: int, n_terms: int, seed: int) -> tuple[pd.DataFrame, dict[str, str]]:
    planned = large.plan_large_trust(n_schools, n_terms, seed)
    long = pd.DataFrame([{"urn": r.school.urn, "academic_year": r.academic_year, "term": r.term,
                          "measure_id": k, "value": v} for r in planned for k, v in r.values.items()])
    names = {r.school.urn: r.school.name for r in planned}
    return compare(with_changes(indicator_values(wide_counts(long)))), names


@pytest.mark.parametrize("n_schools,n_terms,seed", [(5, 3, 11), (24, 3, 12), (60, 2, 13)])
def test_generated_trusts_every_indicator_every_term(n_schools, n_terms, seed):
    compared, names = generated(n_schools, n_terms, seed)
    points = assert_sides_agree(compared, names)
    assert len(points) > 30 * n_schools * n_terms * 0.8
