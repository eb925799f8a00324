"""A batch of threshold changes, as the Settings page saves it: every value checked (a number, whole
where it must be, in its range, red and amber lines the right way round), then all of it stored
with its audit rows in one transaction, or none of it, with a plain sentence for each value refused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from analysis.thresholds import conflicts, default_for, resolve, validate
from store.thresholds import save_thresholds


@dataclass(frozen=True)
class Outcome:
    """What a batch did: ``saved`` key to (old, new), None meaning the default (empty when refused);
    ``refused`` key to the plain sentence saying why (empty when saved)."""

    saved: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)


class Refused(ValueError):
    def __init__(self, reasons: dict[str, str]):
        super().__init__(" ".join(reasons.values()))
        self.reasons = reasons


def change_thresholds(engine: Engine, proposed: Mapping[str, object], *, user: str) -> Outcome:
    """Check and store ``proposed`` (key to its new value, or None for back to the default) as one.

    A value equal to what the threshold would be without one of its own (its default, or its
    fallback's value) is stored as no value, so the trust simply follows the default again. A value
    the same as stored now changes nothing and leaves no audit row.
    """
    refused = {key: problem for key, value in proposed.items()
               if value is not None and (problem := validate(key, value))}
    if refused:
        return Outcome(refused=refused)
    try:
        saved = save_thresholds(engine, lambda stored: _batch(stored, proposed), user=user)
    except Refused as refusal:
        return Outcome(refused=refusal.reasons)
    return Outcome(saved=saved)


def _batch(stored: dict[str, float], proposed: Mapping[str, object]) -> dict[str, float | None]:
    """The batch to store over ``stored``, checked as a whole; raises Refused."""
    after = dict(stored)
    for key, value in proposed.items():
        if value is None:
            after.pop(key, None)
        else:
            after[key] = float(value)
    for key in proposed:
        if key in after and _same(after[key], default_for(key, after)):
            del after[key]
    wrong_way = conflicts(resolve(after))
    if wrong_way:  # a red line inside its amber one would judge backwards
        raise Refused(wrong_way)
    return {key: after.get(key) for key in proposed}


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
