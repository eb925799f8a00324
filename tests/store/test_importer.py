"""Importing files from disk: checked, stored in term order, compared with last term, all audited."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from loaders import check_return, registry
from store.importer import import_paths
from store.returns import previous_values, versions
from store.schema import audit, returns


@pytest.fixture
def write(tmp_path, report_factory):
    """Write a filled return through the real template into tmp_path; returns its path."""
    from loaders.template import template_bytes

    def write_one(urn="149001", year="2025/26", term="Autumn", *, seed=1, change=None):
        report, _ = report_factory(urn, year, term, seed=seed)
        values = {**report.values, **(change or {})}
        data = template_bytes(urn=urn, school_name=values["about.school_name"], year=year, term=term,
                              values=values, leads=report.leads)
        path = tmp_path / f"{urn}_{year.replace('/', '-')}_{term}.xlsx"
        path.write_bytes(data)
        return path

    return write_one


def _audits(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(audit).order_by(audit.c.id)).all()


def test_files_are_stored_in_term_order_and_compared_with_last_term(engine, write, tmp_path):
    autumn = write(term="Autumn", change={"inclusion.suspended": 2})
    spring = write(term="Spring", change={"inclusion.suspended": 9})
    outcomes = import_paths([str(spring), str(autumn)], engine=engine)
    assert [o.file for o in outcomes] == [str(spring), str(autumn)]  # the order given
    assert all(o.saved is not None for o in outcomes), [o.report.problems for o in outcomes]
    assert [o.saved.term for o in outcomes] == ["Spring", "Autumn"]
    # Spring was checked against Autumn, exactly as the loader would with the previous values.
    previous = previous_values(engine, "149001", "2025/26", "Spring")
    with_previous = check_return(spring.read_bytes(), spring.name, previous=previous)
    without = check_return(spring.read_bytes(), spring.name)
    assert with_previous.problems != without.problems  # the comparison found something to ask
    assert outcomes[0].report.problems == with_previous.problems
    assert [a.outcome for a in _audits(engine)] == ["accepted", "accepted"]
    assert {a.action for a in _audits(engine)} == {"import"}


def test_every_imported_report_is_the_one_the_loader_gives_with_last_terms_values(
        engine, write, report_factory):
    """Whether or not the file needed a second read, the report equals a check with the previous values."""
    terms = [("2024/25", "Summer"), ("2025/26", "Autumn"), ("2025/26", "Spring"), ("2025/26", "Summer")]
    autumn = report_factory("149001", "2025/26", "Autumn", seed=3)[0].values
    spring = {"referrals.online.concerns": 3 * max(autumn["referrals.online.concerns"], 1) + 5}
    # Summer repeats Spring's counts exactly: nothing grew, so no second read is needed.
    spring_values = {**report_factory("149001", "2025/26", "Spring", seed=3)[0].values, **spring}
    summer = {mid: spring_values[mid] for mid in registry.COUNT_IDS}
    growth = {"Spring": spring, "Summer": summer}
    paths = [write(year=y, term=t, seed=3, change=growth.get(t)) for y, t in terms]
    outcomes = import_paths([str(p) for p in paths], engine=engine)
    compared = []
    for (year, term), path, outcome in zip(terms, paths, outcomes):
        previous = previous_values(engine, "149001", year, term)
        expected = check_return(path.read_bytes(), path.name, previous=previous)
        assert outcome.report.problems == expected.problems, (year, term)
        assert outcome.saved is not None
        compared.append(expected.problems != check_return(path.read_bytes(), path.name).problems)
    assert compared[0] is False  # no term before it
    assert compared[2] is True  # Spring grew enough to be asked about
    assert compared[3] is False  # Summer did not


def test_the_same_file_twice_is_two_versions(engine, write, tmp_path):
    path = write()
    first, second = import_paths([str(path), str(path)], engine=engine, user="data officer")
    assert (first.saved.version, second.saved.version) == (1, 2)
    assert [v["submitted_by"] for v in versions(engine, "149001", "2025/26", "Autumn")] == ["data officer"] * 2


def test_missing_unreadable_and_invalid_files_are_outcomes_not_exceptions(engine, write, tmp_path):
    (tmp_path / "folder").mkdir()
    not_a_sheet = tmp_path / "notes.xlsx"
    not_a_sheet.write_bytes(b"just some text, not a workbook")
    bad = write(change={"training.prevent.in_date": 50, "training.prevent.in_scope": 10})
    paths = [str(tmp_path / "nowhere.xlsx"), str(tmp_path / "folder"), str(not_a_sheet), str(bad)]
    outcomes = import_paths(paths, engine=engine)
    assert [o.saved for o in outcomes] == [None] * 4
    assert all(o.report.errors for o in outcomes)
    assert "no file" in outcomes[0].report.errors[0].message.lower()
    assert outcomes[2].report.refused
    assert any(p.cell for p in outcomes[3].report.errors)  # points at the broken cell
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar() == 0
    outcomes_seen = sorted(a.outcome for a in _audits(engine))
    assert outcomes_seen == ["refused", "refused", "refused", "rejected"]


def test_submitted_at_can_come_from_the_date_completed(engine, write, tmp_path):
    winter = write(term="Autumn", change={"about.date_completed": date(2026, 1, 9)})
    summer = write(term="Summer", change={"about.date_completed": date(2026, 8, 20)})
    import_paths([str(winter), str(summer)], engine=engine, submitted_at_from_return=True)
    at = {t: versions(engine, "149001", "2025/26", t)[0]["submitted_at"] for t in ("Autumn", "Summer")}
    # 09:00 in the UK, stored as UTC: the same hour in winter, an hour earlier in summer time.
    assert at == {"Autumn": datetime(2026, 1, 9, 9, 0), "Summer": datetime(2026, 8, 20, 8, 0)}


def test_an_import_by_url_creates_the_tables(write, tmp_path):
    from store.db import dispose, make_engine

    path = write()
    url = f"sqlite:///{tmp_path / 'fresh' / 'new.db'}"
    (outcome,) = import_paths([str(path)], url)
    engine = make_engine(url)
    try:
        assert outcome.saved.version == 1
        assert versions(engine, "149001", "2025/26", "Autumn")[0]["submitted_by"] == "command line"
        assert set(registry.MEASURES_BY_ID) <= set(previous_values(engine, "149001", "2025/26", "Spring"))
    finally:
        dispose(engine)


def test_a_file_hiding_child_data_is_imported_as_nothing_but_an_audit_row_without_it(engine, write,
                                                                                      tmp_path):
    """Refused whole wherever the child's details hide: no return, no values, no draft, no bytes,
    and nothing of the details in any table."""
    import io
    import json

    from openpyxl import load_workbook
    from openpyxl.comments import Comment

    from store.audit import WITHHELD_NAME
    from store.schema import drafts, metadata, return_values

    clean = write("149001", "2025/26", "Autumn")
    book = load_workbook(clean)
    book["Neglect"]["B5"].comment = Comment("Jayden Smith DOB 03/04/2015", "Robin Placeholder")
    out = io.BytesIO()
    book.save(out)
    commented = tmp_path / "commented.xlsx"
    commented.write_bytes(out.getvalue())
    named = tmp_path / "Jayden Smith DOB 03.04.2015.xlsx"
    named.write_bytes(clean.read_bytes())

    outcomes = import_paths([str(commented), str(named)], engine=engine, user="importer")
    assert [(o.saved, o.report.refused, o.report.keep_bytes) for o in outcomes] == [(None, True, False)] * 2
    assert [o.report.problems[0].code for o in outcomes] == ["personal_data", "personal_data"]
    with engine.connect() as conn:
        for table in (returns, return_values, drafts):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0, table.name
        rows = conn.execute(sa.select(audit)).mappings().all()
        assert [r["outcome"] for r in rows] == ["refused", "refused"]
        assert rows[0]["detail"] == {"problems": [{"code": "personal_data", "where": "Neglect!B5"}]}
        assert rows[1]["file_name"] == WITHHELD_NAME
        secrets = [out.getvalue(), clean.read_bytes(), b"Jayden", b"03/04/2015", b"03.04.2015"]
        for table in metadata.sorted_tables:
            for record in conn.execute(sa.select(table)).all():
                for value in record:
                    text = value if isinstance(value, bytes) else json.dumps(value, default=str).encode()
                    assert not [s for s in secrets if s in text], table.name


def test_received_is_when_a_return_counts_as_submitted_and_is_on_the_record(engine, write):
    """A paper return back-filled long after it arrived: submitted the day it was received (09:00 UK),
    whatever its date completed says, and the day is on each attempt's record of changes."""
    good = write(term="Spring", change={"about.date_completed": date(2026, 4, 1)})
    bad = write(term="Summer", change={"inclusion.suspended": "lots"})
    outcomes = import_paths([str(good), str(bad)], engine=engine, received=date(2026, 4, 20))
    assert outcomes[0].saved is not None and outcomes[1].saved is None
    assert versions(engine, "149001", "2025/26", "Spring")[0]["submitted_at"] == datetime(2026, 4, 20, 8, 0)
    assert [(a.outcome, a.detail.get("received")) for a in _audits(engine)] == \
        [("accepted", "2026-04-20"), ("rejected", "2026-04-20")]
