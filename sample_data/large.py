"""Large made-up trusts for the benchmarks: hundreds or thousands of fictional schools over many
terms, their numbers planned by the sample trust's own generator (figures.py) and turned
straight into checked reports, with no workbook written or read.

Seeded and deterministic: the same size and seed give the same schools and the same returns.
Everything is fictional: school names are made of invented words, the local authorities do not
exist, and the URNs start at 800001, far above the numbers given to schools in England. A few
schools in each trust show what a real trust's data holds: a late or missing return, a school
that joined the trust part-way, one that leaves many cells blank, a DSL whose training lapsed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import lru_cache

from loaders import cross_checks, guard, registry, tables, workbook
from loaders.report import ReturnReport
from loaders.template import template_bytes
from sample_data import figures, trust
from sample_data.generate import PlannedReturn

# Part of the benchmarks' cache key: bump it whenever the generated numbers change.
GENERATOR_VERSION = 1
FIRST_URN = 800001
LAST_YEAR = trust.YEARS[-1]  # the latest academic year, as in the sample trust

# Rough shares of a large trust's schools by phase, and each phase's range of pupils on roll.
PHASE_SHARE = (("primary", 0.70), ("secondary", 0.20), ("special", 0.06), ("alternative provision", 0.04))
PUPILS = {"primary": (150, 700), "secondary": (600, 1500), "special": (150, 320),
          "alternative provision": (150, 240)}
PHASE_WORDS = {"primary": ("Primary School", "Primary Academy", "Infant and Junior School"),
               "secondary": ("Academy", "High School", "Secondary School"),
               "special": ("School", "Special School"),
               "alternative provision": ("Learning Centre", "Pupil Referral Academy")}

# How often the things a trustee should spot happen (per school, or per school-term).
JOINS_LATER = 0.05
MANY_BLANKS = 0.03
LAPSED_DSL = 0.03
MISSING = 0.015
LATE = 0.04

# Invented words, combined into names no school in England has.
_STEMS = ("Quillow", "Tamberly", "Brindlecote", "Pellowby", "Marrowfold", "Otterlyn", "Skellowick",
          "Fennickby", "Hollimere", "Mardlecombe", "Pennowick", "Thistlecrag", "Wrennacott", "Kestrowe",
          "Lanternby", "Saltwhistle", "Tillowmere", "Oxlecombe", "Bramberwick", "Corrowdene", "Dapplewick",
          "Emberlyn", "Fallowmere", "Gorsebyre", "Harrowmoss", "Ivybrindle", "Junipercote", "Kettlewin",
          "Lumberlyn", "Mosselby", "Nettlewick", "Orchelby", "Puddockmere", "Quarrelwick", "Rookercote",
          "Sorrelwick", "Teaselby", "Umbercote", "Vetchmere", "Willowick", "Yarrowdene", "Zephyrcote",
          "Amberlyn", "Brackenwyn", "Cloverick", "Dunnockmere", "Eldercote", "Foxwhistle", "Goldcrestby",
          "Heronwick", "Inkwellby", "Jackdawmere", "Kingcupby", "Linnetcote", "Merlincombe", "Nightjarby",
          "Osiermere", "Pipistrel", "Quenwhistle", "Rushlowe")
_PLACES = ("Hill", "Vale", "Fold", "Mere", "Brook", "Green", "Lane", "Ridge", "Meadow", "Rise",
           "Haven", "Field", "Cross", "Dale", "Gate", "Hollow", "Marsh", "Park", "Row", "Wold",
           "Common", "End", "Heath", "Moor", "Spinney")
_AUTHORITIES = ("Wyvernshire", "Port Selwick", "Marrowfold", "East Brindlemoor", "Quillhaven",
                "Tamber Vale", "Ottershire")


@dataclass(frozen=True)
class Traits:
    """What sets one school of a large trust apart, fixed for every term."""

    first_term: int  # position in the trust's terms of the school's first return
    many_blanks: bool
    lapsed_dsl: bool


@dataclass(frozen=True)
class LargeTrust:
    seed: int
    schools: tuple[trust.School, ...]
    terms: tuple[tuple[str, str], ...]

    def traits(self, school: trust.School) -> Traits:
        return school_traits(school, len(self.terms), self.seed)


def terms_ending(n: int, last_year: str = LAST_YEAR) -> tuple[tuple[str, str], ...]:
    """The ``n`` terms up to and including Summer of ``last_year``, oldest first."""
    last = registry.term_index(last_year, "Summer")
    return tuple(registry.term_from_index(i) for i in range(last - n + 1, last + 1))


def make_schools(n: int, seed: int = 1) -> tuple[trust.School, ...]:
    """``n`` fictional schools with URNs from 800001, a mix of phases and sizes, unique names."""
    rng = random.Random(f"large-schools:{seed}")
    pairs = [(s, p) for s in _STEMS for p in _PLACES]
    rng.shuffle(pairs)
    out = []
    for i in range(n):
        phase = _pick_phase(rng.random())
        stem, place = pairs[i % len(pairs)]
        # Beyond the word pairs (1,500 of them), a number keeps every name distinct.
        extra = f" {i // len(pairs) + 1}" if i >= len(pairs) else ""
        name = f"{stem} {place}{extra} {rng.choice(PHASE_WORDS[phase])}"
        low, high = PUPILS[phase]
        out.append(trust.School(f"{FIRST_URN + i:06d}", name, phase, rng.randint(low, high),
                                rng.choice(_AUTHORITIES)))
    return tuple(out)


def _pick_phase(x: float) -> str:
    for phase, share in PHASE_SHARE:
        if x < share:
            return phase
        x -= share
    return PHASE_SHARE[0][0]


def school_traits(school: trust.School, n_terms: int, seed: int) -> Traits:
    rng = random.Random(f"large-traits:{seed}:{school.urn}")
    joins = rng.random() < JOINS_LATER and n_terms > 1
    return Traits(first_term=rng.randint(1, n_terms - 1) if joins else 0,
                  many_blanks=rng.random() < MANY_BLANKS, lapsed_dsl=rng.random() < LAPSED_DSL)


def large_trust(n_schools: int, n_terms: int = 9, seed: int = 1) -> LargeTrust:
    return LargeTrust(seed, make_schools(n_schools, seed), terms_ending(n_terms))


def plan_school_terms(school: trust.School, terms: tuple[tuple[str, str], ...], seed: int = 1) -> list[PlannedReturn]:
    """One school's returns over ``terms`` (those it missed left out), each obeying every rule."""
    traits = school_traits(school, len(terms), seed)
    rng = random.Random(f"large-terms:{seed}:{school.urn}")
    out: list[PlannedReturn] = []
    previous: dict[str, object] | None = None
    for i, (year, term) in enumerate(terms):
        if i < traits.first_term:
            continue
        missed, late = rng.random() < MISSING, rng.random() < LATE
        if missed and i > traits.first_term:
            previous = None  # the next return has no last term to be compared with
            continue
        values = figures.plan_values(school, year, term)
        if traits.many_blanks:
            values.update(dict.fromkeys(trust.BLANK_IDS))
        if late:
            values["about.date_completed"] = trust.deadline(year, term) + timedelta(days=rng.randint(1, 40))
        figures.settle(values, previous)
        leads = figures.plan_leads(school, year, term)
        if traits.lapsed_dsl:
            leads = _lapsed(leads, terms[0])
        out.append(PlannedReturn(school, year, term, values, leads))
        previous = values
    return out


