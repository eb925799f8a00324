"""Each school's indicator value set beside schools like it, with its funnel limits.

Schools are compared like with like: a school whose phase is known (Primary, Secondary,
All-through, Special, Alternative provision) is compared with the trust's schools of that phase,
pooled, when there are at least MIN_SCHOOLS of them with figures that term. A school of a phase
the trust has fewer of (its one special school, say) has no fair yardstick in the trust: it is
compared with England's published figure for schools of its phase where there is one for the
indicator (analysis.benchmarks), and otherwise not placed on the funnel. A school whose phase is
not known is compared with the whole trust. The ``group`` column says which. This is indirect
standardisation: the school's expected count is its base times its group's figure. Where the
trust has enough schools to tell, the limits also allow for the real spread between schools
(analysis.funnel: winsorised z-scores, an additive random effect), so that a difference of school
type or area is not flagged as chance would be.

A school compared with England stays one of the trust's schools: its counts are in the trust's
pooled figure as before, and in no phase group's. England's figure is published, pooled from no
count of the trust's.

Where a school sits is a statistical statement ("above the 99.8% limit"), not a judgement. The
judgement, when an indicator has a polarity, is made by the gap rules, never here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis import funnel
from analysis.benchmarks import england
from analysis.indicators import INDICATORS_BY_ID, PER_100
from loaders import registry, values

MIN_SCHOOLS = 3  # a figure pooled from fewer schools is no fair yardstick
TRUST = "trust"  # compared with the whole trust
ALONE = "too few like it"  # fewer than MIN_SCHOOLS of its phase in the trust, and no England figure
PHASES = registry.PHASES
LIMIT_COLUMNS = ("lower_998", "lower_95", "upper_95", "upper_998")


def england_group(phase: str) -> str:
    """The group of a school compared with England's figure for its phase: "England (special)"."""
    return f"England ({phase.lower()})"


ENGLAND_GROUPS = {england_group(p): p for p in PHASES}


def is_england(group) -> bool:
    """Whether a group is England's figure for a phase (public, pooled from none of the trust's counts)."""
    return isinstance(group, str) and group in ENGLAND_GROUPS


def yardstick(group, indicator: str | None = None) -> str:
    """What a school was compared with, in words: "the whole trust", "Primary schools in the
    trust", "England's special schools, 2023/24 (whole academic year)", "no school like it in the
    trust", or "not compared"."""
    if group == TRUST:
        return "the whole trust"
    if not isinstance(group, str) or not group:
        return "not compared"
    if group == ALONE:
        return "no school like it in the trust"
    if is_england(group):
        found = england(indicator, ENGLAND_GROUPS[group]) if indicator else None
        return f"England's {ENGLAND_GROUPS[group].lower()} schools" + (f", {found[1].period}" if found else "")
    return f"{group} schools in the trust"


def phase_of(text) -> str | None:
    """One of PHASES from a phase as the trust recorded it ("primary", "Infant", "PRU"), read as
    the return's loader reads it; None for none, or for anything that is no phase."""
    read = values.read_phase(text)
    return read if isinstance(read, str) else None


