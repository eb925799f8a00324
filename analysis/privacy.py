"""What a reader who must not see small numbers (a trustee) is shown of the compared figures.

Every count of children behind an indicator (numerator, and a denominator that counts
children, such as flagged children) from 1 to 4 is hidden, with secondary suppression over all of
a term's counts at once, so that no hidden count can be worked out from any trust figure's totals,
from another indicator that shares the count, or from a share's numerator being no more than its
denominator; a rate built on a hidden count is not shown, nor its change from another term, and
neither is a trust figure pooled from a small total. What each count counts is declared with the contract
(``loaders.registry``): children and allegations about staff are suppressed; events (meetings,
reports) and staff totals (training) stay.
The gap rules still run on the real numbers: a trustee still sees that a school is higher than
the trust, just not the count (see analysis.gaps, which words its findings through the Context).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.compare import ALONE, TRUST, is_england, spread_from_seen
from analysis.indicators import INDICATORS, INDICATORS_BY_ID, SHARE
from analysis.rates import with_changes
from analysis.suppression import NOT_SHOWN, fewer_than, suppress_counts, suppression_threshold
from loaders.registry import MEASURES_BY_ID

NOTE_COLUMNS = {"numerator": "numerator_note", "denominator": "denominator_note"}
REST = "rest"  # the schools pooled by the trust's figure but by no phase's (England's figure pools none)
LIMIT_COLUMNS = ("target", "expected", "lower_95", "upper_95", "lower_998", "upper_998")


def about_children(indicator_id: str) -> bool:
    """Whether an indicator is built on counts a trustee must not see small: of children, or of
    allegations about staff (what each measure counts is declared with the contract)."""
    ind = INDICATORS_BY_ID[indicator_id]
    return any(MEASURES_BY_ID[m].suppressed for m in ind.numerator + ind.denominator)


def hide_small(compared: pd.DataFrame, threshold: int | None = None) -> pd.DataFrame:
    """The compared table as a trustee may see it (see the module docstring); hidden counts are
    NaN with a note ("fewer than 5" or "not shown") in ``numerator_note`` / ``denominator_note``.

    A count belongs to its school, term and measures, not to one indicator: the flagged children
    are the numerator of one indicator and the denominator of five. So every count of children in
    a term is suppressed in one linked table (see ``linked_counts``), and an indicator's numerator
    or denominator is hidden exactly where that table hides it."""
    t = suppression_threshold() if threshold is None else threshold
    out = compared.drop(columns=["change_term", "change_year"], errors="ignore").copy()
    for note in NOTE_COLUMNS.values():
        out[note] = ""
    exposed = pd.Series(False, index=out.index)
    child = out["indicator"].map(about_children).to_numpy(dtype=bool)
    if child.any():
        part = out.loc[child]
        notes, unprotected = linked_counts(part, t)
        for side, note in NOTE_COLUMNS.items():
            keys = [_count_key(i, side) for i in part["indicator"]]
            out.loc[part.index, note] = [notes.get((u, ti, k), "") for u, ti, k in
                                         zip(part["urn"], part["term_index"], keys)]
        # A trust figure is not shown when a total behind it is small or is all that would keep
        # a hidden count hidden (both read from the real counts, whatever is hidden afterwards).
        # a phase's total that must not be known takes its line, and the trust's figure, which
        # less the other phases' would give it back
        phases = {(label[0], label[1]) for label in unprotected if len(label) == 3}
        gone = pd.Series([(i, ti) in unprotected or (i, ti) in phases
                          for i, ti in zip(out["indicator"], out["term_index"])], index=out.index)
        exposed |= gone
        if "group" in out:
            lost = pd.Series([(i, ti, g) in unprotected for i, ti, g in
                              zip(out["indicator"], out["term_index"], out["group"])], index=out.index)
            out.loc[lost, [c for c in LIMIT_COLUMNS if c in out]] = np.nan
            out.loc[lost, "position"] = ""
    hidden_num = out["numerator_note"] != ""
    hidden_den = out["denominator_note"] != ""
    if "spread" in out:  # the spread between schools, drawn in every limit, from shown figures only
        out = spread_from_seen(out, ~(hidden_num | hidden_den).to_numpy(dtype=bool))
    out.loc[hidden_num, "numerator"] = np.nan
    out.loc[hidden_den, "denominator"] = np.nan
    out.loc[hidden_num | hidden_den, "value"] = np.nan
    out["hidden"] = hidden_num | hidden_den
    out.loc[exposed.to_numpy(dtype=bool), "trust"] = np.nan
    # The expected count and the funnel's limits at a school are made from its base and the
    # figure it is compared with, so either, hidden, takes them too; and where a school sits
    # against its limits would narrow a hidden count (below the line at this base means fewer
    # than so many), so a hidden count takes its position with it.
    # a phase keeps its own line, and England's for a phase is public
    by_trust = exposed & (out["group"] == TRUST) if "group" in out else exposed
    gone = (hidden_den | by_trust).to_numpy(dtype=bool)
    out.loc[gone, [c for c in LIMIT_COLUMNS if c in out]] = np.nan
    if "position" in out:
        out.loc[(hidden_num | hidden_den | by_trust).to_numpy(dtype=bool), "position"] = ""
    return with_changes(out)


def _count_key(indicator_id: str, side: str) -> str:
    """The count an indicator's numerator or denominator is, named by its measures."""
    return "+".join(getattr(INDICATORS_BY_ID[indicator_id], side))


