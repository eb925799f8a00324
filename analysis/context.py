"""One term seen through the trust's data: what the gap rules and pages read.

A ``Dataset`` is everything the store holds that analysis needs (newest version of each
return). A ``Context`` fixes a term and the thresholds, and hands out ``SchoolTerm`` views:
one school's numbers for that term, blank kept blank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from analysis import deadlines
from analysis.compare import compare
from analysis.indicators import INDICATORS
from analysis.privacy import hide_small, hide_small_pooled, mask_counts
from analysis.rates import indicator_values, pooled, wide_counts, with_changes
from analysis.thresholds import resolve
from loaders.problems import MORE_THAN_THREE_TIMES_LAST_TERM
from loaders.registry import (
    COUNT,
    COUNT_IDS,
    DATE,
    INTEGER,
    MEASURES,
    MEASURES_BY_ID,
    REFERRALS,
    M,
    asked,
    term_end,
    term_from_index,
    term_index,
)

DATE_IDS = tuple(m.id for m in MEASURES if m.type == DATE)
NUMERIC_IDS = tuple(m.id for m in MEASURES if m.type in (COUNT, INTEGER))
# The queries about a figure's change since last term, which a gap rule asks to see explained.
CHANGE_QUERY_CODES = (MORE_THAN_THREE_TIMES_LAST_TERM.code,)


@dataclass
class Dataset:
    """What the store holds, in long tables (newest version of every return)."""

    schools: pd.DataFrame  # urn, name, phase (optional)
    values: pd.DataFrame  # urn, academic_year, term, measure_id, value (float), text: see as_columns
    returns: pd.DataFrame  # urn, academic_year, term, version, submitted_at
    leads: pd.DataFrame  # urn, academic_year, term, role, name, last_full_training, last_refresher
    queries: pd.DataFrame  # urn, academic_year, term, code, sheet, cell, message, explanation
    suppress: bool = False  # small numbers hidden from this reader (analysis.privacy)
    # The ids of every return stored when the whole trust was read (analysis.dataset.load_dataset);
    # None for a reader's part of it.
    stored: frozenset | None = field(default=None, repr=False, compare=False)
    # Made by analysis.refresh from an earlier dataset: the earliest term (by index) with a
    # school-term stored since; None when read whole.
    first_changed: int | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        self.values = as_columns(self.values)

    @cached_property
    def wide(self) -> pd.DataFrame:
        return wide_counts(self.values)

    @cached_property
    def indicators(self) -> pd.DataFrame:
        """Every indicator's value per school and term, with its changes (analysis.rates)."""
        return with_changes(indicator_values(self.wide))

    @cached_property
    def compared(self) -> pd.DataFrame:
        return compare(self.indicators, self.school_phases)

    def compared_at(self, index: int) -> pd.DataFrame:
        """The rows of ``compared`` for one term (by index), numbered from 0: worked out for that
        term alone unless every term's are already (a comparison is made within a term)."""
        if "compared" in self.__dict__:
            rows = self.compared[self.compared["term_index"] == index]
        else:
            by_term = self.__dict__.setdefault("_compared_by_term", {})
            ind = self.indicators
            if index not in by_term:
                found = ind[ind["term_index"] == index]
                by_term[index] = compare(found, self.school_phases) if len(found) else \
                    self.compared_at(ind["term_index"].iloc[0]).iloc[0:0] if len(ind) else self.compared
            rows = by_term[index]
        return rows.reset_index(drop=True)

    @cached_property
    def pooled(self) -> pd.DataFrame:
        """The trust's pooled value per indicator and term (indicator, term_index, value, ...)."""
        return pooled(self.compared)

    @cached_property
    def terms(self) -> list[tuple[str, str]]:
        """Terms with at least one return, oldest first."""
        pairs = set(zip(self.returns["academic_year"].tolist(), self.returns["term"].tolist()))
        return sorted(pairs, key=lambda p: term_index(*p))

    def latest_term(self) -> tuple[str, str] | None:
        """The latest term with any return (not the term shown first: see analysis.deadlines)."""
        return self.terms[-1] if self.terms else None

    @cached_property
    def complete_terms(self) -> frozenset[int]:
        """The terms (by index) for which every school expected has returned."""
        first = self.first_return
        return frozenset(i for i, urns in self.returned_by_index.items()
                         if {u for u in self.schools["urn"].tolist() if first.get(u, -1) <= i} <= set(urns))

    @cached_property
    def school_names(self) -> dict[str, str]:
        return dict(zip(self.schools["urn"], self.schools["name"]))

    @cached_property
    def school_phases(self) -> dict[str, str]:
        """Phase where the trust has recorded one (returns do not carry it)."""
        if "phase" not in self.schools:
            return {}
        return {u: p for u, p in zip(self.schools["urn"], self.schools["phase"]) if isinstance(p, str) and p}

    @cached_property
    def count_rows(self) -> dict[tuple, dict[str, float]]:
        """(urn, year, term) to its counts, NaN where blank."""
        grid, cols = self.count_grid
        return {key: dict(zip(cols, grid[at].tolist())) for key, at in self.count_row_at.items()}

    @cached_property
    def count_row_at(self) -> dict[tuple, int]:
        """(urn, year, term) to its row of ``count_grid``."""
        w = self.wide
        return {k: i for i, k in enumerate(zip(w["urn"].tolist(), w["academic_year"].tolist(), w["term"].tolist()))}

    @cached_property
    def count_grid(self) -> tuple[np.ndarray, list[str]]:
        """Every school-term's counts (``wide``'s count columns, NaN where blank) as one array, and
        the measure id of each of its columns."""
        cols = [c for c in COUNT_IDS if c in self.wide]
        return self.wide[cols].to_numpy(dtype=float), cols

    @cached_property
    def versions(self) -> dict[tuple, int]:
        """(urn, year, term) to the template version of its return: what it was asked."""
        v = self.values[self.values["measure_id"] == M.ABOUT_TEMPLATE_VERSION].dropna(subset=["value"])
        return {(u, y, t): int(x) for u, y, t, x in zip(v["urn"], v["academic_year"], v["term"], v["value"])}

    @cached_property
    def date_rows(self) -> dict[tuple, dict[str, date]]:
        v = self.values[self.values["measure_id"].isin(DATE_IDS)]
        out: dict[tuple, dict[str, date]] = {}
        for r in v.itertuples():
            d = _as_date(r.text)
            if d is not None:
                out.setdefault((r.urn, r.academic_year, r.term), {})[r.measure_id] = d
        return out

    @cached_property
    def lead_rows(self) -> dict[tuple, list[dict]]:
        out: dict[tuple, list[dict]] = {}
        for r in self.leads.itertuples():
            out.setdefault((r.urn, r.academic_year, r.term), []).append(
                {"role": r.role, "name": r.name, "last_full_training": _as_date(r.last_full_training),
                 "last_refresher": _as_date(r.last_refresher)})
        return out

    @cached_property
    def submitted(self) -> dict[tuple, datetime]:
        """When each school-term was first submitted (a resubmission does not make it late)."""
        r = self.returns.assign(submitted_at=pd.to_datetime(self.returns["submitted_at"]))
        first = r.groupby(["urn", "academic_year", "term"])["submitted_at"].min()
        return first.to_dict()

    @cached_property
    def returned_by_index(self) -> dict[int, list[str]]:
        out: dict[int, set[str]] = {}
        r = self.returns
        for u, y, t in zip(r["urn"].tolist(), r["academic_year"].tolist(), r["term"].tolist()):
            out.setdefault(term_index(y, t), set()).add(u)
        return {k: sorted(v) for k, v in out.items()}

    @cached_property
    def change_queries(self) -> dict[tuple, list[dict]]:
        q = self.queries[self.queries["code"].isin(CHANGE_QUERY_CODES)]
        out: dict[tuple, list[dict]] = {}
        for r in q.itertuples():
            out.setdefault((r.urn, r.academic_year, r.term), []).append(
                {"sheet": r.sheet, "cell": r.cell, "message": r.message, "explanation": r.explanation})
        return out

    @cached_property
    def first_return(self) -> dict[str, int]:
        idx = [term_index(y, t) for y, t in zip(self.returns["academic_year"].tolist(), self.returns["term"].tolist())]
        return pd.Series(idx, index=self.returns["urn"].to_numpy()).groupby(level=0).min().to_dict()


    def school_term(self, urn: str, index: int, due: date) -> SchoolTerm:
        """One school's view of one term (by index), its lateness counted from ``due``: made once
        per dataset and deadline, and kept (analysis.refresh carries the views of school-terms
        that did not change into the next dataset)."""
        views = self.__dict__.setdefault("_school_terms", {})
        key = (urn, index, due)
        found = views.get(key)
        if found is None:
            found = views[key] = self._build(urn, index, due)
        return found

    def _build(self, urn: str, index: int, due: date) -> SchoolTerm:
        year, term = term_from_index(index)
        key = (urn, year, term)
        name = self.school_names.get(urn, urn)
        row = self.count_row_at.get(key)
        if row is None:
            return SchoolTerm(urn, name, year, term, returned=False)
        version = self.versions.get(key)
        # What its version did not ask is not there at all: neither a count nor a blank.
        grid, columns = self.count_grid
        at, ids = _asked_columns(tuple(columns), version)
        counts = {m: (None if v != v else v) for m, v in zip(ids, grid[row, at].tolist())}
        school = SchoolTerm(urn, name, year, term, returned=True, version=version, counts=counts,
                            dates=self.date_rows.get(key, {}), leads=self.lead_rows.get(key, []))
        school.blank_share = sum(v is None for v in counts.values()) / len(counts)
        submitted = self.submitted.get(key)
        if submitted is not None:
            school.days_late = (submitted.date() - due).days
        school.unexplained_changes = [
            {"where": f"{q['sheet']}!{q['cell']}" if q["cell"] else (q["sheet"] or ""), "message": q["message"]}
            for q in self.change_queries.get(key, [])
            if not (isinstance(q["explanation"], str) and q["explanation"].strip())
        ]
        return school


