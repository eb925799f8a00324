"""Faults and crowds: a save killed half-way leaves the database as it was, and twenty uploads at
once are each stored once, as their own version, none lost.

Every test runs on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL (the ``engine``
fixture). The killed save is a real child process, killed with SIGKILL while it sits inside the
write transaction; the uploads go end to end through the importer (check, then save) from threads,
as the upload page's sessions do, and from separate processes running the command line's
``python -m loaders import``, as scripts do.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import multiprocessing
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from loaders import check_return, registry
from sample_data.generate import with_urn
from store.importer import import_paths
from store.returns import save_return, versions
from store.schema import audit, leads, metadata, return_values, returns

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "returns" / "990001_2025-26_Summer.xlsx"
OTHER = ROOT / "sample_data" / "returns" / "990002_2025-26_Summer.xlsx"
URN, YEAR, TERM = "990001", "2025/26", "Summer"
N = 20
WAIT_S = 120  # far longer than any step should take; only a hang reaches it

# The child: check the return, then save it with one step of the save made to stop for good
# inside the write transaction, once that step's rows are written. It says "holding" with the
# rows it sees inside its transaction (returns, values, leads, audit) and waits to be killed.
CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from loaders import check_return
from store import returns as saving
from store.db import make_engine
from store import schema
import sqlalchemy as sa

url, path, step = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
data = path.read_bytes()
report = check_return(data, path.name)
assert report.valid, report.problems
original = getattr(saving, step)

def stall(conn, *args, **kwargs):
    result = original(conn, *args, **kwargs)
    seen = [conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (schema.returns, schema.return_values, schema.leads, schema.audit)]
    print("holding", *seen, flush=True)
    time.sleep(600)
    return result

setattr(saving, step, stall)
saving.save_return(make_engine(url), report, data, user="killed half-way")
print("committed", flush=True)
"""


def _url(engine) -> str:
    # The PostgreSQL fixture's URL carries its schema as a search_path option; rendered whole,
    # a child process lands in the same schema.
    return engine.url.render_as_string(hide_password=False)


def _snapshot(engine) -> dict[str, list]:
    """Every row of every table, in a stable order."""
    with engine.connect() as conn:
        return {t.name: sorted((tuple(r) for r in conn.execute(sa.select(t))), key=repr)
                for t in metadata.sorted_tables}


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    return proc.stdout.readline().strip() if ready else ""


def _save_file(engine, path: Path, user: str):
    data = path.read_bytes()
    report = check_return(data, path.name)
    assert report.valid, report.problems
    return save_return(engine, report, data, user=user)


# --- a save killed half-way -------------------------------------------------------------------

@pytest.mark.parametrize("step", ["_insert_leads", "write_audit"],
                         ids=["after_values_and_leads", "after_the_acceptance_audit_row"])
def test_a_save_killed_half_way_leaves_the_database_as_it_was(engine, step, tmp_path):
    _save_file(engine, SAMPLE, "first upload")  # version 1 of the school-term the child will save
    _save_file(engine, OTHER, "another school")
    before = _snapshot(engine)
    path = tmp_path / SAMPLE.name
    path.write_bytes(SAMPLE.read_bytes())

    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), _url(engine), str(path), step],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        said = _readline(child, WAIT_S).split()
        assert said[:1] == ["holding"], \
            f"the child never reached the step: {said!r} {child.stderr.read() if child.poll() is not None else ''}"
        # Inside its transaction the child has written its return, values and leads (and, at the
        # later step, its audit row of acceptance) ...
        n_leads = len(check_return(SAMPLE.read_bytes(), SAMPLE.name).leads)
        wrote = [len(before["returns"]) + 1, len(before["return_values"]) + len(registry.MEASURES),
                 len(before["leads"]) + n_leads, len(before["audit"]) + (step == "write_audit")]
        assert [int(n) for n in said[1:]] == wrote
        # ... and while it holds the transaction open, none of it shows outside.
        assert _snapshot(engine) == before
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=WAIT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    assert _snapshot(engine) == before  # no return row, values, leads, nor audit of acceptance

    # The next save goes straight through (no lock left behind) and takes the version the killed
    # one never got.
    started = time.monotonic()
    saved = _save_file(engine, SAMPLE, "after the crash")
    assert time.monotonic() - started < 10
    assert saved.version == 2
    assert [v["version"] for v in versions(engine, URN, YEAR, TERM)] == [2, 1]
    after = _snapshot(engine)
    assert len(after["returns"]) == len(before["returns"]) + 1
    assert len(after["audit"]) == len(before["audit"]) + 1
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


# --- twenty uploads at once -------------------------------------------------------------------

def _files(folder: Path, *, same_school: bool) -> list[Path]:
    data = SAMPLE.read_bytes()
    paths = []
    for i in range(N):
        urn = URN if same_school else f"97{i + 1:04d}"
        path = folder / f"upload-{i:02d}_{urn}.xlsx"
        path.write_bytes(with_urn(data, URN, urn, note=f"upload {i}"))
        paths.append(path)
    return paths


