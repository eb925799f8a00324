"""The adversary's attacks: each tries to work out, exactly, a count the reader must not learn.

The hidden counts (``targets``) come from the real, unsuppressed data: every count of children or
of allegations about staff from 1 to 4 (each measure of a return, each indicator's numerator or
denominator when it is a sum of measures, and the trust's total), and every count a reader's
table marked "not shown". An attack gets only what the reader received (a ``Knowledge``) and
returns a ``Leak`` for each target it pins to one whole number, saying how.

- ``direct``: a hidden count shown as a number somewhere (a table cell, a chart's point or hover).
- ``totals``: the trust's figure times its pooled base gives the trust's total; less the counts
  shown, one count is left.
- ``rates``: a figure shown times its base (or a count over its figure) gives the count.
- ``other_terms``: a change from another term with that term's figure; the check's query that a
  count is more than three times last term's.
- ``position``: where a school sits on the funnel plot, with the trust's figure and the school's
  size, narrows its count.
- ``bounds``: everything at once, as a linear programme: every number shown, "fewer than 5" as 1
  to 4, "not shown" as 5 or more, shares and rates as ratios, the trust's figures over their
  schools, the contract's rules, what a gap (or its absence) says; the least and most each hidden
  count can be, and a leak where they meet.
- ``free_text``: a sentence holding a count of children from 1 to 4, or two counts whose
  difference is one.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix

from analysis import funnel
from analysis.compare import ALONE, is_england
from analysis.compare import TRUST as WHOLE_TRUST
from analysis.indicators import INDICATORS_BY_ID, PER_100
from analysis.privacy import about_children
from loaders.registry import MEASURES_BY_ID, term_from_index
from tests.privacy.knowledge import (
    INF,
    PEOPLE,
    POSITION_ORDER,
    ROUNDED,
    Bound,
    Knowledge,
    Ratio,
    contract,
    expr,
    indicator_parts,
    part,
    scale,
    suppressed_measures,
)

EPS = 1e-6


@dataclass(frozen=True)
class Target:
    expr: tuple
    value: float
    what: str  # "neglect.active_flags", "the numerator of exploitation_concerns", "the trust's total of ..."
    urn: str | None
    ti: int


@dataclass
class Leak:
    route: str  # the attack
    target: Target
    found: float
    how: str

    def __str__(self) -> str:
        return f"{self.target.what}, {self.school}, {self.term}: {self.how}"

    @property
    def school(self) -> str:
        return self.target.urn or "the trust"

    @property
    def term(self) -> str:
        year, term = term_from_index(self.target.ti)
        return f"{term} {year}"


def when(ti: int) -> str:
    year, term = term_from_index(ti)
    return f"{term} {year}"


# ---- what must stay hidden -----------------------------------------------------------------------

def targets(data, k: Knowledge | None = None) -> list[Target]:
    """Every hidden count, from the real data (a Dataset nobody suppressed): measures and sums of
    children or allegations from 1 to 4, trust totals from 1 to 4, and whatever ``k``'s tables
    marked "not shown"."""
    out: dict[tuple, Target] = {}
    real = _measure_targets(data.wide, out)
    c = data.compared
    _part_targets(c, out)
    pooled = c.dropna(subset=["numerator", "denominator"])
    pooled = pooled[pooled["denominator"] > 0]
    for (ind_id, ti), rows in pooled.groupby(["indicator", "term_index"]):
        _total_targets(rows, ind_id, ti, "the trust's", out)
    grouped = pooled[~pooled["group"].isin([WHOLE_TRUST, ALONE, ""]) & pooled["group"].notna()] \
        if "group" in pooled else pooled.iloc[:0]
    for (ind_id, ti, group), rows in grouped.groupby(["indicator", "term_index", "group"]):
        _total_targets(rows, ind_id, ti, f"the {group} schools'", out)
    if k is not None:
        _not_shown_targets(k, real, out)
    return list(out.values())


def _measure_targets(wide: pd.DataFrame, out: dict[tuple, Target]) -> dict[tuple, float]:
    """Each suppressed measure from 1 to 4 of a school-term, into ``out``; every one's real value."""
    real: dict[tuple, float] = {}
    for m in suppressed_measures():
        for urn, ti, value in zip(wide["urn"], wide["term_index"], wide[m]):
            if not pd.isna(value):
                real[(urn, int(ti), m)] = float(value)
                if 1 <= value <= 4:
                    e = expr(((urn, int(ti), m), 1.0))
                    out.setdefault(e, Target(e, float(value), m, urn, int(ti)))
    return real


def _part_targets(c: pd.DataFrame, out: dict[tuple, Target]) -> None:
    """Each indicator's numerator or denominator from 1 to 4 that sums more than one measure."""
    for ind_id, which in indicator_parts():
        ind = INDICATORS_BY_ID[ind_id]
        if len(getattr(ind, which)) == 1:
            continue  # the measure itself, above
        rows = c[c["indicator"] == ind_id]
        for urn, ti, value in zip(rows["urn"], rows["term_index"], rows[which]):
            if not pd.isna(value) and 1 <= value <= 4:
                e = part(ind_id, which, urn, int(ti))
                out.setdefault(e, Target(e, float(value), f"the {which} of {ind_id}", urn, int(ti)))


