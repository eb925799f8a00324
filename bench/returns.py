"""How fast a DSL's return is checked and how fast a trust's returns are stored.

- ``check_figure``: one return checked against the raw parse of the same file (python-calamine
  reading every sheet), alternating call by call; goal: well under a second. Then what reading
  every place a workbook can hide a child's details (comments, headers, names, charts,
  properties, sheet names, the file's name) adds to a clean return's check, against the check
  that reads the cells alone, alternating; goal: under 100 ms added.
- ``import_figure``: 1,000 returns imported into a new SQLite database and, when
  BENCH_DATABASE_URL is given, into a new PostgreSQL schema, the two alternating; goals: 8 s and
  10 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from python_calamine import CalamineWorkbook

from loaders import check_return, personal
from sample_data import generate
from store import db, upgrades
from store.importer import import_paths

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = sorted((ROOT / "sample_data" / "returns").glob("*.xlsx"))
IMPORT_N = 1000
PLACES_GOAL_MS = 100.0  # added to a clean return's check
PLACES_FILES = [("xlsx", SAMPLE[len(SAMPLE) // 2] if SAMPLE else None),
                ("ods", ROOT / "tests" / "fixtures" / "libreoffice_valid.ods"),
                ("xls", ROOT / "tests" / "fixtures" / "libreoffice_valid.xls")]


def raw_parse(data: bytes) -> None:
    book = CalamineWorkbook.from_filelike(BytesIO(data))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()


@contextmanager
def cells_only():
    """The check as it was before every place was read: the child-data scan sees the cells alone."""
    texts, name = personal._texts, personal.find_in_name
    personal._texts, personal.find_in_name = (lambda _screen: iter(())), (lambda _filename: None)
    try:
        yield
    finally:
        personal._texts, personal.find_in_name = texts, name


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_places(data: bytes, name: str, pairs: int = 200) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU seconds of each check, cells only and every place, alternating call by call."""
    check_return(data, name)  # warm-up: imports, compiled patterns, the memory of clean text
    with cells_only():
        check_return(data, name)
    times = {"cells": {"wall": [], "cpu": []}, "places": {"wall": [], "cpu": []}}
    for i in range(pairs):
        for kind in (("cells", "places") if i % 2 else ("places", "cells")):
            if kind == "cells":
                with cells_only():
                    wall, cpu = _timed(lambda: check_return(data, name))
            else:
                wall, cpu = _timed(lambda: check_return(data, name))
            times[kind]["wall"].append(wall)
            times[kind]["cpu"].append(cpu)
    return times


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"{min(ms):6.2f} / {statistics.median(ms):6.2f} / {max(ms):6.2f}"


def places_lines(pairs: int = 200):
    """The lines for what reading every place adds, per format, each with its goal."""
    for fmt, path in PLACES_FILES:
        if path is None or not path.exists():
            continue
        times = bench_places(path.read_bytes(), path.name, pairs)
        added = {k: statistics.median(times["places"][k]) - statistics.median(times["cells"][k]) for k in ("wall", "cpu")}
        yield f"  child data in every place, clean .{fmt} ({pairs} alternating pairs; min / median / max ms):", None
        for kind, label in (("cells", "cells only"), ("places", "every place")):
            yield f"    {label:12s} wall {_spread(times[kind]['wall'])}   CPU {_spread(times[kind]['cpu'])}", None
        yield (f"    added (median): wall {added['wall'] * 1000:+6.2f} ms, CPU {added['cpu'] * 1000:+6.2f} ms",
               (fmt, added["wall"] * 1000))


CHECK_GOAL_S = 1.0  # one return checked: well under a second
CHECK_PAIRS = 100
IMPORT_GOALS_S = {"SQLite": 8.0, "PostgreSQL": 10.0}


