"""Small-number suppression: the primary rule, 0 and blank kept, secondary suppression with and
without totals, rates, the threshold as a parameter and a setting, and an attacker who tries to
recover every suppressed count from what is shown and fails."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from analysis.suppression import NOT_SHOWN, fewer_than, suppress_counts, suppression_threshold

from .attack import integer_ranges

COUNTS = ["neglect", "online", "exploitation"]


def table(rows, *, groups=None) -> pd.DataFrame:
    """Schools' counts with each row's total (a blank counting as nothing)."""
    frame = pd.DataFrame(rows, columns=COUNTS, dtype=float)
    frame.insert(0, "urn", [str(140001 + i) for i in range(len(frame))])
    frame["term"] = groups if groups is not None else "2025/26 Autumn"
    frame["total"] = frame[COUNTS].sum(axis=1)
    return frame


def hidden(value) -> bool:
    return isinstance(value, str)


def hidden_cells(out: pd.DataFrame, columns) -> set[tuple[int, str]]:
    return {(i, c) for c in columns for i, v in enumerate(out[c]) if hidden(v)}


# The primary rule -------------------------------------------------------------------------------

def test_counts_from_1_to_4_show_as_fewer_than_5():
    out = suppress_counts(table([[1, 2, 3], [4, 5, 40]]), COUNTS, threshold=5)
    assert list(out["neglect"]) == ["fewer than 5", "fewer than 5"]
    assert list(out["online"]) == ["fewer than 5", 5]
    assert out.loc[0, "exploitation"] == "fewer than 5" and out.loc[1, "exploitation"] == 40


def test_zero_is_kept_as_zero():
    out = suppress_counts(table([[0, 0, 12], [0, 7, 9]]), COUNTS, threshold=5, total_column="total")
    assert list(out["neglect"]) == [0, 0]
    assert out.loc[0, "online"] == 0 and not hidden_cells(out, COUNTS + ["total"])


def test_blank_stays_blank_and_is_never_zero():
    frame = table([[None, 2, 30], [None, None, None]])
    frame.loc[1, "total"] = np.nan
    out = suppress_counts(frame, COUNTS, threshold=5, total_column="total")
    assert out["neglect"].isna().all()
    assert pd.isna(out.loc[1, "online"]) and pd.isna(out.loc[1, "total"])
    assert out.loc[0, "online"] == "fewer than 5"
    assert all(v != 0 for v in out.loc[1, COUNTS])


def test_the_input_is_left_alone_and_its_index_kept():
    frame = table([[2, 9, 30]]).set_axis([17])
    before = frame.copy()
    out = suppress_counts(frame, COUNTS, threshold=5, total_column="total")
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.index) == [17] and list(out.columns) == list(frame.columns)


def test_text_in_a_count_column_is_refused():
    frame = table([[2, 9, 30]]).astype({"neglect": object})
    frame.loc[0, "neglect"] = "fewer than 5"
    with pytest.raises(ValueError, match="neglect"):
        suppress_counts(frame, COUNTS, threshold=5)


# Secondary suppression --------------------------------------------------------------------------

def test_a_row_with_a_total_hides_its_next_smallest_cell_too():
    out = suppress_counts(table([[3, 12, 20]]), COUNTS, threshold=5, total_column="total")
    assert out.loc[0, "neglect"] == "fewer than 5"
    assert out.loc[0, "online"] == NOT_SHOWN  # 12 is the next smallest: 35 - 20 - 12 would give 3
    assert out.loc[0, "exploitation"] == 20 and out.loc[0, "total"] == 35


def test_a_row_without_a_total_needs_no_secondary_suppression():
    out = suppress_counts(table([[3, 12, 20]]), COUNTS, threshold=5)
    assert list(out.loc[0, COUNTS]) == ["fewer than 5", 12, 20]


def test_zeros_are_never_hidden_so_the_total_goes_instead():
    # 4 + 4 = 8 and nothing else: the total would say both are 4, and there is no other cell.
    out = suppress_counts(table([[4, 4, 0]]), COUNTS, threshold=5, total_column="total")
    assert list(out.loc[0, COUNTS]) == ["fewer than 5", "fewer than 5", 0]
    assert out.loc[0, "total"] == NOT_SHOWN


def test_two_ones_beside_a_total_are_not_left_alone():
    # Only 1 + 1 makes 2: hiding just the two 1s would give both away.
    out = suppress_counts(table([[1, 1, 30]]), COUNTS, threshold=5, total_column="total")
    assert list(out.loc[0, COUNTS]) == ["fewer than 5", "fewer than 5", NOT_SHOWN]


def test_a_column_within_a_group_gets_a_partner_when_the_group_total_is_shown():
    frame = table([[2, 9, 9], [8, 9, 9], [15, 9, 9], [6, 9, 9]], groups=["A", "A", "B", "B"])
    out = suppress_counts(frame, COUNTS, threshold=5, group_columns=["term"])
    assert list(out["neglect"]) == ["fewer than 5", NOT_SHOWN, 15, 6]
    assert out.attrs["unprotected"] == []


def test_a_group_total_that_alone_gives_a_cell_away_is_reported():
    frame = table([[2, 9, 9], [0, 9, 9]], groups=["A", "A"])
    out = suppress_counts(frame, COUNTS, threshold=5, group_columns=["term"])
    assert out.loc[0, "neglect"] == "fewer than 5"
    assert out.attrs["unprotected"] == [("A", "neglect")]


def test_rows_and_columns_together_do_not_pin_a_count():
    # Row and column arithmetic together would leave 6 and 1 and 4 and 6 as the only answer if
    # only those four were hidden.
    frame = table([[6, 1, 0], [0, 30, 0], [4, 6, 0]])
    out = suppress_counts(frame, COUNTS, threshold=5, total_column="total", group_columns=["term"])
    for cell, (low, high) in attacker_ranges(frame, out, total="total", groups=["term"]).items():
        assert low < high, f"{cell} can only be {low}"


def test_rates_built_on_a_hidden_count_are_not_shown():
    frame = table([[3, 12, 20], [30, 12, 20]])
    frame["pupils"] = [400.0, 800.0]
    for column in COUNTS:
        frame[f"{column}_rate"] = frame[column] / frame["pupils"] * 100
    out = suppress_counts(frame, COUNTS, threshold=5, total_column="total", rate_columns={
        "neglect_rate": ("neglect", "pupils"), "online_rate": "online", "exploitation_rate": "exploitation"})
    assert list(out.loc[0, ["neglect_rate", "online_rate"]]) == [NOT_SHOWN, NOT_SHOWN]  # primary, secondary
    assert out.loc[0, "exploitation_rate"] == pytest.approx(5.0)
    assert list(out.loc[1, ["neglect_rate", "online_rate"]]) == pytest.approx([3.75, 1.5])


def test_a_rate_on_a_hidden_denominator_is_not_shown():
    frame = pd.DataFrame({"flags": [20.0, 20.0], "reviewed": [3.0, 15.0]})
    frame["share"] = frame["reviewed"] / frame["flags"]
    out = suppress_counts(frame, ["flags", "reviewed"], threshold=5, rate_columns={"share": ["reviewed", "flags"]})
    assert list(out["share"]) == [NOT_SHOWN, 0.75]


# The threshold ---------------------------------------------------------------------------------

def test_the_threshold_is_a_parameter():
    frame = table([[3, 7, 12]])
    assert list(suppress_counts(frame, COUNTS, threshold=10).loc[0, COUNTS]) == ["fewer than 10"] * 2 + [12]
    assert list(suppress_counts(frame, COUNTS, threshold=3).loc[0, COUNTS]) == [3, 7, 12]
    assert fewer_than(10) == "fewer than 10"


@pytest.mark.parametrize("bad", [2, 0, -5, 4.5, True, "5"])
def test_a_threshold_that_would_give_counts_away_is_refused(bad):
    with pytest.raises(ValueError, match="at least 3"):
        suppress_counts(table([[3, 7, 12]]), COUNTS, threshold=bad)


def test_the_threshold_is_a_setting(monkeypatch):
    monkeypatch.delenv("SUPPRESSION_THRESHOLD", raising=False)
    assert suppression_threshold() == 5
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "8")
    assert suppression_threshold() == 8
    out = suppress_counts(table([[6, 9, 12]]), COUNTS)
    assert list(out.loc[0, COUNTS]) == ["fewer than 8", 9, 12]
    monkeypatch.setenv("SUPPRESSION_THRESHOLD", "five")
    with pytest.raises(ValueError, match="whole number"):
        suppression_threshold()


# Nothing can be recovered ----------------------------------------------------------------------

def equations(frame, total, groups):
    """What a reader can add up: (cells, their shown sum), rows with total and columns per group."""
    columns = COUNTS + ([total] if total else [])
    found = []
    if total:
        for i in range(len(frame)):
            if not pd.isna(frame[total].iloc[i]):
                found.append(([((i, c), 1) for c in COUNTS if not pd.isna(frame[c].iloc[i])] + [((i, total), -1)], 0.0))
    for rows in (frame.groupby(groups, sort=False).indices.values() if groups else ()):
        for c in columns:
            members = [((int(i), c), 1) for i in rows if not pd.isna(frame[c].iloc[i])]
            found.append((members, float(sum(frame[c].iloc[i] for (i, _), _ in members))))
    return found


def recover_by_subtraction(frame, out, *, total=None, groups=()):
    """Every hidden cell a reader can work out, going round the sums until nothing new comes."""
    known = {(i, c): float(v) for c in COUNTS + ([total] if total else []) for i, v in enumerate(out[c])
             if not hidden(v) and not pd.isna(v)}
    found = {}
    progress = True
    while progress:
        progress = False
        for members, shown_sum in equations(frame, total, groups):
            unknown = [(cell, c) for cell, c in members if cell not in known
                       and hidden(out[cell[1]].iloc[cell[0]])]
            if len(unknown) == 1:
                cell, coefficient = unknown[0]
                rest = sum(c * known.get(m, 0.0) for m, c in members if m != cell)
                known[cell] = found[cell] = (shown_sum - rest) / coefficient
                progress = True
    return found


def attacker_ranges(frame, out, *, total=None, groups=(), threshold=5):
    """The least and most each hidden cell can be, knowing every shown number, the sums and the
    labels ("fewer than 5" is 1 to 4, "not shown" 5 or more), by integer programming."""
    columns = COUNTS + ([total] if total else [])
    cells = sorted(hidden_cells(out, columns))
    where = {cell: n for n, cell in enumerate(cells)}
    rows, sums = [], []
    for members, shown_sum in equations(frame, total, groups):
        row = np.zeros(len(cells))
        rest = 0.0
        for cell, c in members:
            if cell in where:
                row[where[cell]] += c
            else:
                rest += c * float(out[cell[1]].iloc[cell[0]])
        if row.any():
            rows.append(row)
            sums.append(shown_sum - rest)
    small = [out[c].iloc[i] == fewer_than(threshold) for i, c in cells]
    return dict(zip(cells, integer_ranges(rows, sums, sums, small, threshold)))


def random_tables(count: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        n = int(rng.integers(3, 9))
        values = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 13, 40], size=(n, len(COUNTS)),
                            p=[.15, .15, .1, .1, .1, .1, .1, .1, .05, .05]).astype(float)
        if rng.random() < 0.3:
            values[rng.integers(n), rng.integers(len(COUNTS))] = np.nan
        yield table(values.tolist(), groups=list(rng.integers(0, 2, n)))


SHAPES = [dict(total="total", groups=()), dict(total=None, groups=["term"]), dict(total="total", groups=["term"])]


def _suppressed(n: int, seed: int, shape: dict):
    """(table, the table with small counts hidden) for ``n`` random tables with the totals of ``shape``."""
    for frame in random_tables(n, seed=seed):
        yield frame, suppress_counts(frame, COUNTS, threshold=5, total_column=shape["total"],
                                     group_columns=shape["groups"])


@pytest.mark.parametrize("shape", SHAPES, ids=["row totals", "group totals", "both"])
def test_no_suppressed_count_can_be_recovered_by_subtraction(shape):
    tried = 0
    for frame, out in _suppressed(40, 7, shape):
        found = recover_by_subtraction(frame, out, **shape)
        unprotected = {column for _, column in out.attrs["unprotected"]}
        assert all(column in unprotected for _, column in found), found
        tried += len(hidden_cells(out, COUNTS))
    assert tried > 100  # the tables really did hide things to try on


@pytest.mark.parametrize("shape", SHAPES, ids=["row totals", "group totals", "both"])
def test_no_suppressed_count_is_pinned_to_one_value_by_any_reasoning(shape):
    checked = 0
    for frame, out in _suppressed(25, 11, shape):
        if out.attrs["unprotected"]:
            continue  # the caller must hide a group total: the reader would then know less
        for cell, (low, high) in attacker_ranges(frame, out, **shape).items():
            assert low < high, f"{cell} can only be {low} in\n{frame}\n{out}"
            checked += 1
    assert checked > 50


def test_the_attacker_does_find_a_count_left_with_only_primary_suppression():
    # The checks above can fail: without secondary suppression the 3 comes straight back.
    frame = table([[3, 12, 20]])
    out = frame.astype({"neglect": object})
    out.loc[0, "neglect"] = fewer_than(5)
    assert recover_by_subtraction(frame, out, total="total") == {(0, "neglect"): 3.0}
    assert attacker_ranges(frame, out, total="total")[(0, "neglect")] == (3, 3)


def test_a_large_trust_is_suppressed_quickly():
    rng = np.random.default_rng(3)
    frame = table(rng.poisson([0.8, 3, 9], size=(450, 3)).tolist(), groups=list(np.repeat(["A", "S", "U"], 150)))
    started = time.perf_counter()
    out = suppress_counts(frame, COUNTS, threshold=5, total_column="total", group_columns=["term"])
    assert time.perf_counter() - started < 5  # about 0.1 s on a 2-core machine
    assert len(hidden_cells(out, COUNTS)) > 200