def _total_targets(rows: pd.DataFrame, ind_id: str, ti, whose: str, out: dict[tuple, Target]) -> None:
    """The pooled numerator or denominator (of children) of ``rows``' schools, when from 1 to 4."""
    if not about_children(ind_id):
        return
    ind = INDICATORS_BY_ID[ind_id]
    for which in ("numerator", "denominator"):
        if not any(MEASURES_BY_ID[m].suppressed for m in getattr(ind, which)):
            continue
        total = rows[which].sum()
        if 1 <= total <= 4:
            e = expr(*(term for urn in rows["urn"] for term in part(ind_id, which, urn, int(ti))))
            out.setdefault(e, Target(e, float(total), f"{whose} total {which} of {ind_id}", None, int(ti)))


def _not_shown_targets(k: Knowledge, real: dict[tuple, float], out: dict[tuple, Target]) -> None:
    """Whatever the reader's tables marked "not shown", at its real value."""
    for b in k.bounds:
        if b.kind == "not shown" and b.expr not in out:
            value = sum(coef * real.get(var, math.nan) for var, coef in b.expr)
            if not math.isnan(value):
                urn, ti, _ = b.expr[0][0]
                names = "+".join(var[2] for var, _ in b.expr)
                out[b.expr] = Target(b.expr, value, f"{names} (\"not shown\")", urn, ti)


def truth(data) -> dict[tuple, float]:
    """Every count of the real data, by (urn, term index, measure)."""
    wide = data.wide
    out = {}
    for m in MEASURES_BY_ID:
        if m in wide:
            for urn, ti, value in zip(wide["urn"], wide["term_index"], wide[m]):
                if not pd.isna(value):
                    out[(urn, int(ti), m)] = float(value)
    return out


# ---- what the reader knows exactly, or within a range -------------------------------------------

def intervals(k: Knowledge) -> dict[tuple, tuple[float, float, str]]:
    """For each sum of counts a fact speaks of, the tightest range the facts give it directly."""
    out: dict[tuple, tuple[float, float, str]] = {}
    for b in k.bounds:
        lo, hi, route = out.get(b.expr, (-INF, INF, ""))
        if b.lo > lo or b.hi < hi:
            out[b.expr] = (max(lo, b.lo), min(hi, b.hi), b.route if (b.lo > lo and b.hi < hi) or not route else
                           f"{route}; {b.route}")
    return out


def exactly(k: Knowledge) -> dict[tuple, tuple[float, str]]:
    return {e: (lo, route) for e, (lo, hi, route) in intervals(k).items() if lo == hi}


def one_whole(lo: float, hi: float) -> int | None:
    """The only whole number from lo to hi, if there is exactly one."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    a, b = math.ceil(lo - EPS), math.floor(hi + EPS)
    return a if a == b else None


def _leak(found: dict, target_by: dict, route: str, e: tuple, value: int, how: str) -> None:
    t = target_by.get(e)
    if t is not None and e not in found:
        found[e] = Leak(route, t, value, how)


def _index(ts: list[Target]) -> dict:
    return {t.expr: t for t in ts}


# ---- direct -----------------------------------------------------------------------------------

def direct(k: Knowledge, ts: list[Target]) -> list[Leak]:
    by = _index(ts)
    found: dict = {}
    for b in k.bounds:
        if b.lo == b.hi and b.expr in by:
            _leak(found, by, "direct", b.expr, b.lo, f"shown as {b.lo:g} in {b.route}")
    return list(found.values())


# ---- trust totals -----------------------------------------------------------------------------

def trust_figure(k: Knowledge, ti: int, ind_id: str):
    """The tightest range of the trust's figure for a measure and term, and where it was read."""
    known = k.trust.get((ti, ind_id), [])
    if not known:
        return None
    lo = max(x[0] for x in known)
    hi = min(x[1] for x in known)
    route = min(known, key=lambda x: x[1] - x[0])[2]
    return lo, hi, route


def pool(k: Knowledge, ti: int, ind_id: str) -> list[str] | None:
    """The schools the trust's figure is pooled over, as the reader can tell them: both counts
    present and a base that is not 0."""
    rows = k.rows.get((ti, ind_id))
    if not rows:
        return None
    if any(num is None or den is None for num, den in rows.values()):
        return None  # a school whose counts the reader never saw
    return sorted(u for u, (num, den) in rows.items() if num and den)


def group_figure(k: Knowledge, ti: int, ind_id: str, group: str):
    """The tightest range of a comparison group's pooled figure (read off its limit lines), or the
    trust's for the whole trust."""
    if group == WHOLE_TRUST:
        return trust_figure(k, ti, ind_id)
    known = k.targets.get((ti, ind_id, group), [])
    if not known:
        return None
    return max(x[0] for x in known), min(x[1] for x in known), min(known, key=lambda x: x[1] - x[0])[2]