@lru_cache(maxsize=64)
def _asked_columns(columns: tuple[str, ...], version: int | None) -> tuple[np.ndarray, list[str]]:
    """Of these count columns, the places and measure ids of those a return of that template
    version asks (registry.asked)."""
    at = [i for i, m in enumerate(columns) if asked(m, version)]
    return np.array(at, dtype=np.intp), [columns[i] for i in at]


def as_columns(values: pd.DataFrame) -> pd.DataFrame:
    """The long values in the columns a Dataset keeps (store.overview.value_columns): a count's or
    an integer's value a float in ``value`` (NaN when blank), anything else in ``text`` as it was.
    A table made with one typed ``value`` column (urn, academic_year, term, measure_id, value) is
    split so; one already in these columns (or with no values at all) is kept as it is."""
    if "text" in values or not {"measure_id", "value"} <= set(values.columns):
        return values
    numeric = values["measure_id"].isin(NUMERIC_IDS).to_numpy()
    typed = values["value"]
    number = pd.to_numeric(typed.where(numeric), errors="coerce").astype(float).to_numpy()
    text = typed.to_numpy(dtype=object).copy()
    text[numeric] = None
    return values.assign(value=number, text=pd.Series(text, index=values.index, dtype=object))


@dataclass
class SchoolTerm:
    urn: str
    name: str
    academic_year: str
    term: str
    returned: bool
    version: int | None = None  # the template version of its return; None when it did not return
    counts: dict[str, float | None] = field(default_factory=dict)
    dates: dict[str, date | None] = field(default_factory=dict)
    leads: list[dict] = field(default_factory=list)
    days_late: int | None = None
    blank_share: float | None = None
    unexplained_changes: list[dict] = field(default_factory=list)

    @property
    def end(self) -> date:
        return term_end(self.academic_year, self.term)

    def count(self, measure_id: str) -> float | None:
        return self.counts.get(measure_id)

    def date(self, measure_id: str) -> date | None:
        return self.dates.get(measure_id)

    def total_of(self, column: str, rows: tuple[str, ...]) -> float | None:
        """Sum of a Referrals column over some rows; missing when any of them is blank."""
        parts = [self.count(f"referrals.{r}.{column}") for r in rows]
        return None if any(p is None for p in parts) else float(sum(parts))

    def total(self, column: str) -> float | None:
        return self.total_of(column, tuple(r.id for r in REFERRALS.rows))


