"""The Overview's numbers tie up: the headline counts gaps and says in how many of the heatmap's
cells they are; every gap row links to its school's profile at its term; and "what changed since
the term before" lists the gaps new and closed, and movements a reader can check on the profile."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from analysis.context import Context
from analysis.gaps import find_gaps, gaps_frame

from .conftest import as_read, assert_no_exception, open_page, table_as_read

LINK = re.compile(r"\[(?P<name>.+)\]\((?P<url>[^()\s]+)\)")
SUMMER, SPRING = ("2025/26", "Summer"), ("2025/26", "Spring")


def link_of(cell: str) -> tuple[str, dict[str, str]]:
    """A table cell's link: (its words, its address's page and query)."""
    m = LINK.fullmatch(cell)
    assert m, cell
    url = urlsplit(m.group("url"))
    return as_read(m.group("name")), {"page": url.path, **{k: v[0] for k, v in parse_qs(url.query).items()}}


def reader_gaps(sample_app, role: str, term) -> "pd.DataFrame":  # noqa: F821
    """The term's gap list as analysis gives it to a reader of ``role``."""
    from analysis.context import restrict
    from analysis.dataset import load_dataset
    from store import db
    from store.access import scope_for
    from store.users import User

    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    data = restrict(load_dataset(engine), scope_for(User("r@example.org", None, role, ())))
    return gaps_frame(find_gaps(Context(data, *term)))


def metric(at, label: str):
    return next(m for m in at.metric if label in m.label)


@pytest.mark.parametrize("role", ["trust_leader", "trustee"])
def test_the_headline_counts_gaps_and_the_heatmap_cells_they_are_in(sample_app, sign_in, role):
    sign_in(role)
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    cells = at.dataframe[0].value.iloc[:, 2:]  # the heatmap's numbers, one cell a school and theme
    gaps = reader_gaps(sample_app, role, SUMMER)
    captions = [c.value for c in at.caption]
    for label, level, symbol in (("Red gaps", "red", "✖"), ("Amber gaps", "amber", "▲"), ("Questions", "note", "?")):
        value = int(metric(at, label).value)
        assert value == (gaps["severity"] == level).sum()
        shown = cells.map(lambda c, symbol=symbol: c.startswith(symbol)).to_numpy().sum()  # cells whose worst gap is this
        under = gaps[gaps["severity"] == level].drop_duplicates(["urn", "theme"]).shape[0] - shown
        said = f"in {shown + under} school-themes" + (f" ({under} shown red" if under else ",")
        schools = gaps.loc[gaps["severity"] == level, "urn"].nunique()
        assert any(c.startswith(said) and c.endswith(f"at {schools} of 12 schools") for c in captions), (said, captions)
    # the heatmap's own words count cells: the caption above it says how the gaps sit in them
    red = (gaps["severity"] == "red").sum()
    red_cells = cells.map(lambda c: c.startswith("✖")).to_numpy().sum()
    assert any(f"So the map counts cells, not gaps: {red} red gaps in {red_cells} cells" in c for c in captions)


def test_one_school_reads_its_counts_in_the_singular(sample_app):
    at = open_page("pages/overview.py", state={"schools": ["990004"]})  # one school chosen
    assert_no_exception(at)
    # (the heatmap's own summary under it is charts.heatmap's, left out here)
    words = " ".join(c.value for c in at.caption if not c.value.startswith("Across "))
    assert "of 1 school" in words and "of 1 schools" not in words
    assert not re.search(r"(?<![\d,.])1 (?:gaps|school-themes|schools|cells)\b", words), words


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/neglect.py", "pages/workforce.py"])
def test_every_gap_row_links_to_its_schools_profile_at_its_term(sample_app, page):
    at = open_page(page, state={"year": SPRING[0], "term": SPRING[1]})
    assert_no_exception(at)
    gap_tables = [t.value for t in at.table if "What we found" in t.value.columns]
    assert gap_tables and all(len(t) for t in gap_tables)
    names = {v: k for k, v in _names(sample_app).items()}
    for table in gap_tables:
        for cell in table["School"]:
            name, link = link_of(cell)
            assert link == {"page": "school", "school": f"{name} ({names[name]})", "year": SPRING[0],
                            "term": SPRING[1]}


