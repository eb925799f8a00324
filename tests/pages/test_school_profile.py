"""The School profile: each measure's change says which way it went (▲/▼) and whether that is
better or worse where the measure has a better direction, higher or lower where it has none; the
theme filter offers every theme, Oversight too; every column is in a table that wraps, so none is
cut off; the trend's sentence is about the school chosen; and a DSL named without a name, or a
share left blank, is never "nan" or 0."""

from __future__ import annotations

import re

import pytest

from analysis.indicators import INDICATORS, NO_JUDGEMENT
from analysis.themes import THEMES
from analysis.views import BLANK_COUNTS, RETURN_RECEIVED, UNEXPLAINED

from .conftest import assert_no_exception, open_page, table_as_read

LABELS = {i.label: i for i in INDICATORS}
CHANGE = re.compile(r"(?P<arrow>[▲▼]) (?P<sign>[+-])[\d.]+ (?:per 100|points?) \((?P<word>better|worse|higher|lower)\)")
SAME = re.compile(r"(?:0\.0 per 100|0 points) \(about the same\)")


def profile(state: dict | None = None, **kw):
    at = open_page("pages/school.py", state={"school": "990009", **(state or {})}, **kw)
    assert_no_exception(at)
    return at


def measures(at):
    return table_as_read(next(t.value for t in at.table if "This school" in t.value.columns))


@pytest.mark.parametrize("role", ["trust_leader", "trustee"])
def test_each_change_has_its_arrow_and_a_judgement_only_where_the_measure_has_a_direction(sample_app, sign_in, role):
    sign_in(role)
    seen = set()
    for urn in ("990002", "990009", "990011"):
        table = measures(profile({"school": urn}))
        assert list(table.columns) == ["Theme", "Measure", "This school", "Numbers", "Change on last term",
                                       "On a year ago", "Trust", "England", "Against the trust"]
        for r in table.itertuples(index=False):
            ind = LABELS.get(r.Measure)
            for cell in (r[4], r[5]):
                if ind is None or cell == "no data" or SAME.fullmatch(cell):
                    continue
                m = CHANGE.fullmatch(cell)
                assert m, (r.Measure, cell)
                assert (m["arrow"] == "▲") == (m["sign"] == "+")
                judged = m["word"] in ("better", "worse")
                assert judged == (ind.polarity != NO_JUDGEMENT), (r.Measure, cell)
                if judged:
                    up_is_good = ind.polarity == "higher_better"
                    assert (m["word"] == "better") == ((m["sign"] == "+") == up_is_good), (r.Measure, cell)
                seen.add(m["word"])
    assert seen == {"better", "worse", "higher", "lower"}


def test_the_theme_filter_offers_every_theme_and_oversight_shows_the_returns_own_checks(sample_app):
    at = profile()
    pills = next(p for p in at.button_group if p.key == "school_theme")
    assert [str(o.content) if hasattr(o, "content") else str(o) for o in pills.options] == [t.short for t in THEMES]
    pills.set_value("Oversight").run()
    assert_no_exception(at)
    table = measures(at)
    assert list(table["Measure"]) == [RETURN_RECEIVED, BLANK_COUNTS, UNEXPLAINED]
    assert set(table["Theme"]) == {"Oversight"}
    assert re.fullmatch(r"on time|\d+ days? late", table["This school"].iloc[0])
    assert re.fullmatch(r"\d+%", table["This school"].iloc[1])
    assert re.fullmatch(r"[\d,]+ of [\d,]+", table["Numbers"].iloc[1])


def test_every_column_is_in_a_table_that_wraps_so_england_is_never_cut_off(sample_app):
    at = profile()
    assert not [d for d in at.dataframe if "England" in d.value.columns]  # a grid would scroll it out of view
    table = measures(at)
    assert "England" in table.columns and table["England"].str.contains("%|per 100").any()


@pytest.mark.parametrize("role", ["trust_leader", "trustee"])
def test_the_trend_sentence_is_about_the_school_chosen(sample_app, sign_in, role):
    sign_in(role)
    at = profile({"school": "990011", "school_measure": "persistent_absence"})
    name = at.header[0].value.split(",")[0]
    said = next(c.value for c in at.caption if "Pupils persistently absent at" in c.value)
    assert "across the trust" not in said
    assert re.fullmatch(rf"Pupils persistently absent at {re.escape(name)}: \d+% in \w{{3}} \d{{4}}/\d{{2}}, "
                        r"\d+% in \w{3} \d{4}/\d{2} \((?:[+-]\d+ points?|0 points), (?:higher|lower|about the same)\)"
                        r"; the trust's figure was \d+% in \w{3} \d{4}/\d{2}\.", said.replace("\\", "")), said


def test_a_dsl_named_with_no_name_and_a_return_never_read_as_nan(sample_app, sign_in):
    import sqlalchemy as sa

    from loaders.registry import DSL_ROLE
    from store import db, schema

    sign_in("trust_leader")
    engine = db.make_engine(f"sqlite:///{sample_app / 'app.db'}")
    with engine.begin() as conn:
        conn.execute(sa.update(schema.leads).where(schema.leads.c.role == DSL_ROLE)
                     .values(name=None))
    at = profile()
    words = [c.value for c in at.caption] + [f"{m.label}: {m.value}" for m in at.metric]
    assert "Designated safeguarding lead: named" in words
    assert not [w for w in words if re.search(r"\bnan\b|\bNone\b", w)], words


def test_with_20_schools_the_profile_names_its_own_school_on_the_funnel(app_env, sign_in):
    """Past 15 schools a funnel names only those outside the expected range; the profile passes its
    school, so that school is named (in bold) too, on the full-width plot and the phone's."""
    import json

    from analysis.dataset import load_dataset
    from charts.format import shorten
    from charts.funnel import NAME_LIMIT
    from sample_data import large
    from store import db, upgrades
    from store.returns import save_return

    engine = db.make_engine(f"sqlite:///{app_env / 'app.db'}")
    upgrades.upgrade(engine)
    for _, report, content in large.iter_reports(large.large_trust(20, 2, seed=5)):
        save_return(engine, report, content, user="data officer", action="import")
    data = load_dataset(engine)
    year, term = data.terms[-1]
    now = data.compared[data.compared["term_index"] == data.compared["term_index"].max()].dropna(subset=["value"])
    ind, rows = next((i, rows) for i in INDICATORS if i.funnel
                     for rows in [now[now["indicator"] == i.id]] if (rows["position"] == "within").sum() >= 16)
    urn = sorted(rows.loc[rows["position"] == "within", "urn"])[0]
    others = {data.school_names[u] for u in rows.loc[rows["position"] == "within", "urn"]} - {data.school_names[urn]}
    db.dispose(engine)

    sign_in("trust_leader")
    at = profile({"school": urn, "school_measure": ind.id, "year": year, "term": term}, timeout=60)
    funnels = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    funnels = [f for f in funnels if any(t.get("meta") == "key" for t in f["data"])]
    assert len(funnels) == 2  # the full-width form and the phone's
    shown = {name: shorten(name, NAME_LIMIT) for name in data.school_names.values()}  # as beside a marker
    for figure in funnels:
        said = [a["text"] for a in figure["layout"]["annotations"]]
        assert f"<b>{shown[data.school_names[urn]]}</b>" in said
        assert not {shown[o] for o in others} & set(said), "a school within the range is not named past 15 schools"
    assert any(m.value == f"**{ind.label}: each school against schools of its phase**" or
               m.value == f"**{ind.label}: each school against the trust**" for m in at.markdown)
    assert any("and the one chosen in bold" in c.value or "only the one chosen is named" in c.value
               for c in at.caption)