def _lapsed(leads, first_term: tuple[str, str]):
    """The DSL's training never renewed: the full course over two years before the first term ended."""
    full = registry.term_end(*first_term) - timedelta(days=800)
    return [replace(lead, last_full_training=full, last_refresher=full + timedelta(days=200))
            if lead.role == registry.DSL_ROLE else lead for lead in leads]


def iter_returns(plan: LargeTrust) -> Iterator[PlannedReturn]:
    """Every return of the trust, school by school, made as it is asked for (a large trust's
    values need not all sit in memory at once)."""
    for school in plan.schools:
        yield from plan_school_terms(school, plan.terms, plan.seed)


def iter_reports(plan: LargeTrust) -> Iterator[tuple[PlannedReturn, ReturnReport, bytes]]:
    """Every return of the trust with its report, each checked against the school's return of the
    term before when there is one (as the store's importer does)."""
    before: PlannedReturn | None = None
    for planned in iter_returns(plan):
        index = registry.term_index(planned.academic_year, planned.term)
        previous = before.values if before is not None and before.school.urn == planned.school.urn \
            and registry.term_index(before.academic_year, before.term) == index - 1 else None
        yield (planned, *report_for(planned, previous))
        before = planned


def plan_large_trust(n_schools: int, n_terms: int = 9, seed: int = 1) -> list[PlannedReturn]:
    """Every return of a large trust as a list (for tests and small trusts)."""
    return list(iter_returns(large_trust(n_schools, n_terms, seed)))


# ---- Reports, as the loader would make them from the template ---------------------------------

@lru_cache(maxsize=len(registry.VERSIONS))
def _template_places(version: int = registry.TEMPLATE_VERSION) -> cross_checks.Places:
    """Where every measure sits in the dashboard's own template of that version, for pointing
    queries at cells."""
    data = template_bytes(version=version)
    book, problem = workbook.read_workbook(data, guard.screen(data, len(data) * 2))
    if problem:  # the template is ours: it always reads
        raise RuntimeError(problem.message)
    found = tables.locate(book)
    found.asked_in(version)
    return cross_checks.Places(found)


def report_for(planned: PlannedReturn, previous: dict[str, object] | None = None) -> tuple[ReturnReport, bytes]:
    """The report the loader would make of this return filled in the template, and the bytes to
    keep in its place: the return's values and leads as JSON (no workbook is written)."""
    values, leads = dict(planned.values), list(planned.leads)
    version = values["about.template_version"]
    places = _template_places(version)
    problems = (cross_checks.check_required(values, places, set()) + cross_checks.check_rules(values, places)
                + cross_checks.check_shape(values, places, set()) + cross_checks.check_roll(values, places)
                + cross_checks.check_growth(values, places, previous) + cross_checks.check_no_concerns(values, places)
                + cross_checks.check_leads(leads, places) + cross_checks.check_designated_teacher(leads, values, places)
                + cross_checks.check_dates(values, places))
    report = ReturnReport(file=planned.filename.replace(".xlsx", ".json"), problems=problems,
                          values=values, leads=leads, version=version)
    content = json.dumps(report.as_json(), sort_keys=True, separators=(",", ":")).encode("utf-8")
    report.sha256 = hashlib.sha256(content).hexdigest()
    return report, content
