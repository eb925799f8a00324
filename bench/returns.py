"""How fast a DSL's return is checked and how fast a trust's returns are stored.

- the median time to check one return against the median raw parse time of the same file
  (python-calamine reading every sheet), goal: within 3x;
- the time to import 1,000 returns into a fresh SQLite database, goal: under 15 s;
- what reading every place a workbook can hide a child's details (comments, headers, names,
  charts, properties, sheet names, the file's name) adds to a clean return's check, against the
  check that reads the cells alone: the two alternate in this one process, call by call, and
  each is timed in wall-clock and CPU time. Goal: under 100 ms added.
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
CHECK_GOAL = 3.0  # times the raw parse
IMPORT_GOAL_S = 15.0
IMPORT_N = 1000
PLACES_GOAL_MS = 100.0  # added to a clean return's check
PLACES_FILES = [("xlsx", SAMPLE[len(SAMPLE) // 2] if SAMPLE else None),
                ("ods", ROOT / "tests" / "fixtures" / "libreoffice_valid.ods"),
                ("xls", ROOT / "tests" / "fixtures" / "libreoffice_valid.xls")]


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raw_parse(data: bytes) -> None:
    book = CalamineWorkbook.from_filelike(BytesIO(data))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python()


def bench_check(repeat: int = 200) -> tuple[float, float]:
    data = SAMPLE[len(SAMPLE) // 2].read_bytes()
    check_return(data, "warm-up.xlsx")
    raw_parse(data)
    raw = _median_seconds(lambda: raw_parse(data), repeat)
    checked = _median_seconds(lambda: check_return(data, "return.xlsx"), repeat)
    return raw, checked


def bench_import(n: int = 1000) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "returns"
        paths = generate.write_many_returns(folder, n)
        engine = db.make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrades.upgrade(engine)
        start = time.perf_counter()
        outcomes = import_paths([str(p) for p in paths], engine=engine, user="benchmark")
        elapsed = time.perf_counter() - start
        engine.dispose()
        return elapsed, sum(1 for o in outcomes if o.saved)


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
        yield f"child data in every place, clean .{fmt} ({pairs} alternating pairs; min / median / max ms):"
        for kind, label in (("cells", "cells only"), ("places", "every place")):
            yield f"  {label:12s} wall {_spread(times[kind]['wall'])}   CPU {_spread(times[kind]['cpu'])}"
        yield (f"  added (median): wall {added['wall'] * 1000:+6.2f} ms, CPU {added['cpu'] * 1000:+6.2f} ms   "
               f"(goal: < {PLACES_GOAL_MS:g} ms added) {verdict(added['wall'] * 1000 < PLACES_GOAL_MS)}")


def lines():
    """The lines `make bench` prints for the checker and the importer, each as soon as it is known."""
    if not SAMPLE:
        yield "No sample returns found: run `python -m sample_data.generate` first."
        return
    raw, checked = bench_check()
    ratio = checked / raw
    yield f"check one return:     median {checked * 1000:7.2f} ms"
    yield f"raw parse, same file: median {raw * 1000:7.2f} ms"
    yield f"check / raw parse:    {ratio:7.2f}x   (goal: within {CHECK_GOAL:g}x) {verdict(ratio <= CHECK_GOAL)}"
    yield from places_lines()
    elapsed, stored = bench_import(IMPORT_N)
    yield (f"import {IMPORT_N:,} returns into SQLite: {elapsed:6.2f} s, {stored} stored "
           f"(goal: under {IMPORT_GOAL_S:g} s) {verdict(elapsed < IMPORT_GOAL_S and stored == IMPORT_N)}")


def verdict(met: bool) -> str:
    return "ok" if met else "OVER GOAL"
