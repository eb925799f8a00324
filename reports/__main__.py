"""The board pack on the command line.

    python -m reports pack [--db URL] [--year 2025/26 --term Spring] --format html|xlsx|pdf -o FILE
                           [--role trustee] [--appendix]

One term as a single offline HTML file, an Excel workbook or a PDF; the format comes from the file
name when --format is not given. The pack is short (a cover, a page of summary, the gaps by theme
with their questions, the board's questions and how to read it) unless ``--appendix`` asks for each
theme's charts and tables of figures, the definitions and the methods too. Unless --year and --term
name another, the term is the one the dashboard shows first: the latest with returns whose deadline
has passed, or a newer one once every school has returned for it. The PDF is the HTML pack printed
by Chromium (found as the CHROMIUM_PATH setting, else on the PATH), which starts while the pack is
gathered and, with the appendix, draws each theme's charts while the next theme's are made.
``--role trustee`` makes the pack a trustee would see, with small counts of children shown as
"fewer than 5". Exit 0 when the file was written, 1 when the pack could not be made (no database,
no returns, none for that term, no Chromium for a PDF, the file cannot be written), 2 on bad usage.
Never a traceback. Each pack made is put on the record of changes, which is how the next term's
pack knows which of the board's questions were closed since.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
from pathlib import Path

from reports.formats import FORMATS, render_pack
from reports.pdf import PdfUnavailable, Printer
from store.cli import add_term, run_safely

OK, FAILED, USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    parser, pack_parser = _parser()
    args = parser.parse_args(argv)
    fmt = args.format or Path(args.output).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        pack_parser.error("--format is needed (html, xlsx or pdf) when the file name does not end in .html, "
                          ".xlsx or .pdf.")
    printer = None
    if fmt == "pdf":
        try:
            # Chromium starts (and, for the appendix's charts, loads plotly.js) while the pack is gathered
            printer = Printer(preload=args.appendix)
        except PdfUnavailable as exc:
            print(exc, file=sys.stderr)
            return FAILED
    try:
        return _make(args, pack_parser, fmt, printer)
    finally:
        if printer is not None:
            printer.close()


def _make(args, pack_parser, fmt: str, printer: Printer | None) -> int:
    # the analysis and the figures are imported once Chromium is starting
    from analysis.dataset import Unavailable, term_asked
    from reports.pack import build_pack

    year, term = term_asked(args, pack_parser)
    try:
        pack, content = render_pack(lambda: build_pack(args.db, year, term, role=args.role, appendix=args.appendix),
                                    fmt, appendix=args.appendix, printer=printer)
        _write(Path(args.output), content)
    except (Unavailable, PdfUnavailable) as exc:
        print(exc, file=sys.stderr)
        return FAILED
    except OSError as exc:
        print(f"Could not write {args.output}: {exc.strerror or exc}.", file=sys.stderr)
        return FAILED
    except Exception:  # noqa: BLE001 - a bug of ours: one line, no traceback
        print("Sorry: something went wrong on our side while making the board pack. Nothing was written; "
              "please report this.", file=sys.stderr)
        return FAILED
    reader = "trustees" if args.role == "trustee" else "the trust's leaders"
    form = "with the appendix of charts and tables" if pack.appendix else "short (--appendix adds the charts and tables)"
    print(f"Board pack for {pack.term} {pack.academic_year}, for {reader}, {form}, written to {args.output}.")
    _put_on_record(args.db, pack, fmt)
    return OK


def _put_on_record(url, pack, fmt: str) -> None:
    """The pack made goes on the record of changes (who: the account running the command); the
    next term's pack counts the board's questions closed since it. The file is written either way."""
    from analysis.dataset import open_database
    from store.packs import record_pack

    try:
        engine = open_database(url)
        try:
            record_pack(engine, user=f"command line ({getpass.getuser()})", academic_year=pack.academic_year,
                        term=pack.term, fmt=fmt, reader="trustee" if pack.for_trustees else "leader",
                        appendix=pack.appendix, source="command line")
        finally:
            engine.dispose()
    except Exception:  # noqa: BLE001 - the pack is written; say what was not kept
        print("The pack was written, but could not be put on the record of changes (is the database "
              "read-only?).", file=sys.stderr)


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="python -m reports", description="The board pack, from the returns "
                                     "in the database.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{pack}")
    pack = add_term(commands.add_parser("pack", help="write the board pack for a term"))
    pack.add_argument("--format", choices=FORMATS, help="html (one file, works offline), xlsx "
                      "or pdf (printed by Chromium); default: from the file name")
    pack.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write")
    pack.add_argument("--role", choices=("leader", "trustee"), default="leader",
                      help="who the pack is for: trustee hides small counts of children (default: leader)")
    pack.add_argument("--appendix", action="store_true", help="add the appendix: each theme's charts and tables "
                      "of figures, the definitions and the methods (default: the short pack)")
    return parser, pack


def _write(path: Path, content: bytes) -> None:
    """Write the whole file or nothing: a half-written pack never takes the place of a good one."""
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=".pack-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        mask = os.umask(0)  # a temporary file is private; the pack gets the usual permissions
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run() -> int:
    return run_safely(main)


if __name__ == "__main__":
    sys.exit(run())
