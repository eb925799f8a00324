"""What every figure of `make bench` shares: repeated timings (min / median / max, wall and CPU),
the goal each figure is judged against, and each figure run in a child process of its own so its
peak memory is its own.

A figure is a function ``figure(quick, postgres_url) -> Result``. ``run_apart`` runs it as
``python -m bench.child NAME`` and reads the child's result (a JSON line) with the child's peak
resident memory and CPU time as the kernel counted them (``os.wait4``), which include any process
the figure started and waited for (a Streamlit server, Chromium).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULT = "BENCH-RESULT "  # the child's result line starts so
MET, NOT_MET, NOT_JUDGED, NOT_MEASURED = "met", "not met", "not judged (quick run)", "not measured"


@dataclass
class Goal:
    """One line of the table at the end: the figure, its goal, and whether it was met."""

    figure: str  # what was measured, e.g. "Overview rerun, 150 x 9"
    shown: str  # the figure as printed, e.g. "41.2 ms (median of 30)"
    goal: str  # e.g. "<= 50 ms"
    met: bool | None  # None: not measured
    why: str = ""  # why not measured

    def verdict(self, quick: bool) -> str:
        if self.met is None:
            return f"{NOT_MEASURED}: {self.why}" if self.why else NOT_MEASURED
        if quick:
            return NOT_JUDGED
        return MET if self.met else NOT_MET

    def line(self, quick: bool) -> str:
        return f"{self.figure}: {self.shown}; goal {self.goal}: {self.verdict(quick)}"


@dataclass
class Result:
    lines: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    self_peak_mb: float | None = None  # the figure's own process
    children_peak_mb: float | None = None  # the largest process it started and waited for

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Result:
        raw = json.loads(text)
        raw["goals"] = [Goal(**g) for g in raw["goals"]]
        return cls(**raw)


class Samples:
    """Repeated measurements of one thing: wall-clock seconds and this process's CPU seconds."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def time(self, fn):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.process_time() - cpu)
        return out

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def line(self, label: str, unit: str = "ms") -> str:
        return f"  {label}: wall {spread(self.wall, unit)}   CPU {spread(self.cpu, unit)}   (n={len(self.wall)})"


SCALE = {"ms": 1000.0, "s": 1.0}


def spread(values: list[float], unit: str = "ms") -> str:
    """min / median / max of ``values`` (seconds) in ``unit``."""
    if not values:
        return "none"
    k, width = SCALE[unit], (7 if unit == "ms" else 6)
    digits = 1 if unit == "ms" else 2
    return " / ".join(f"{v * k:{width}.{digits}f}" for v in (min(values), statistics.median(values), max(values))) \
        + f" {unit}"


def ratios(top: list[float], bottom: list[float]) -> list[float]:
    """Pair by pair: top[i] / bottom[i] (each pair measured side by side)."""
    return [t / b for t, b in zip(top, bottom, strict=True) if b > 0]


def ratio_spread(values: list[float]) -> str:
    return " / ".join(f"{v:.2f}x" for v in (min(values), statistics.median(values), max(values)))


def peaks() -> tuple[float, float]:
    """This process's peak resident memory and its waited-for children's largest, in MB."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def resident_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Apart:
    """A figure run in a child process: its result, and what the kernel counted for it."""

    name: str
    result: Result
    wall: float
    cpu: float  # user + system seconds of the child and every process it waited for
    peak_mb: float  # the largest resident size among them
    failed: str | None = None


def run_apart(name: str, *, quick: bool, postgres_url: str | None, timeout: float = 3600) -> Apart:
    """Run the figure ``name`` in a fresh Python process; a failure is reported, never raised."""
    import tempfile

    args = [sys.executable, "-m", "bench.child", name] + (["--quick"] if quick else [])
    env = {**os.environ, "BENCH_DATABASE_URL": postgres_url or ""}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=err, text=True,
                                preexec_fn=_die_with_parent)
        usage, status = _reap(proc, start + timeout)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        found = [line[len(RESULT):] for line in out.read().splitlines() if line.startswith(RESULT)]
        said = err.read().strip().splitlines()
    cpu = usage.ru_utime + usage.ru_stime
    peak = usage.ru_maxrss / 1024  # the largest of the child and the processes it waited for
    if status != 0 or not found:
        why = said[-1] if said else ("stopped after %g s" % timeout if status is None else f"exit status {status}")
        return Apart(name, Result(), wall, cpu, peak, failed=why)
    return Apart(name, Result.from_json(found[-1]), wall, cpu, peak)


def _die_with_parent() -> None:
    """In the child, before it runs: end it if the bench itself is ended (Linux), so a stopped run
    leaves no figure running on."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _reap(proc: subprocess.Popen, deadline: float):
    """Wait for ``proc`` and return its rusage and exit status (None when it overran and was killed)."""
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage, proc.returncode
        if time.perf_counter() > deadline:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            return usage, None
        time.sleep(0.05)


class ChildUsage:
    """CPU seconds used by the children reaped while the block ran (RUSAGE_CHILDREN's growth)."""

    def __enter__(self) -> ChildUsage:
        self._before = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self

    def __exit__(self, *exc) -> None:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - self._before.ru_utime) + (after.ru_stime - self._before.ru_stime)
