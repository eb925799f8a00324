"""Values read through the driver's cursor into typed columns keep a blank blank."""

from __future__ import annotations

import math

import pandas as pd

from analysis.context import Dataset
from store.overview import value_columns
from store.returns import save_return


def test_blank_stays_missing_never_zero(sqlite_engine, report_factory):
    blanks = ("referrals.neglect.concerns", "about.date_completed", "about.completed_by")
    report, content = report_factory(blanks=blanks)
    save_return(sqlite_engine, report, content, user="dsl@school.example")
    values = value_columns(sqlite_engine).set_index("measure_id")
    for mid in blanks:
        assert math.isnan(values.loc[mid, "value"]) and values.loc[mid, "text"] is None
    assert values.loc["about.urn", "text"] == "149001"
    assert values.loc["about.pupils_on_roll", "value"] == report.values["about.pupils_on_roll"]
    assert Dataset(schools=pd.DataFrame({"urn": ["149001"], "name": ["A"]}), values=value_columns(sqlite_engine),
                   returns=pd.DataFrame(), leads=pd.DataFrame(), queries=pd.DataFrame()).wide[
        "referrals.neglect.concerns"].isna().all()


def test_no_returns_no_rows(sqlite_engine):
    empty = value_columns(sqlite_engine)
    assert empty.empty and list(empty.columns) == ["urn", "academic_year", "term", "measure_id", "value", "text"]
