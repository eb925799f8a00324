"""Reading and checking the termly safeguarding return. Imports nothing else of ours."""

from .checker import check_file, check_return

__all__ = ["check_file", "check_return"]