def group_pool(k: Knowledge, ti: int, ind_id: str, group: str) -> list[str] | None:
    """The schools a comparison group's figure is pooled over, as the reader can tell them: those the
    funnel table says are compared with the group, both counts present and a base not 0."""
    if group == WHOLE_TRUST:
        return pool(k, ti, ind_id)
    rows = k.rows.get((ti, ind_id), {})
    members = [u for u, g in k.groups.get((ti, ind_id), {}).items() if g == group]
    if not members or any(rows.get(u, (None, None))[0] is None or rows.get(u, (None, None))[1] is None
                          for u in members):
        return None
    return sorted(u for u in members if rows[u][0] and rows[u][1])


def pooled_figures(k: Knowledge):
    """(what, term index, indicator, schools pooled, (lo, hi, route)) for every pooled figure the
    reader has: the trust's, and each phase group's its funnel lines are drawn around."""
    for (ti, ind_id) in list(k.trust):
        figure, urns = trust_figure(k, ti, ind_id), pool(k, ti, ind_id)
        if figure is not None and urns:
            yield "the trust's", ti, ind_id, urns, figure
    for (ti, ind_id, group) in list(k.targets):
        if group in (WHOLE_TRUST, ALONE, "") or is_england(group):
            continue  # England's figure for a phase is published: it pools none of the trust's counts
        figure, urns = group_figure(k, ti, ind_id, group), group_pool(k, ti, ind_id, group)
        if figure is not None and urns:
            yield f"the {group} schools'", ti, ind_id, urns, figure


def totals(k: Knowledge, ts: list[Target]) -> list[Leak]:
    by = _index(ts)
    known = exactly(k)
    found: dict = {}
    for whose, ti, ind_id, urns, figure in pooled_figures(k):
        lo, hi, route = figure
        s = scale(ind_id)
        nums = {u: part(ind_id, "numerator", u, ti) for u in urns}
        dens = {u: part(ind_id, "denominator", u, ti) for u in urns}
        num_known = {u: known[e][0] for u, e in nums.items() if e in known}
        den_known = {u: known[e][0] for u, e in dens.items() if e in known}
        label = INDICATORS_BY_ID[ind_id].label
        if len(den_known) == len(urns):
            base = sum(den_known.values())
            total_lo, total_hi = lo * base / s, hi * base / s
            total = one_whole(total_lo, total_hi)
            all_nums = expr(*(term for e in nums.values() for term in e))
            if total is not None:
                _leak(found, by, "totals", all_nums, total,
                      f"{whose} {label.lower()} {_fmt(lo, hi, ind_id)} ({route}) × its base {base:g}"
                      f"{' / 100' if s == 100 else ''} = {total}")
                missing = [u for u in urns if u not in num_known]
                if total is not None and len(missing) == 1:
                    shown = sum(num_known.values())
                    u = missing[0]
                    value = total - shown
                    _leak(found, by, "totals", nums[u], value,
                          f"{whose} total {total} ({whose} figure {_fmt(lo, hi, ind_id)} × base {base:g}"
                          f"{' / 100' if s == 100 else ''}, {route}) − shown {shown:g} = hidden {value:g}")
        if len(num_known) == len(urns) and lo > 0:
            count = sum(num_known.values())
            base_lo, base_hi = s * count / hi, s * count / lo
            base = one_whole(base_lo, base_hi)
            missing = [u for u in urns if u not in den_known]
            if base is not None and len(missing) == 1:
                shown = sum(den_known.values())
                u = missing[0]
                _leak(found, by, "totals", dens[u], base - shown,
                      f"{whose} base {base} (counts {count:g} / {whose} figure {_fmt(lo, hi, ind_id)}, {route}) − "
                      f"shown {shown:g} = hidden {base - shown:g}")
    return list(found.values())


def _fmt(lo: float, hi: float, ind_id: str) -> str:
    mid = (lo + hi) / 2
    return f"{mid:.6g} per 100" if INDICATORS_BY_ID[ind_id].unit == PER_100 else f"{mid:.6g}"


# ---- rates times their bases --------------------------------------------------------------------

def rates(k: Knowledge, ts: list[Target], extra: list[Ratio] = (), route: str = "rates") -> list[Leak]:
    by = _index(ts)
    known = exactly(k)
    found: dict = {}
    for r in list(k.ratios) + list(extra):
        if r.kind != "value":
            continue
        if r.den in known:
            d, where = known[r.den]
            n = one_whole(r.lo * d / r.scale, r.hi * d / r.scale)
            if n is not None:
                _leak(found, by, route, r.num, n, f"figure {_mid(r)} ({r.route}) × base {d:g} "
                      f"({where}){' / 100' if r.scale == 100 else ''} = {n}")
        if r.num in known and r.lo > 0:
            n, where = known[r.num]
            d = one_whole(r.scale * n / r.hi, r.scale * n / r.lo) if n > 0 else None
            if d is not None:
                _leak(found, by, route, r.den, d, f"count {n:g} ({where}) / figure {_mid(r)} ({r.route}) = {d}")
    return list(found.values())


