"""python -m reports pack: 0 with the file written, 1 with a plain sentence when the pack cannot be
made (a PDF without Chromium too), 2 on bad usage."""

from __future__ import annotations

import os
import subprocess

import pytest
from openpyxl import load_workbook

from reports.__main__ import main
from reports.pdf import NO_CHROMIUM, PdfUnavailable, chromium_path
from tests.helpers.cli import run_module


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_module("reports", *args, env=env, timeout=300)


def _has_chromium() -> bool:
    try:
        return bool(chromium_path())
    except PdfUnavailable:
        return False


@pytest.mark.skipif(not _has_chromium() and not os.environ.get("CI"),
                    reason="no Chromium: `sudo apt-get install chromium-headless-shell` to make a PDF")
def test_a_pdf_pack_is_written_and_exits_0(sample_url, tmp_path):
    out = tmp_path / "pack.pdf"
    done = run("pack", "--db", sample_url, "--format", "pdf", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert f"written to {out}" in done.stdout
    assert out.read_bytes().startswith(b"%PDF-")
    assert b"%%EOF" in out.read_bytes()[-1024:]
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]  # no temporary file left behind


def test_a_pdf_without_chromium_exits_1_with_the_sentence(sample_url, tmp_path):
    out = tmp_path / "pack.pdf"  # the format from the file name
    done = run("pack", "--db", sample_url, "-o", str(out), env={"CHROMIUM_PATH": str(tmp_path / "no-chromium")})
    assert done.returncode == 1
    assert done.stderr.strip() == NO_CHROMIUM
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


def test_each_pack_made_is_put_on_the_record_of_changes(sample_engine, tmp_path, capsys):
    import sqlite3

    from store import db
    from store.audit import audit_log

    path = tmp_path / "copy.db"
    with sqlite3.connect(sample_engine.url.database) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    url = f"sqlite:///{path}"
    assert main(["pack", "--db", url, "--year", "2025/26", "--term", "Spring", "-o", str(tmp_path / "p.html")]) == 0
    assert main(["pack", "--db", url, "--role", "trustee", "--appendix", "-o", str(tmp_path / "p.xlsx")]) == 0
    engine = db.make_engine(url)
    try:
        made = audit_log(engine, actions=["board_pack"]).head(2)  # the copy may hold earlier tests' packs
    finally:
        db.dispose(engine)
    assert [(r["academic_year"], r["term"], r["detail"]["format"], r["detail"]["for"], r["detail"]["appendix"])
            for _, r in made.iterrows()] \
        == [("2025/26", "Summer", "xlsx", "trustee", True), ("2025/26", "Spring", "html", "leader", False)]
    assert all(a.startswith("command line (") for a in made["actor"]) and set(made["source"]) == {"command line"}


def test_the_pack_is_short_unless_the_appendix_is_asked_for(sample_url, tmp_path, capsys):
    short, full = tmp_path / "short.xlsx", tmp_path / "full.html"
    assert main(["pack", "--db", sample_url, "-o", str(short)]) == 0
    assert "short (--appendix adds the charts and tables)" in capsys.readouterr().out
    assert load_workbook(short).sheetnames == ["Summary", "Gaps", "Board questions", "How to read"]
    assert main(["pack", "--db", sample_url, "--appendix", "-o", str(full)]) == 0
    assert "with the appendix of charts and tables" in capsys.readouterr().out
    html = full.read_text(encoding="utf-8")
    assert 'id="how-to-read"' in html and 'id="theme-neglect"' in html and 'id="appendix"' in html
