"""Knowledge written down once, checked on every Python file of ours: a measure id is spelt only
in the contract (loaders/registry.py), the sample generator (sample_data/) and the indicator table
(analysis/indicators.py), and everywhere else taken from the registry's names (``M.NEGLECT_ACTIVE_FLAGS``);
every problem the loaders and the store report is made from the catalogue of problem codes
(loaders/problems.py), where each code is spelt once and from where each is reported by name."""

from __future__ import annotations

import ast
from pathlib import Path

from loaders import problems, registry

from .test_layers import ROOT, python_files

CATALOGUE = Path("loaders/problems.py")
# The places that may spell a measure id: the contract itself, the synthetic trust's generator, and
# the table of indicators (what each divides by what, as data).
ID_SPELLERS = (Path("loaders/registry.py"), Path("analysis/indicators.py"))
# The stages that make problems: every one of them comes from the catalogue.
PROBLEM_MAKERS = ("loaders", "store")


def _tree(path: Path) -> ast.AST:
    return ast.parse((ROOT / path).read_text(encoding="utf-8"))


def _strings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal in the file, the pieces of f-strings included."""
    return [(n.lineno, n.value) for n in ast.walk(_tree(path))
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _spells_ids(path: Path) -> bool:
    return path in ID_SPELLERS or path.parts[0] == "sample_data"


def _hand_spelt(paths) -> list[str]:
    ids = set(registry.MEASURES_BY_ID)
    return [f"{path}:{line}: {text}" for path in paths for line, text in _strings(path) if text in ids]


def test_no_measure_id_is_spelt_by_hand_outside_the_registry_the_sample_generator_and_the_indicator_table():
    assert _hand_spelt(p for p in python_files() if not _spells_ids(p)) == []


def test_the_count_of_hand_spelt_ids_sees_them_where_they_are_allowed():
    # Were the scan blind (no files, or a literal it cannot see), the test above would pass for nothing.
    for place in (Path("loaders/registry.py"), Path("analysis/indicators.py"), Path("sample_data/figures.py")):
        assert _hand_spelt([place]), place


def _makers() -> list[Path]:
    return [p for p in python_files() if p.parts[0] in PROBLEM_MAKERS and p != CATALOGUE]


def test_every_problem_is_made_from_the_catalogue():
    # A problem is made only by a kind of problem (problems.Kind), and kinds exist only in the catalogue.
    made = []
    for path in python_files():
        if path == CATALOGUE:
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Call):
                called = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                if called in {"Problem", "Kind"}:
                    made.append(f"{path}:{node.lineno}: {called}(...)")
    assert made == []


def test_no_problem_code_is_spelt_where_problems_are_made():
    spelt = [f"{path}:{line}: {text}" for path in _makers() for line, text in _strings(path)
             if text in problems.BY_CODE]
    assert spelt == []


def _kinds() -> dict[str, problems.Kind]:
    return {name: value for name, value in vars(problems).items() if isinstance(value, problems.Kind)}


def test_every_kind_of_problem_is_reported_somewhere_by_name():
    named: set[str] = set()
    for path in _makers():
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Name):
                named.add(node.id)
            elif isinstance(node, ast.Attribute):
                named.add(node.attr)
    kinds = _kinds()
    assert len(kinds) == len(problems.CATALOGUE) > 40
    assert sorted(set(kinds) - named) == []