def _upload_in_threads(engine, paths: list[Path]) -> dict[str, int]:
    """Each file imported by its own thread, all released at once: file name -> version stored."""
    barrier = threading.Barrier(len(paths))
    stored, failures = {}, []

    def upload(path: Path):
        barrier.wait()
        try:
            (outcome,) = import_paths([str(path)], engine=engine, user=f"user {path.stem}", source="web")
            if outcome.saved is None:
                failures.append((path.name, [p.message for p in outcome.report.errors]))
            else:
                stored[path.name] = outcome.saved.version
        except Exception as exc:  # collected so the test shows what went wrong
            failures.append((path.name, repr(exc)))

    threads = [threading.Thread(target=upload, args=(p,)) for p in paths]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_S)
    assert not failures, failures
    return stored


def _upload_in_processes(engine, paths: list[Path]) -> dict[str, int]:
    """Each file imported by the command line's own entry (``python -m loaders import``) in a
    process of its own, all released at once: file name -> version stored.

    The processes are forked from this one, so they skip the interpreter's start-up, but each has
    its own connections, its own SQLite locks and its own PostgreSQL session.
    """
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(paths)), ctx.Queue()
    procs = [ctx.Process(target=_command_line_import, args=(_url(engine), str(p), barrier, results))
             for p in paths]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=WAIT_S) for _ in procs]
    for proc in procs:
        proc.join(timeout=WAIT_S)
    stored, failures = {}, []
    for name, code, out in outcomes:
        found = re.search(r"stored as version (\d+)", out)
        if code != 0 or not found:
            failures.append((name, code, out))
        else:
            stored[name] = int(found.group(1))
    assert not failures, failures
    assert [p.exitcode for p in procs] == [0] * len(procs)
    return stored


def _command_line_import(url: str, path: str, barrier, results) -> None:
    """In the forked child: a pool of our own (the parent's connections are left alone), then the
    command line exactly as a script runs it."""
    from loaders.__main__ import main
    from store.db import make_engine

    make_engine(url).dispose(close=False)
    out = io.StringIO()
    barrier.wait()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = main(["import", "--db", url, path])
    except BaseException as exc:  # reported to the parent, which shows it
        code, out = 99, io.StringIO(f"{out.getvalue()}\n{exc!r}")
    results.put((Path(path).name, code, out.getvalue()))


UPLOADERS = {"threads": _upload_in_threads, "processes": _upload_in_processes}


def _stored(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(sa.select(returns.c.id, returns.c.urn, returns.c.academic_year, returns.c.term,
                                      returns.c.version, returns.c.file_name, returns.c.sha256)).all()


def _assert_each_stored_once(engine, paths: list[Path], stored: dict[str, int]) -> list:
    rows = _stored(engine)
    assert sorted(r.file_name for r in rows) == sorted(p.name for p in paths)  # none lost, none twice
    assert {r.file_name: r.version for r in rows} == stored  # each under the version it was told
    assert {r.sha256 for r in rows} == {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    with engine.connect() as conn:
        n_values = conn.execute(sa.select(sa.func.count()).select_from(return_values)).scalar()
        per_return = conn.execute(sa.select(return_values.c.return_id, sa.func.count())
                                  .group_by(return_values.c.return_id)).all()
        n_leads = conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar()
        accepted = conn.execute(sa.select(audit.c.file_name, audit.c.detail).where(audit.c.outcome == "accepted")).all()
        others = conn.execute(sa.select(sa.func.count()).select_from(audit).where(audit.c.outcome != "accepted")).scalar()
    assert n_values == N * len(registry.MEASURES)
    assert {n for _, n in per_return} == {len(registry.MEASURES)} and len(per_return) == N
    assert n_leads == N * len(check_return(SAMPLE.read_bytes(), SAMPLE.name).leads)
    assert sorted(f for f, _ in accepted) == sorted(p.name for p in paths) and others == 0
    by_id = {r.id: r for r in rows}
    assert all(by_id[d["return_id"]].file_name == f and by_id[d["return_id"]].version == d["version"]
               for f, d in accepted)
    return rows


@pytest.mark.parametrize("mode", sorted(UPLOADERS))
def test_twenty_schools_uploading_at_once_are_each_stored(engine, tmp_path, mode):
    paths = _files(tmp_path, same_school=False)
    stored = UPLOADERS[mode](engine, paths)
    rows = _assert_each_stored_once(engine, paths, stored)
    assert sorted(r.urn for r in rows) == sorted(f"97{i + 1:04d}" for i in range(N))
    assert {(r.academic_year, r.term, r.version) for r in rows} == {(YEAR, TERM, 1)}


@pytest.mark.parametrize("mode", sorted(UPLOADERS))
def test_twenty_uploads_of_one_school_term_get_versions_1_to_20(engine, tmp_path, mode):
    paths = _files(tmp_path, same_school=True)
    stored = UPLOADERS[mode](engine, paths)
    rows = _assert_each_stored_once(engine, paths, stored)
    assert {(r.urn, r.academic_year, r.term) for r in rows} == {(URN, YEAR, TERM)}
    assert sorted(r.version for r in rows) == list(range(1, N + 1))
    assert [v["version"] for v in versions(engine, URN, YEAR, TERM)] == list(range(N, 0, -1))
