"""Each role sees what it may, enforced where the data is read: a DSL finds no other school's
name or figure anywhere on any page; a trustee cannot upload or change settings; nobody passes
without signing in once real returns are stored."""

from __future__ import annotations

import pytest

from store import db
from store.sample import SAMPLE_USER

from .conftest import assert_no_exception, open_page, table_as_read

PAGES = ["pages/overview.py", "pages/school.py", "pages/neglect.py", "pages/adolescents.py",
         "pages/multi_agency.py", "pages/workforce.py", "pages/returns.py", "pages/upload.py",
         "pages/about.py", "pages/privacy.py", "pages/account.py"]
MINE = "990002"  # Kestrel Vale Primary School in the sample trust


def every_text(at) -> str:
    """Everything the page sent to the browser, elements and charts and tables included."""
    out = []

    def walk(node):
        proto = getattr(node, "proto", None)
        if proto is not None:
            out.append(str(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return "\n".join(out)


def other_schools(engine_url: str) -> list[str]:
    from store.returns import schools

    names = schools(db.make_engine(engine_url))
    return [n for u, n in zip(names["urn"], names["name"]) if u != MINE]


@pytest.mark.parametrize("page", PAGES)
def test_a_dsl_sees_no_other_schools_name_on_any_page(sample_app, sign_in, page):
    sign_in("dsl", [MINE], email="dsl@kestrel.example.org")
    at = open_page(page)
    assert_no_exception(at)
    text = every_text(at)
    leaked = [name for name in other_schools(f"sqlite:///{sample_app / 'app.db'}") if name in text]
    assert leaked == []
    if page in ("pages/overview.py", "pages/school.py"):
        assert "Kestrel Vale Primary School" in text


def test_a_dsl_sees_the_trusts_pooled_figure_for_comparison(sample_app, sign_in):
    sign_in("dsl", [MINE])
    at = open_page("pages/school.py")
    table = at.dataframe[0].value
    assert (table["Trust"] != "no data").any()


def test_a_dsl_cannot_open_the_settings_or_the_record(sample_app, sign_in):
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT

    sign_in("dsl", [MINE])
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page("pages/settings.py")  # not in a DSL's page list
    for page in ("pages/settings.py", "pages/audit.py"):
        at = AppTest.from_file(str(ROOT / page), default_timeout=30)  # and refused if reached anyway
        at.run()
        assert_no_exception(at)
        assert any("Only the trust's leaders" in w.value for w in at.warning)
        assert not at.number_input and not at.dataframe


def test_a_trustee_reads_everything_but_cannot_upload(sample_app, sign_in):
    sign_in("trustee", email="trustee@example.org")
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert len(set(at.table[0].value["School"])) > 1
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT

    with pytest.raises(ValueError, match="Could not find a navigation page"):
        open_page("pages/upload.py")  # not in a trustee's page list
    at = AppTest.from_file(str(ROOT / "pages" / "upload.py"), default_timeout=30)  # refused if reached anyway
    at.run()
    assert any("Trustees read the returns" in w.value for w in at.warning)
    assert not at.get("file_uploader")


def test_a_dsl_uploading_another_schools_return_is_refused_and_on_record(sample_app, sign_in):
    from pathlib import Path

    from store.audit import audit_log

    sign_in("dsl", [MINE], email="dsl@kestrel.example.org")
    other = sorted((Path(__file__).resolve().parents[2] / "sample_data" / "returns").glob("990001_*.xlsx"))[0]
    at = open_page("pages/upload.py")
    at.get("file_uploader")[0].set_value((other.name, other.read_bytes(), "application/octet-stream")).run()
    assert_no_exception(at)
    assert any("not a school you upload for" in e.value for e in at.error)
    assert not at.table  # not even the problems of another school's return are shown
    log = audit_log(db.make_engine(f"sqlite:///{sample_app / 'app.db'}"), actor="dsl@kestrel.example.org")
    assert list(log["outcome"]) == ["refused"] and log["urn"].iloc[0] == "990001"


def test_nobody_passes_without_signing_in_once_real_returns_are_stored(sample_app):
    import sqlalchemy as sa

    from store.schema import returns

    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    at = open_page("pages/overview.py")
    assert any("Demonstration" in i.value for i in at.info)  # only the sample: a demonstration
    with engine.begin() as conn:  # a real return arrives
        conn.execute(sa.update(returns).where(returns.c.id == 1).values(submitted_by="dsl@example.org"))
    at = open_page("pages/overview.py")
    assert_no_exception(at)
    assert any("nobody is set up to sign in" in e.value for e in at.error)
    assert not at.table and not at.get("plotly_chart")
    assert SAMPLE_USER == "sample data"


def test_single_sign_on_offers_the_sign_in_button_and_nothing_else(sample_app):
    from streamlit.testing.v1 import AppTest

    from .conftest import ROOT

    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=30)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "id", "client_secret": "secret",
                          "server_metadata_url": "https://login.example.org/.well-known/openid-configuration"}
    at.run()
    assert_no_exception(at)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.get("plotly_chart") and not at.table


