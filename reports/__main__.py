"""The board pack on the command line.

    python -m reports pack [--db URL] [--year 2025/26 --term Spring] --format html|xlsx|pdf -o FILE
                           [--role trustee]

One term (the latest with any return, unless --year and --term name another) as a single offline
HTML file or an Excel workbook. ``--role trustee`` makes the pack a trustee would see, with small
counts of children shown as "fewer than 5". Exit 0 when the file was written, 1 when the pack could
not be made (no database, no returns, none for that term, the file cannot be written), 2 on bad
usage, and for PDF, which is not available yet. Never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from analysis.dataset import term_asked


OK, FAILED, USAGE = 0, 1, 2
FORMATS = ("html", "xlsx", "pdf")
NO_PDF = "PDF is not available yet; use html and print it to PDF from a browser."


def main(argv: list[str] | None = None) -> int:
    parser, pack_parser = _parser()
    args = parser.parse_args(argv)
    year, term = term_asked(args, pack_parser)
    fmt = args.format or Path(args.output).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        pack_parser.error("--format is needed (html or xlsx) when the file name does not end in .html or .xlsx.")
    if fmt == "pdf":
        print(NO_PDF, file=sys.stderr)
        return USAGE
    # the analysis and the figures are imported only once a pack is wanted, so that a usage
    # mistake is answered at once
    from reports.pack import Unavailable, build_pack

    try:
        pack = build_pack(args.db, year, term, role=args.role)
        if fmt == "html":
            from reports.html import render_html
            content = render_html(pack).encode("utf-8")
        else:
            from reports.xlsx import render_xlsx
            content = render_xlsx(pack)
        _write(Path(args.output), content)
    except Unavailable as exc:
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
    print(f"Board pack for {pack.term} {pack.academic_year}, for {reader}, written to {args.output}.")
    return OK


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(prog="python -m reports", description="The board pack, from the returns "
                                     "in the database.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{pack}")
    pack = commands.add_parser("pack", help="write the board pack for a term")
    pack.add_argument("--db", metavar="URL", help="database URL (default: the configured one)")
    pack.add_argument("--year", help="academic year, e.g. 2025/26 (with --term)")
    pack.add_argument("--term", help="Autumn, Spring or Summer (with --year)")
    pack.add_argument("--format", choices=FORMATS, help="html (one file, works offline) or xlsx; "
                      "default: from the file name")
    pack.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write")
    pack.add_argument("--role", choices=("leader", "trustee"), default="leader",
                      help="who the pack is for: trustee hides small counts of children (default: leader)")
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
    try:
        return main()
    except KeyboardInterrupt:
        return FAILED


if __name__ == "__main__":
    sys.exit(run())
