"""Cold start: from `streamlit run` to the Overview's heatmap drawn in Chromium, on the sample trust,
against Streamlit's own floor: a minimal app that draws one plotly heatmap, started and opened the
same way. The two alternate in this one run (which goes first swaps each pair), each a fresh
server on a fresh copy of its data and a fresh browser context; Chromium itself is started once,
before any timing. Wall time from the server's start to the heatmap's cells drawn, with the time
the server first answered its health check, and the server process's CPU time.
"""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench import trusts
from bench.core import ChildUsage, Goal, Result, Samples, ratio_spread, ratios, spread
from tests.helpers.network import stop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
GOAL = 1.3  # the dashboard's start / the minimal app's
PAIRS = 5
DRAWN = "document.querySelector('.js-plotly-plot g.hm image')"  # a plotly heatmap's cells
MINIMAL = '''import plotly.graph_objects as go
import streamlit as st

st.title("One chart")
st.plotly_chart(go.Figure(go.Heatmap(z=[[1, 2, 3], [3, 1, 2], [2, 3, 1]], x=["a", "b", "c"], y=["x", "y", "z"])))
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_to_drawn(browser, script: Path, env: dict[str, str], log: Path) -> tuple[float, float, float]:
    """Start ``streamlit run script``, open it in a new browser context, wait for a heatmap's
    cells: (seconds to drawn, seconds to the first healthy answer, the server's CPU seconds)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "w") as out, ChildUsage() as usage:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true",
                                 "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        context = None
        try:
            served = _healthy(url, start + 120, proc, log)
            context = browser.new_context(viewport={"width": 1400, "height": 1600})
            page = context.new_page()
            page.goto(url, wait_until="commit")
            page.wait_for_function(DRAWN, timeout=120_000, polling=20)
            drawn = time.perf_counter() - start
        finally:
            if context is not None:
                context.close()
            stop(proc, timeout=20)
    return drawn, served, usage.cpu


def _healthy(url: str, deadline: float, proc: subprocess.Popen, log: Path) -> float:
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server stopped: " + log.read_text()[-1000:])
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("the server did not answer: " + log.read_text()[-1000:])


def figure(quick: bool, postgres_url: str | None) -> Result:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        return Result(goals=[Goal("cold start to the heatmap drawn", "not measured", f"<= {GOAL:g}x", None,
                                  f"no Chromium at {CHROMIUM}")])
    pairs = 1 if quick else PAIRS
    sample = trusts.sample_database()
    kinds = ("dashboard", "minimal")
    drawn = {k: Samples() for k in kinds}
    served: dict[str, list[float]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="bench-start-") as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL, encoding="utf-8")
        base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        try:
            for i in range(pairs):
                for kind in (kinds if i % 2 == 0 else kinds[::-1]):
                    data = Path(tmp) / f"{kind}{i}"
                    data.mkdir()
                    if kind == "dashboard":  # the sample trust as `make run` leaves it after its first start
                        shutil.copyfile(sample.path, data / "dashboard.db")
                        script, env = ROOT / "app.py", {**base_env, "DATA_DIR": str(data), "LOAD_SAMPLE": "1"}
                    else:
                        script, env = minimal, base_env
                    wall, health, cpu = start_to_drawn(browser, script, env, data / "server.log")
                    drawn[kind].add(wall, cpu)
                    served[kind].append(health)
        finally:
            browser.close()
    out = Result(lines=[f"  {pairs} of each, alternating; the server's CPU beside the wall time to the heatmap drawn"])
    for kind, label in (("dashboard", "the dashboard (app.py), sample trust"),
                        ("minimal", "a minimal app drawing one plotly heatmap")):
        out.lines.append(drawn[kind].line(f"{label}: to drawn", "s"))
        out.lines.append(f"    first answered its health check: {spread(served[kind], 's')}")
    paired = ratios(drawn["dashboard"].wall, drawn["minimal"].wall)
    out.lines.append(f"  dashboard / minimal app, pair by pair: {ratio_spread(paired)}")
    r = statistics.median(paired)
    out.goals.append(Goal("cold start to the heatmap drawn in Chromium, sample trust / a minimal Streamlit app",
                          f"{r:.2f}x median of {pairs} pairs ({drawn['dashboard'].median:.2f} s against "
                          f"{drawn['minimal'].median:.2f} s)", f"<= {GOAL:g}x", r <= GOAL))
    return out
