"""The trusts the dashboard benchmark runs on, each a SQLite file kept under data/bench/.

The sample trust is imported from its workbooks, as on a first start. A large made-up trust
(sample_data.large) is stored straight from its checked reports in one bulk write that lays down
exactly what the store's own save would (schools, versioned returns, every value with blanks
kept NULL, leads, queries, one audit row per return), only without a transaction per return.
Each file is named by what made it (size, seed, and a digest of the code and data it depends on),
built under a temporary name and renamed when complete, so a later run reuses it and never meets
half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import settings
from loaders.registry import PHASES, M
from loaders.report import ReturnReport
from sample_data import large
from store import db, sample, upgrades
from store import values as coding
from store.audit import ACCEPTED, as_utc, utcnow
from store.schema import audit, leads, return_queries, return_values, returns, schools

BENCH_USER = "benchmark"
BENCH_SOURCE = "benchmark"
UK = ZoneInfo("Europe/London")
# As the sample's import does: a return counts as submitted at 09:00 (UK) on its date completed.
SUBMITTED_AT_HOUR = 9
BATCH = 200  # returns per executemany: bounded memory however large the trust
BUILD_CACHE_KB = 512 * 1024


@dataclass(frozen=True)
class BenchDatabase:
    label: str
    path: Path
    schools: int
    returns: int
    seconds: float | None  # how long building it took (None when unknown)
    reused: bool  # an earlier run's file

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def cache_dir() -> Path:
    return settings.data_dir() / "bench"


# What a kept database's content depends on besides its size and seed: a change to any of these
# files makes the next run build it afresh.
LARGE_SOURCES = ("store/schema.py", "store/values.py", "loaders/registry.py", "loaders/cross_checks.py",
                 "sample_data/figures.py", "sample_data/trust.py", "sample_data/large.py", "bench/trusts.py")
SAMPLE_SOURCES = ("store/*.py", "loaders/*.py", "sample_data/returns/*.xlsx", "sample_data/schools.csv")


def source_tag(patterns: tuple[str, ...]) -> str:
    """A short digest of the files matching ``patterns`` (under the project folder)."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(settings.ROOT.glob(pattern)):
            digest.update(path.relative_to(settings.ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def large_database(n_schools: int, n_terms: int = 9, seed: int = 1, *, folder: Path | None = None,
                   label: str | None = None) -> BenchDatabase:
    """A made-up trust of ``n_schools`` schools over ``n_terms`` terms, built once and reused."""
    stem = f"trust_{n_schools}x{n_terms}_seed{seed}_"
    plan = large.large_trust(n_schools, n_terms, seed)
    return _cached(folder or cache_dir(), stem, f"gen{large.GENERATOR_VERSION}_{source_tag(LARGE_SOURCES)}",
                   label or f"{n_schools:,} schools x {n_terms} terms", lambda engine: store_trust(engine, plan))


def sample_database(*, folder: Path | None = None) -> BenchDatabase:
    """The sample trust, imported from sample_data/returns as on a first start."""
    return _cached(folder or cache_dir(), "sample_", source_tag(SAMPLE_SOURCES), "sample trust",
                   lambda engine: sample.ensure_sample(engine))


def _cached(folder: Path, stem: str, tag: str, label: str, fill) -> BenchDatabase:
    """The database ``stem + tag``, built by ``fill`` unless an earlier run left it; a file of the
    same stem under another tag is out of date and removed."""
    path = folder / f"{stem}{tag}.db"
    note = path.with_suffix(".json")  # how long the file took to build, for the runs that reuse it
    reused = path.exists()
    if reused:
        seconds = _built_in(note)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f"{stem}*"):
            if not old.name.endswith(".building"):  # another run may be building its own
                old.unlink(missing_ok=True)
        building = path.with_name(f"{path.name}.{os.getpid()}.building")
        start = time.perf_counter()
        engine = db.make_engine(f"sqlite:///{building}")
        try:
            upgrades.upgrade(engine)
            fill(engine)
        except BaseException:
            db.dispose(engine)
            _remove(building)
            raise
        db.dispose(engine)  # the last connection closed folds the WAL back into the file
        seconds = time.perf_counter() - start
        note.write_text(json.dumps({"seconds": round(seconds, 2)}), encoding="utf-8")
        os.replace(building, path)
    n_schools, n_returns = _counts(path)
    return BenchDatabase(label, path, n_schools, n_returns, seconds, reused)


def _built_in(note: Path) -> float | None:
    try:
        return float(json.loads(note.read_text(encoding="utf-8"))["seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        p.unlink(missing_ok=True)


def _counts(path: Path) -> tuple[int, int]:
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return (conn.execute(sa.select(sa.func.count()).select_from(schools)).scalar_one(),
                    conn.execute(sa.select(sa.func.count()).select_from(returns)).scalar_one())
    finally:
        db.dispose(engine)


def store_trust(engine: Engine, plan: large.LargeTrust) -> int:
    """Store every return of a large trust (and each school's phase); how many were stored."""
    phases = {s.urn: s.phase for s in plan.schools}
    items = ((report, content, submitted_at(report)) for _, report, content in large.iter_reports(plan))
    return store_bulk(engine, items, phases=phases)


def submitted_at(report: ReturnReport) -> datetime | None:
    completed = report.values.get(M.ABOUT_DATE_COMPLETED)
    if not isinstance(completed, date):
        return None
    return as_utc(datetime.combine(completed, clock(SUBMITTED_AT_HOUR), tzinfo=UK))


def store_bulk(engine: Engine, items: Iterable[tuple[ReturnReport, bytes, datetime | None]], *,
               phases: dict[str, str] | None = None, user: str = BENCH_USER, source: str = BENCH_SOURCE) -> int:
    """Store many valid reports in one write transaction, as ``save_return`` would one by one.

    Each report becomes the next version of its school-term; a report with errors stops the
    whole write (nothing is stored), since only generated, valid reports come here.
    """
    phases = phases or {}
    stored = 0
    with db.writing(engine) as conn:
        if db.is_sqlite(conn):
            # A bigger page cache for this connection: millions of index entries go in at once.
            conn.exec_driver_sql(f"PRAGMA cache_size = -{BUILD_CACHE_KB}")
        next_id = (conn.execute(sa.select(sa.func.max(returns.c.id))).scalar() or 0) + 1
        newest = {(u, y, t): v for u, y, t, v in conn.execute(
            sa.select(returns.c.urn, returns.c.academic_year, returns.c.term, sa.func.max(returns.c.version))
            .group_by(returns.c.urn, returns.c.academic_year, returns.c.term))}
        phase_now = dict(conn.execute(sa.select(schools.c.urn, schools.c.phase)).all())
        known = set(phase_now)
        for chunk in _batches(items, BATCH):
            rows = _Rows()
            for report, content, at in chunk:
                if not report.valid:
                    raise ValueError(f"{report.file} has errors; only valid returns are stored")
                urn, year, term = report.school_term
                if urn not in known:
                    known.add(urn)
                    name = " ".join(str(report.values.get(M.ABOUT_SCHOOL_NAME) or "").split()) or f"School {urn}"
                    rows.schools.append({"urn": urn, "name": name, "phase": phases.get(urn),
                                         "created_at": at or utcnow()})
                    phase_now[urn] = phases.get(urn)
                said, recorded = report.values.get(M.ABOUT_PHASE), None
                if phase_now.get(urn) is None and said in PHASES:  # as store.phases.phase_from_return
                    phase_now[urn] = recorded = said
                    rows.phases.append({"u": urn, "phase": said})
                version = newest.get((urn, year, term), 0) + 1
                newest[(urn, year, term)] = version
                rows.add(next_id, version, report, content, at or utcnow(), user=user, source=source, phase=recorded)
                next_id += 1
                stored += 1
            rows.write(conn)
    return stored


class _Rows:
    """One batch's rows for every table, written with one executemany per table."""

    def __init__(self):
        self.schools, self.returns, self.values, self.leads, self.queries, self.audit = [], [], [], [], [], []
        self.phases: list[dict] = []  # schools whose phase a return recorded

    def add(self, return_id: int, version: int, report: ReturnReport, content: bytes, at: datetime, *,
            user: str, source: str, phase: str | None = None) -> None:
        urn, year, term = report.school_term
        sha256 = hashlib.sha256(content).hexdigest()
        self.returns.append(dict(
            id=return_id, urn=urn, academic_year=year, term=term, version=version, status="submitted",
            submitted_by=user, submitted_at=at, file_name=report.file, sha256=sha256, content=content,
            size=len(content), date_completed=report.values.get(M.ABOUT_DATE_COMPLETED)))
        values = coding.rows_for(report.values, return_id=return_id, urn=urn, academic_year=year, term=term)
        self.values += values
        self.leads += [{"return_id": return_id, "role": p.role, "name": p.name,
                        "last_full_training": p.last_full_training, "last_refresher": p.last_refresher}
                       for p in report.leads]
        self.queries += [{"return_id": return_id, "key": p.key, "code": p.code, "sheet": p.sheet,
                          "cell": p.cell, "message": p.message, "explanation": None} for p in report.queries]
        self.audit.append(dict(
            at=utcnow(), actor=user, action="import", outcome=ACCEPTED, urn=urn, academic_year=year, term=term,
            file_name=report.file, sha256=sha256, size=len(content), source=source,
            detail={"return_id": return_id, "version": version, "n_queries": len(report.queries), "n_explained": 0,
                    "n_blank": sum(1 for r in values if r["value_num"] is None and r["value_text"] is None),
                    **({"phase": phase} if phase else {})}))

    def write(self, conn) -> None:
        for table, rows in ((schools, self.schools), (returns, self.returns), (return_values, self.values),
                            (leads, self.leads), (return_queries, self.queries), (audit, self.audit)):
            if not rows:
                continue
            if table is return_values and db.is_sqlite(conn):
                _insert_plain(conn, table, rows)
            else:
                conn.execute(table.insert(), rows)
        if self.phases:
            conn.execute(schools.update().where(schools.c.urn == sa.bindparam("u")).values(phase=sa.bindparam("phase")),
                         self.phases)


def _insert_plain(conn, table: sa.Table, rows: list[dict]) -> None:
    """An executemany straight to the driver, for the one table of millions of rows: its values are
    already plain text, numbers and NULLs, so SQLAlchemy's per-row work buys nothing there."""
    names = [c.name for c in table.columns]
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
    conn.exec_driver_sql(sql, [tuple(r[n] for n in names) for r in rows])


def _batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk
