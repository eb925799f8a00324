"""The benchmark's building blocks on a tiny trust: the bulk store lays down what the store's own
save would, the trust's database is made once and reused, and the Overview can be timed."""

from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from bench import dashboard, trusts
from loaders.report import ERROR, Problem
from sample_data import large
from store import db, overview, upgrades
from store.returns import save_return
from store.schema import audit, returns


@pytest.fixture
def tiny_plan():
    return large.large_trust(3, 3, seed=2)


def _engine(path):
    engine = db.make_engine(f"sqlite:///{path}")
    upgrades.upgrade(engine)
    return engine


def _stored(engine) -> dict[str, pd.DataFrame]:
    """Everything the dashboard reads, in a comparable order (return ids aside)."""
    overview_cols = [c for c in overview.OVERVIEW_COLUMNS if c != "return_id"]
    with engine.connect() as conn:
        audit_rows = pd.DataFrame(conn.execute(
            sa.select(audit.c.actor, audit.c.action, audit.c.outcome, audit.c.urn, audit.c.academic_year,
                      audit.c.term, audit.c.file_name, audit.c.sha256, audit.c.size, audit.c.detail)
            .order_by(audit.c.urn, audit.c.academic_year, audit.c.term)).all())
        versions = pd.DataFrame(conn.execute(
            sa.select(returns.c.urn, returns.c.academic_year, returns.c.term, returns.c.version, returns.c.sha256,
                      returns.c.submitted_at, returns.c.content)
            .order_by(returns.c.urn, returns.c.academic_year, returns.c.term)).all())
    audit_rows["detail"] = [{k: v for k, v in d.items() if k != "return_id"} for d in audit_rows["detail"]]
    return {
        "values": overview.latest_values(engine),
        "leads": overview.latest_leads(engine),
        "queries": overview.latest_queries(engine),
        "overview": overview.returns_overview(engine)[overview_cols]
        .sort_values(["urn", "academic_year", "term"], ignore_index=True),
        "versions": versions,
        "audit": audit_rows,
    }


def test_the_bulk_store_lays_down_what_save_return_would(tmp_path, tiny_plan):
    items = [(report, content, trusts.submitted_at(report)) for _, report, content in large.iter_reports(tiny_plan)]
    items[0][0].values.update({"inclusion.ehe_removals": None, "about.filtering_reviewed": None})
    bulk, one_by_one = _engine(tmp_path / "bulk.db"), _engine(tmp_path / "saved.db")
    assert trusts.store_bulk(bulk, items) == len(items) > 0
    for report, content, at in items:
        save_return(one_by_one, report, content, user=trusts.BENCH_USER, submitted_at=at, action="import",
                    source=trusts.BENCH_SOURCE)
    got, want = _stored(bulk), _stored(one_by_one)
    for name in want:
        pd.testing.assert_frame_equal(got[name], want[name], obj=name)
    blank = got["values"][got["values"]["value"].isna()]
    assert set(blank["measure_id"]) == {"inclusion.ehe_removals", "about.filtering_reviewed"}, \
        "blank cells come back blank, and nothing else does"
    # storing again makes each school-term's second version, as a resubmission would
    trusts.store_bulk(bulk, items[:1])
    assert _stored(bulk)["versions"]["version"].max() == 2


def test_a_report_with_errors_stops_the_whole_bulk_write(tmp_path, tiny_plan):
    items = [(report, content, None) for _, report, content in large.iter_reports(tiny_plan)]
    items[-1][0].problems.append(Problem("neglect_above_active_flags", ERROR, "Neglect", "B5", "broken"))
    engine = _engine(tmp_path / "bulk.db")
    with pytest.raises(ValueError):
        trusts.store_bulk(engine, items)
    assert overview.data_version(engine) == (0, 0), "nothing half-stored"


