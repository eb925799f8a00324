"""`make bench`: how fast the product is where people wait, and how much memory it holds, each
figure against its goal (issue 16's table). `make bench QUICK=1` runs a small version of every
figure in under a minute: its shape is the full run's, its figures judge nothing.

Honest by construction:
- every figure runs in a child process of its own (bench/child.py), so one figure's memory and
  caches never touch the next; the kernel's count of the child's CPU time and peak resident
  memory is printed beside its wall-clock time;
- whatever is compared is measured side by side in one process, alternating, pair by pair (the
  Overview at 150 and 1,500 schools; the check and the raw parse; Streamlit's own start and the
  dashboard's, in one run), and repeated: min / median / max, wall and CPU time;
- PostgreSQL as well as SQLite when BENCH_DATABASE_URL names a PostgreSQL database (the imports
  alternate between the two);
- at the end, one line per goal: the figure, the goal, met or not.

Figures: check (one return checked, against the raw parse; reading every place a workbook can
hide a child's details), import (1,000 returns into SQLite and PostgreSQL), rerun (the Overview's
click, 150 and 1,500 schools x 9 terms, paired), fresh (20 returns stored while the dashboard runs:
memory, and the first Overview after each), fresh_large (the first Overview after a new return at
1,500 schools), peak (the peak memory of one trust leader's Overview at 1,500 schools), rerun_postgres
and fresh_postgres (rerun and fresh on PostgreSQL, each trust copied there once), coldstart
(`streamlit run` to the heatmap drawn in Chromium, alternating with a minimal Streamlit app that
draws one plotly chart), drawn (a trust leader's Overview drawn in Chromium after signing in, 1,500
schools x 9 terms against the sample trust, alternating), pack (the sample trust's short board pack
as PDF). The made-up trusts'
databases are kept under data/bench/ and reused by the next run.
"""

from __future__ import annotations

import argparse
import os
import sys

from bench import core

FIGURES = {
    "check": "Checking a return",
    "import": "Importing returns",
    "rerun": "Overview rerun (a click), two sizes alternating in one process",
    "fresh": "Returns stored while the dashboard runs",
    "fresh_large": "First Overview after a new return, large trust",
    "peak": "Peak memory of one trust leader's Overview, large trust",
    "rerun_postgres": "Overview rerun on PostgreSQL, two sizes alternating in one process",
    "fresh_postgres": "Returns stored while the dashboard runs, on PostgreSQL",
    "coldstart": "Cold start to the heatmap drawn in Chromium",
    "drawn": "The Overview drawn in Chromium, large trust against the sample trust",
    "pack": "Board pack of the sample trust as PDF",
}
ON_POSTGRES = ("rerun_postgres", "fresh_postgres")  # measured only when BENCH_DATABASE_URL is given


def report(quick: bool, postgres_url: str | None, only: list[str] | None = None, run=core.run_apart):
    """The report's lines, each as soon as it is known."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    yield (f"make bench{' QUICK=1 (small sizes: no goal is judged)' if quick else ''}: {os.cpu_count()} CPUs, "
           f"load average {load} (other work running slows every figure)")
    yield f"PostgreSQL: {_where(postgres_url)}"
    goals: list[core.Goal] = []
    for name, title in FIGURES.items():
        if only and name not in only:
            continue
        yield f"{title} [{name}]:"
        if name in ON_POSTGRES and not postgres_url:
            yield "  not measured: set BENCH_DATABASE_URL"
            goals.append(core.Goal(title, "not measured", "as on SQLite", None, "set BENCH_DATABASE_URL"))
            continue
        done = run(name, quick=quick, postgres_url=postgres_url)
        yield from done.result.lines
        yield (f"  this figure's process: wall {done.wall:.1f} s, CPU {done.cpu:.1f} s, peak memory "
               f"{done.peak_mb:,.0f} MB")
        if done.failed:
            yield f"  FAILED: {done.failed}"
            goals.append(core.Goal(title, "failed", "see above", None, done.failed))
        goals += done.result.goals
    yield f"Goals ({'quick run: not judged' if quick else 'medians of the runs above'}):"
    for goal in goals:
        yield "  " + goal.line(quick)
    judged = [g for g in goals if g.met is not None]
    if not quick:
        yield f"{sum(g.met for g in judged)} of {len(goals)} goals met."


def _where(url: str | None) -> str:
    if not url:
        return "not measured (set BENCH_DATABASE_URL=postgresql+psycopg://... to measure it too)"
    from sqlalchemy.engine import make_url

    return "measured on " + make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, under a minute; judges no goal")
    parser.add_argument("--only", action="append", choices=list(FIGURES), help="this figure only (repeatable)")
    args = parser.parse_args(argv)
    for line in report(args.quick, os.environ.get("BENCH_DATABASE_URL") or None, args.only):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
