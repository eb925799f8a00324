"""Saves arriving at once: each is stored exactly once, and versions of one school-term run 1..n."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from store.returns import save_return, versions
from store.schema import returns

N = 20


def _run_together(engine, reports):
    """Save every (report, content) in its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(reports))
    saved, failures = [], []

    def worker(report, content):
        barrier.wait()
        try:
            saved.append(save_return(engine, report, content, user=f"user {report.file}"))
        except Exception as exc:  # collected so the test can show what went wrong
            failures.append(repr(exc))

    threads = [threading.Thread(target=worker, args=pair) for pair in reports]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures, failures
    return saved


def test_twenty_schools_saving_at_once(engine, report_factory):
    reports = [report_factory(urn=f"1490{i:02d}", name=f"Test School {i}") for i in range(N)]
    saved = _run_together(engine, reports)
    assert sorted(s.urn for s in saved) == sorted(f"1490{i:02d}" for i in range(N))
    assert {s.version for s in saved} == {1}


def test_twenty_saves_of_one_school_term_get_versions_1_to_20(engine, report_factory):
    reports = []
    for i in range(N):
        report, content = report_factory(seed=i)
        report.file = f"upload-{i}.xlsx"
        reports.append((report, content))
    saved = _run_together(engine, reports)
    assert sorted(s.version for s in saved) == list(range(1, N + 1))
    listed = versions(engine, "149001", "2025/26", "Autumn")
    assert [v["version"] for v in listed] == list(range(N, 0, -1))
    # Each upload is stored once, under the version its save reported.
    with engine.connect() as conn:
        rows = conn.execute(sa.select(returns.c.id, returns.c.version, returns.c.file_name)).all()
    assert sorted(r.file_name for r in rows) == sorted(f"upload-{i}.xlsx" for i in range(N))
    assert {(r.id, r.version) for r in rows} == {(s.return_id, s.version) for s in saved}
