"""Several returns stored in one transaction on the command line, each whole or not at all; one
way to read a return file; one way to check a return again against last term."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from loaders import check_file, check_return, cross_checks
from loaders.checker import read_file
from loaders.registry import COUNT_IDS
from store import importer
from store.importer import check_against_last_term, import_paths
from store.returns import previous_values, versions
from store.schema import audit, return_values, returns


@pytest.fixture
def write(tmp_path, report_factory):
    from loaders.template import template_bytes

    def write_one(urn="149001", year="2025/26", term="Autumn", *, change=None):
        report, _ = report_factory(urn, year, term)
        values = {**report.values, **(change or {})}
        path = tmp_path / f"{urn}_{year.replace('/', '-')}_{term}.xlsx"
        path.write_bytes(template_bytes(urn=urn, school_name=values["about.school_name"], year=year, term=term,
                                        values=values, leads=report.leads))
        return path

    return write_one


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_a_batch_stores_each_return_whole_and_one_that_fails_names_its_file(engine, write, monkeypatch):
    paths = [write(urn=u) for u in ("149001", "149002", "149003")]
    from store import returns as stored

    real, calls = stored._insert_lead_rows, []

    def failing(conn, rows):
        ids = sorted({r["return_id"] for r in rows})
        calls.append(ids)
        urns = conn.execute(sa.select(returns.c.urn).where(returns.c.id.in_(ids))).scalars().all()
        if "149002" in urns:  # the second return: its row and values are written, then the database fails
            conn.execute(sa.text("SELECT no_such_column FROM returns"))
        return real(conn, rows)

    monkeypatch.setattr(stored, "_insert_lead_rows", failing)
    outcomes = import_paths([str(p) for p in paths], engine=engine, per_transaction=50)
    assert len(calls[0]) == 3  # the batch's leads together first; then one return at a time, to find which failed
    assert [o.saved is not None for o in outcomes] == [True, False, True]
    (problem,) = [p for p in outcomes[1].report.errors if p.code == "not_stored"]
    assert "nothing was saved" in problem.message and outcomes[1].report.file == "149002_2025-26_Autumn.xlsx"
    from loaders.__main__ import render
    assert render(outcomes[1].report).startswith("149002_2025-26_Autumn.xlsx: ")
    assert versions(engine, "149002", "2025/26", "Autumn") == []
    with engine.connect() as conn:
        stray = conn.execute(sa.select(sa.func.count()).select_from(return_values)
                             .where(return_values.c.urn == "149002")).scalar()
        failed = conn.execute(sa.select(audit.c.urn).where(audit.c.outcome == "failed")).scalars().all()
    assert stray == 0 and failed == ["149002"]
    assert _count(engine, returns) == 2
    assert _count(engine, return_values) == 2 * len(importer.registry.ASKED[importer.registry.TEMPLATE_VERSION])


def test_a_batch_compares_each_return_with_last_term_stored_in_the_same_batch(engine, write):
    autumn = write(term="Autumn", change={"inclusion.suspended": 2})
    spring = write(term="Spring", change={"inclusion.suspended": 9})
    batched = import_paths([str(spring), str(autumn)], engine=engine, per_transaction=50)
    assert all(o.saved for o in batched)
    previous = previous_values(engine, "149001", "2025/26", "Spring")
    expected = check_return(spring.read_bytes(), spring.name, previous=previous).problems
    assert batched[0].report.problems == expected
    assert "more_than_three_times_last_term" in [p.code for p in expected]


@pytest.mark.parametrize("per_transaction", [1, 2])
def test_a_batch_compares_each_return_with_last_term_stored_by_an_earlier_batch(engine, write, per_transaction):
    autumn = write(term="Autumn", change={"inclusion.suspended": 2})
    spring = write(term="Spring", change={"inclusion.suspended": 9})
    summer = write(term="Summer", change={"inclusion.suspended": 40})
    outcomes = import_paths([str(summer), str(spring), str(autumn)], engine=engine, per_transaction=per_transaction)
    assert all(o.saved for o in outcomes)
    for path, outcome, term in ((summer, outcomes[0], "Summer"), (spring, outcomes[1], "Spring")):
        previous = previous_values(engine, "149001", "2025/26", term)
        assert outcome.report.problems == check_return(path.read_bytes(), path.name, previous=previous).problems
        assert "more_than_three_times_last_term" in [p.code for p in outcome.report.problems]


def test_a_batch_writes_the_record_of_changes_in_the_order_the_returns_came(engine, write, tmp_path):
    good = [write(urn=u) for u in ("149001", "149002")]
    bad = tmp_path / "149003_2025-26_Autumn.xlsx"
    bad.write_bytes(b"not a spreadsheet")
    outcomes = import_paths([str(good[0]), str(bad), str(tmp_path / "nowhere.xlsx"), str(good[1])], engine=engine,
                            per_transaction=50)
    assert [o.saved is not None for o in outcomes] == [True, False, False, True]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(audit.c.file_name, audit.c.outcome).order_by(audit.c.id)).all()
    # the unreadable ones sort first (no term), then the returns as named
    assert [tuple(r) for r in rows] == [("149003_2025-26_Autumn.xlsx", "refused"), ("nowhere.xlsx", "refused"),
                                        (good[0].name, "accepted"), (good[1].name, "accepted")]


def test_the_command_line_stores_several_returns_a_transaction(monkeypatch, tmp_path):
    from loaders import __main__ as cli

    seen = {}

    def fake(files, **kw):
        seen.update(kw)
        return []

    monkeypatch.setattr(importer, "import_paths", fake)
    assert cli.main(["import", "--db", f"sqlite:///{tmp_path / 'x.db'}", "a.xlsx"]) == cli.OK
    assert seen["per_transaction"] > 1


def test_check_and_import_read_a_file_the_same_way(tmp_path, engine):
    folder = tmp_path / "folder"
    folder.mkdir()
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"PK\x03\x04" + b"\0" * 2000)
    for path, code in ((folder, "not_a_file"), (tmp_path / "nowhere.xlsx", "file_not_found"),
                       (big, "file_too_large")):
        checked = check_file(path, max_bytes=1000)
        data, read = read_file(path, max_bytes=1000)
        assert data is None and read.refused
        assert [(p.code, p.message) for p in checked.problems] == [(p.code, p.message) for p in read.problems]
        assert checked.problems[0].code == code
    (outcome,) = import_paths([str(folder)], engine=engine)
    assert outcome.report.problems[0].code == "not_a_file"
    assert "is a folder" in outcome.report.problems[0].message


def test_reading_stops_at_the_cap(tmp_path, monkeypatch):
    big = tmp_path / "big.xlsx"
    big.write_bytes(b"x" * 5000)
    opened = []
    real_open = type(big).open
    monkeypatch.setattr(type(big), "open", lambda self, *a, **k: opened.append(self) or real_open(self, *a, **k))
    data, report = read_file(big, max_bytes=1000)
    assert data is None and report.problems[0].code == "file_too_large"
    assert all(p.name == "big.xlsx" for p in opened)  # only to take its digest, never to hold it whole
    assert report.sha256


def test_checking_again_is_exactly_the_loaders_check_with_last_terms_values(engine, write, report_factory):
    autumn = write(term="Autumn", change={"inclusion.suspended": 2})
    import_paths([str(autumn)], engine=engine)
    same = {mid: v for mid, v in report_factory("149001", "2025/26", "Autumn")[0].values.items() if mid in COUNT_IDS}
    for change, queried in (({"inclusion.suspended": 9}, True), ({**same, "inclusion.suspended": 2}, False)):
        spring = write(term="Spring", change=change)
        data = spring.read_bytes()
        again = check_against_last_term(engine, data, spring.name)
        previous = previous_values(engine, "149001", "2025/26", "Spring")
        assert again.problems == check_return(data, spring.name, previous=previous).problems
        assert cross_checks.growth_queried(again.values, previous) is queried
        assert any(p.code == "more_than_three_times_last_term" for p in again.problems) is queried
        nobody = check_against_last_term(engine, data, spring.name, allowed=lambda _urn: False)
        assert nobody.problems == check_return(data, spring.name).problems


class _Places:
    def problem(self, *args, **kwargs):
        return "a query"


@pytest.mark.parametrize("before, now, queried", [(0, 10, False), (1, 4, False), (2, 7, True), (2, 6, False),
                                                  (10, 31, True), (10.0, 31, True), (None, 10, False),
                                                  (5, None, False)])
def test_growth_queried_is_what_the_check_queries(before, now, queried):
    values, previous = {COUNT_IDS[0]: now}, {COUNT_IDS[0]: before}
    assert cross_checks.growth_queried(values, previous) is queried
    assert bool(cross_checks.check_growth(values, _Places(), previous)) is queried