def compare(values: pd.DataFrame, phases: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Add to each school-term-indicator row: ``trust`` (the trust's pooled value), ``group``
    (what it is compared with: a phase; "trust"; England's figure for its phase, "England
    (special)"; or ALONE, nothing like it in the trust and no England figure), ``target`` (that
    group's pooled value, or England's), ``target_schools`` (the trust's schools it pools; none
    for England's),
    ``expected`` (the count the target gives a school of this base), ``spread`` (the between-school
    standard deviation allowed for, 0 when none), the funnel's limits at this base in the unit of
    the value (``lower_998``, ``lower_95``, ``upper_95``, ``upper_998``, see analysis.funnel) and
    ``position``: the side of those limits the value lies ("above_998", "above_95", "within",
    "below_95", "below_998"), or "" when it cannot be placed (value missing, indicator not
    funnel-compared, fewer than three schools pooled and no England figure). The position is read
    off the limits the charts draw."""
    frame = values.reset_index(drop=True)
    pools = _Pools(frame)
    trust, trust_schools = pools.per_row(pools.key)
    frame["trust"], frame["trust_schools"] = trust, trust_schools  # NaN where no school has figures
    group, pooled_target, target_schools = _groups(frame, pools, phases or {})
    national = _per_distinct(group, is_england)
    den = pools.den
    usable = (
        _per_distinct(frame["indicator"], lambda i: INDICATORS_BY_ID[i].funnel)
        & ((np.nan_to_num(target_schools) >= MIN_SCHOOLS) | national)
        & (np.nan_to_num(den) > 0)
    )
    per_100 = pools.per_100
    target = np.where(usable, pooled_target, np.nan)
    # each column made once (pandas turns a column of text into its own kind of array)
    frame["group"] = np.where(usable | (group == ALONE), group, "")
    frame["target"], frame["target_schools"] = pooled_target, target_schools
    frame["expected"] = funnel.expected_count(target, den, per_100)
    _place(frame, target, per_100, national, np.ones(len(frame), dtype=bool))
    return frame


def spread_from_seen(compared: pd.DataFrame, seen: np.ndarray) -> pd.DataFrame:
    """The comparison with the spread between schools estimated from the rows ``seen`` alone, and
    the limits and positions that follow: for a reader who must not learn the other rows' counts,
    as the spread is a function of every value it is estimated from and is drawn in every limit."""
    if "spread" not in compared or not (compared["spread"].fillna(0) > 0).any() or seen.all():
        return compared
    out = compared.copy()
    per_100 = _per_distinct(out["indicator"], lambda i: INDICATORS_BY_ID[i].unit == PER_100)
    usable = out["expected"].notna().to_numpy()
    target = np.where(usable, out["target"].to_numpy(dtype=float), np.nan)
    _place(out, target, per_100, _per_distinct(out["group"], is_england), seen)
    return out


def _place(frame: pd.DataFrame, target: np.ndarray, per_100: np.ndarray, national: np.ndarray,
           seen: np.ndarray) -> None:
    """The spread, the limits at each row's base and the side of them each value lies, in place."""
    den = frame["denominator"].to_numpy(dtype=float)
    frame["spread"] = np.sqrt(_spread(frame, target, funnel.standard_error(target, den, per_100), national, seen))
    for level, tag in ((0.95, "95"), (0.998, "998")):
        frame[f"lower_{tag}"], frame[f"upper_{tag}"] = funnel.drawn_limits(target, den, level, per_100,
                                                                            frame["spread"].to_numpy())
    frame["position"] = funnel.positions(frame["value"].to_numpy(dtype=float), frame["lower_95"].to_numpy(),
                                         frame["upper_95"].to_numpy(), frame["lower_998"].to_numpy(),
                                         frame["upper_998"].to_numpy())


def _per_distinct(column: pd.Series, fn) -> np.ndarray:
    """``fn`` of each row's value as a boolean array, worked out once per distinct value."""
    codes, distinct = pd.factorize(column, use_na_sentinel=False)
    return np.array([bool(fn(v)) for v in distinct], dtype=bool)[codes] if len(distinct) else np.zeros(0, dtype=bool)


class _Pools:
    """Pooled figures of a frame of indicator rows, worked out on numbers: each row's indicator and
    term as a code, what is known of each row (a numerator and a denominator above 0), and each
    row's school as a code, so a figure is pooled by adding up within each group of codes (the
    counts are whole numbers, so the totals are exact in any order)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        indicator = pd.factorize(frame["indicator"])[0].astype(np.int64)
        term = pd.factorize(frame["term_index"])[0].astype(np.int64)
        self.key = indicator * (int(term.max(initial=-1)) + 1) + term
        self.urn, self.urns = pd.factorize(frame["urn"])
        num = frame["numerator"].to_numpy(dtype=float)
        den = frame["denominator"].to_numpy(dtype=float)
        self.known = ~np.isnan(num) & ~np.isnan(den) & (den > 0)
        self.num, self.den = num, den
        self.per_100 = _per_distinct(frame["indicator"], lambda i: INDICATORS_BY_ID[i].unit == PER_100)
        self.scale = np.where(self.per_100, 100.0, 1.0)

    def per_row(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's group's pooled value (total numerator over total denominator, over the rows
        known) and how many schools it pools, for groups numbered by ``key`` (0 up); both NaN where
        the group pools no school."""
        size = int(key.max(initial=-1)) + 1
        at = key[self.known]
        num = np.bincount(at, weights=self.num[self.known], minlength=size)
        den = np.bincount(at, weights=self.den[self.known], minlength=size)
        width = max(len(self.urns), 1)  # a group and a school as one number
        pairs = np.unique(at * width + self.urn[self.known])
        schools = np.bincount(pairs // width, minlength=size).astype(float)
        schools[schools == 0] = np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(np.isnan(schools), np.nan, num / den)
        return value[key] * self.scale, schools[key]


def _groups(frame: pd.DataFrame, pools: _Pools, phases: Mapping[str, str]):
    """Each row's comparison group, that group's pooled value and how many schools it pools."""
    phase_by_urn = np.array([phase_of(phases.get(u)) for u in pools.urns], dtype=object)
    phase = phase_by_urn[pools.urn] if len(frame) else np.array([], dtype=object)
    known = np.array([p is not None for p in phase], dtype=bool)
    group = np.full(len(frame), TRUST, dtype=object)
    target = frame["trust"].to_numpy(dtype=float).copy()
    schools = frame["trust_schools"].to_numpy(dtype=float).copy()
    if known.any():
        code, _ = pd.factorize(phase)  # every known phase's own code; no phase is -1
        in_phase, pooled_schools = pools.per_row(np.where(known, pools.key * (code.max() + 2) + code + 1, 0))
        own = known & (pooled_schools >= MIN_SCHOOLS)
        group[own] = phase[own]
        target[own] = in_phase[own]
        schools[own] = pooled_schools[own]
        alone = known & ~own
        group[alone] = ALONE
        target[alone] = np.nan
        schools[alone] = 0
        # too few like it in the trust: England's figure for its phase, where one is published
        for (indicator, kind), rows in frame[alone].groupby(["indicator", phase[alone]]).indices.items():
            found = england(indicator, kind) if INDICATORS_BY_ID[indicator].funnel else None
            if found is not None:
                at = np.flatnonzero(alone)[rows]
                group[at] = england_group(kind)
                target[at] = found[0]
                schools[at] = np.nan
    return group, target, schools


def _spread(frame: pd.DataFrame, target: np.ndarray, se: np.ndarray, national: np.ndarray,
            seen: np.ndarray) -> np.ndarray:
    """tau^2 for every row, estimated per indicator and term over the schools compared within the
    trust, and allowed for on every compared row, England's too: a school set beside England's
    figure differs for reasons of intake and area as much as its trust's other schools do, but
    its distance from England says nothing of the spread among the trust's schools. Only the rows
    ``seen`` go into the estimate."""
    tau2 = np.zeros(len(frame))
    value = frame["value"].to_numpy(dtype=float)
    for rows in frame.groupby(["indicator", "term_index"], sort=False).indices.values():
        own = rows[~national[rows] & seen[rows]]
        tau2[rows] = funnel.between_school_variance(value[own], target[own], se[own])
    return np.where(np.isfinite(target), tau2, 0.0)
