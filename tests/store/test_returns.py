"""Storing returns: versions, blanks kept blank, typed values back, and what the dashboard reads."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from loaders import registry
from store import returns as store_returns
from store.drafts import load_drafts, save_draft
from store.returns import (
    NotStorable,
    latest_values,
    previous_values,
    rename_school,
    return_content,
    returns_overview,
    save_return,
    schools,
    versions,
)
from store.schema import audit, leads, return_queries, return_values, returns


def _count(engine, table, *where) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar()


def test_first_return_is_version_1_and_every_measure_is_stored(engine, report_factory):
    report, content = report_factory()
    saved = save_return(engine, report, content, user="dsl@brackenfold")
    assert (saved.urn, saved.academic_year, saved.term, saved.version) == ("149001", "2025/26", "Autumn", 1)
    assert _count(engine, return_values, return_values.c.return_id == saved.return_id) == len(registry.MEASURES)
    assert _count(engine, leads, leads.c.return_id == saved.return_id) == 2
    assert return_content(engine, saved.return_id) == (report.file, content)
    frame = schools(engine)
    assert frame.to_dict("records")[0]["name"] == "Brackenfold Primary Academy"


def test_second_return_is_version_2_and_the_newest_counts(engine, report_factory):
    first, c1 = report_factory(seed=1)
    second, c2 = report_factory(seed=2)
    assert first.values["about.pupils_on_roll"] != second.values["about.pupils_on_roll"]
    save_return(engine, first, c1, user="a")
    saved = save_return(engine, second, c2, user="b")
    assert saved.version == 2
    listed = versions(engine, "149001", "2025/26", "Autumn")
    assert [v["version"] for v in listed] == [2, 1]
    assert [v["submitted_by"] for v in listed] == ["b", "a"]
    values = latest_values(engine)
    assert len(values) == len(registry.MEASURES)
    roll = values.set_index("measure_id").loc["about.pupils_on_roll", "value"]
    assert roll == second.values["about.pupils_on_roll"]
    assert returns_overview(engine)["version"].tolist() == [2]


def test_blank_is_stored_as_null_never_zero(engine, report_factory):
    blank = ("neglect.new_flags", "referrals.cse.concerns", "about.cp_policy_reviewed")
    report, content = report_factory(blanks=blank)
    saved = save_return(engine, report, content, user="u")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(return_values.c.measure_id, return_values.c.value_num, return_values.c.value_text)
            .where(return_values.c.return_id == saved.return_id, return_values.c.measure_id.in_(blank))
        ).all()
    assert {r.measure_id for r in rows} == set(blank)
    assert all(r.value_num is None and r.value_text is None for r in rows)
    values = latest_values(engine).set_index("measure_id")["value"]
    assert all(values[m] is None for m in blank)
    assert values["neglect.active_flags"] == 20
    assert returns_overview(engine)["n_blank"].tolist() == [3]
    assert previous_values(engine, "149001", "2025/26", "Spring")["neglect.new_flags"] is None


def test_values_come_back_typed(engine, report_factory):
    report, content = report_factory(term="Spring")
    save_return(engine, report, content, user="u")
    back = previous_values(engine, "149001", "2025/26", "Summer")
    assert back == {m.id: report.values[m.id] for m in registry.MEASURES}
    assert isinstance(back["about.pupils_on_roll"], int)
    assert isinstance(back["about.date_completed"], date)
    assert back["about.urn"] == "149001" and back["about.template_version"] == registry.TEMPLATE_VERSION


def test_previous_values_picks_the_previous_terms_newest_version(engine, report_factory):
    assert previous_values(engine, "149001", "2025/26", "Spring") is None
    for seed in (1, 2):
        report, content = report_factory(term="Autumn", seed=seed)
        save_return(engine, report, content, user="u")
    newest, _ = report_factory(term="Autumn", seed=2)
    this_term, c = report_factory(term="Spring", seed=3)
    save_return(engine, this_term, c, user="u")
    back = previous_values(engine, "149001", "2025/26", "Spring")
    assert back["about.pupils_on_roll"] == newest.values["about.pupils_on_roll"]
    assert back["about.term"] == "Autumn"
    # Autumn's previous term is the Summer of the year before.
    summer, c = report_factory(year="2024/25", term="Summer")
    save_return(engine, summer, c, user="u")
    assert previous_values(engine, "149001", "2025/26", "Autumn")["about.academic_year"] == "2024/25"
    assert previous_values(engine, "149002", "2025/26", "Spring") is None


def test_latest_values_filters(engine, report_factory):
    for urn in ("149001", "149002"):
        for term in ("Autumn", "Spring"):
            report, content = report_factory(urn=urn, term=term)
            save_return(engine, report, content, user="u")
    n = len(registry.MEASURES)
    assert len(latest_values(engine)) == 4 * n
    only = latest_values(engine, academic_year="2025/26", term="Spring", urns=["149002"])
    assert len(only) == n and set(only["urn"]) == {"149002"} and set(only["term"]) == {"Spring"}
    assert list(only.columns) == ["urn", "academic_year", "term", "measure_id", "value"]
    assert latest_values(engine, urns=[]).empty
    assert latest_values(engine, academic_year="2019/20").empty


def test_queries_keep_their_explanations(engine, report_factory):
    report, content = report_factory(queries=3)
    keys = [p.key for p in report.queries]
    saved = save_return(engine, report, content, user="u", explanations={keys[0]: "Two families moved in.",
                                                                        keys[1]: "   "})
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.select(return_queries.c.key, return_queries.c.explanation)
                                   .where(return_queries.c.return_id == saved.return_id)).all())
    assert stored == {keys[0]: "Two families moved in.", keys[1]: None, keys[2]: None}
    listed = versions(engine, "149001", "2025/26", "Autumn")[0]
    assert (listed["n_queries"], listed["n_explained"]) == (3, 1)
    row = returns_overview(engine).iloc[0]
    assert (row["n_queries"], row["n_explained"]) == (3, 1)


def test_an_invalid_report_is_not_storable_and_nothing_is_written(engine, report_factory):
    with_errors, content = report_factory(errors=1)
    refused, _ = report_factory()
    refused.refused, refused.keep_bytes = True, False
    unknown_term, _ = report_factory()
    unknown_term.values["about.term"] = None
    for report in (with_errors, refused, unknown_term):
        with pytest.raises(NotStorable):
            save_return(engine, report, content, user="u")
    changed, _ = report_factory()
    with pytest.raises(NotStorable, match="changed"):
        save_return(engine, changed, b"other bytes", user="u")
    assert _count(engine, returns) == 0 and _count(engine, audit) == 0


def test_saving_removes_the_users_draft_for_that_school_term_only(engine, report_factory):
    report, content = report_factory()
    for user, term in (("dsl", "Autumn"), ("dsl", "Spring"), ("deputy", "Autumn")):
        save_draft(engine, user=user, urn="149001", academic_year="2025/26", term=term,
                   file_name="f.xlsx", content=content, report_json=report)
    save_return(engine, report, content, user="dsl")
    assert [d.term for d in load_drafts(engine, "dsl")] == ["Spring"]
    assert len(load_drafts(engine, "deputy")) == 1


def test_submitted_at_is_kept_in_utc(engine, report_factory):
    report, content = report_factory()
    moment = datetime(2026, 1, 7, 9, 0, tzinfo=timezone.utc)
    save_return(engine, report, content, user="u", submitted_at=moment)
    assert versions(engine, "149001", "2025/26", "Autumn")[0]["submitted_at"] == datetime(2026, 1, 7, 9, 0)


def test_rename_school_is_audited(engine, report_factory):
    report, content = report_factory()
    save_return(engine, report, content, user="u")
    rename_school(engine, "149001", "  Brackenfold   Juniors ", user="trust admin")
    assert schools(engine)["name"].tolist() == ["Brackenfold Juniors"]
    second, c2 = report_factory(seed=2, name="Old Name From File")
    save_return(engine, second, c2, user="u")
    assert schools(engine)["name"].tolist() == ["Brackenfold Juniors"]  # a later return does not rename
    with engine.connect() as conn:
        row = conn.execute(sa.select(audit).where(audit.c.action == "rename_school")).one()
    assert row.actor == "trust admin" and row.detail == {"from": "Brackenfold Primary Academy",
                                                         "to": "Brackenfold Juniors"}
    with pytest.raises(LookupError):
        rename_school(engine, "100000", "Nowhere", user="x")
    with pytest.raises(ValueError):
        rename_school(engine, "149001", "  ", user="x")


def test_return_content_of_an_unknown_return(engine):
    with pytest.raises(LookupError):
        return_content(engine, 12345)


def test_a_save_that_fails_midway_leaves_nothing_behind(engine, report_factory, monkeypatch):
    existing, c0 = report_factory(urn="149002", name="Larchmere Academy")
    save_return(engine, existing, c0, user="u")
    schools_before = schools(engine).to_dict("records")

    def broken_leads(*args, **kwargs):
        raise RuntimeError("the disk vanished")

    monkeypatch.setattr(store_returns, "_insert_leads", broken_leads)
    for urn in ("149001", "149002"):  # a new school, and a known one
        report, content = report_factory(urn=urn, seed=5, queries=2)
        with pytest.raises(RuntimeError):
            save_return(engine, report, content, user="u")
    assert schools(engine).to_dict("records") == schools_before
    assert _count(engine, returns) == 1
    assert _count(engine, return_values) == len(registry.MEASURES)
    assert _count(engine, return_queries) == 0
    assert _count(engine, audit, audit.c.outcome == "accepted") == 1
    # The attempts themselves are on record as failed, without their bytes.
    assert _count(engine, audit, audit.c.outcome == "failed") == 2


def test_an_explanation_that_reads_like_a_childs_details_is_not_storable(engine, report_factory):
    report, content = report_factory(queries=1)
    with pytest.raises(NotStorable, match="child's details"):
        save_return(engine, report, content, user="u",
                    explanations={report.queries[0].key: "Tom Jones lives at 12 High Street, AB1 2CD"})
    assert _count(engine, returns) == 0 and _count(engine, audit) == 0
