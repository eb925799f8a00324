"""The one builder of a valid return's values, made from the contract (loaders.registry): every
measure a template version asks, each of its type, and every rule between cells kept.

The loader's tests write these values into workbooks, the store's tests keep them as checked
returns (``make_report``, or ``write_return`` through the real template), and the analysis tests
build a trust from them. Each gives what matters to it (the
school, the term, its own numbers, or a seed for numbers of its own) and never spells out the
contract again: a measure added to the registry is in every test's return at once.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping
from datetime import date, timedelta

from loaders import registry
from loaders.report import ERROR, QUERY, Lead, Problem, ReturnReport

URN, SCHOOL, YEAR, TERM = "999001", "Otterbrook Fictional Primary Academy", "2025/26", "Spring"


def valid_values(version: int = registry.TEMPLATE_VERSION, *, urn: str = URN, name: str = SCHOOL,
                 year: str = YEAR, term: str = TERM, pupils: int = 420, phase: str = "Primary",
                 completed: date | None = None, numbers: Mapping[str, object] | None = None,
                 count: Callable[[registry.Measure], int] | None = None, seed: object = None) -> dict[str, object]:
    """Every measure id that template ``version`` asks -> a value that obeys every rule.

    The About sheet says who and when (``completed`` defaults to a week after the term's end);
    ``numbers`` gives values by measure id; every other count is ``count(measure)`` (by default a
    number drawn from ``seed``, the same for the same seed) and every other date a day in the term
    before the return. Then each of the registry's rules (``left <= sum(right)``) is kept by
    lowering its left side where needed, so a value in ``numbers`` that breaks a rule is lowered too.
    """
    end = registry.term_end(year, term)
    rng = random.Random(f"{urn}-{year}-{term}-{seed}")
    count = count or (lambda _m: rng.randint(0, 9))
    about = {"template_version": version, "urn": urn, "school_name": name, "phase": phase, "academic_year": year,
             "term": term, "completed_by": "DSL", "date_completed": completed or end + timedelta(days=7),
             "pupils_on_roll": pupils}
    values: dict[str, object] = {}
    for m in registry.ASKED[version]:
        if m.sheet == registry.ABOUT.id and m.row in about:
            values[m.id] = about[m.row]
        elif m.type == registry.COUNT:
            values[m.id] = count(m)
        elif m.type == registry.DATE:
            values[m.id] = end - timedelta(days=rng.randint(20, 200))
        else:
            values[m.id] = None
    values.update({k: v for k, v in (numbers or {}).items() if k in values})
    return keep_rules(values)


def keep_rules(values: dict[str, object]) -> dict[str, object]:
    """``values`` with the left side of each registry rule lowered to the sum of its right side
    where it was more (a rule whose measures are not all there is left alone)."""
    for rule in registry.RULES:
        ids = (rule.left, *rule.right)
        if all(isinstance(values.get(i), int) for i in ids):
            values[rule.left] = min(values[rule.left], sum(values[i] for i in rule.right))
    return values


def table_numbers(sheet: registry.Sheet, rows: Mapping[str, object]) -> dict[str, object]:
    """Numbers by measure id from a table of a sheet's rows: row id -> a number (a one-value row)
    or a tuple with one number for each of the sheet's columns, in order."""
    out: dict[str, object] = {}
    for row, given in rows.items():
        if len(sheet.columns) == 1:
            out[registry.measure_id(sheet.id, row)] = given
        else:
            out.update({registry.measure_id(sheet.id, row, c.id): n for c, n in zip(sheet.columns, given)})
    return out


# ---- a checked return, as the loader hands it to the store -------------------------------------

def make_values(urn: str = "149001", year: str = "2025/26", term: str = "Autumn", *, seed: int = 1,
                name: str = "Brackenfold Primary Academy") -> dict[str, object]:
    """A full set of values for one return, different for each seed but always within the rules
    (tests.helpers.returns, its counts drawn from the seed)."""
    rng = random.Random(f"{urn}-{year}-{term}-{seed}")
    return valid_values(urn=urn, name=name, year=year, term=term, pupils=rng.randint(200, 900), seed=seed,
                        numbers={"neglect.active_flags": 20, "inclusion.persistently_absent": 40,
                                 **{f"referrals.{row.id}.not_accepted": 0 for row in registry.REFERRALS.rows}})


def make_report(urn: str = "149001", year: str = "2025/26", term: str = "Autumn", *, seed: int = 1,
                content: bytes | None = None, blanks: tuple[str, ...] = (), queries: int = 0,
                errors: int = 0, name: str = "Brackenfold Primary Academy") -> tuple[ReturnReport, bytes]:
    """(report, file bytes): a checked return as the loader would hand it over."""
    values = make_values(urn, year, term, seed=seed, name=name)
    for measure_id in blanks:
        values[measure_id] = None
    content = content if content is not None else f"workbook {urn} {year} {term} {seed}".encode()
    problems = [Problem("row_blank", QUERY, "Inclusion", f"B{5 + i}", f"Query number {i}.") for i in range(queries)]
    problems += [Problem("count_in_words", ERROR, "Referrals", f"C{7 + i}", "Holds \"five\".") for i in range(errors)]
    leads = [
        Lead(registry.DSL_ROLE, "Morgan Fairweather", date(2024, 9, 1), date(2025, 9, 1)),
        Lead("Deputy DSL", None, None, date(2025, 1, 15)),
    ]
    report = ReturnReport(
        file=f"{urn}_{year.replace('/', '-')}_{term}.xlsx", problems=problems, values=values, leads=leads,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    return report, content


def write_return(path, urn: str = "149001", year: str = "2025/26", term: str = "Autumn", *,
                 name: str = "Brackenfold Primary Academy", completed: date | None = None, seed: int = 1):
    """A filled return written through the real template to ``path`` (e.g. one a school sent early)."""
    from loaders.template import template_bytes

    report, _ = make_report(urn, year, term, seed=seed, name=name)
    values = {**report.values, **({"about.date_completed": completed} if completed else {})}
    path.write_bytes(template_bytes(urn=urn, school_name=name, year=year, term=term, values=values,
                                    leads=report.leads))
    return path
