"""How long the board pack of the sample trust takes to make, in each format.

Each format is made as a person makes it from the command line, ``python -m reports pack --format
FORMAT`` in a process of its own (start-up and imports included); the goal: the PDF in under 10 s.
Then the PDF's time is split into its parts, in this process: gathering the pack (the analysis and
its heatmap, while Chromium starts and loads plotly.js), Chromium drawing each theme's charts as
they are made and handed over, and printing the pages.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import trusts
from bench.returns import verdict

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ("html", "xlsx", "pdf")
PDF_GOAL_S = 10.0


def make(url: str, fmt: str, folder: Path) -> tuple[float, Path, subprocess.CompletedProcess]:
    """The pack in one format by the command line: seconds, the file, and the finished process."""
    out = folder / f"pack.{fmt}"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "reports", "pack", "--db", url, "--format", fmt, "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    return time.perf_counter() - start, out, done


def pdf_parts(url: str) -> dict[str, float | int]:
    """The PDF's time, part by part, as the command line makes it: Chromium starts and loads
    plotly.js while the pack is gathered, then draws each part as it is handed over, and prints."""
    from reports.pack import build_pack
    from reports.pdf import PrintLog, make_pdf

    log = PrintLog()
    gathered = []

    def gather():
        pack = build_pack(url)
        gathered.append(time.perf_counter())
        return pack

    start = time.perf_counter()
    _, pdf = make_pdf(gather, log=log)
    return {"gather": gathered[0] - start, "ready": log.ready_s, "draw": log.load_s, "waited": log.wait_s,
            "print": log.print_s, "total": time.perf_counter() - start, "figures": log.figures,
            "pages": _pages(pdf)}


def _pages(pdf: bytes) -> int:
    from io import BytesIO

    from pypdf import PdfReader

    return len(PdfReader(BytesIO(pdf)).pages)


def lines():
    """The lines `make bench` prints for the board pack, each as soon as it is known."""
    base = trusts.sample_database()
    yield f"Board pack of the {base.label} ({base.schools} schools, {base.returns} returns), by the command line:"
    pdf_s = None
    with tempfile.TemporaryDirectory(prefix="bench-pack-") as tmp:
        for fmt in FORMATS:
            seconds, out, done = make(base.url, fmt, Path(tmp))
            if done.returncode != 0:
                yield f"  {fmt:4}: not made: {done.stderr.strip() or done.returncode}"
                continue
            if fmt == "pdf":
                pdf_s = seconds
            yield f"  {fmt:4}: {seconds:6.2f} s, {out.stat().st_size / 1024:,.0f} KB"
    if pdf_s is None:
        yield f"board pack as PDF:    not made   (goal: under {PDF_GOAL_S:g} s) not measured"
        return
    yield (f"board pack as PDF:    {pdf_s:6.2f} s   (goal: under {PDF_GOAL_S:g} s) "
           f"{verdict(pdf_s < PDF_GOAL_S)}")
    parts = pdf_parts(base.url)
    yield (f"  the PDF's parts: the pack's analysis gathered in {parts['gather']:.2f} s while Chromium starts and "
           f"loads plotly.js ({parts['ready']:.2f} s); Chromium draws {parts['figures']} charts as each theme's "
           f"are made and handed over, {parts['draw']:.2f} s (of which waiting for the next theme {parts['waited']:.2f} s), "
           f"prints {parts['pages']} pages {parts['print']:.2f} s; {parts['total']:.2f} s in all")
