"""The Overview as a trust leader meets it in Chromium: from the click on "Sign in" to the heatmap
drawn, and to the whole page drawn, on the large trust (1,500 schools x 9 terms) against the
sample trust. The server's own figures (bench/dashboard.py) leave out what the browser does with
what it is sent, which is most of the wait on a large trust's page.

One server a trust, started before any timing and left until its start-up work is done (its CPU
time idle for two seconds), each over a copy of its database with one local account. Chromium is
started once; each visit is a fresh browser context (nothing cached from the visit before), and
the two trusts alternate, which goes first swapping each pair. Beside each wall time: the
server's CPU time during the visit and the time the page's main thread was busy (Chromium's own
count), so that a slow visit on a busy machine shows as such.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import trusts
from bench.coldstart import ARGS, CHROMIUM, ROOT, _free_port, _healthy
from bench.core import Goal, Result, Samples, ratio_spread, ratios, spread
from tests.helpers.network import stop

GOAL = 2.0  # the large trust's page drawn / the sample trust's
PAIRS = 5
EMAIL, PASSWORD = "leader@bench.example", "a made-up password for the bench"
HEATMAP = "document.querySelector('.js-plotly-plot g.hm image')"  # the heatmap's cells drawn
FINISHED = """() => document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid^="stSkeleton"]')
    && (document.querySelector('h1')?.innerText || '').includes('Trust overview')
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'))"""


def _cpu(pid: int) -> float:
    """A process's user and system CPU seconds so far, with its children's that it waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _settled(pid: int, deadline: float) -> float:
    """Wait until the server's CPU time has stood still (under 0.05 s in 2 s): its start-up work is
    done. The seconds waited."""
    start, before = time.perf_counter(), _cpu(pid)
    while time.perf_counter() < deadline:
        time.sleep(2)
        now = _cpu(pid)
        if now - before < 0.05:
            break
        before = now
    return time.perf_counter() - start


def _serve(database: Path, folder: Path) -> tuple[subprocess.Popen, str]:
    """A copy of ``database`` with one trust leader's account, served by the dashboard."""
    folder.mkdir()
    copy = folder / "dashboard.db"
    shutil.copyfile(database, copy)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{copy}", "LOAD_SAMPLE": "0"}
    subprocess.run([sys.executable, "-m", "store", "users", "add", EMAIL, "--role", "trust_leader",
                    "--password-stdin"], input=PASSWORD + "\n", text=True, cwd=ROOT, env=env, check=True,
                   capture_output=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with open(folder / "server.log", "w") as log:  # the server writes to its own copy of the handle
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                                 "--server.address", "127.0.0.1", "--server.headless", "true",
                                 "--browser.gatherUsageStats", "false"],
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    _healthy(url, time.perf_counter() + 120, proc, folder / "server.log")
    return proc, url


def visit(browser, url: str, server: int) -> tuple[float, float, float, float]:
    """Sign in as the trust leader and wait for the Overview: (seconds to the heatmap drawn, to the
    whole page drawn, the server's CPU seconds meanwhile, the page's main thread busy seconds)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_label("Email").fill(EMAIL, timeout=60_000)
        page.get_by_label("Password", exact=True).first.fill(PASSWORD)
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        busy = _busy(cdp)
        cpu, start = _cpu(server), time.perf_counter()
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_function(HEATMAP, timeout=300_000, polling=20)
        heatmap = time.perf_counter() - start
        page.wait_for_function(FINISHED, timeout=300_000, polling=20)
        whole = time.perf_counter() - start
        return heatmap, whole, _cpu(server) - cpu, _busy(cdp) - busy
    finally:
        context.close()


def _busy(cdp) -> float:
    return next(m["value"] for m in cdp.send("Performance.getMetrics")["metrics"] if m["name"] == "TaskDuration")


def figure(quick: bool, postgres_url: str | None) -> Result:  # noqa: ARG001 - SQLite: what the browser meets
    from playwright.sync_api import sync_playwright

    what = "the Overview drawn in Chromium after signing in, large trust / sample trust"
    if not Path(CHROMIUM).exists():
        return Result(goals=[Goal(what, "not measured", f"<= {GOAL:g}x", None, f"no Chromium at {CHROMIUM}")])
    pairs = 1 if quick else PAIRS
    large = trusts.large_database(*((60, 3) if quick else (1500, 9)))
    kinds = {"large": (large.path, f"{large.label}"), "sample": (trusts.sample_database().path, "sample trust")}
    heat, whole = {k: Samples() for k in kinds}, {k: Samples() for k in kinds}
    busy: dict[str, list[float]] = {k: [] for k in kinds}
    out = Result()
    servers = {}
    with tempfile.TemporaryDirectory(prefix="bench-drawn-") as tmp, sync_playwright() as p:
        try:
            for kind, (database, _) in kinds.items():
                servers[kind] = _serve(database, Path(tmp) / kind)
            for kind, (proc, _) in servers.items():
                waited = _settled(proc.pid, time.perf_counter() + 1200)
                out.lines.append(f"  {kinds[kind][1]}: the server's start-up work done {waited:.0f} s after it answered")
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(pairs):
                for kind in (list(kinds) if i % 2 == 0 else list(kinds)[::-1]):
                    proc, url = servers[kind]
                    to_map, to_end, cpu, page_busy = visit(browser, url, proc.pid)
                    heat[kind].add(to_map, cpu)
                    whole[kind].add(to_end, cpu)
                    busy[kind].append(page_busy)
            browser.close()
        finally:
            for proc, _ in servers.values():
                stop(proc, timeout=20)
    out.lines.insert(0, f"  {pairs} visit{'' if pairs == 1 else 's'} to each, alternating; CPU is the server's during the visit")
    for kind, (_, label) in kinds.items():
        out.lines.append(heat[kind].line(f"{label}: to the heatmap drawn", "s"))
        out.lines.append(whole[kind].line(f"{label}: to the whole page drawn", "s"))
        out.lines.append(f"    the page's main thread busy: {spread(busy[kind], 's')}")
    paired = ratios(whole["large"].wall, whole["sample"].wall)
    out.lines.append(f"  large / sample, whole page drawn, pair by pair: {ratio_spread(paired)}")
    r = statistics.median(paired)
    out.goals.append(Goal(what, f"{r:.2f}x median of {pairs} pairs ({whole['large'].median:.2f} s against "
                                f"{whole['sample'].median:.2f} s)", f"<= {GOAL:g}x", r <= GOAL))
    return out
