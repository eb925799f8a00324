"""England's figures, where one is comparable with an indicator, with their source.

The figures live in sample_data/benchmarks.csv (id, label, value, unit, period, source,
publisher, year); an indicator names the row it is compared with and how to scale it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis.indicators import INDICATORS_BY_ID, PER_100

CSV = Path(__file__).resolve().parents[1] / "sample_data" / "benchmarks.csv"


@dataclass(frozen=True)
class Benchmark:
    id: str
    label: str
    value: float
    unit: str
    period: str
    source: str

    @property
    def citation(self) -> str:
        return f"{self.label}, {self.period} ({self.source})"


@lru_cache(maxsize=1)
def benchmarks() -> dict[str, Benchmark]:
    try:
        with CSV.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except OSError:
        return {}
    out = {}
    for r in rows:
        try:
            value = float(r["value"])
        except (TypeError, ValueError):
            continue
        source = f"{r['source']}, {r['publisher']} {r['year']}"
        out[r["id"]] = Benchmark(r["id"], r["label"], value, r["unit"], r["period"], source)
    return out


def england(indicator_id: str) -> tuple[float, Benchmark] | None:
    """England's figure in the indicator's own unit (a share 0-1, or per 100 pupils a term)."""
    ind = INDICATORS_BY_ID[indicator_id]
    bench = benchmarks().get(ind.benchmark or "")
    if bench is None:
        return None
    value = bench.value * ind.benchmark_scale
    if ind.unit != PER_100 and bench.unit.startswith("percent"):
        value /= 100.0
    return value, bench
