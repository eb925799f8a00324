"""How a label is compared: case, spacing, punctuation, ``_``/``-`` and a trailing "(…)" hint ignored.

Its own small module so that reading a sheet can work out each text cell's normalised form
once, for every table and check that looks for labels in it.
"""

from __future__ import annotations

import re

_HINT = re.compile(r"\s*\([^()]*\)\s*$")
_QUOTES = re.compile(r"['’‘`]")
PUNCTUATION = re.compile(r"[^a-z0-9]+")

# The same few hundred labels arrive in every return: remember the normalised form of short
# texts (a bounded memory, emptied when full).
_KNOWN: dict[str, str] = {}
KNOWN_MAX, KNOWN_LONGEST = 8192, 200


def normalise(text) -> str:
    """'Children's social care (CSC):' -> 'childrens social care'."""
    if type(text) is not str:
        return _normalise(str(text))
    key = _KNOWN.get(text)
    if key is None:
        key = _normalise(text)
        if len(text) <= KNOWN_LONGEST:
            if len(_KNOWN) >= KNOWN_MAX:
                _KNOWN.clear()
            _KNOWN[text] = key
    return key


def plain(text: str) -> str:
    """The text lower-cased with punctuation as spaces ('Multi-agency' -> 'multi agency'), hint kept."""
    key = _PLAIN.get(text)
    if key is None:
        key = " ".join(PUNCTUATION.sub(" ", text.lower()).split())
        if len(text) <= KNOWN_LONGEST:
            if len(_PLAIN) >= KNOWN_MAX:
                _PLAIN.clear()
            _PLAIN[text] = key
    return key


_PLAIN: dict[str, str] = {}


def forget() -> None:
    """Empty both memories (after a file is refused for child data, so none of its text stays)."""
    _KNOWN.clear()
    _PLAIN.clear()


def keyed(texts: list[tuple[int, int, str]], shorter_than: int) -> list[tuple[int, int, str]]:
    """(row, col, normalised text) for each (row, col, text) whose text is shorter than given."""
    known = _KNOWN.get
    return [(r, c, known(text) or normalise(text)) for r, c, text in texts if len(text) < shorter_than]


def _normalise(text: str) -> str:
    s = text.strip().lower()
    while True:
        stripped = _HINT.sub("", s)
        if stripped == s or not stripped:
            break
        s = stripped
    return " ".join(PUNCTUATION.sub(" ", _QUOTES.sub("", s)).split())
