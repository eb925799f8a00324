"""Our files opened by a real spreadsheet program: LibreOffice (headless) reads every workbook and
CSV we hand out, hostile text and all, and evaluates nothing. The same program run on files made
the naive way shows the check can fail: there ``=1+2`` becomes 3 and a CSV's formula a formula.

Needs LibreOffice's Calc (Debian's libreoffice-calc-nogui; .ci/run installs it): without it the
module is skipped with the reason, except under CI, where it fails.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import subprocess
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from analysis.exports import GUARD, to_csv_bytes, to_xlsx_bytes
from loaders.template import template_bytes
from tests.analysis.test_exports import HOSTILE, _as_stored_in_xlsx

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if SOFFICE is None:
    if os.environ.get("CI"):
        raise RuntimeError("LibreOffice is missing: .ci/run installs Debian's libreoffice-calc-nogui before the tests")
    pytest.skip("no LibreOffice here: apt-get install libreoffice-calc-nogui to run these tests",
                allow_module_level=True)

# CSV out: comma, double quote, UTF-8, every sheet (one file each, named file-Sheet.csv).
ALL_SHEETS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
CSV_IN = "CSV:44,34,76,1"  # how a person opens our CSV: comma, double quote, UTF-8
NUMBERS = [-3, 1.5, 0, 2, -1, 12, 7, 8, 9, 10, 11, 13, 14, 15]


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """Convert files with LibreOffice in a profile of this module's own (so a LibreOffice someone
    has open is not disturbed): ``office(paths, to, infilter=None)`` -> the output folder."""
    root = tmp_path_factory.mktemp("libreoffice")
    profile = (root / "profile").as_uri()

    def convert(paths: list[Path], to: str, infilter: str | None = None) -> Path:
        out = root / f"out{len(list(root.glob('out*')))}"
        command = [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--norestore"]
        command += [f"--infilter={infilter}"] if infilter else []
        command += ["--convert-to", to, "--outdir", str(out), *map(str, paths)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        return out

    return convert


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))


def _lines(text: str) -> str:
    """Text with its line breaks as a spreadsheet keeps them (a CR read as a line break)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _hostile_frame() -> pd.DataFrame:
    return pd.DataFrame({"Typed": HOSTILE, "Number": NUMBERS[:len(HOSTILE)]})


def test_libreoffice_shows_our_workbook_as_typed_and_evaluates_nothing(tmp_path, office):
    ours, naive = tmp_path / "ours.xlsx", tmp_path / "naive.xlsx"
    ours.write_bytes(to_xlsx_bytes({"Hostile": _hostile_frame()}))
    book = Workbook()
    for text in HOSTILE:
        book.active.append([text])  # openpyxl's own way: "=..." becomes a formula
    book.save(naive)
    out = office([ours, naive], ALL_SHEETS_CSV)

    rows = _rows(out / "ours-Hostile.csv")
    assert rows[0] == ["Typed", "Number"]
    for (typed, number), (text, n) in zip(rows[1:], zip(HOSTILE, NUMBERS), strict=True):
        assert typed == _as_stored_in_xlsx(text), (typed, text)
        assert float(number) == n  # a number, -3 included, read as the number it is
    evaluated = [row[0] for row in _rows(next(out.glob("naive*.csv")))]
    assert evaluated[0] == "3" and evaluated[0] != HOSTILE[0]  # the naive file ran its formula


def test_libreoffice_opens_our_csv_with_text_as_text_and_numbers_as_numbers(tmp_path, office):
    ours, naive = tmp_path / "ours.csv", tmp_path / "naive.csv"
    ours.write_bytes(to_csv_bytes(_hostile_frame()))
    naive.write_text("Typed\r\n=1+2\r\n", encoding="utf-8")
    out = office([ours, naive], "xlsx", infilter=CSV_IN)

    sheet = load_workbook(out / "ours.xlsx").active
    cells = list(sheet.iter_rows(min_row=2, values_only=False))
    assert len(cells) == len(HOSTILE)
    for (typed, number), text, n in zip(cells, HOSTILE, NUMBERS):
        assert typed.data_type == "s" and _lines(typed.value) == GUARD + _lines(text)
        assert number.data_type == "n" and number.value == n
    naive_cell = load_workbook(out / "naive.xlsx").active["A2"]
    assert naive_cell.data_type == "f"  # the same program makes an unguarded CSV value a formula


def test_libreoffice_reads_the_template_of_a_school_named_like_a_formula_as_typed(tmp_path, office):
    name = '=HYPERLINK("http://127.0.0.1:9/x","Kestrel Vale")'
    path = tmp_path / "template.xlsx"
    path.write_bytes(template_bytes(urn="990002", school_name=name, year="2025/26", term="Autumn"))
    about = _rows(office([path], ALL_SHEETS_CSV) / "template-About.csv")
    assert ["School name", name] == next(row[:2] for row in about if row and row[0] == "School name")


def test_libreoffice_evaluates_nothing_in_the_board_pack_of_a_trust_with_hostile_names(tmp_path, office,
                                                                                       sample_engine):
    """The pack's workbook with its appendix (every sheet it can have), made for a trust whose school,
    question and answer begin like formulas."""
    from reports.pack import build_pack
    from reports.xlsx import render_xlsx
    from store import db
    from store.challenges import add_challenge
    from store.returns import rename_school

    copy = tmp_path / "trust.db"
    with sqlite3.connect(sample_engine.url.database) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # a consistent copy, whatever the live file's journal holds
    engine = db.make_engine(f"sqlite:///{copy}")
    name, question, answer = '=HYPERLINK("http://127.0.0.1:9/","Oak")', "@SUM(1+1)", "+1+1 were seen"
    rename_school(engine, "990002", name, user="test")
    add_challenge(engine, urn="990002", theme="neglect", rule="neglect_drift", indicator="", academic_year="2025/26",
                  term="Summer", finding="Flags stay on monitoring.", question=question, asked_by="-Chair",
                  meeting_date=date(2026, 7, 10), user="test", answer=answer, answered_by="DSL")
    db.dispose(engine)
    path = tmp_path / "pack.xlsx"
    path.write_bytes(render_xlsx(build_pack(f"sqlite:///{copy}", role="leader", appendix=True)))
    out = office([path], ALL_SHEETS_CSV)
    shown = {p.name: p.read_text(encoding="utf-8-sig") for p in out.glob("pack-*.csv")}
    assert len(shown) >= 5
    everything = "\n".join(shown.values())
    assert name.replace('"', '""') in everything  # as typed, in a quoted CSV field
    assert question in everything and answer in everything and "-Chair" in everything
    assert "\nOak," not in everything and ",Oak," not in everything  # what the formula would have shown
