"""python -m reports pack: 0 with the file written, 1 with a plain sentence when the pack cannot be
made, 2 on bad usage and for PDF."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from reports.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_pdf_is_refused_with_a_plain_sentence(tmp_path):
    out = tmp_path / "pack.pdf"
    done = run("pack", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--format", "pdf", "-o", str(out))
    assert done.returncode == 2
    assert "PDF is not available yet; use html and print it to PDF from a browser" in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_bad_usage_exits_2(tmp_path):
    for args in (("pack",), ("pack", "-o", str(tmp_path / "p.html"), "--year", "2025/26"),
                 ("pack", "-o", str(tmp_path / "p.docx")),
                 ("pack", "-o", str(tmp_path / "p.html"), "--role", "governor"),
                 ("pack", "-o", str(tmp_path / "p.html"), "--year", "2025", "--term", "Spring")):
        done = run(*args)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())


def test_an_empty_database_exits_1_with_a_plain_sentence(sqlite_engine, tmp_path, capsys):
    out = tmp_path / "pack.html"
    url = sqlite_engine.url.render_as_string(hide_password=False)
    assert main(["pack", "--db", url, "--format", "html", "-o", str(out)]) == 1
    assert "No returns stored yet" in capsys.readouterr().err
    assert not out.exists()


def test_no_database_or_no_such_term_exits_1(sample_url, tmp_path, capsys):
    out = tmp_path / "pack.xlsx"
    assert main(["pack", "--db", f"sqlite:///{tmp_path / 'missing.db'}", "-o", str(out)]) == 1
    assert "There is no database" in capsys.readouterr().err
    assert main(["pack", "--db", sample_url, "--year", "2001/02", "--term", "Autumn", "-o", str(out)]) == 1
    assert "No returns are stored for Autumn 2001/02" in capsys.readouterr().err
    assert not out.exists()


def test_a_pack_is_written_and_exits_0(sample_url, tmp_path, capsys):
    out = tmp_path / "pack.xlsx"  # the format from the file name
    assert main(["pack", "--db", sample_url, "--role", "trustee", "-o", str(out)]) == 0
    assert "for trustees" in capsys.readouterr().out
    book = load_workbook(out)
    assert book.sheetnames[0] == "Summary"
    assert [p.name for p in tmp_path.iterdir()] == ["pack.xlsx"]  # no temporary file left behind
