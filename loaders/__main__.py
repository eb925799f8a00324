"""The command line for data officers and scripts: check returns, import them, or write a blank one.

    python -m loaders check [--json] FILE...
    python -m loaders import [--db URL] [--received YYYY-MM-DD] FILE...
    python -m loaders template [--urn URN] [--year 2025/26] [--term Autumn] [--school-name NAME] -o FILE

``import --received`` gives the day a paper or emailed return really arrived: it counts as
submitted that day (so back-filling last year's returns does not make every school late), and the
day is on the record of changes with the import.

Exit 0 when no file has errors, 1 when any has (or a file could not be handled), 2 on bad usage.
A bug never shows a traceback: the user gets a one-line apology naming the file.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from . import values
from .checker import check_file
from .report import ReturnReport

OK, FAILED, USAGE = 0, 1, 2
RETURNS_PER_TRANSACTION = 50  # import: each return still whole or not at all (a savepoint each)
UK = ZoneInfo("Europe/London")  # the trust's days


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "check":
        return _check(args.files, as_json=args.json)
    if args.command == "import":
        return _import(args.files, args.db, _received(args.received, parser))
    return _template(args, parser)


def _received(raw: str | None, parser: argparse.ArgumentParser) -> date | None:
    """The day given to --received, or None; a bad or future day ends with a sentence (exit 2)."""
    if raw is None:
        return None
    text = raw.strip()
    try:
        day = date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    except ValueError:
        day = None
    if day is None:
        parser.error(f"--received {raw!r} is not a date: give the day the return arrived as YYYY-MM-DD, "
                     "for example 2025-04-10.")
    if day > datetime.now(UK).date():
        parser.error(f"--received {raw!r} is after today: give the day the return arrived.")
    return day


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m loaders", description="Check, import or create "
                                     "termly safeguarding returns.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{check,import,template}")
    check = commands.add_parser("check", help="validate returns and store nothing")
    check.add_argument("--json", action="store_true", help="print a JSON list, one object a file")
    check.add_argument("files", nargs="+", metavar="FILE")
    load = commands.add_parser("import", help="validate returns and store the valid ones")
    load.add_argument("--db", metavar="URL", help="database URL (default: the configured one)")
    load.add_argument("--received", metavar="YYYY-MM-DD",
                      help="the day a paper or emailed return really arrived: it counts as submitted then, "
                           "so it is late only if that day was after its deadline (default: now)")
    load.add_argument("files", nargs="+", metavar="FILE")
    blank = commands.add_parser("template", help="write a blank return for a school and term")
    blank.add_argument("--urn", help="the school's 6-digit URN")
    blank.add_argument("--year", help="academic year, e.g. 2025/26")
    blank.add_argument("--term", help="Autumn, Spring or Summer")
    blank.add_argument("--school-name", dest="school_name", help="the school's name")
    blank.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the .xlsx")
    return parser


def _apologise(file: str, doing: str) -> None:
    print(_apology(file, doing), file=sys.stderr)


def _apology(file: str, doing: str) -> str:
    return (f"Sorry: something went wrong on our side while {doing} {file}. Nothing was stored for it; "
            "please report this.")


def _check(files: list[str], *, as_json: bool) -> int:
    reports: list[ReturnReport] = []
    failed = False
    for file in files:
        try:
            reports.append(check_file(file))
        except Exception:  # noqa: BLE001 - a bug in our code, not a problem in the file
            _apologise(file, "checking")
            failed = True
    if as_json:
        print(json.dumps([r.as_json() for r in reports], indent=2, ensure_ascii=False))
    else:
        print("\n\n".join(render(r) for r in reports))
    return FAILED if failed or any(not r.valid for r in reports) else OK


def render(report: ReturnReport) -> str:
    """A readable report: the file, the verdict, then one ``Sheet!Cell  message`` line per problem
    (a cell's message leads with its row's label, then the sheet and cell again, as on the page)."""
    lines = [f"{report.file}: {report.verdict()}"]
    if report.refused:
        return lines[0]
    for title, problems in (("Errors", report.errors), ("Queries", report.queries)):
        if problems:
            lines.append(f"  {title}:")
            lines += [f"    {p.where}  {_without_where(p.message, p.where)}" for p in problems]
    return "\n".join(lines)


def _without_where(message: str, where: str) -> str:
    """A sheet's problem may open with the sheet's name, for the web page; after ``Sheet  `` once is enough."""
    return message[len(where):].lstrip(" :") if message.startswith(where + " ") else message


def _import(files: list[str], db: str | None, received: date | None = None) -> int:
    try:
        from store.db import trouble
        from store.importer import import_paths  # only `import` needs the database
        from store.upgrades import SchemaError
    except Exception:  # noqa: BLE001
        _apologise(", ".join(files), "opening the database for")
        return FAILED
    try:
        outcomes = import_paths(files, db_url=db, user="command line", received=received,
                                per_transaction=RETURNS_PER_TRANSACTION)
    except SchemaError as exc:  # a database this release cannot use: the sentence says why
        print(str(exc), file=sys.stderr)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - the database's own fault is a sentence; ours an apology
        said = trouble(exc)
        if said is None:
            _apologise(", ".join(files), "importing")
        else:
            print(said, file=sys.stderr)
        return FAILED
    failed = False
    for outcome in outcomes:
        report, saved = outcome.report, outcome.saved
        if saved is not None:
            extra = f" ({len(report.queries)} to explain)" if report.queries else ""
            print(f"{outcome.file}: stored as version {saved.version} of {saved.urn} {saved.academic_year} "
                  f"{saved.term}{extra}")
            continue
        failed = True
        if report.valid:
            print(f"{outcome.file}: not stored.")
        else:
            print(render(report))
    return FAILED if failed else OK


def _template(args, parser: argparse.ArgumentParser) -> int:
    given = {"urn": (args.urn, values.read_urn), "year": (args.year, values.read_year),
             "term": (args.term, values.read_term)}
    clean = {}
    for name, (raw, reader) in given.items():
        result = reader(raw) if raw is not None else None
        if isinstance(result, values.Bad):
            parser.error(f"--{name} {raw!r}: {result.advice}")
        clean[name] = result
    target = Path(args.output)
    try:
        from .template import write_template

        target.parent.mkdir(parents=True, exist_ok=True)
        write_template(str(target), urn=clean["urn"], school_name=args.school_name, year=clean["year"],
                       term=clean["term"])
    except OSError as exc:
        print(f"Could not write {target}: {exc.strerror or exc}.", file=sys.stderr)
        return FAILED
    except Exception:  # noqa: BLE001
        _apologise(str(target), "writing")
        return FAILED
    print(f"Wrote a blank return to {target}.")
    return OK


def run() -> int:
    from store.cli import run_safely

    return run_safely(main, piped=FAILED, bug=_apology("the command", "running"))


if __name__ == "__main__":
    sys.exit(run())
