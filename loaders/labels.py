"""How a label is compared: case, spacing, punctuation, ``_``/``-`` and a trailing "(…)" hint ignored.

Its own small module so that reading a sheet can work out each text cell's normalised form
once, for every table and check that looks for labels in it.
"""

from __future__ import annotations

import re
from functools import lru_cache

_HINT = re.compile(r"\s*\([^()]*\)\s*$")
_QUOTES = re.compile(r"['’‘`]")
PUNCTUATION = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=8192, typed=True)  # the same few hundred labels arrive in every return
def normalise(text) -> str:
    """'Children's social care (CSC):' -> 'childrens social care'."""
    s = str(text)
    # The same labels arrive in every return: remember the short ones (a bounded cache).
    return _normalise_short(s) if len(s) <= 120 else _normalise(s)


@lru_cache(maxsize=8192)
def _normalise_short(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    s = text.strip().lower()
    while True:
        stripped = _HINT.sub("", s)
        if stripped == s or not stripped:
            break
        s = stripped
    return " ".join(PUNCTUATION.sub(" ", _QUOTES.sub("", s)).split())
