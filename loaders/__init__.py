"""Reading and checking the termly safeguarding return. Imports nothing else of ours.

``check_file`` and ``check_return`` (loaders/checker.py) are imported when first asked for: the
dashboard's pages read only the registry of measures, and the whole file reader costs a start
a sixth of a second.
"""

__all__ = ["check_file", "check_return"]


def __getattr__(name: str):
    if name in __all__:
        from . import checker

        return getattr(checker, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