def test_the_link_opens_the_profile_of_that_school_at_that_term(sample_app):
    at = open_page("pages/overview.py", state={"year": SPRING[0], "term": SPRING[1]})
    name, link = link_of(at.table[0].value["School"].iloc[-1])
    urn = re.search(r"\((\d+)\)$", link["school"]).group(1)
    profile = open_page("pages/school.py", state={"school": urn, "year": link["year"], "term": link["term"]})
    assert_no_exception(profile)
    assert any(h.value == f"{name}, Spring 2025/26" for h in profile.header)


def _names(sample_app) -> dict[str, str]:
    from analysis.dataset import load_dataset
    from store import db

    return load_dataset(db.make_engine(f"sqlite:///{sample_app / 'app.db'}")).school_names


# ---- what changed since the term before ---------------------------------------------------------

def expander_tables(at, start: str) -> list:
    (box,) = [e for e in at.expander if e.label.startswith(start)]
    return [t.value for t in box.table]


@pytest.mark.parametrize("role", ["trust_leader", "trustee"])
def test_what_changed_lists_the_gaps_new_and_closed_since_the_term_before(sample_app, sign_in, role):
    sign_in(role)
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert "What changed since Spring 2025/26" in [h.value for h in at.header]
    # listed of the kinds chosen for the gap list: red and amber at first, then questions too
    (first,) = expander_tables(at, "Gaps new this term")
    assert set(first["Gap"]) <= {"✖ Red", "▲ Amber"}
    at.button_group(key="ov_levels").set_value(["red", "amber", "note"]).run()
    now, before = reader_gaps(sample_app, role, SUMMER), reader_gaps(sample_app, role, SPRING)
    kind = ["urn", "theme", "indicator", "rule"]
    new = now.merge(before[kind].drop_duplicates(), on=kind, how="left", indicator=True)
    new = new[new["_merge"] == "left_only"]
    closed = before.merge(now[kind].drop_duplicates(), on=kind, how="left", indicator=True)
    closed = closed[closed["_merge"] == "left_only"]  # every school returned for Summer
    assert len(new) and len(closed)
    (new_table,) = expander_tables(at, "Gaps new this term")
    (closed_table,) = expander_tables(at, "Gaps closed since Spring 2025/26")
    assert sorted(table_as_read(new_table)["What we found"]) == sorted(new["finding"])
    assert sorted(table_as_read(closed_table)["What we found in Spring 2025/26"]) == sorted(closed["finding"])
    for cell in closed_table["School"]:  # a closed gap links to the profile at the term it was found
        assert link_of(cell)[1]["term"] == "Spring"
    said = next(c.value for c in at.caption if "new this term" in c.value)
    counts = [(found["severity"] == level).sum() for found in (new, closed) for level in ("red", "amber", "note")]
    assert said.startswith("{} gaps new this term ({} red, {} amber, {} questions) and {} gaps closed since Spring "
                           "({} red, {} amber, {} questions)".format(len(new), *counts[:3], len(closed), *counts[3:]))


def test_a_trustees_movements_are_the_figures_their_school_profiles_show(sample_app, sign_in):
    """Each movement's two figures are the ones the school's profile shows the trustee for each
    term, and its change is the one the profile gives: the numbers tie up, and none is hidden."""
    sign_in("trustee")
    at = open_page("pages/overview.py")
    (moved,) = expander_tables(at, "The largest movements")
    moved = table_as_read(moved)
    assert list(moved.columns) == ["School", "Theme", "Measure", "Spring 2025/26", "Summer 2025/26", "Change"]
    assert 0 < len(moved) <= 10
    names = {v: k for k, v in _names(sample_app).items()}
    profiles = {}
    for r in moved.head(4).itertuples(index=False):
        name, link = link_of(r.School)
        for term, shown in (("Spring", r[3]), ("Summer", r[4])):
            if (name, term) not in profiles:
                page = open_page("pages/school.py", state={"school": names[name], "year": "2025/26", "term": term})
                profiles[(name, term)] = table_as_read(
                    next(t.value for t in page.table if "This school" in t.value.columns)).set_index("Measure")
            row = profiles[(name, term)].loc[r.Measure]
            assert row["This school"] == shown
            if term == "Summer":
                assert row["Change on last term"] == r.Change
        assert re.fullmatch(r"[▲▼] [+-][\d.]+ (?:per 100|points?) \((?:better|worse|higher|lower)\)", r.Change)
