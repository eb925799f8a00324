"""How long the board pack of the sample trust takes to make.

- The PDF, short and with its appendix, as the Board pack page makes it: in one process that has
  made a pack before (as the dashboard's server has), the two forms alternating, ``PAIRS`` of each
  after one of each to warm up. Each is timed in wall-clock time and this process's CPU time, with
  this process's peak memory (Chromium runs in processes of its own, not counted), and split into
  its parts: gathering the pack while Chromium starts (and, for the appendix, loads plotly.js),
  Chromium laying it out (drawing the appendix's charts as they are handed over), and printing.
  Goal: the short PDF in under 5 s (median).
- Each format as a person makes it from the command line, ``python -m reports pack`` in a process
  of its own (start-up and imports included): HTML, Excel and PDF, short, and the PDF with
  ``--appendix``. Goals: the short PDF in under 5 s, the PDF with its appendix in under 10 s.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import trusts

ROOT = Path(__file__).resolve().parents[1]
PAIRS = 5
SHORT_GOAL_S = 5.0  # the short pack's PDF
APPENDIX_GOAL_S = 10.0  # the PDF with the appendix, by the command line
FORMS = {False: "short", True: "with appendix"}
COMMANDS = (("html", ()), ("xlsx", ()), ("pdf", ()), ("pdf", ("--appendix",)))


@dataclass
class Made:
    """One PDF made: seconds of wall-clock and of this process's CPU, this process's peak memory
    (bytes), its pages, and its parts (seconds)."""

    wall: float
    cpu: float
    peak: int
    pages: int
    gather: float  # the pack gathered, from the start (Chromium starting meanwhile)
    ready: float  # Chromium started with plotly.js loaded, from the start
    draw: float  # from the document's first part to every chart drawn
    printing: float


class PeakMemory:
    """This process's largest resident size while the block runs, sampled every 10 ms."""

    def __enter__(self) -> PeakMemory:
        self.peak = resident()
        self._stop = threading.Event()
        self._watch = threading.Thread(target=self._sample, daemon=True)
        self._watch.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, resident())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._watch.join()
        self.peak = max(self.peak, resident())


def resident() -> int:
    """This process's resident memory now, in bytes (its peak so far where /proc is missing)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def make_pdf_once(url: str, appendix: bool) -> Made:
    """The pack's PDF made as the Board pack page makes it: Chromium starts and loads plotly.js
    while the pack is gathered, then draws each part as it is handed over, and prints."""
    from reports.pack import build_pack
    from reports.pdf import PrintLog, make_pdf

    log = PrintLog()
    gathered: list[float] = []

    def gather():
        pack = build_pack(url, appendix=appendix)
        gathered.append(time.perf_counter())
        return pack

    with PeakMemory() as memory:
        start, cpu = time.perf_counter(), time.process_time()
        _, pdf = make_pdf(gather, log=log, charts=appendix)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return Made(wall, cpu, memory.peak, _pages(pdf), gathered[0] - start, log.ready_s, log.load_s, log.print_s)


def alternate(url: str, pairs: int = PAIRS, make=make_pdf_once) -> dict[bool, list[Made]]:
    """Each form ``pairs`` times, short and with the appendix in turn (which goes first swaps each
    pair), after one of each to warm up: imports, caches, the disk."""
    make(url, False)
    make(url, True)
    runs: dict[bool, list[Made]] = {False: [], True: []}
    for i in range(pairs):
        for appendix in ((False, True) if i % 2 == 0 else (True, False)):
            runs[appendix].append(make(url, appendix))
    return runs


def _pages(pdf: bytes) -> int:
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def _spread(values: list[float], scale: float = 1.0, fmt: str = "6.2f") -> str:
    return " / ".join(format(v * scale, fmt) for v in (min(values), statistics.median(values), max(values)))


def goal(met: bool, seconds: float) -> str:
    return f"goal {seconds:g} s: {'met' if met else 'not met'}"


def alternating_lines(runs: dict[bool, list[Made]]) -> list[str]:
    """The lines for the alternating PDFs: each form's spread, its parts, and the goal."""
    n = len(runs[False])
    made = f"{n} of each, alternating" if len(runs) > 1 else f"{n} made"
    out = [f"  {made} (min / median / max); peak memory is this process's, Chromium's own not counted:"]
    for appendix, made in runs.items():
        pages = sorted({m.pages for m in made})
        out.append(f"  {FORMS[appendix]:13} wall {_spread([m.wall for m in made])} s   "
                   f"CPU {_spread([m.cpu for m in made])} s   "
                   f"peak memory {_spread([m.peak for m in made], 1 / 2**20, '4.0f')} MB   "
                   f"{'/'.join(map(str, pages))} pages")
    for appendix, made in runs.items():
        med = {k: statistics.median(getattr(m, k) for m in made) for k in ("gather", "ready", "draw", "printing")}
        if appendix:
            parts = (f"gathered {med['gather']:.2f} s while Chromium starts and loads plotly.js ({med['ready']:.2f} s); "
                     f"charts drawn as handed over {med['draw']:.2f} s")
        else:  # no chart: Chromium starts while the pack is gathered, then lays the whole document out
            parts = f"gathered {med['gather']:.2f} s while Chromium starts; laid out {med['draw']:.2f} s"
        out.append(f"  {FORMS[appendix]:13} parts (median): {parts}; printed {med['printing']:.2f} s")
    short = statistics.median(m.wall for m in runs[False])
    out.append(f"board pack as PDF, short:  median {short:6.2f} s   ({goal(short < SHORT_GOAL_S, SHORT_GOAL_S)})")
    return out


