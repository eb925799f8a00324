"""The Overview as a trust leader meets it: the real dashboard.py run in Streamlit's AppTest on a
made-up trust's database (bench/trusts.py), its default page being the Overview.

- ``rerun_figure``: a click (a rerun) at 150 and at 1,500 schools x 9 terms, both served by one
  process, alternating rerun by rerun; the ratio is taken pair by pair.
- ``fresh_figure``: 20 returns stored one after another (on a copy of the 150-school trust) while
  the dashboard runs: the first Overview after each, and the process's memory after each.
- ``fresh_large_figure``: the same at 1,500 schools, fewer returns.
- ``peak_figure``: the peak memory of a process that serves one trust leader the 1,500-school
  Overview.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import settings
from bench import trusts

RERUNS = 15
OVERVIEW_TITLE = "Trust overview"


class BenchFailed(RuntimeError):
    """The dashboard raised, or showed another page than the Overview: no time means anything then."""


@dataclass
class PageTiming:
    cold: float  # seconds, the first run (database opened, caches filled)
    reruns: list[float] = field(default_factory=list)  # seconds, wall clock, each rerun
    cpu: list[float] = field(default_factory=list)  # seconds of this process's CPU, each rerun

    @property
    def median(self) -> float:
        return statistics.median(self.reruns)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


@contextmanager
def _database(url: str):
    """The dashboard pointed at ``url`` (no sample loaded), with Streamlit's caches empty."""
    import streamlit as st

    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "LOAD_SAMPLE")}
    os.environ.update(DATABASE_URL=url, LOAD_SAMPLE="0")
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _trust_leader():
    """A trust leader is signed in (the benchmark's trusts are not the sample, so the dashboard
    would otherwise ask for a sign-in); the sign-in itself is the same either way."""
    from store.users import User
    from ui import identity

    leader = User("bench@example.invalid", "Benchmark", "trust_leader", ())
    saved = identity.mode, identity.signed_in_user
    identity.mode = lambda _engine: "local"
    identity.signed_in_user = lambda _engine: leader
    try:
        yield
    finally:
        identity.mode, identity.signed_in_user = saved


def time_overview(url: str, reruns: int = RERUNS, *, timeout: float = 600) -> PageTiming:
    """Open the dashboard on ``url`` and time its first run, then ``reruns`` reruns."""
    from streamlit.testing.v1 import AppTest

    with _database(url), _trust_leader():
        at = AppTest.from_file(str(settings.ROOT / "dashboard.py"), default_timeout=timeout)
        start = time.perf_counter()
        at.run()
        timing = PageTiming(cold=time.perf_counter() - start)
        _check(at)
        for _ in range(reruns):
            wall, cpu = time.perf_counter(), time.process_time()
            at.run()
            timing.reruns.append(time.perf_counter() - wall)
            timing.cpu.append(time.process_time() - cpu)
        _check(at)
    return timing


def _check(at) -> None:
    if at.exception:
        raise BenchFailed("; ".join(f"{e.value} ({(list(e.stack_trace) or ['no trace'])[-1].strip()})"
                                    for e in at.exception))
    titles = [t.value for t in at.title]
    if not titles or not titles[0].startswith(OVERVIEW_TITLE):
        raise BenchFailed(f"the default page is not the Overview (titles: {titles})")


MEDIUM, LARGE, TERMS = 150, 1500, 9  # schools, schools, terms
QUICK_MEDIUM, QUICK_LARGE, QUICK_TERMS = 12, 60, 3
RERUN_GOAL_S = 0.050  # a click on a 150-school trust's Overview
LARGE_FACTOR = 3.0  # ten times the schools may cost at most three times the click, paired
FRESH_GOAL_S = {MEDIUM: 0.300, LARGE: 2.0}  # the first Overview after a new return
PEAK_GOAL_MB = 600  # one trust leader's Overview, 1,500 schools
GROWTH_GOAL = 1.15  # memory after the 20th return stored while running / after the first
STORED_WHILE_RUNNING = 20


def sizes(quick: bool) -> tuple[int, int, int]:
    return (QUICK_MEDIUM, QUICK_LARGE, QUICK_TERMS) if quick else (MEDIUM, LARGE, TERMS)


def _label(schools: int, terms: int) -> str:
    return f"{schools:,} x {terms}"


