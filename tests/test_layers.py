"""The house rules about who may import what (ARCHITECTURE.md), checked on every file."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"loaders", "store", "analysis", "charts", "reports", "pages", "sample_data", "settings", "dashboard", "app"}

# What each stage may import of ours. The loaders' command line reaches the store for `import`.
ALLOWED = {
    "loaders": set(),
    "store": {"loaders", "settings"},
    "analysis": {"store", "loaders", "settings"},
    "charts": {"analysis", "loaders"},
    "reports": {"analysis", "charts", "store", "loaders", "settings"},
    "sample_data": {"loaders"},
}
# The store's command line reaches analysis for `notify`: which emails fall due by date is worked
# out from the trust's data (deadlines, gaps).
EXCEPTIONS = {Path("loaders/__main__.py"): {"store", "settings"}, Path("store/__main__.py"): {"analysis"}}


def python_files():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "tests", "bench"} or "site-packages" in rel.parts:
            continue
        yield rel


def imported_tops(path: Path) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


# The frame, and the server that serves it (app.py: Streamlit with the sign-in route mounted).
STREAMLIT_ENTRIES = {Path("dashboard.py"), Path("app.py")}


def test_only_the_dashboard_and_pages_import_streamlit():
    offenders = [
        str(p) for p in python_files()
        if "streamlit" in imported_tops(p) and p not in STREAMLIT_ENTRIES and p.parts[0] != "pages"
    ]
    assert offenders == []


def test_each_stage_imports_only_the_stages_before_it():
    checked = 0
    broken = []
    for path in python_files():
        stage = path.parts[0]
        if stage not in ALLOWED:
            continue
        allowed = ALLOWED[stage] | {stage} | EXCEPTIONS.get(path, set())
        wrong = (imported_tops(path) & OURS) - allowed
        if wrong:
            broken.append(f"{path} imports {sorted(wrong)}")
        checked += 1
    assert checked > 5, "the stage folders were not found"
    assert broken == []