def command(url: str, fmt: str, extra: tuple[str, ...], folder: Path) -> tuple[float, Path, subprocess.CompletedProcess]:
    """The pack in one format by the command line: seconds, the file, and the finished process."""
    out = folder / f"pack{''.join('-' + a.strip('-') for a in extra)}.{fmt}"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reports", "pack", "--db", url, "--format", fmt, *extra,
                           "-o", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    return time.perf_counter() - start, out, done


def command_lines(url: str, goals: list):
    """The lines for the command line, each as soon as it is known; its goals added to ``goals``."""
    from bench.core import Goal

    yield "  by the command line, a process of its own each (start-up and imports included):"
    pdf: dict[bool, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as tmp:
        for fmt, extra in COMMANDS:
            seconds, out, done = command(url, fmt, extra, Path(tmp))
            name = " ".join((fmt, *extra))
            if done.returncode != 0:
                yield f"  {name:15}: not made: {done.stderr.strip() or done.returncode}"
                continue
            if fmt == "pdf":
                pdf[bool(extra)] = seconds
            yield f"  {name:15}: {seconds:6.2f} s, {out.stat().st_size / 1024:,.0f} KB"
    for appendix, target in ((False, SHORT_GOAL_S), (True, APPENDIX_GOAL_S)):
        seconds = pdf.get(appendix)
        goals.append(Goal(f"board pack as PDF by the command line, {FORMS[appendix]}",
                          "not made" if seconds is None else f"{seconds:.2f} s", f"< {target:g} s",
                          None if seconds is None else seconds < target, "" if seconds else "not made"))


def figure(quick: bool, postgres_url: str | None):
    """The sample trust's pack as PDF: short and with its appendix alternating in one process as the
    Board pack page makes them, then each format by the command line. Quick: one short PDF."""
    from bench.core import Goal, Result
    from reports.pdf import PdfUnavailable

    base = trusts.sample_database()
    out = Result(lines=[f"  {base.label}: {base.schools} schools, {base.returns} returns"])
    try:
        if quick:
            runs = {False: [make_pdf_once(base.url, False)]}
        else:
            runs = alternate(base.url)
        out.lines += alternating_lines(runs)[:-1]
        short = statistics.median(m.wall for m in runs[False])
        out.goals.append(Goal("board pack as PDF, short, as the page makes it", f"{short:.2f} s median of "
                              f"{len(runs[False])}", f"< {SHORT_GOAL_S:g} s", short < SHORT_GOAL_S))
    except PdfUnavailable as exc:
        out.lines.append(f"  not made: {exc}")
        out.goals.append(Goal("board pack as PDF, short", "not made", f"< {SHORT_GOAL_S:g} s", None, str(exc)))
    if not quick:
        out.lines += list(command_lines(base.url, out.goals))
    return out
