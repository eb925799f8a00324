"""What a trustee's click on the Overview costs: the real dashboard.py run in Streamlit's AppTest
on a trust's database, its default page being the Overview.

The first run opens the database and fills the caches (reported for information); each rerun
after it is what a click costs, and the median of those is the figure that counts. Each trust is
timed in a process of its own (``python -m bench.dashboard DATABASE``), so one trust's data in
memory never slows the next one's reruns.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

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
        raise BenchFailed("; ".join(str(e.value) for e in at.exception))
    titles = [t.value for t in at.title]
    if not titles or not titles[0].startswith(OVERVIEW_TITLE):
        raise BenchFailed(f"the default page is not the Overview (titles: {titles})")


def time_overview_apart(url: str, reruns: int = RERUNS) -> PageTiming:
    """``time_overview`` in a fresh Python process."""
    done = subprocess.run([sys.executable, "-m", "bench.dashboard", url, "--reruns", str(reruns)],
                          cwd=settings.ROOT, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise BenchFailed(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no result")
    return PageTiming(**json.loads(lines[-1]))


MEDIUM, LARGE, TERMS = 150, 1500, 9  # schools, schools, terms
MEDIUM_GOAL_S = 0.100  # a click on a 150-school trust's Overview
LARGE_FACTOR = 4.0  # ten times the schools may cost at most four times the click


def lines(reruns: int = RERUNS):
    """The lines `make bench` prints for the Overview, each as soon as it is known."""
    yield (f"Overview page (dashboard.py in AppTest): first run, then the median of {reruns} reruns, "
           "a rerun being what a trustee's click costs")
    medians: dict[str, float | None] = {}
    for tag, make in (("a", trusts.sample_database),
                      ("b", lambda: trusts.large_database(MEDIUM, TERMS)),
                      ("c", lambda: trusts.large_database(LARGE, TERMS))):
        base = make()
        yield f"  ({tag}) {base.label}: {base.schools:,} schools, {base.returns:,} returns, {_origin(base)}"
        try:
            timing = time_overview_apart(base.url, reruns)
        except BenchFailed as exc:
            medians[tag] = None
            yield f"      FAILED: {exc}"
            continue
        medians[tag] = timing.median
        yield (f"      first run {timing.cold:6.2f} s; rerun median {timing.median * 1000:7.1f} ms "
               f"(CPU {timing.median_cpu * 1000:.1f} ms, fastest {min(timing.reruns) * 1000:.1f} ms)")
    b, c = medians.get("b"), medians.get("c")
    yield (f"Overview rerun, {MEDIUM} schools:   {_ms(b)}   (goal: under {MEDIUM_GOAL_S * 1000:g} ms) "
           f"{_verdict(b is not None and b < MEDIUM_GOAL_S)}")
    ratio = c / b if b and c is not None else None
    yield (f"Overview rerun, {LARGE:,} schools: {_ms(c)}   = {_times(ratio)} the {MEDIUM}-school rerun "
           f"(goal: within {LARGE_FACTOR:g}x) {_verdict(ratio is not None and ratio <= LARGE_FACTOR)}")


def _origin(base: trusts.BenchDatabase) -> str:
    took = f"{base.seconds:.1f} s" if base.seconds is not None else "an unknown time"
    where = base.path.relative_to(settings.ROOT) if base.path.is_relative_to(settings.ROOT) else base.path
    return f"reused {where} (built in {took})" if base.reused else f"built in {took}, kept as {where}"


def _ms(seconds: float | None) -> str:
    return "failed" if seconds is None else f"{seconds * 1000:7.1f} ms"


def _times(ratio: float | None) -> str:
    return "?" if ratio is None else f"{ratio:.2f}x"


def _verdict(met: bool) -> str:
    return "ok" if met else "OVER GOAL"


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