def linked_counts(compared: pd.DataFrame, threshold: int) -> tuple[dict[tuple, str], set[tuple[str, int]]]:
    """Suppress every count of children behind these indicators at once, one table per term.

    Its rows are schools; its columns the distinct counts (a measure, or a sum of measures, as
    indicators use them); what a reader knows besides each shown count is, per indicator and
    term, the total of its numerator and of its denominator over the schools its trust figure
    pools, and that a share's numerator is no more than its denominator. Returns the notes,
    keyed (urn, term index, count), and the (indicator, term index) whose trust figure must not
    be shown: made from a small total, or from a total that alone would give a hidden count back.
    """
    long = []
    for side in NOTE_COLUMNS:
        keys = compared["indicator"].map(lambda i, side=side: _count_key(i, side))
        suppressed = compared["indicator"].map(lambda i, side=side: any(
            MEASURES_BY_ID[m].suppressed for m in getattr(INDICATORS_BY_ID[i], side)))
        long.append(pd.DataFrame({"urn": compared["urn"], "term_index": compared["term_index"], "key": keys,
                                  "value": compared[side]})[suppressed.to_numpy(dtype=bool)])
    long = pd.concat(long, ignore_index=True).drop_duplicates(["urn", "term_index", "key"])
    table = long.pivot(index=["urn", "term_index"], columns="key", values="value").reset_index()
    columns = [c for c in table.columns if c not in ("urn", "term_index")]
    position = pd.Series(range(len(table)), index=pd.MultiIndex.from_arrays([table["urn"], table["term_index"]]))

    sums, unprotected = [], set()
    pools = compared.dropna(subset=["numerator", "denominator"])
    pools = pools[pools["denominator"] > 0]
    # The trust's figure pools every school; a phase's figure, drawn as the line its schools are
    # compared with, pools that phase's. Their totals are known alike; held as a partition (each
    # phase, and the rest) they say the same and keep each count in one sum. England's figure for a
    # phase is published and pools none of the trust's counts: its schools are in the rest.
    part = pools["group"].where(~pools["group"].isin(["", TRUST, ALONE]) & ~pools["group"].map(is_england), REST) \
        if "group" in pools else pd.Series(REST, index=pools.index)
    pools = pools.assign(_part=part)
    at = position.reindex(pd.MultiIndex.from_arrays([pools["urn"], pools["term_index"]])).to_numpy()
    keys = ["indicator", "term_index", "_part"]
    totals = pools.groupby(keys)[list(NOTE_COLUMNS)].sum()
    whole = pools.groupby(["indicator", "term_index"])[list(NOTE_COLUMNS)].sum()
    for (indicator, term_index, piece), rows in pools.groupby(keys).indices.items():
        label = (indicator, term_index) if piece == REST else (indicator, term_index, piece)
        for side in NOTE_COLUMNS:
            key = _count_key(indicator, side)
            if key not in columns:
                continue
            sums.append((label, key, at[rows]))
            small = 1 <= totals.at[(indicator, term_index, piece), side] < threshold
            if small or 1 <= whole.at[(indicator, term_index), side] < threshold:
                unprotected.add(label)  # a small total is itself a count to hide
    at_most = {(_count_key(i.id, "numerator"), _count_key(i.id, "denominator")) for i in INDICATORS
               if i.unit == SHARE and _count_key(i.id, "numerator") in columns
               and _count_key(i.id, "denominator") in columns}
    shown = _by_term(table, columns, threshold, sums, sorted(at_most))
    unprotected |= set(shown.attrs["unprotected"])
    notes = {}
    for column in columns:
        said = shown[column].isin([fewer_than(threshold), NOT_SHOWN])
        for urn, term_index, words in zip(table["urn"][said], table["term_index"][said], shown[column][said]):
            notes[(urn, term_index, column)] = words
    return notes, unprotected


