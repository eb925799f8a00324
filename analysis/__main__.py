"""The gap list and the funnel comparison on the command line, for data officers and scripts.

    python -m analysis gaps [--db URL] [--year 2025/26 --term Spring] [--role trustee] [--json]
    python -m analysis compare [--db URL] [--year 2025/26 --term Spring] [--json]
    python -m analysis notify [--db URL] [--today YYYY-MM-DD]

``gaps``: every gap the rules find for one term, worst first, each with the question a trustee
could ask. Unless --year and --term name another, the term is the latest with returns whose
deadline has passed, or a newer one once every school has returned for it (one school returning
early does not move it). The thresholds are the trust's stored ones over the defaults. With ``--role trustee`` the list is exactly the one a
trustee sees: the same reader's view as the pages and the pack, small counts hidden.

``compare``: what the funnel plots draw for the term, one object (or row) per indicator and
school: ``indicator``, ``urn``, ``numerator``, ``denominator``, ``value`` (per 100 pupils, or a
share from 0 to 1), ``expected`` (the count the trust's figure would give a school of this base),
``lower_998``, ``lower_95``, ``upper_95``, ``upper_998`` (the funnel's limits at this school's
base, in the unit of ``value``), ``verdict`` (the side of them the value lies: ``below_998``,
``below_95``, ``within``, ``above_95``, ``above_998``) and ``group`` (what the school was compared
with: "trust"). Only figures placed on a funnel are listed.

``notify``: queues the emails due by date (reminders, late returns, the weekly digest: see
analysis/notify.py) and sends every email waiting in the outbox; it is safe to run every few
minutes, and two at once send each email once. Exit 1 when an email could not be sent (it is
kept, and tried again on a later run).

Exit 0 when the list was made (empty or not), 1 when it could not be (no database, no returns,
none for that term), 2 on bad usage. Never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass
from datetime import date

from analysis.dataset import Unavailable, chosen_term, open_database, term_asked
from analysis.themes import THEMES_BY_ID, short_name
from analysis.thresholds import THRESHOLDS_BY_ID
from store.cli import add_db, add_term, run_safely

# pandas, SQLAlchemy and the rest of the store are imported only once the gap list is wanted, so that a
# usage mistake is answered at once.

OK, FAILED, USAGE = 0, 1, 2
SEVERITY_LABEL = {"red": "RED", "amber": "AMBER", "note": "NOTE"}
ROLES = ("trust_leader", "trustee")
TABLE_MIN_WIDTH = 90  # narrower than this, five columns wrap into slivers: one paragraph a gap instead


def main(argv: list[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    if args.command == "notify":
        return _notify(args, parser)
    year, term = term_asked(args, commands[args.command])
    what = "gap list" if args.command == "gaps" else "comparison"
    try:
        if args.command == "gaps":
            result = gaps_for_term(args.db, year, term, role=args.role)
        else:
            result = comparison_for_term(args.db, year, term)
    except Unavailable as exc:
        print(exc, file=sys.stderr)
        return FAILED
    except Exception:  # noqa: BLE001 - a bug of ours: one line, no traceback
        print(f"Sorry: something went wrong on our side while making the {what}. Nothing was changed; "
              "please report this.", file=sys.stderr)
        return FAILED
    if args.command == "compare":
        from analysis import comparisons

        print(json.dumps(result.as_dicts(), indent=2, ensure_ascii=False) if args.json
              else comparisons.render(result, _width()))
    elif args.json:
        print(json.dumps([g.as_dict() for g in result.gaps], indent=2, ensure_ascii=False))
    else:
        print(render(result))
    return OK


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(prog="python -m analysis", description="The gaps a trust board "
                                     "should ask about, and how each school compares with the trust, "
                                     "from the returns in the database.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{gaps,compare,notify}")
    gaps = add_term(commands.add_parser("gaps", help="list the gaps for a term, worst first"))
    gaps.add_argument("--role", choices=ROLES, default="trust_leader",
                      help="whose gap list: a trust leader's (every number) or a trustee's (small counts hidden)")
    gaps.add_argument("--json", action="store_true", help="print a JSON list, one object a gap")
    compare = add_term(commands.add_parser("compare", help="each school against the trust on every funnel plot, "
                                           "with the limits drawn"))
    compare.add_argument("--json", action="store_true", help="print a JSON list, one object a school and indicator")
    notify = add_db(commands.add_parser("notify", help="queue the emails due by date and send every email waiting; "
                                        "safe to run every few minutes"))
    notify.add_argument("--today", metavar="YYYY-MM-DD", type=_day,
                        help="the day to queue reminders, late returns and digests for (default: today in England)")
    return parser, {"gaps": gaps, "compare": compare, "notify": notify}


@dataclass(frozen=True)
class GapList:
    """The gaps of one term, and what a reader needs to know about how they were found."""

    gaps: list
    year: str
    term: str
    returned: int  # schools with a return for the term
    expected: int  # schools that should have returned by then
    changed: dict[str, float]  # the trust's own thresholds in force


def gaps_for_term(url: str | None, year: str | None, term: str | None, role: str = "trust_leader") -> GapList:
    """Find the gaps for a term (default: analysis.deadlines.default_term) as a reader of ``role`` sees
    them. Unavailable says why not."""
    from analysis.context import Context, restrict
    from analysis.dataset import load_dataset
    from analysis.gaps import find_gaps
    from store.access import scope_for
    from store.thresholds import load_thresholds
    from store.users import User

    engine = open_database(url)
    data = restrict(load_dataset(engine), scope_for(User("command line", None, role, ())))
    changed = {k: v for k, v in load_thresholds(engine).items() if k in THRESHOLDS_BY_ID}
    year, term = chosen_term(data, year, term, changed)
    ctx = Context(data, year, term, changed)
    return GapList(find_gaps(ctx), year, term, len(ctx.returned()), len(ctx.expected()), changed)


def comparison_for_term(url: str | None, year: str | None, term: str | None):
    """Every school's place on every funnel plot for a term (default: the one shown by default),
    as a trust leader sees them. Unavailable says why not."""
    from analysis.comparisons import comparison
    from analysis.dataset import load_dataset
    from store.thresholds import load_thresholds

    engine = open_database(url)
    data = load_dataset(engine)
    year, term = chosen_term(data, year, term, load_thresholds(engine))
    return comparison(data.compared, data.school_names, year, term)


# ---- the table for a terminal -----------------------------------------------------------------

def _width() -> int:
    return max(40, min(160, shutil.get_terminal_size((100, 24)).columns))


def render(result: GapList, width: int | None = None) -> str:
    """A heading, one wrapped row a gap, and a closing count."""
    width = width or _width()
    lines = [textwrap.fill(heading(result), width), ""]
    if result.gaps:
        lines += table(result.gaps, width) if width >= TABLE_MIN_WIDTH else stacked(result.gaps, width)
    lines.append(textwrap.fill(count_line(result), width))
    return "\n".join(lines)


def heading(result: GapList) -> str:
    line = (f"Gap list for {result.term} {result.year}: {result.returned} of {result.expected} "
            f"schools returned.")
    if not result.changed:
        return line + " Thresholds: the defaults."
    own = ", ".join(f"{THRESHOLDS_BY_ID[k].label.lower()} {_threshold(k, v)}" for k, v in sorted(result.changed.items()))
    return f"{line} Thresholds: the defaults, except the trust's own for {own}."


def _threshold(key: str, value: float) -> str:
    return f"{value * 100:g}%" if THRESHOLDS_BY_ID[key].unit == "share" else f"{value:g}"


def count_line(result: GapList) -> str:
    n = len(result.gaps)
    when = f"{result.term} {result.year}"
    if not n:
        return f"No gaps found for {when}."
    by = Counter(g.severity for g in result.gaps)
    parts = [f"{by[s]} {s}" + ("s" if s == "note" and by[s] != 1 else "") for s in SEVERITY_LABEL if by[s]]
    schools = len({g.urn for g in result.gaps})
    return (f"{n} gap{'s' if n != 1 else ''} for {when} ({', '.join(parts)}), "
            f"naming {schools} school{'s' if schools != 1 else ''}.")


def table(gaps, width: int) -> list[str]:
    """Columns sized to the terminal; long text wrapped inside its column; a blank line between rows."""
    sep = "  "
    severity_w, theme_w = len("Severity"), max(len(t.short) for t in THEMES_BY_ID.values())
    flexible = width - severity_w - theme_w - 4 * len(sep)
    school_w = flexible // 5
    finding_w = (flexible - school_w) * 11 // 20
    question_w = flexible - school_w - finding_w
    widths = (severity_w, school_w, theme_w, finding_w, question_w)
    out = [_row(("Severity", "School", "Theme", "Finding", "Question"), widths, sep),
           sep.join("-" * w for w in widths)]
    for g in gaps:
        cells = (SEVERITY_LABEL.get(g.severity, g.severity), f"{g.school} ({g.urn})",
                 short_name(g.theme), g.finding, g.question)
        out += [_row(cells, widths, sep), ""]
    return out


def stacked(gaps, width: int) -> list[str]:
    """For a narrow terminal: each gap as a short paragraph instead of a row of columns."""
    out = []
    for g in gaps:
        theme = short_name(g.theme)
        out.append(textwrap.fill(f"{SEVERITY_LABEL.get(g.severity, g.severity)}  {g.school} ({g.urn}), {theme}",
                                 width, subsequent_indent="    "))
        out.append(textwrap.fill(g.finding, width, initial_indent="    ", subsequent_indent="    "))
        out.append(textwrap.fill(f"Ask: {g.question}", width, initial_indent="    ", subsequent_indent="         "))
        out.append("")
    return out


def _row(cells, widths, sep: str) -> str:
    wrapped = [textwrap.wrap(str(c), w, break_on_hyphens=False) or [""] for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    lines = []
    for i in range(height):
        parts = [(w[i] if i < len(w) else "").ljust(width) for w, width in zip(wrapped, widths)]
        lines.append(sep.join(parts).rstrip())
    return "\n".join(lines)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day: write it as YYYY-MM-DD, such as 2027-01-15.") \
            from None


def _notify(args, parser) -> int:
    from store import outbox
    from store.cli import check_db, on_database

    check_db(args, parser)
    if not outbox.enabled():
        print("Email is off: no SMTP_HOST is set, so nothing was queued or sent.")
        return OK
    return on_database(args.db, "send the emails from", lambda engine: _send(engine, args.today))


def _send(engine, today: date | None) -> int:
    """Queue what fell due and send what waits; say what was done, and what could not be."""
    from analysis.notify import queue_due
    from store import outbox
    from store.mail import KIND_WORDS

    queued = queue_due(engine, today)
    sent = outbox.send_pending(engine)
    outbox.prune(engine)
    total = sum(queued.values())
    kinds = ", ".join(f"{KIND_WORDS.get(k, k).lower()} {n}" for k, n in sorted(queued.items()))
    print(f"Queued {_emails(total)} ({kinds})." if total else "Nothing new fell due.")
    print(f"Sent {_emails(sent.sent)}." if sent.sent else "Nothing was waiting to be sent." if not
          (sent.failed or sent.gave_up) else "Sent none.")
    if sent.failed:
        print(f"{_emails(sent.failed).capitalize()} could not be sent and will be tried again: "
              f"{' '.join(sent.reasons)}", file=sys.stderr)
    if sent.gave_up:
        print(f"{_emails(sent.gave_up).capitalize()} failed for a day and {'was' if sent.gave_up == 1 else 'were'} "
              "put aside: a trust leader can send them again from the Notifications page.", file=sys.stderr)
    return FAILED if sent.failed or sent.gave_up else OK


def _emails(n: int) -> str:
    return f"{n} email{'' if n == 1 else 's'}"


def run() -> int:
    return run_safely(main)


if __name__ == "__main__":
    sys.exit(run())
