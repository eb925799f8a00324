"""How fast a DSL's return is checked and how fast a trust's returns are stored.

- the median time to check one return against the median raw parse time of the same file
  (python-calamine reading every sheet), goal: within 3x;
- the time to import 1,000 returns into a fresh SQLite database, goal: under 15 s.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from io import BytesIO
from pathlib import Path

from python_calamine import CalamineWorkbook

from loaders import check_return
from sample_data import generate
from store import db, upgrades
from store.importer import import_paths

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = sorted((ROOT / "sample_data" / "returns").glob("*.xlsx"))
CHECK_GOAL = 3.0  # times the raw parse
IMPORT_GOAL_S = 15.0
IMPORT_N = 1000


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
    elapsed, stored = bench_import(IMPORT_N)
    yield (f"import {IMPORT_N:,} returns into SQLite: {elapsed:6.2f} s, {stored} stored "
           f"(goal: under {IMPORT_GOAL_S:g} s) {verdict(elapsed < IMPORT_GOAL_S and stored == IMPORT_N)}")


def verdict(met: bool) -> str:
    return "ok" if met else "OVER GOAL"
