"""Make the sample trust's returns: `python -m sample_data.generate [FOLDER]`.

Seeded and deterministic: the same run writes the same workbooks, byte for byte (the file
timestamps are set from each return's date completed). Writes, under the folder (default: this
package's own folder), `returns/<urn>_<yyyy-yy>_<term>.xlsx`, `invalid/` (files broken on
purpose, named by outcome), `schools.csv` and `patterns.csv`.
"""

from __future__ import annotations

import csv
import re
import sys
import time
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from io import BytesIO
from pathlib import Path

from loaders.report import Lead
from loaders.template import write_template
from sample_data import broken, figures, trust

SAMPLE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PlannedReturn:
    school: trust.School
    academic_year: str
    term: str
    values: dict[str, object]
    leads: list[Lead]

    @property
    def filename(self) -> str:
        return return_filename(self.school.urn, self.academic_year, self.term)


def return_filename(urn: str, academic_year: str, term: str) -> str:
    """``990001_2025-26_Autumn.xlsx``."""
    return f"{urn}_{academic_year.replace('/', '-')}_{term}.xlsx"


def plan_school(school: trust.School) -> list[PlannedReturn]:
    """One school's returns, term by term (the missing one left out)."""
    out: list[PlannedReturn] = []
    previous: dict[str, object] | None = None
    for year, term in trust.TERMS:
        if (school.urn, year, term) == trust.MISSING:
            previous = None  # the next return has no last term to be compared with
            continue
        values = figures.plan_values(school, year, term)
        figures.plant(school, year, term, values)
        figures.settle(values, previous)
        out.append(PlannedReturn(school, year, term, values, figures.plan_leads(school, year, term)))
        previous = values
    return out


def plan_trust() -> list[PlannedReturn]:
    """Every return of the sample trust, school by school."""
    return [r for school in trust.SCHOOLS for r in plan_school(school)]


def return_bytes(planned: PlannedReturn) -> bytes:
    buffer = BytesIO()
    write_template(buffer, values=planned.values, leads=planned.leads,
                   version=planned.values["about.template_version"])
    return stable_bytes(buffer.getvalue(), _stamp(planned.values.get("about.date_completed")))


def stable_bytes(data: bytes, stamp: datetime) -> bytes:
    """The same workbook with every timestamp set to ``stamp``, so regeneration changes nothing."""
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + iso.encode(), content)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6]), content,
                         compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _stamp(completed) -> datetime:
    return datetime.combine(completed if isinstance(completed, date) else date(2024, 9, 1), clock(9))


def write_schools(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["urn", "name", "phase", "pupils", "local_authority"])
        for s in trust.SCHOOLS:
            writer.writerow([s.urn, s.name, s.phase, s.pupils, s.local_authority])


def write_patterns(path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["pattern", "urn", "school", "terms", "measures", "description"])
        for p in trust.PATTERNS:
            writer.writerow([p.id, p.urn, trust.SCHOOLS_BY_URN[p.urn].name,
                             ";".join(f"{y} {t}" for y, t in p.terms), ";".join(p.measures), p.description])


def generate(root: Path = SAMPLE_DIR) -> list[Path]:
    """Write the whole sample under ``root``; returns the paths of the good returns."""
    returns_dir, invalid_dir = root / "returns", root / "invalid"
    for folder in (returns_dir, invalid_dir):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.xls*"):  # only the files this generator makes
            old.unlink()
    planned = plan_trust()
    paths = []
    for p in planned:
        path = returns_dir / p.filename
        path.write_bytes(return_bytes(p))
        paths.append(path)
    base = _base_for_invalid(planned)
    stamp = _stamp(base.values.get("about.date_completed"))
    broken.write_invalid(invalid_dir, base, lambda data: stable_bytes(data, stamp))
    write_schools(root / "schools.csv")
    write_patterns(root / "patterns.csv")
    return paths


def _base_for_invalid(planned: list[PlannedReturn]) -> PlannedReturn:
    # A school with no planted pattern, so each broken file shows one problem only.
    clean = [p for p in planned if p.school.urn == trust.CLEAN_URNS[0]]
    return clean[-1]


def write_many_returns(folder: Path, n: int) -> list[Path]:
    """``n`` valid returns for made-up schools (benchmarks): the sample trust's returns again under
    other URNs, each school-term once."""
    folder.mkdir(parents=True, exist_ok=True)
    base = [(p, return_bytes(p)) for p in plan_trust()]
    paths = []
    for i in range(n):
        planned, data = base[i % len(base)]
        copy = i // len(base)
        urn = f"{900000 + copy * 100 + trust.SCHOOLS.index(planned.school) + 1:06d}"
        path = folder / return_filename(urn, planned.academic_year, planned.term)
        path.write_bytes(with_urn(data, planned.school.urn, urn))
        paths.append(path)
    return paths


def with_urn(data: bytes, old: str, new: str, *, note: str = "") -> bytes:
    """A filled return with URN ``old`` made out to ``new``: the URN is written as a number on the
    About sheet, and swapping it there keeps the workbook whole. ``note``, in the zip's comment,
    makes each copy's bytes (and SHA-256) its own."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.comment = note.encode()
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                content = content.replace(f"<v>{old}</v>".encode(), f"<v>{new}</v>".encode())
            dst.writestr(info, content)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else SAMPLE_DIR
    start = time.perf_counter()
    paths = generate(root)
    elapsed = time.perf_counter() - start
    print(f"Wrote {len(paths)} returns for {len(trust.SCHOOLS)} schools of {trust.TRUST_NAME}, "
          f"the invalid examples, schools.csv and patterns.csv under {root} in {elapsed:.1f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