def test_a_trust_database_is_built_once_then_reused(tmp_path):
    stale = tmp_path / "trust_3x3_seed2_gen0_0123456789.db"
    stale.write_bytes(b"made by older code")
    first = trusts.large_database(3, 3, seed=2, folder=tmp_path)
    assert not stale.exists(), "a file made by older code is not kept"
    assert not first.reused and first.schools == 3 and first.returns > 0 and first.seconds > 0
    again = trusts.large_database(3, 3, seed=2, folder=tmp_path)
    assert again.reused and again.path == first.path and again.returns == first.returns
    assert again.seconds == pytest.approx(first.seconds, abs=0.01)
    assert not list(tmp_path.glob("*.building*")), "no half-built file left behind"


def test_the_overview_of_a_three_school_trust_can_be_timed(tmp_path):
    base = trusts.large_database(3, 3, seed=2, folder=tmp_path)
    timing = dashboard.time_overview(base.url, reruns=1)
    assert timing.cold > 0 and len(timing.reruns) == 1 and len(timing.cpu) == 1
    assert timing.median == timing.reruns[0]


def test_the_cells_only_check_the_places_figure_compares_with_reads_no_other_place():
    """The benchmark's "before": a comment holding a child's details goes unseen by it, and is
    refused again as soon as it ends."""
    import io

    from openpyxl import load_workbook
    from openpyxl.comments import Comment

    from bench import returns as bench_returns
    from loaders import check_return

    book = load_workbook(bench_returns.SAMPLE[0])
    book["Neglect"]["B5"].comment = Comment("Jayden Smith DOB 03/04/2015", "x")
    out = io.BytesIO()
    book.save(out)
    with bench_returns.cells_only():
        assert not check_return(out.getvalue(), "r.xlsx").refused
        assert not check_return(out.getvalue(), "Jayden Smith DOB 03-04-2015.xlsx").refused
    assert check_return(out.getvalue(), "r.xlsx").problems[0].code == "personal_data"
    times = bench_returns.bench_places(bench_returns.SAMPLE[0].read_bytes(), "r.xlsx", pairs=3)
    assert {k: [len(v) for v in t.values()] for k, t in times.items()} == {"cells": [3, 3], "places": [3, 3]}


def test_the_pack_benchmark_alternates_the_two_forms_after_warming_up():
    from bench import pack

    order = []

    def fake(url, appendix):
        order.append(appendix)
        return pack.Made(wall=1.0 + appendix, cpu=0.5, peak=2**20, pages=9, gather=0.1, ready=0.2, draw=0.3,
                         printing=0.1)

    runs = pack.alternate("sqlite://", pairs=3, make=fake)
    assert order == [False, True, False, True, True, False, False, True]
    assert [len(runs[False]), len(runs[True])] == [3, 3]


def test_the_pack_benchmark_says_whether_the_short_pdf_met_its_goal():
    from bench import pack

    def runs(short_seconds):
        made = lambda wall: pack.Made(wall, 1.0, 300 * 2**20, 9, 0.5, 1.0, 0.3, 0.2)  # noqa: E731
        return {False: [made(s) for s in short_seconds], True: [made(9.0)] * len(short_seconds)}

    fast = pack.alternating_lines(runs([4.0, 4.9, 3.0, 6.0, 4.5]))
    assert fast[-1].endswith("(goal 5 s: met)") and "median   4.50 s" in fast[-1]
    assert "3.00 /   4.50 /   6.00 s" in fast[1] and " 300 /  300 /  300 MB" in fast[1] and "9 pages" in fast[1]
    slow = pack.alternating_lines(runs([5.0, 5.5, 4.0]))
    assert slow[-1].endswith("(goal 5 s: not met)")


def test_peak_memory_sees_what_the_block_held():
    import time

    from bench.pack import PeakMemory, resident

    before = resident()
    with PeakMemory() as memory:
        held = bytearray(64 * 2**20)
        held[::4096] = b"x" * len(held[::4096])  # touched, so resident
        time.sleep(0.05)
        del held
    assert memory.peak - before >= 48 * 2**20
    with PeakMemory() as nothing:
        time.sleep(0.05)
    assert nothing.peak - before < 16 * 2**20
