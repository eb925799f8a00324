"""Every page of the dashboard opens on the sample trust without an exception and shows what it
is for: its charts, its tables, and the numbers behind them."""

from __future__ import annotations

import pytest

from .conftest import assert_no_exception, open_page

# A funnel plot counts twice: its full-width form and its phone's (ui.shell.show_funnel).
PAGES = {
    "pages/overview.py": {"charts": 1, "text": "Trust overview"},
    "pages/school.py": {"charts": 3, "text": "School profile"},
    "pages/neglect.py": {"charts": 3, "text": "Neglect"},
    "pages/adolescents.py": {"charts": 3, "text": "Adolescents and risk outside the home"},
    "pages/multi_agency.py": {"charts": 3, "text": "Multi-agency working"},
    "pages/workforce.py": {"charts": 4, "text": "Workforce, leadership and KCSIE"},
    "pages/returns.py": {"charts": 1, "text": "Returns"},
    "pages/about.py": {"charts": 0, "text": "About the data"},
    "pages/settings.py": {"charts": 0, "text": "Settings"},
    "pages/audit.py": {"charts": 0, "text": "Record of changes"},
    "pages/schools.py": {"charts": 0, "text": "Schools"},
    "pages/board_questions.py": {"charts": 0, "text": "The board's questions"},
    "pages/pack.py": {"charts": 0, "text": "Board pack"},
    "pages/notifications.py": {"charts": 0, "text": "Notifications"},
    "pages/account.py": {"charts": 0, "text": "My account"},
}


@pytest.mark.parametrize("page", PAGES)
def test_page_opens_with_its_charts(sample_app, page):
    at = open_page(page)
    assert_no_exception(at)
    assert at.title[0].value == PAGES[page]["text"] or at.title[0].value.startswith(PAGES[page]["text"])
    assert len(at.get("plotly_chart")) == PAGES[page]["charts"]
    # every chart comes with its numbers a click away
    assert len(at.expander) >= PAGES[page]["charts"]


def test_overview_shows_the_heatmap_gap_list_and_returns(sample_app):
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert "Summer 2025/26" in at.title[0].value  # the latest term by default
    gap_table = at.table[0].value
    assert list(gap_table.columns) == ["Gap", "School", "Theme", "What we found", "A question to ask"]
    assert gap_table["Gap"].str.contains("Red").any()
    assert all(q.endswith("?") for q in gap_table["A question to ask"])
    assert [m.label for m in at.metric][0] == "Returns in"
    assert any("Returns for this term" in h.value for h in at.header)


def test_the_term_choice_changes_what_the_overview_shows(sample_app):
    at = open_page("pages/overview.py")
    at.selectbox(key="term").set_value("Autumn").run()
    assert_no_exception(at)
    assert at.title[0].value == "Trust overview: Autumn 2025/26"


def test_choosing_schools_narrows_the_gap_list(sample_app):
    at = open_page("pages/overview.py")
    everyone = set(at.table[0].value["School"])
    first = at.multiselect(key="schools").options[0]
    at.multiselect(key="schools").select(first).run()
    assert_no_exception(at)
    shown = set(at.table[0].value["School"]) if at.table else set()
    assert shown <= everyone and len(shown) <= 1


def test_empty_database_pages_say_so_plainly(app_env):
    for page in PAGES:
        at = open_page(page)
        assert_no_exception(at)


def test_school_profile_shows_the_dsls_explanations_beside_the_numbers(sample_app, sign_in):
    sign_in()
    from loaders import check_file
    from store import db, returns

    from .conftest import SAMPLE

    report = check_file(SAMPLE / "invalid" / "queries_blank_row_no_dsl.xlsx")
    urn, year, term = report.school_term
    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    first = report.queries[0]
    returns.save_return(engine, report, (SAMPLE / "invalid" / "queries_blank_row_no_dsl.xlsx").read_bytes(),
                        user="dsl@example.org", explanations={first.key: "We run no part-time timetables."})
    at = open_page("pages/school.py", state={"school": urn, "year": year, "term": term})
    assert_no_exception(at)
    assert any(term in h.value and year in h.value for h in at.header)
    explained = at.table[-1].value
    assert "We run no part-time timetables." in list(explained["The DSL explained"])
    assert "— not explained —" in list(explained["The DSL explained"])