def _by_term(table: pd.DataFrame, columns: list[str], threshold: int, sums: list, at_most: list) -> pd.DataFrame:
    """``suppress_counts`` over each term's rows on their own: no total and no ordering a reader
    knows joins two terms (each sum's label names its term), so the terms' tables are protected
    apart, each as it would be within the whole, and the work grows with the trust's size, not
    with its size times its number of terms. The rows come back in the table's order."""
    shown, unprotected = [], []
    for term_index, rows in table.groupby("term_index", sort=True).indices.items():
        local = np.full(len(table), -1)
        local[rows] = np.arange(len(rows))
        own = []
        for label, column, at in sums:
            if label[1] != term_index:
                continue
            if (local[at] < 0).any():
                raise ValueError(f"the known total {label} pools rows of another term")
            own.append((label, column, local[at]))
        part = suppress_counts(table.iloc[rows].reset_index(drop=True), columns, threshold=threshold, sums=own,
                               at_most=at_most)
        unprotected += part.attrs["unprotected"]
        shown.append(part.set_axis(table.index[rows]))
    out = pd.concat(shown).reindex(table.index) if shown else table.copy()
    out.attrs["unprotected"] = unprotected
    return out


def hide_small_pooled(pooled: pd.DataFrame, threshold: int | None = None,
                      hidden_trust: pd.DataFrame | None = None) -> pd.DataFrame:
    """The trust's pooled figures as a trustee may see them: none pooled from a total of 1 to
    threshold - 1, nor any that ``hide_small`` hid (``hidden_trust``: its output)."""
    t = suppression_threshold() if threshold is None else threshold
    out = pooled.copy()
    child = out["indicator"].map(about_children)
    hide = child & (out["numerator"] >= 1) & (out["numerator"] < t)
    if hidden_trust is not None and len(hidden_trust):
        gone = hidden_trust.loc[hidden_trust["trust"].isna(), ["indicator", "term_index"]].drop_duplicates()
        keys = set(zip(gone["indicator"], gone["term_index"]))
        hide |= pd.Series([k in keys for k in zip(out["indicator"], out["term_index"])], index=out.index)
    out.loc[hide, "value"] = np.nan
    for column in ("numerator", "denominator"):
        if column in out:
            out.loc[hide & child, column] = np.nan
    return out