@contextmanager
def serving(urls: list[str]):
    """The dashboard able to serve several databases in this one process: each URL's engine opened
    (and brought to the schema) once, the one used being whichever DATABASE_URL names at each run,
    as a server started on that database would use its own."""
    from store import db, upgrades
    from ui import shell

    engines = {}
    for url in urls:
        engines[url] = db.make_engine(url)
        upgrades.upgrade(engines[url])
    saved = shell._engine
    shell._engine = lambda: engines[settings.database_url()]
    try:
        with _database(urls[0]), _trust_leader():
            yield engines
    finally:
        shell._engine = saved
        for engine in engines.values():
            db.dispose(engine)


def _app(timeout: float = 1800):
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(settings.ROOT / "dashboard.py"), default_timeout=timeout)


def _run(at, url: str) -> None:
    os.environ["DATABASE_URL"] = url
    at.run()
    _check(at)


def rerun_figure(quick: bool, postgres_url: str | None, *, on_postgres: bool = False):
    """The Overview's rerun (a click) at two sizes, in one process, alternating rerun by rerun."""
    from bench import postgres
    from bench.core import Goal, Result, Samples, ratio_spread, ratios

    medium, large_, terms = sizes(quick)
    reruns = 5 if quick else 30
    out = Result()
    bases = [trusts.large_database(medium, terms), trusts.large_database(large_, terms)]
    urls = [postgres.on_postgres(b, postgres_url) if on_postgres else b.url for b in bases]
    where = ", PostgreSQL" if on_postgres else ""
    for b in bases:
        out.lines.append(f"  {b.label}: {b.schools:,} schools, {b.returns:,} returns, {_origin(b)}")
    with serving(urls):
        apps = [_app(), _app()]
        for at, b, url in zip(apps, bases, urls):
            first = Samples()
            first.time(lambda: _run(at, url))  # noqa: B023 - timed at once, inside the loop
            out.lines.append(first.line(f"first run, {_label(b.schools, terms)}", "s"))
        times = [Samples(), Samples()]
        for i in range(reruns):
            for k in ((0, 1) if i % 2 == 0 else (1, 0)):
                times[k].time(lambda: _run(apps[k], urls[k]))  # noqa: B023 - timed at once, inside the loop
    for b, t in zip(bases, times):
        out.lines.append(t.line(f"rerun, {_label(b.schools, terms)}"))
    paired = ratios(times[1].wall, times[0].wall)
    out.lines.append(f"  rerun {_label(large_, terms)} / {_label(medium, terms)}, pair by pair: {ratio_spread(paired)}")
    med = times[0].median
    out.goals.append(Goal(f"Overview rerun, {_label(medium, terms)}{where}", f"{med * 1000:.1f} ms median of {reruns}",
                          f"<= {RERUN_GOAL_S * 1000:g} ms", med <= RERUN_GOAL_S))
    r = statistics.median(paired)
    out.goals.append(Goal(f"Overview rerun, {_label(large_, terms)} / {_label(medium, terms)}, paired{where}",
                          f"{r:.2f}x median of {reruns} pairs", f"<= {LARGE_FACTOR:g}x", r <= LARGE_FACTOR))
    return out


def _new_returns(schools: int, terms: int, n: int) -> list:
    """``n`` reports to store: the newest return of each of ``n`` schools of the made-up trust again,
    each a new version of its school-term, as a DSL's corrected return would be."""
    from sample_data import large

    plan = large.large_trust(schools, terms)
    newest = [large.plan_school_terms(school, plan.terms, plan.seed)[-1] for school in plan.schools[:n]]
    return [large.report_for(planned) for planned in newest]


def _store(engine, report, content: bytes) -> None:
    from store.returns import save_return

    save_return(engine, report, content, user="bench@example.invalid")


def _copy(base: trusts.BenchDatabase, folder: Path) -> str:
    import shutil

    path = folder / base.path.name
    shutil.copyfile(base.path, path)
    return f"sqlite:///{path}"