def test_the_record_of_changes_lists_uploads_and_filters_by_school(sample_app):
    at = open_page("pages/audit.py")
    assert_no_exception(at)
    record = at.dataframe[0].value
    assert {"When (UTC)", "Who", "What", "Outcome", "School"} <= set(record.columns)
    assert (record["What"] == "Import").sum() == 71  # the sample trust, imported on first start
    at = open_page("pages/audit.py", state={"audit_school": "990002"})
    assert set(at.dataframe[0].value["School"]) == {"Kestrel Vale Primary School"}


def test_a_trust_leader_deletes_a_schools_data_after_typing_its_urn(sample_app):
    from store import db
    from store.returns import schools

    at = open_page("pages/schools.py", state={"schools_pick": "990002"})
    assert_no_exception(at)
    delete = next(b for b in at.button if b.label == "Delete this school's data")
    assert delete.disabled  # nothing happens until the URN is typed
    at.text_input(key="confirm-990002").input("990002").run()
    next(b for b in at.button if b.label == "Delete this school's data").click().run()
    assert_no_exception(at)
    assert any("Deleted Kestrel Vale Primary School" in s.value for s in at.success)
    assert "990002" not in set(schools(db.make_engine(f"sqlite:///{sample_app / 'app.db'}"))["urn"])


def test_about_lists_englands_figures_for_one_phase_with_their_sources(sample_app):
    at = open_page("pages/about.py")
    assert_no_exception(at)
    (table,) = [d.value for d in at.dataframe if "Phase" in d.value.columns]
    assert {"Primary", "Secondary", "Special"} <= set(table["Phase"])
    assert table["Source"].str.startswith("Suspensions and permanent exclusions in England, Department for Education").any()
    assert table["Covers"].str.contains("2023/24").all() and table["How it is counted"].str.len().gt(0).all()
    assert any("England publishes a figure for" in m.value for m in at.markdown)


def test_about_lists_every_problem_code_with_its_severity_title_and_what_to_do(sample_app):
    from loaders.problems import CATALOGUE, ERROR

    at = open_page("pages/about.py")
    assert_no_exception(at)
    (table,) = [d.value for d in at.dataframe if "Code" in d.value.columns]
    assert list(table.columns) == ["Code", "Severity", "Problem", "What to do"]
    assert list(table["Code"]) == [k.code for k in CATALOGUE]
    for k, row in zip(CATALOGUE, table.itertuples(index=False), strict=True):
        assert row == (k.code, "Error" if k.severity == ERROR else "Query", k.title, k.todo)
    assert any("A **query** lets the return in" in m.value for m in at.markdown)


def funnel_table(at):
    """The numbers behind the funnel: one table, shown beside the wide chart and again beside the
    phone's (the screen's width decides which a reader sees)."""
    tables = [d.value for d in at.dataframe if "Compared with" in d.value.columns]
    assert len(tables) == 2 and tables[0].equals(tables[1])
    return tables[0]


def test_a_school_with_too_few_like_it_is_shown_against_englands_figure_for_its_phase(sample_app):
    at = open_page("pages/adolescents.py")
    at.selectbox(key="measure_adolescents").set_value("permanent_exclusions").run()
    assert_no_exception(at)
    table = funnel_table(at)
    special = table[table["School"] == "Skylark Fold School"].iloc[0]
    assert special["Compared with"] == "England's special schools, 2023/24 (whole academic year)"
    assert special["Against the trust"] != "not compared"
    assert any("Held against England's figure for special schools" in c.value for c in at.caption)
    # where England has no figure for its phase, the school is still not placed
    at.selectbox(key="measure_adolescents").set_value("persistent_absence").run()
    table = funnel_table(at)
    assert table.set_index("School").loc["Skylark Fold School", "Compared with"] == "no school like it in the trust"
