"""A large trust's Overview stays a page a browser draws at once and a board can read: the heatmap
maps the schools whose gaps are the most serious and says how many of how many; a long table is
read a page at a time, every row on some page, in order; the returns' status names the first
schools of a long list and counts the rest."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from analysis.context import Context
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps, gaps_frame
from bench import trusts
from store import db
from ui.look import PAGE

from .conftest import as_read, assert_no_exception, open_page, table_as_read

SCHOOLS = 130
LEVELS = ("red", "amber", "note")


@pytest.fixture(scope="module")
def large_file(tmp_path_factory):
    """A made-up trust of SCHOOLS schools over two terms, built once for the module."""
    return trusts.large_database(SCHOOLS, 2, seed=3, folder=tmp_path_factory.mktemp("large")).path


@pytest.fixture
def large_app(app_env, large_file):
    shutil.copy(large_file, app_env / "app.db")
    return app_env


def term_gaps(app) -> tuple[str, str, pd.DataFrame]:
    """The newest term and its gap list, as analysis gives it to a trust leader."""
    engine = db.make_engine(f"sqlite:///{app / 'app.db'}")
    try:
        data = load_dataset(engine)
    finally:
        db.dispose(engine)
    year, term = data.terms[-1]
    return year, term, gaps_frame(find_gaps(Context(data, year, term)))


def weights(gaps: pd.DataFrame) -> dict[str, tuple[int, ...]]:
    """Each school's themes whose most serious gap is red, amber, a question; then its gaps."""
    rank = gaps["severity"].map({level: i for i, level in enumerate(LEVELS)})
    worst = rank.groupby([gaps["school"], gaps["theme"]]).min().groupby(level=0)
    counts = worst.value_counts().unstack(fill_value=0).reindex(columns=range(3), fill_value=0)
    total = gaps.groupby("school").size()
    return {school: (*counts.loc[school].tolist(), int(total[school])) for school in counts.index}


def test_the_heatmap_maps_the_schools_whose_gaps_are_the_most_serious(large_app, sign_in):
    sign_in("trust_leader")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    _, _, gaps = term_gaps(large_app)
    mapped = at.dataframe[0].value  # the numbers behind the heatmap: a school a row
    assert len(mapped) == 50
    assert list(mapped["School"]) == sorted(mapped["School"])  # in the order of names, as a small trust's
    assert any(f"The map shows the 50 of {SCHOOLS} schools chosen whose gaps are the most serious" in c.value
               for c in at.caption)
    weight = weights(gaps)
    shown = [weight.get(s, (0, 0, 0, 0)) for s in mapped["School"]]
    left = [w for s, w in weight.items() if s not in set(mapped["School"])]
    assert left and min(shown) >= max(left)  # nothing left off is more serious than anything shown
    assert max(shown)[0] > 0  # the worst schools have red
    # the figure draws the same 50 rows; its title says it is a selection
    figure = at.get("plotly_chart")[0].proto.spec
    assert "the 50 schools with the most serious" in figure


def test_a_long_gap_list_is_read_a_page_at_a_time_every_row_on_a_page(large_app, sign_in):
    sign_in("trust_leader")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    _, _, gaps = term_gaps(large_app)
    wanted = gaps[gaps["severity"].isin(["red", "amber"])]  # the list's default kinds
    assert len(wanted) > 2 * PAGE  # three pages at least, so a middle page is tried
    pager = next(s for s in at.selectbox if s.label == "Rows shown" and s.key.startswith("page-gaps-"))
    assert pager.options[:2] == [f"1–{PAGE} of {len(wanted):,}", f"{PAGE + 1}–{2 * PAGE} of {len(wanted):,}"]
    read = []
    for start in range(0, len(wanted), PAGE):
        pager = next(s for s in at.selectbox if s.label == "Rows shown" and s.key.startswith("page-gaps-"))
        pager.set_value(start).run()
        assert_no_exception(at)
        (table,) = [table_as_read(t.value) for t in at.table if "A question to ask" in list(t.value.columns)
                    and "Gap" in list(t.value.columns)][:1]
        assert len(table) == min(PAGE, len(wanted) - start)
        read += table["What we found"].tolist()
    assert read == [as_read(f) for f in wanted["finding"]]


def test_the_returns_status_names_the_first_schools_and_counts_the_rest(large_app, sign_in):
    sign_in("trust_leader")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    said = [m.value for m in at.markdown]
    at_heading = next(i for i, text in enumerate(said) if text.startswith("**On time: "))
    heading, lines = said[at_heading], said[at_heading + 1].split("\n")  # the heading, then its list
    assert len(lines) == 21 and all(line.startswith("- ") for line in lines)
    counted = int(heading.removeprefix("**On time: ").rstrip("*").replace(",", ""))
    assert counted > 20 and lines[-1] == f"- …and {counted - 20:,} more: the Returns page lists every school"