def fresh_figure(quick: bool, postgres_url: str | None, *, large: bool = False, on_postgres: bool = False):
    """Returns stored one after another while the dashboard runs (as uploads are): the first
    Overview after each, and the process's memory after each."""
    import tempfile
    import uuid

    from bench import postgres
    from bench.core import Goal, Result, Samples, resident_mb

    medium, large_, terms = sizes(quick)
    schools = large_ if large else medium
    label = _label(schools, terms) + (", PostgreSQL" if on_postgres else "")
    n = (2 if quick else 5) if large else (5 if quick else STORED_WHILE_RUNNING)
    base = trusts.large_database(schools, terms)
    out = Result(lines=[f"  {base.label}: {base.schools:,} schools, {base.returns:,} returns, {_origin(base)}; "
                        f"{n} returns stored one after another on a copy while the dashboard runs"])
    first, memory = Samples(), []
    scratch = f"bench_fresh_{uuid.uuid4().hex[:10]}"
    with tempfile.TemporaryDirectory(prefix="bench-fresh-") as tmp, contextlib.ExitStack() as undo:
        if on_postgres:
            url = postgres.on_postgres(base, postgres_url, schema=scratch)
            undo.callback(postgres.drop_schema, postgres_url, scratch)
        else:
            url = _copy(base, Path(tmp))
        with serving([url]) as engines:
            engine = engines[url]
            at = _app()
            _run(at, url)
            _run(at, url)
            before = resident_mb()
            for report, content in _new_returns(schools, terms, n):
                _store(engine, report, content)
                first.time(lambda: _run(at, url))
                memory.append(resident_mb())
    out.lines.append(first.line(f"first Overview after a new return, {label}", "s"))
    out.lines.append(f"  memory: {before:,.0f} MB before; after each return stored: "
                     + ", ".join(f"{m:,.0f}" for m in memory) + " MB")
    goal = FRESH_GOAL_S[LARGE if large else MEDIUM]
    med = first.median
    out.goals.append(Goal(f"first Overview after a new return, {label}", f"{med:.2f} s median of {n}",
                          f"<= {goal:g} s", med <= goal))
    if not large:
        growth = memory[-1] / memory[0]
        out.goals.append(Goal(f"server memory after {n} returns stored while running, {label}",
                              f"{memory[-1]:,.0f} MB = {growth:.2f}x after the first ({memory[0]:,.0f} MB)",
                              f"<= {GROWTH_GOAL:g}x", growth <= GROWTH_GOAL))
    return out


def fresh_large_figure(quick: bool, postgres_url: str | None):
    return fresh_figure(quick, postgres_url, large=True)


def rerun_postgres_figure(quick: bool, postgres_url: str | None):
    return rerun_figure(quick, postgres_url, on_postgres=True)


def fresh_postgres_figure(quick: bool, postgres_url: str | None):
    return fresh_figure(quick, postgres_url, on_postgres=True)


def peak_figure(quick: bool, postgres_url: str | None):
    """One trust leader opens the Overview of the large trust and clicks once: this process's
    peak resident memory, from its start (the server's own imports included)."""
    from bench.core import Goal, Result, Samples, peaks

    _, large_, terms = sizes(quick)
    base = trusts.large_database(large_, terms)
    first = Samples()
    with serving([base.url]):
        at = _app()
        first.time(lambda: _run(at, base.url))
        _run(at, base.url)
    peak, _ = peaks()
    label = _label(large_, terms)
    return Result(lines=[f"  {base.label}: {base.returns:,} returns, {_origin(base)}",
                         first.line(f"first run, {label}", "s")],
                  goals=[Goal(f"peak memory, one trust leader's Overview, {label}", f"{peak:,.0f} MB",
                              f"<= {PEAK_GOAL_MB} MB", peak <= PEAK_GOAL_MB)])


def _origin(base: trusts.BenchDatabase) -> str:
    took = f"{base.seconds:.1f} s" if base.seconds is not None else "an unknown time"
    where = base.path.relative_to(settings.ROOT) if base.path.is_relative_to(settings.ROOT) else base.path
    return f"reused {where} (built in {took})" if base.reused else f"built in {took}, kept as {where}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard",
                                     description="Time the Overview's reruns on one database (JSON out).")
    parser.add_argument("url", help="database URL, e.g. sqlite:///data/bench/trust.db")
    parser.add_argument("--reruns", type=int, default=RERUNS)
    args = parser.parse_args(argv)
    try:
        timing = time_overview(args.url, args.reruns)
    except BenchFailed as exc:
        print(f"Overview failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(timing)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