def _as_date(v) -> date | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


class Context:
    def __init__(self, data: Dataset, academic_year: str, term: str, thresholds: dict | None = None,
                 today: date | None = None):
        self.data = data
        self.academic_year = academic_year
        self.term = term
        self.index = term_index(academic_year, term)
        self.t = resolve(thresholds)
        self.today = today or deadlines.current_date()
        self.due = deadlines.deadline(academic_year, term, self.t)
        # Until the deadline has gone by, a return not in is "not yet due": neither missing nor late.
        self.past_due = deadlines.past_deadline(academic_year, term, self.t, self.today)
        self._due: dict[int, date] = {}  # each term's deadline under these thresholds
        self._hidden_counts: dict[int, dict[tuple[str, str], bool]] = {}

    def hidden_count(self, school: SchoolTerm, measure_id: str) -> bool:
        """Whether this reader's own tables hide a school-term's count of a measure: hidden there
        (too small, or to protect another), or shown in none of them alone, so unknown."""
        return self._note(school, measure_id) != ""

    def known_range(self, school: SchoolTerm, *measure_ids: str) -> tuple[float, float] | None:
        """What this reader knows of a count (one measure, or the sum of several): (x, x) when
        every part is shown to them; from the notes of their own tables otherwise ("fewer than 5":
        1 to 4; "not shown": 5 or more; not shown alone anywhere: 0 or more). None when blank."""
        if not self.data.suppress:  # every count is shown to this reader
            total = 0.0
            for m in measure_ids:
                x = school.count(m)
                if x is None:
                    return None
                total += x
            return total, total
        from analysis.suppression import NOT_SHOWN, suppression_threshold

        t = suppression_threshold()
        low = high = 0.0
        for m in measure_ids:
            x = school.count(m)
            if x is None:
                return None
            note = self._note(school, m) if MEASURES_BY_ID[m].suppressed and x != 0 else ""
            part = (x, x) if not note else (1.0, t - 1.0) if note.startswith("fewer") else \
                (float(t), float("inf")) if note == NOT_SHOWN else (0.0, float("inf"))
            low, high = low + part[0], high + part[1]
        return low, high

    def _note(self, school: SchoolTerm, measure_id: str) -> str:
        index = term_index(school.academic_year, school.term)
        if index not in self._hidden_counts:
            self._hidden_counts[index] = _hidden_counts(self.data.compared_at(index), index)
        return self._hidden_counts[index].get((school.urn, measure_id), "unknown")

    def compared_term(self) -> pd.DataFrame:
        return self.data.compared_at(self.index)

    def _returned_urns(self, index: int) -> list[str]:
        return self.data.returned_by_index.get(index, [])

    def returned(self) -> list[SchoolTerm]:
        return [self.school_term(u) for u in self._returned_urns(self.index)]

    def expected(self) -> list[SchoolTerm]:
        """Schools that should have returned this term: every school whose first return is no later."""
        first = self.data.first_return
        urns = [u for u in self.data.schools["urn"] if first.get(u, -1) <= self.index]
        return [self.school_term(u) for u in sorted(urns)]

    def school_term(self, urn: str, index: int | None = None) -> SchoolTerm:
        index = self.index if index is None else index
        due = self._due.get(index)
        if due is None:
            due = self._due[index] = deadlines.deadline(*term_from_index(index), self.t)
        return self.data.school_term(urn, index, due)

    def year_so_far(self) -> dict[str, list[SchoolTerm]]:
        """Each school's returned terms of this academic year up to this term."""
        start = term_index(self.academic_year, "Autumn")
        out: dict[str, list[SchoolTerm]] = {}
        for i in range(start, self.index + 1):
            for urn in self._returned_urns(i):
                out.setdefault(urn, []).append(self.school_term(urn, i))
        return out


