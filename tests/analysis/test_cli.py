"""``python -m analysis gaps`` run as a data officer would, on a database holding the sample trust;
what cannot be done is said alike by ``python -m analysis compare``.

The contract: exit 0 with the gap list (a JSON list with --json, a wrapped table otherwise), 1 with
one plain sentence when there is nothing to list from, 2 on bad usage; never a traceback.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from analysis.context import Context
from analysis.dataset import load_dataset
from analysis.gaps import find_gaps
from store.db import dispose, make_engine
from store.sample import ensure_sample
from store.thresholds import set_threshold
from store.upgrades import upgrade
from tests.helpers.cli import NO_DATABASE, run_module, sample_db

ROOT = Path(__file__).resolve().parents[2]
THEMES = {"neglect", "adolescents", "multi_agency", "workforce", "oversight"}
REQUIRED = {"urn", "school", "theme", "indicator", "severity", "finding", "question", "academic_year", "term",
            "rule", "learning", "source"}
WIDTH = 100


def run(*args: str, db: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_module("analysis", *args, *(["--db", db] if db else []),
                      env={"COLUMNS": str(WIDTH), "DATABASE_URL": NO_DATABASE, **(env or {})})


def pattern(pattern_id: str) -> dict:
    with (ROOT / "sample_data" / "patterns.csv").open(newline="", encoding="utf-8") as fh:
        return next(row for row in csv.DictReader(fh) if row["pattern"] == pattern_id)


def expected(dataset, year: str, term: str) -> list[dict]:
    return [g.as_dict() for g in find_gaps(Context(dataset, year, term))]


def test_json_lists_the_latest_terms_gaps_in_the_promised_shape(sample_url, dataset):
    done = run("gaps", "--json", db=sample_url)
    assert done.returncode == 0, done.stderr
    gaps = json.loads(done.stdout)
    year, term = dataset.latest_term()
    assert gaps and gaps == expected(dataset, year, term)
    for gap in gaps:
        assert REQUIRED <= set(gap)
        assert gap["theme"] in THEMES and gap["severity"] in {"red", "amber", "note"}
        assert (gap["academic_year"], gap["term"]) == (year, term)
        assert gap["finding"].strip() and gap["question"].strip().endswith("?")
    order = {"red": 0, "amber": 1, "note": 2}
    assert [order[g["severity"]] for g in gaps] == sorted(order[g["severity"]] for g in gaps)


def test_the_configured_database_is_the_default(sample_url, dataset):
    done = run("gaps", "--json", env={"DATABASE_URL": sample_url})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected(dataset, *dataset.latest_term())


@pytest.mark.parametrize("year,term", [("2025/26", "Autumn"), ("2025-26", "autumn"), ("2025/2026", "AUTUMN")])
def test_year_and_term_choose_the_term_in_any_common_spelling(sample_url, dataset, year, term):
    missing = pattern("missing_return")
    assert missing["terms"] == "2025/26 Autumn", "the sample's missing return moved: update the spellings above"
    done = run("gaps", "--json", "--year", year, "--term", term, db=sample_url)
    assert done.returncode == 0, done.stderr
    gaps = json.loads(done.stdout)
    assert gaps == expected(dataset, "2025/26", "Autumn")
    assert {(g["academic_year"], g["term"]) for g in gaps} == {("2025/26", "Autumn")}
    assert any(g["rule"] == "missing_return" and g["urn"] == missing["urn"] for g in gaps)


def test_the_table_is_wrapped_to_the_terminal_and_ends_with_a_count(sample_url, dataset):
    done = run("gaps", db=sample_url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.rstrip("\n").splitlines()
    year, term = dataset.latest_term()
    gaps = expected(dataset, year, term)
    assert " ".join(lines[:lines.index("")]).startswith(f"Gap list for {term} {year}: ")
    header = next(line for line in lines if line.startswith("Severity"))
    assert header.split() == ["Severity", "School", "Theme", "Finding", "Question"]
    assert max(len(line) for line in lines) <= WIDTH
    reds = sum(g["severity"] == "red" for g in gaps)
    last_blank = len(lines) - 1 - lines[::-1].index("")
    closing = " ".join(lines[last_blank + 1:])  # the count, however it was wrapped
    assert closing.startswith(f"{len(gaps)} gaps for {term} {year} ({reds} red")
    assert closing.endswith(f"naming {len({g['urn'] for g in gaps})} schools.")
    assert sum(line.startswith(("RED ", "AMBER ", "NOTE ")) for line in lines) == len(gaps)
    first_red = next(g for g in gaps if g["severity"] == "red")
    assert first_red["finding"].split()[0] in done.stdout and first_red["urn"] in done.stdout


def test_a_narrow_terminal_gets_one_paragraph_a_gap(sample_url, dataset):
    done = run("gaps", db=sample_url, env={"COLUMNS": "60"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    gaps = expected(dataset, *dataset.latest_term())
    assert max(len(line) for line in lines) <= 60
    assert sum(line.startswith(("RED ", "AMBER ", "NOTE ")) for line in lines) == len(gaps)
    assert sum(line.startswith("    Ask: ") for line in lines) == len(gaps)


def test_the_gap_list_reads_postgresql_too(postgres_engine):
    ensure_sample(postgres_engine)
    set_threshold(postgres_engine, "training_red", 0.5, user="ceo@trust")
    data = load_dataset(postgres_engine)
    year, term = data.latest_term()
    done = run("gaps", "--json", db=postgres_engine.url.render_as_string(hide_password=False))
    assert done.returncode == 0, done.stderr
    with_threshold = [g.as_dict() for g in find_gaps(Context(data, year, term, {"training_red": 0.5}))]
    assert with_threshold != [g.as_dict() for g in find_gaps(Context(data, year, term))]
    assert json.loads(done.stdout) == with_threshold


def test_the_trusts_stored_thresholds_are_used(tmp_path, dataset):
    url = sample_db(tmp_path)
    engine = make_engine(url)
    set_threshold(engine, "blank_share", 1.0, user="ceo@trust")
    dispose(engine)
    year, term = dataset.latest_term()
    assert any(g["rule"] == "many_blanks" for g in expected(dataset, year, term))

    gaps = json.loads(run("gaps", "--json", db=url).stdout)
    assert gaps and not any(g["rule"] == "many_blanks" for g in gaps)
    lines = run("gaps", db=url).stdout.splitlines()
    heading = " ".join(lines[:lines.index("")])
    assert "except the trust's own for many blanks: from 1" in heading


def test_an_empty_database_says_how_to_fill_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    engine = make_engine(url)
    upgrade(engine)
    dispose(engine)
    for args in (("gaps",), ("gaps", "--json")):
        done = run(*args, db=url)
        assert done.returncode == 1
        assert done.stdout == ""
        assert done.stderr.strip() == "No returns stored yet: import some with python -m loaders import FILE..."


@pytest.mark.parametrize("command", ["gaps", "compare"])
def test_a_missing_database_is_a_sentence_and_is_not_created(tmp_path, command):
    where = tmp_path / "nowhere" / "dashboard.db"
    done = run(command, db=f"sqlite:///{where}")
    assert done.returncode == 1 and done.stdout == ""
    assert f"There is no database at {where}" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not where.parent.exists()


@pytest.mark.parametrize("command", [("gaps",), ("compare", "--json")])
def test_an_unreadable_database_url_is_a_sentence(command):
    done = run(*command, db="not a url")
    assert done.returncode == 1 and done.stdout == ""
    assert "is not a database URL" in done.stderr and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["gaps", "compare"])
def test_a_term_with_no_returns_is_a_sentence(sample_url, command):
    done = run(command, "--year", "2019/20", "--term", "Summer", db=sample_url)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("No returns are stored for Summer 2019/20. Terms with returns: ")


@pytest.mark.parametrize("args,says", [
    (("gaps", "--year", "2025/26"), "--year and --term go together"),
    (("gaps", "--term", "Spring"), "--year and --term go together"),
    (("gaps", "--year", "2025/27", "--term", "Spring"), "academic year as 2025/26"),
    (("gaps", "--year", "2025/26", "--term", "Winter"), "Autumn, Spring or Summer"),
    (("gaps", "--colour"), "unrecognized arguments"),
    (("compare", "--year", "2025/26"), "--year and --term go together"),
    (("compare", "--year", "2025/26", "--term", "Winter"), "Autumn, Spring or Summer"),
    (("compare", "--role", "trustee"), "unrecognized arguments"),
    ((), "required"),
])
def test_bad_usage_exits_2_with_a_plain_message(args, says):
    done = run(*args)
    assert done.returncode == 2
    assert says in done.stderr and done.stdout == ""
