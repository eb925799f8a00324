"""The house rules about who may import what, read from the table in docs/ARCHITECTURE.md (the
design's own page, kept word for word) and checked on every Python file of ours."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "ARCHITECTURE.md"
# The design folder beside the checkout, where there is one: the copy in docs/ must not drift.
SHARED = ROOT.parent / "shared" / "design" / "ARCHITECTURE.md"
# app.py serves dashboard.py (Streamlit with the sign-in route mounted): the frame's row covers both.
FRAME = {"dashboard.py", "app.py"}


def stage_of(path: Path) -> str | None:
    """The table's row a file of ours belongs to: its folder, or the frame."""
    if len(path.parts) == 1:
        return "dashboard" if path.name in FRAME else None
    return path.parts[0]


def rules() -> tuple[dict[str, set[str]], dict[Path, set[str]], dict[tuple[str, str], str]]:
    """(what each stage may import, what a command-line entry may add, and a stage's import of
    another narrowed to one module by a parenthesis such as "loaders (registry)")."""
    rows = []
    for line in DESIGN.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((cells[0].strip("`").rstrip("/").removesuffix(".py"), cells[2]))
    names = [name for name, _ in rows]
    folders = set(names) | {"settings"}
    allowed: dict[str, set[str]] = {}
    extra: dict[Path, set[str]] = {}
    narrowed: dict[tuple[str, str], str] = {}
    for i, (name, text) in enumerate(rows):
        below = set(names[i + 1:]) - {"tests", "bench"} | {"settings"}
        head, *clauses = text.split(";")
        if "anything" in head:
            allowed[name] = set(folders)
            continue
        words = set(re.findall(r"[a-z_]+", re.sub(r"\([^)]*\)", "", head)))
        allowed[name] = (words & folders) | (below if "everything below" in head else set())
        for stage, inner in re.findall(r"([a-z_]+) \(([a-z_]+)\)", head):
            if (ROOT / stage / f"{inner}.py").exists():
                narrowed[(name, stage)] = f"{stage}.{inner}"
        for clause in clauses:
            entry = re.search(r"`([a-z_/]+\.py)`", clause)
            also = re.search(r"may also use ([a-z_, ]+)", clause)
            if entry and also:
                extra[Path(entry.group(1))] = set(re.findall(r"[a-z_]+", also.group(1))) & folders
    return allowed, extra, narrowed


ALLOWED, EXTRA, NARROWED = rules()
OURS = (set(ALLOWED) - {"dashboard"}) | {"settings", "dashboard", "app"}


def python_files():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "tests", "node_modules"} or "site-packages" in rel.parts:
            continue
        yield rel


def imports(path: Path) -> set[str]:
    """Every module named by an import in the file, in full ("loaders.registry")."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_the_copy_of_the_design_is_the_design():
    if SHARED.exists():
        assert DESIGN.read_text(encoding="utf-8") == SHARED.read_text(encoding="utf-8")


def test_the_table_was_read():
    assert ALLOWED["store"] == {"loaders", "settings"}
    assert ALLOWED["pages"] >= {"ui", "reports", "charts", "analysis", "store", "loaders"}
    assert "ui" not in ALLOWED["reports"] and "pages" not in ALLOWED["ui"]
    assert EXTRA[Path("loaders/__main__.py")] == {"store"}
    assert NARROWED[("charts", "loaders")] == "loaders.registry"


def test_only_the_frame_pages_and_ui_import_streamlit():
    # The bench may import anything: it times the pages through Streamlit's own test runner.
    offenders = [str(p) for p in python_files()
                 if any(m.split(".")[0] == "streamlit" for m in imports(p))
                 and stage_of(p) not in {"dashboard", "pages", "ui", "bench"}]
    assert offenders == []


def test_each_stage_imports_only_what_the_table_allows():
    checked, broken = 0, []
    for path in python_files():
        stage = stage_of(path)
        if stage is None or stage not in ALLOWED:
            continue
        checked += 1
        allowed = ALLOWED[stage] | {stage} | EXTRA.get(path, set())
        for module in sorted(imports(path)):
            top = module.split(".")[0]
            if top not in OURS or top == stage:
                continue
            if top not in allowed:
                broken.append(f"{path} imports {module}")
            elif (stage, top) in NARROWED and module.count(".") >= 1 and not module.startswith(NARROWED[(stage, top)]):
                broken.append(f"{path} imports {module}, but {stage} may use only {NARROWED[(stage, top)]}")
    assert checked > 60, "the stage folders were not found"
    assert broken == []


def test_settings_imports_nothing_of_ours():
    assert {m.split(".")[0] for m in imports(Path("settings.py"))} & OURS == set()