def _mid(r: Ratio) -> str:
    return f"{(r.lo + r.hi) / 2:.6g}"


# ---- other terms ------------------------------------------------------------------------------

def other_terms(k: Knowledge, ts: list[Target]) -> list[Leak]:
    """A figure's change from another term, with the other term's figure; and the check's query
    that a count is more than three times last term's."""
    values: dict[tuple, tuple[float, float, str]] = {}
    for r in k.ratios:
        if r.kind == "value":
            (urn, ti, _), _ = r.num[0] if r.num else r.den[0]
            key = (urn, ti, _indicator_of_ratio(r))
            lo, hi, _ = values.get(key, (-INF, INF, ""))
            if r.hi - r.lo < hi - lo:
                values[key] = (r.lo, r.hi, r.route)
    derived = []
    for c in k.changes:
        for this, other, sign in ((c.ti, c.ti - c.back, 1), (c.ti - c.back, c.ti, -1)):
            got = values.get((c.urn, other, c.indicator))
            if got is None:
                continue
            lo, hi, where = got
            new = (lo + c.lo, hi + c.hi) if sign == 1 else (lo - c.hi, hi - c.lo)
            derived.append(Ratio(part(c.indicator, "numerator", c.urn, this),
                                 part(c.indicator, "denominator", c.urn, this),
                                 new[0], new[1], scale(c.indicator),
                                 f"{where}, with the change {c.route}"))
    leaks = rates(k, ts, derived, route="other terms") if derived else []
    # the check's query: now >= 3 * before + 1, before >= 1
    by, known = _index(ts), intervals(k)
    found = {x.target.expr: x for x in leaks}
    from loaders.cross_checks import GROWTH_AT_LEAST

    for b in k.bounds:
        # now - 3 * before >= 1 (its twin, now - before >= 5, is said by the same query)
        if b.kind != "query" or len(b.expr) != 2 or sorted(c for _, c in b.expr) != [-3.0, 1.0]:
            continue
        (now_var, a), (before_var, bcoef) = b.expr if b.expr[0][1] == 1.0 else b.expr[::-1]
        now_e, before_e = expr((now_var, 1.0)), expr((before_var, 1.0))
        n_lo, n_hi, n_where = known.get(now_e, (0, INF, ""))
        b_lo, b_hi, b_where = known.get(before_e, (1, INF, ""))
        b_hi2 = min(b_hi, math.floor((n_hi - 1) / 3 + EPS), n_hi - GROWTH_AT_LEAST) if n_hi < INF else b_hi
        n_lo2 = max(n_lo, 3 * max(b_lo, 1) + 1, max(b_lo, 1) + GROWTH_AT_LEAST)
        for e, lo, hi, what in ((before_e, max(b_lo, 1), b_hi2, "last term's"), (now_e, n_lo2, n_hi, "this term's")):
            value = one_whole(lo, hi)
            if value is not None:
                _leak(found, by, "other terms", e, value,
                      f"{what} count is {value}: the query says this term's ({_range(n_lo, n_hi)}, {n_where or '-'}) "
                      f"is more than three times last term's ({_range(b_lo, b_hi)}, {b_where or '-'}) and "
                      f"{GROWTH_AT_LEAST} or more above it ({b.route})")
    return list(found.values())


def _range(lo, hi) -> str:
    return f"{lo:g}" if lo == hi else f"{lo:g} to {hi:g}"


def _indicator_of_ratio(r: Ratio) -> str:
    measures = tuple(var[2] for var, _ in r.num)
    for ind in INDICATORS_BY_ID.values():
        if tuple(sorted(ind.numerator)) == tuple(sorted(measures)) and \
                tuple(sorted(ind.denominator)) == tuple(sorted(var[2] for var, _ in r.den)):
            return ind.id
    return "?"


# ---- funnel positions -------------------------------------------------------------------------