def _hidden_counts(compared: pd.DataFrame, index: int) -> dict[tuple[str, str], str]:
    """(urn, measure id) to what the reader's compared table says of that count in place of it
    ("fewer than 5", "not shown", or "" when shown), for each count that is some indicator's
    whole numerator or denominator in the term."""
    rows = compared[compared["term_index"] == index]
    out: dict[tuple[str, str], str] = {}
    for part, note in (("numerator", "numerator_note"), ("denominator", "denominator_note")):
        alone = {i.id: getattr(i, part)[0] for i in INDICATORS if len(getattr(i, part)) == 1}
        said_all = rows[note] if note in rows else pd.Series("", index=rows.index)
        for indicator, urn, said in zip(rows["indicator"], rows["urn"], said_all):
            measure = alone.get(indicator)
            if measure is not None:
                key = (urn, measure)
                out[key] = out.get(key) or (said if isinstance(said, str) else "")
    return out


def restrict(data: Dataset, scope) -> Dataset:
    """The part of the trust a scope may see: its schools' rows only, with the trust's pooled
    figures (computed over every school first) kept for comparison."""
    if scope.active and scope.urns is None and not scope.suppress:
        return data
    part = Dataset(**{name: scope.filter(getattr(data, name)) for name in
                      ("schools", "values", "returns", "leads", "queries")})
    compared, trust = scope.filter(data.compared), data.pooled
    if scope.suppress:
        # Free text reaches the reader with its small counts already gone: the check's words and
        # the DSL's explanations alike. Pages and reports mask nothing themselves.
        part.queries = part.queries.assign(message=part.queries["message"].map(mask_counts),
                                           explanation=part.queries["explanation"].map(mask_counts))
        compared = hide_small(compared)
        trust = hide_small_pooled(trust, hidden_trust=compared)
    part.__dict__["compared"] = compared
    part.__dict__["pooled"] = trust
    part.__dict__["terms"] = data.terms
    part.__dict__["complete_terms"] = data.complete_terms  # every reader starts on the same term
    part.suppress = scope.suppress
    return part