# A number as people type it: digits, perhaps joined to more digits by . , : / or a dash ("3-4",
# "3/4", "1,250", "20/03/2026", "10:30"), perhaps with a % after. Not part of a word or cell
# reference ("B7", "3rd", "Y10"), nor a year group or key stage ("Year 3", "Key Stage 2").
_NUMERIC = re.compile(r"(?<![A-Za-z0-9_.])(?<![Yy]ear )(?<![Ss]tage )\d+(?:[.,:/\-\u2013]\d+)*(?:\s?%)?(?![A-Za-z0-9_])")
_SEPARATOR = re.compile(r"([.,:/\-\u2013])")
_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen")
_WORD_VALUES = {word: n for n, word in enumerate(_WORDS, start=1)} | {"couple": 2}
_NUMBER_WORD = re.compile(r"(?<![\w-])(" + "|".join(_WORDS) + r"|couple(?:\s+of)?)(?![\w-])", re.IGNORECASE)
_TIMES = re.compile(r"\s*(?:times\b|x\b|-fold\b)", re.IGNORECASE)  # "three times last term's": a ratio
# a day before its month ("seen on 3 March", "by 12 Sept"): a date, not a count of anyone. Only that
# way round: "in March 3 children ..." is a count.
_MONTH_AFTER = re.compile(r"\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b")


def mask_small(text, threshold: int | None = None, *, large: str | None = None):
    """Free text (a query's message, a DSL's explanation, a board question and its answer) with
    every count from 1 to threshold - 1 written as "fewer than 5", however it was typed: "3",
    "3," "3-4", "3/4", "three", "a couple". The words stay; dates ("3 March" too), years, times, percentages,
    decimals, cell references and larger numbers stay as they are."""
    if not isinstance(text, str):
        return text
    t = suppression_threshold() if threshold is None else threshold
    hidden = fewer_than(t)
    text = _NUMERIC.sub(lambda m: m.group(0) if _TIMES.match(m.string, m.end()) or _day_of_month(m) else
                        _masked_number(m.group(0), t, hidden, large), text)
    return _NUMBER_WORD.sub(lambda m: _masked_word(m, t, hidden), text)


def _day_of_month(match: re.Match) -> bool:
    token = match.group(0)
    return token.isdigit() and 1 <= int(token) <= 31 and bool(_MONTH_AFTER.match(match.string, match.end()))


def mask_counts(text, threshold: int | None = None):
    """Free text for a reader who must not see small numbers, as it reaches them: as mask_small,
    and every larger count too, written "5 or more". A table may hide a count of 5 or more to
    protect a smaller one ("not shown"); text typed or written about that cell ("holds 7") would
    give it back, and no text can be checked against the tables, so none keeps a count."""
    if not isinstance(text, str):
        return text
    t = suppression_threshold() if threshold is None else threshold
    return mask_small(text, t, large=f"{t} or more")


def _masked_number(token: str, t: int, hidden: str, large: str | None = None) -> str:
    if token.endswith("%"):
        return token
    parts = _SEPARATOR.split(token)
    numbers, separators = parts[0::2], set(parts[1::2])
    if ":" in separators or any(len(n) == 4 for n in numbers):
        return token  # a time, a date with its year, an academic year
    if separators == {"."} and len(numbers) == 2:
        return token  # a decimal: not a count of anyone
    if separators == {","} and all(len(n) == 3 for n in numbers[1:]):
        return token  # thousands, so never small
    def small(n: str) -> bool:
        return not (len(n) > 1 and n.startswith("0")) and 1 <= int(n) < t

    def masked(n: str) -> str:
        if small(n):
            return hidden
        return large if large and not (len(n) > 1 and n.startswith("0")) and int(n) >= t else n
    if all(small(n) for n in numbers):
        return hidden  # "3-4", "3/4": one "fewer than 5" says it
    if large and all(masked(n) != n for n in numbers) and len(numbers) > 1:
        return large if not any(small(n) for n in numbers) else hidden + " to " + large
    return "".join(masked(p) if i % 2 == 0 else p for i, p in enumerate(parts))


def _masked_word(match: re.Match, t: int, hidden: str) -> str:
    word = match.group(1)
    before = match.string[:match.start()].lower()
    if not 1 <= _WORD_VALUES[word.split()[0].lower()] < t or _TIMES.match(match.string, match.end()):
        return word
    if word.lower() == "one" and (before.endswith("no ") or match.string[match.end():].lower().startswith(
            (" another", " to one", " of the few"))):
        return word  # "no one", "one to one", "one another" say nothing of how many
    if word.lower().startswith("couple"):
        return "few"  # "a couple of children": a few children, not two
    return hidden[0].upper() + hidden[1:] if word[0].isupper() else hidden