def test_a_view_cached_for_a_trust_leader_is_never_served_to_a_dsl(sample_app, sign_in):
    sign_in("trust_leader")
    leader = every_text(open_page("pages/overview.py"))
    assert "Wrenhaven Academy" in leader
    sign_in("dsl", [MINE], email="dsl@kestrel.example.org")
    for page in PAGES:
        text = every_text(open_page(page))
        leaked = [n for n in other_schools(f"sqlite:///{sample_app / 'app.db'}") if n in text]
        assert leaked == [], page


def test_a_trustee_sees_small_counts_as_fewer_than_5_everywhere(sample_app, sign_in):
    import re

    small = re.compile(r"(?<![\d,.])[1-4] of ")
    sign_in("trust_leader")
    leader = table_as_read(open_page("pages/overview.py").table[0].value)
    sign_in("trustee", email="trustee@example.org")
    trustee = table_as_read(open_page("pages/overview.py").table[0].value)
    # The same gaps are raised, except where the outcome turns on counts hidden from trustees:
    # then they read that the counts are too small to judge from, gap or not.
    unsure = trustee["What we found"].str.contains("too small to show")
    assert set(trustee.loc[~unsure, "School"]) <= set(leader["School"])
    events = _event_findings(sample_app)  # meetings and reports: their counts are not suppressed
    theirs_by = {(s, f.split(":")[0][:12]): f for s, f in zip(trustee["School"], trustee["What we found"])}
    pairs = [(mine, theirs_by[(s, mine.split(":")[0][:12])]) for s, mine in zip(leader["School"], leader["What we found"])
             if mine not in events and (s, mine.split(":")[0][:12]) in theirs_by]
    assert any(small.search(mine) for mine, _ in pairs), "the sample should hold some small counts"
    for mine, theirs in pairs:
        assert not small.search(theirs), theirs
        if small.search(mine):
            assert theirs != mine
    at = open_page("pages/neglect.py")
    assert_no_exception(at)
    counts = at.dataframe[0].value["Count"]
    assert not counts.isin(["1", "2", "3", "4"]).any()
    assert counts.isin(["fewer than 5", "not shown"]).any()


def _event_findings(folder) -> set[str]:
    """The findings on events (meetings, reports), which every reader sees with their counts."""
    from analysis.context import Context
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps
    from analysis.indicators import INDICATORS_BY_ID
    from analysis.privacy import about_children

    engine = db.make_engine(f"sqlite:///{folder / 'app.db'}")
    data = load_dataset(engine)
    return {g.finding for g in find_gaps(Context(data, *data.latest_term()))
            if g.indicator in INDICATORS_BY_ID and not about_children(g.indicator)}
