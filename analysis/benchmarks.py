"""England's figures, where one is comparable with an indicator, with their source.

The figures live in sample_data/benchmarks.csv (id, label, value, unit, period, source,
publisher, year, phase, definition); an indicator names the row it is compared with and how to
scale it. A row with a phase is England's figure for schools of that phase only; its id is the
whole-England row's id and the phase ("permanent_exclusions_rate_secondary"). A phase with no row
has no published figure the project has found.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from analysis.indicators import INDICATORS, INDICATORS_BY_ID, PER_100
from loaders.registry import PHASES

CSV = Path(__file__).resolve().parents[1] / "sample_data" / "benchmarks.csv"


@dataclass(frozen=True)
class Benchmark:
    id: str
    label: str
    value: float
    unit: str
    period: str
    source: str
    phase: str = ""  # "" for all state-funded schools in England; else one of loaders.registry.PHASES
    definition: str = ""  # what is divided by what, as the source defines it, and the data set it is from

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
        out[r["id"]] = Benchmark(r["id"], r["label"], value, r["unit"], r["period"], source,
                                 (r.get("phase") or "").strip(), (r.get("definition") or "").strip())
    return out


def phase_id(benchmark_id: str, phase: str) -> str:
    """The id of England's figure for one phase: "severe_absence" and "Primary" make
    "severe_absence_primary"."""
    return f"{benchmark_id}_{phase.lower().replace('-', '_').replace(' ', '_')}"


def england(indicator_id: str, phase: str | None = None) -> tuple[float, Benchmark] | None:
    """England's figure in the indicator's own unit (a share 0-1, or per 100 pupils a term): for all
    schools, or with ``phase`` for schools of that phase only (None where none is published)."""
    ind = INDICATORS_BY_ID[indicator_id]
    if not ind.benchmark:
        return None
    bench = benchmarks().get(ind.benchmark if phase is None else phase_id(ind.benchmark, phase))
    if bench is None or bench.phase != (phase or ""):
        return None
    value = bench.value * ind.benchmark_scale
    if ind.unit != PER_100 and bench.unit.startswith("percent"):
        value /= 100.0
    return value, bench


def phase_figures() -> list[tuple[str, float, Benchmark]]:
    """(indicator id, the figure in the indicator's unit, England's row for one phase) for every
    indicator a school may be compared with England on, the trust having too few schools of its
    phase: the figures the pages and the pack cite."""
    return [(ind.id, *found) for ind in INDICATORS if ind.funnel
            for phase in PHASES if (found := england(ind.id, phase)) is not None]