def check_figure(quick: bool, postgres_url: str | None):
    """The check of one return against the raw parse of the same file, alternating call by call;
    then what reading every place adds to a clean return's check, per format."""
    from bench.core import Goal, Result, Samples, ratio_spread, ratios

    out = Result()
    if not SAMPLE:
        out.goals.append(Goal("check one return", "no sample returns", "", None,
                              "run `python -m sample_data.generate` first"))
        return out
    data = SAMPLE[len(SAMPLE) // 2].read_bytes()
    check_return(data, "warm-up.xlsx")
    raw_parse(data)
    pairs = 10 if quick else CHECK_PAIRS
    raw, checked = Samples(), Samples()
    for i in range(pairs):
        for kind in (("raw", "check") if i % 2 == 0 else ("check", "raw")):
            if kind == "raw":
                raw.time(lambda: raw_parse(data))
            else:
                checked.time(lambda: check_return(data, "return.xlsx"))
    out.lines.append(checked.line("check one return"))
    out.lines.append(raw.line("raw parse, same file"))
    paired = ratios(checked.wall, raw.wall)
    out.lines.append(f"  check / raw parse, pair by pair: {ratio_spread(paired)}")
    med = checked.median
    out.goals.append(Goal("check one return", f"{med * 1000:.1f} ms median of {pairs} "
                          f"({statistics.median(paired):.2f}x the raw parse)", f"< {CHECK_GOAL_S:g} s",
                          med < CHECK_GOAL_S))
    for line, added in places_lines(5 if quick else 200):
        out.lines.append(line)
        if added is not None:
            fmt, ms = added
            out.goals.append(Goal(f"child data in every place, added to a clean .{fmt}'s check", f"{ms:+.1f} ms",
                                  f"< {PLACES_GOAL_MS:g} ms", ms < PLACES_GOAL_MS))
    return out


def import_figure(quick: bool, postgres_url: str | None):
    """``n`` returns imported into a new database, SQLite and (when given) PostgreSQL alternating."""
    from bench.core import Goal, Result, Samples

    n, repeats = (20, 1) if quick else (IMPORT_N, 3)
    kinds = ["SQLite"] + (["PostgreSQL"] if postgres_url else [])
    times = {k: Samples() for k in kinds}
    stored_ok = {k: True for k in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        paths = [str(p) for p in generate.write_many_returns(Path(tmp) / "returns", n)]
        for i in range(repeats):
            for kind in (kinds if i % 2 == 0 else kinds[::-1]):
                with _new_database(kind, Path(tmp) / f"import{i}.db", postgres_url) as engine:
                    outcomes = times[kind].time(lambda: import_paths(paths, engine=engine, user="benchmark"))
                stored_ok[kind] &= sum(1 for o in outcomes if o.saved) == n
    out = Result()
    for kind in kinds:
        out.lines.append(times[kind].line(f"import {n:,} returns into {kind}" + (
            "" if stored_ok[kind] else " (NOT ALL STORED)"), "s"))
    if postgres_url:
        out.lines.append("  (CPU is this process's: PostgreSQL's own server processes are not counted)")
    for kind in IMPORT_GOALS_S:
        label = f"import {n:,} returns, {kind}"
        if kind not in times:
            out.goals.append(Goal(label, "not measured", f"<= {IMPORT_GOALS_S[kind]:g} s", None,
                                  "set BENCH_DATABASE_URL"))
            continue
        med = times[kind].median
        out.goals.append(Goal(label, f"{med:.2f} s median of {repeats}", f"<= {IMPORT_GOALS_S[kind]:g} s",
                              med <= IMPORT_GOALS_S[kind] and stored_ok[kind]))
    return out


@contextmanager
def _new_database(kind: str, path: Path, postgres_url: str | None):
    """A new, empty database of the store's schema: a SQLite file, or a PostgreSQL schema of its own
    (dropped afterwards)."""
    if kind == "SQLite":
        engine = db.make_engine(f"sqlite:///{path}")
        upgrades.upgrade(engine)
        try:
            yield engine
        finally:
            db.dispose(engine)
        return
    with postgres_schema(postgres_url) as engine:
        upgrades.upgrade(engine)
        yield engine


@contextmanager
def postgres_schema(url: str, name: str | None = None, *, keep: bool = False):
    """An engine on ``url`` whose search_path is a schema of its own (made here; dropped after
    unless ``keep``)."""
    import uuid

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    schema = name or f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine = db.make_engine(make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
                            .render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        db.dispose(engine)
        if not keep:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