def position_bounds(k: Knowledge, limit: int = 400) -> list[Bound]:
    """What each school's place on the funnel plot says of its counts, as bounds: the counts (and
    bases, when they are hidden too) that would put it there, given the trust's figure."""
    known = intervals(k)
    out = []
    seen = set()
    for p in k.positions:
        if (p.urn, p.ti, p.indicator, p.position) in seen or p.position not in POSITION_ORDER:
            continue
        seen.add((p.urn, p.ti, p.indicator, p.position))
        group = k.groups.get((p.ti, p.indicator), {}).get(p.urn)
        spread = k.spreads.get((p.ti, p.indicator))
        figure = group_figure(k, p.ti, p.indicator, group) if group not in (None, "", ALONE) else None
        if figure is None or spread is None:
            continue
        tlo, thi, troute = figure
        num_e, den_e = part(p.indicator, "numerator", p.urn, p.ti), part(p.indicator, "denominator", p.urn, p.ti)
        n_lo, n_hi, _ = known.get(num_e, (0, INF, ""))
        d_lo, d_hi, _ = known.get(den_e, (1, INF, ""))
        per_100 = INDICATORS_BY_ID[p.indicator].unit == PER_100
        if d_hi - d_lo > limit or (d_hi == INF):
            continue
        n_lo = max(0, math.ceil(n_lo - EPS))
        n_top = n_hi if n_hi < INF else None
        pairs = []
        for d in range(max(1, math.ceil(d_lo - EPS)), math.floor(d_hi + EPS) + 1):
            top = d if not per_100 else (n_top if n_top is not None else n_lo + limit)
            top = min(top, math.floor(n_top + EPS)) if n_top is not None else top
            cs = np.arange(n_lo, top + 1, dtype=float)
            if not len(cs):
                continue
            hi_pos, lo_pos = (_placed(cs, float(d), t, per_100, spread) for t in (thi, tlo))
            want = POSITION_ORDER[p.position]
            ok = [POSITION_ORDER.get(a, -1) <= want <= POSITION_ORDER.get(b, -1) for a, b in zip(hi_pos, lo_pos)]
            pairs += [(int(c), d) for c, good in zip(cs, ok) if good]
            if per_100 and n_top is None and ok and ok[-1]:
                pairs.append((INF, d))  # the count may be larger still
        if not pairs:
            continue
        whose = "the trust's" if group == WHOLE_TRUST else f"the {group} schools'"
        how = f"{p.route}: where the school sits, with {whose} figure {(tlo + thi) / 2:.6g} ({troute})"
        out.append(Bound(num_e, min(c for c, _ in pairs), max(c for c, _ in pairs), how, "position"))
        out.append(Bound(den_e, min(d for _, d in pairs), max(d for _, d in pairs), how, "position"))
    return out


def _placed(counts: np.ndarray, base: float, target: float, per_100: bool, spread: float) -> np.ndarray:
    """Where each count out of ``base`` is placed against limits drawn around ``target``, as the
    funnel places it (analysis.funnel.drawn_limits, positions)."""
    t, d = np.full(counts.shape, target), np.full(counts.shape, base)
    value = counts / d * (100.0 if per_100 else 1.0)
    (lo95, hi95), (lo998, hi998) = (funnel.drawn_limits(t, d, level, per_100, spread) for level in funnel.LEVELS)
    return funnel.positions(value, lo95, hi95, lo998, hi998)


def position(k: Knowledge, ts: list[Target]) -> list[Leak]:
    by = _index(ts)
    found: dict = {}
    direct_known = intervals(k)
    for b in position_bounds(k):
        value = one_whole(b.lo, b.hi)
        before = direct_known.get(b.expr, (-INF, INF, ""))
        if value is not None and one_whole(before[0], before[1]) is None:
            _leak(found, by, "position", b.expr, value, f"only {value} puts it there: {b.route}")
    return list(found.values())


# ---- everything at once: a linear programme ---------------------------------------------------

def absences(k: Knowledge) -> list[Bound]:
    """What a gap not raised says, where the reader can tell its rule looked: no drift gap for a
    school with flagged children means under the amber line; no chronology gap, at or above it; no
    LADO gap, every allegation referred; no absence gap, no more absent than with a plan."""
    known = intervals(k)
    th = k.thresholds
    out = []
    school_terms = {(u, ti) for (ti, _), rows in k.rows.items() for u in rows}

    def present(ti, ind, urn, which=0):
        got = k.rows.get((ti, ind), {}).get(urn)
        return bool(got and got[which])

    def at_least_one(e):
        return known.get(e, (0, INF, ""))[0] >= 1

    for urn, ti in school_terms:
        if ti not in k.gap_lists:
            continue  # no whole gap list of that term was read: a gap not seen may still be there
        raised = k.raised.get((urn, ti), set())
        v = lambda m, urn=urn, ti=ti: ((urn, ti, m), 1.0)  # noqa: E731
        flags = expr(v("neglect.active_flags"))
        route = f"no gap of this kind raised for {urn} in {when(ti)}"
        if at_least_one(flags):
            if "drift" not in raised and present(ti, "neglect_drift", urn):
                out.append(Bound(expr(v("neglect.monitoring_only_2_terms"), (flags[0][0], -(th["drift_amber"] + ROUNDED))),
                                 -INF, 0, route + " (drift)", "absence"))
            if "chronology" not in raised and present(ti, "neglect_chronology", urn):
                out.append(Bound(expr(v("neglect.chronology_reviewed"), (flags[0][0], -(th["chronology_amber"] - ROUNDED))),
                                 0, INF, route + " (chronologies)", "absence"))
        if at_least_one(expr(v("multi_agency.lado.due"))) and "lado" not in raised and present(ti, "ma_lado", urn):
            out.append(Bound(expr(v("multi_agency.lado.due"), ((urn, ti, "multi_agency.lado.done"), -1.0)), -INF, 0,
                             route + " (allegations not referred)", "absence"))
        if "absent" not in raised and all(present(ti, i, urn) for i in ("neglect_absent", "neglect_early_help",
                                                                         "neglect_cp_plan")):
            out.append(Bound(expr(v("neglect.persistently_absent"), ((urn, ti, "neglect.early_help_plan"), -1.0),
                                  ((urn, ti, "neglect.cp_plan_neglect"), -1.0)), -INF, 0,
                             route + " (absent without a plan)", "absence"))
    return out


class Programme:
    """Every fact as a linear constraint over the counts; the least and most of any sum of them."""

    KINDS = ("shown", "fewer", "not shown", "finding", "rule", "query", "absence", "position", "value", "trust")

    def __init__(self, k: Knowledge, without: tuple[str, ...] = ()):
        """``without`` leaves out kinds of fact (see KINDS), to tell which ones a leak needs."""
        school_terms = {(u, ti) for (ti, _), rows in k.rows.items() for u in rows}
        contract(k2 := Knowledge(), school_terms)
        rows: list[tuple[dict, float, float, str]] = []  # (coefficients, lo, hi, route)
        facts = list(k.bounds) + k2.bounds + absences(k) + (position_bounds(k) if "position" not in without else [])
        for b in facts:
            if b.kind not in without:
                rows.append((dict(b.expr), b.lo, b.hi, b.route))
        for r in k.ratios:
            if "value" not in without:
                rows += self._ratio(r.num, r.den, r.lo, r.hi, r.scale, r.route)
        for whose, ti, ind_id, urns, figure in (pooled_figures(k) if "trust" not in without else ()):
            num = expr(*(t for u in urns for t in part(ind_id, "numerator", u, ti)))
            den = expr(*(t for u in urns for t in part(ind_id, "denominator", u, ti)))
            rows += self._ratio(num, den, figure[0], figure[1], scale(ind_id), f"{whose} figure ({figure[2]})")
        # one row a distinct constraint (the same fact is read in many places): the tightest range
        # of each sum, with every place it was read
        merged: dict[tuple, list] = {}
        for coefs, lo, hi, route in rows:
            key = tuple(sorted(coefs.items()))
            if key not in merged:
                merged[key] = [coefs, lo, hi, [route]]
            else:
                got = merged[key]
                got[1], got[2] = max(got[1], lo), min(got[2], hi)
                got[3].append(route)
        rows = [(coefs, lo, hi, "; ".join(dict.fromkeys(routes))) for coefs, lo, hi, routes in merged.values()]
        self.rows = rows
        self._presolve(rows)

    def _narrow(self, v, c: float, lo: float, hi: float, low: dict, high: dict) -> bool:
        """A fact lo <= c * v <= hi narrows the whole-number range of v; True when that pins v."""
        a, b = (lo / c, hi / c) if c > 0 else (hi / c, lo / c)
        a = math.ceil(a - EPS) if math.isfinite(a) else a
        b = math.floor(b + EPS) if math.isfinite(b) else b
        if not (a > low[v] or b < high[v]):
            return False
        low[v], high[v] = max(low[v], a), min(high[v], b)
        if low[v] > high[v]:
            raise AssertionError(f"the adversary's facts contradict each other about {v}")
        if low[v] == high[v]:
            self.known[v] = low[v]
            return True
        return False

    def _presolve(self, rows) -> None:
        """Counts pinned by a fact about them alone are put in everywhere, and a fact about one count
        becomes that count's range (whole numbers: counts are whole), over and over until nothing
        changes; what is left is solved part by part, each part the counts still tied together."""
        low: dict = defaultdict(float)
        high: dict = defaultdict(lambda: INF)
        self.known: dict = {}
        work = [(dict(coefs), lo, hi) for coefs, lo, hi, _ in rows]
        changed = True
        while changed:
            changed, left = False, []
            for coefs, lo, hi in work:
                const = sum(c * self.known[v] for v, c in coefs.items() if v in self.known)
                rest = {v: c for v, c in coefs.items() if v not in self.known}
                lo, hi = lo - const, hi - const
                slack = 1e-7 * max(1.0, abs(const), *(abs(c) for c in coefs.values()))
                if not rest:
                    if lo > slack or hi < -slack:
                        raise AssertionError(f"the adversary's facts contradict each other: {coefs} in "
                                             f"[{lo + const}, {hi + const}]")
                    continue
                if len(rest) == 1:
                    (v, c), = rest.items()
                    changed = self._narrow(v, c, lo, hi, low, high) or changed
                    continue
                left.append((rest, lo, hi))
            work = left
        self.low, self.high = low, high
        self.vars = sorted({v for coefs, *_ in work for v in coefs})
        self.col = {v: i for i, v in enumerate(self.vars)}
        self.work = work
        # which counts are tied together, to solve each part on its own
        parent = list(range(len(self.vars)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        for coefs, *_ in work:
            cols = [self.col[v] for v in coefs]
            for c in cols[1:]:
                parent[find(c)] = find(cols[0])
        self.part_of = [find(i) for i in range(len(self.vars))]
        self._parts: dict[int, tuple] = {}

    @staticmethod
    def _ratio(num, den, lo, hi, s, route):
        out = []
        if hi < INF:  # s * num - hi * den <= 0
            out.append((dict(expr(*((v, s * c) for v, c in num), *((v, -hi * c) for v, c in den))), -INF, 0, route))
        if lo > -INF:  # s * num - lo * den >= 0
            out.append((dict(expr(*((v, s * c) for v, c in num), *((v, -lo * c) for v, c in den))), 0, INF, route))
        return out

    def _part(self, root: int):
        if root not in self._parts:
            cols = [i for i, r in enumerate(self.part_of) if r == root]
            local = {self.vars[i]: j for j, i in enumerate(cols)}
            data, ri, ci, lo, hi = [], [], [], [], []
            for coefs, a, b in self.work:
                first = next(iter(coefs))
                if self.part_of[self.col[first]] != root:
                    continue
                for v, c in coefs.items():
                    data.append(c)
                    ri.append(len(lo))
                    ci.append(local[v])
                lo.append(a)
                hi.append(b)
            matrix = csr_matrix((data, (ri, ci)), shape=(len(lo), len(cols)))
            lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
            box = [(self.low[self.vars[i]], self.high[self.vars[i]]) for i in cols]
            self._parts[root] = (local, matrix, lo, hi, box, Solver(matrix, lo, hi, box))
        return self._parts[root]

    def range_of(self, e: tuple, whole: bool = False, near: float | None = None) -> tuple[float, float] | None:
        """The least and most ``e`` can be, given everything; None when nothing is known of it.
        With ``near`` (a value ``e`` can take), a side found three or more away from it ends the
        search: the other side is then not worked out (returned as infinite), since ``e`` is not
        pinned, even by whole numbers (which are tried only on ranges of three or fewer)."""
        if not e or any(v not in self.known and v not in self.col and v not in self.low for v, _ in e):
            return None
        const = sum(c * self.known[v] for v, c in e if v in self.known)
        lo_total, hi_total = const, const
        by_part: dict = defaultdict(list)
        for v, c in e:
            if v in self.known:
                continue
            if v not in self.col:  # a count tied to nothing else: its own range
                lo_total += c * (self.low[v] if c > 0 else self.high[v])
                hi_total += c * (self.high[v] if c > 0 else self.low[v])
                continue
            by_part[self.part_of[self.col[v]]].append((v, c))
        if near is not None and len(by_part) == 1:
            near -= lo_total  # what the part's own sum can be
        else:
            near = None
        for root, terms in by_part.items():
            got = self._solve(root, terms, whole, near)
            lo_total += got[0]
            hi_total += got[1]
        return lo_total, hi_total

    def _solve(self, root, terms, whole: bool, near: float | None = None) -> tuple[float, float]:
        local, matrix, lo, hi, box, solver = self._part(root)
        c = np.zeros(matrix.shape[1])
        for v, coef in terms:
            c[local[v]] += coef
        out = []
        if whole:
            cons = LinearConstraint(matrix, lo, hi)
            limits = Bounds([a for a, _ in box], [b for _, b in box])
            for sign in (1, -1):
                res = milp(sign * c, constraints=cons, integrality=np.ones_like(c), bounds=limits)
                out.append(sign * res.fun if res.status == 0 else sign * -INF)
            return out[0], out[1]
        for sign in (1, -1):
            out.append(solver.extreme(c, sign))
            if near is not None and abs(out[-1] - near) > 2.5:  # four whole numbers or more: not pinned
                return (out[0], INF) if sign == 1 else (-INF, out[1])
        return out[0], out[1]

    def routes(self, e: tuple, limit: int = 6) -> str:
        """The facts about these counts' own school-term and measure, for a reader to follow."""
        own = {v for v, _ in e}
        said = [route for coefs, _, _, route in self.rows if own & set(coefs)]
        unique = list(dict.fromkeys(said))
        more = f" and {len(unique) - limit} more" if len(unique) > limit else ""
        return "; ".join(unique[:limit]) + more


class Solver:
    """The least (sign 1) or most (sign -1) of c . x subject to lo <= A x <= hi and x in its box.

    HiGHS is kept loaded with the part's constraints and only the objective changes between
    questions, so each answer starts from the last one's basis (scipy's own bindings of HiGHS);
    ``linprog`` does the same work from scratch where those bindings are not there."""

    def __init__(self, matrix, lo, hi, box):
        self.matrix, self.lo, self.hi, self.box = matrix, lo, hi, box
        self.n = matrix.shape[1]
        self._fast = None
        try:
            from scipy.optimize._highspy import _core
        except ImportError:
            return
        col = matrix.tocsc()
        inf = _core.kHighsInf
        lp = _core.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, matrix.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.array([a for a, _ in box], dtype=float)
        lp.col_upper_ = np.array([min(b, inf) for _, b in box], dtype=float)
        lp.row_lower_ = np.maximum(lo, -inf)
        lp.row_upper_ = np.minimum(hi, inf)
        lp.a_matrix_.format_ = _core.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = col.indptr, col.indices, col.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = self.n, matrix.shape[0]
        highs = _core._Highs()
        highs.setOptionValue("output_flag", False)
        if highs.passModel(lp) != _core.HighsStatus.kOk:
            return
        self._fast, self._core, self._cost = highs, _core, np.zeros(self.n)

    def extreme(self, c: np.ndarray, sign: int) -> float:
        if self._fast is None:
            return self._slow(c, sign)
        core, highs = self._core, self._fast
        changed = np.flatnonzero((self._cost != c))
        if len(changed):
            highs.changeColsCost(len(changed), changed.astype(np.int32), c[changed].astype(float))
            self._cost = c.copy()
        highs.changeObjectiveSense(core.ObjSense.kMinimize if sign == 1 else core.ObjSense.kMaximize)
        highs.run()
        status = highs.getModelStatus()
        if status == core.HighsModelStatus.kOptimal:
            return highs.getInfo().objective_function_value
        if status in (core.HighsModelStatus.kUnbounded, core.HighsModelStatus.kUnboundedOrInfeasible):
            return -INF if sign == 1 else INF
        if status == core.HighsModelStatus.kInfeasible:
            raise AssertionError("the adversary's facts contradict each other")
        return self._slow(c, sign)

    def _slow(self, c: np.ndarray, sign: int) -> float:
        a_ub = _stack([self.matrix[np.isfinite(self.hi)], -self.matrix[np.isfinite(self.lo)]])
        b_ub = np.concatenate([self.hi[np.isfinite(self.hi)], -self.lo[np.isfinite(self.lo)]])
        bounds = [(a, None if b == INF else b) for a, b in self.box]
        res = linprog(sign * c, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status == 2:
            raise AssertionError("the adversary's facts contradict each other")
        return sign * res.fun if res.status == 0 else (-INF if sign == 1 else INF)


def _stack(parts):
    from scipy.sparse import vstack
    return vstack(parts).tocsr()


def bounds(k: Knowledge, ts: list[Target], programme: Programme | None = None) -> list[Leak]:
    p = programme or Programme(k)
    found = []
    for t in ts:
        # the true count is one the facts allow: a side of the range away from it settles that it is
        # not pinned, and the other side need not be worked out
        got = p.range_of(t.expr, near=t.value)
        if got is None:
            continue
        lo, hi = got
        value = one_whole(lo, hi)
        if value is None and math.isfinite(lo) and math.isfinite(hi) and \
                math.floor(hi + EPS) - math.ceil(lo - EPS) <= 2:
            lo, hi = p.range_of(t.expr, whole=True)  # whole numbers may close the range
            value = one_whole(lo, hi)
        if value is not None:
            found.append(Leak("bounds", t, value, f"the only whole number it can be is {value}, given: "
                                                  f"{p.routes(t.expr)}"))
    return found


# ---- free text --------------------------------------------------------------------------------

SMALL = r"(?:1|2|3|4|one|two|three|four)"
SAID_SMALL = re.compile(rf"(?<![\w.,/£$-])(?<![Yy]ear )(?<![Ss]tage )(?<!no ){SMALL}\s+(?:(?:more|other|further|new|"
                        rf"flagged|looked-after|separate|different|of (?:the|them|these|those|our)|[a-z]+-?[a-z]*ed)"
                        rf"\s+){{0,3}}{PEOPLE}\b", re.IGNORECASE)
ONLY_SMALL = re.compile(rf"\b(?:only|just|another)\s+{SMALL}\b(?!\s*(?:%|per|terms?|days?|months?|years?|weeks?|"
                        r"schools?|courses?|meetings?|conferences?|reports?|staff|times))", re.IGNORECASE)
OF = re.compile(r"(?<![\w.,])(\d[\d,]*) of (\d[\d,]*)\b(?P<rest>[^.;]*)")
SAFE = ("from 1 to 4", "1 to 4 are shown", "1 to 4 shows", "counts of children from 1 to")


def free_text(k: Knowledge) -> list[tuple[str, str, str]]:
    """(route, the sentence, why) for each sentence saying a count of children from 1 to 4, or two
    counts whose difference is one ("5 of 7 allegations ... were not referred")."""
    out = []
    seen = set()
    for text, route in k.texts:
        text = str(text)
        if (text, route) in seen or not re.search(r"\d|one|two|three|four", text, re.IGNORECASE):
            continue
        seen.add((text, route))
        why = _small_in(text)
        if why:
            out.append((route, text, why))
    return out


def _small_in(text: str) -> str | None:
    """Why a sentence gives a small count of children away, or None."""
    plain = text
    for phrase in SAFE:
        plain = plain.replace(phrase, "")
    for m in SAID_SMALL.finditer(plain):
        return f"says \"{m.group(0)}\""
    for m in ONLY_SMALL.finditer(plain):
        if re.search(PEOPLE, plain, re.IGNORECASE):
            return f"says \"{m.group(0)}\""
    for m in OF.finditer(plain):
        a, b = (float(x.replace(",", "")) for x in m.group(1, 2))
        rest = m.group("rest")
        if re.search(PEOPLE, rest, re.IGNORECASE) and re.search(r"\bnot\b|\bnever\b|\bwithout\b", rest) and \
                1 <= b - a <= 4 and "staff in date" not in rest:
            return f"{b:g} − {a:g} = {b - a:g} are the rest"
    return None
