"""The pipeline's shape, checked: imports point one way, and only the store touches SQLite.

The README draws the pipeline as layers a newcomer can read from the file names. An import that points
back up (the store importing the pipeline, text importing match) is how cycles and hidden coupling
start, and nothing else would notice it, so the layers are asserted here from the source itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

DAEMON = Path(__file__).resolve().parents[1] / "daemon"

# Each unit (a top-level module, a package, or one of sources/'s parts) and its layer: a unit may import
# only from units of a lower layer. Units of one layer are independent of each other.
LAYERS: dict[str, int] = {
    "errors": 0, "models": 0, "headers": 0, "__init__": 0,
    "text": 1, "config": 1,
    "config_edit": 2, "sources": 2, "sources.seedfile": 2, "sources.feeds": 2, "match": 2,
    "sources.folder": 3, "stories": 3,
    "prepare": 4, "store": 4,
    "prepare_feeds": 5,  # a feed poll's share of prepare's workers
    "match_archive": 5,  # `newswatch match`'s share of them
    "deliver": 5,
    "pipeline": 6,
    "brief": 7, "service": 7,
    "scheduler": 8,
    "ui": 9,  # the Datasette plugin and its metadata; `newswatch ui` (cli) starts it
    "cli": 10,
    "__main__": 11,
}


def unit_of(module: str) -> str:
    parts = module.split(".")[1:]  # without "daemon"
    if not parts or parts[0] == "__version__":
        return "__init__"
    if parts[0] == "sources" and len(parts) > 1:
        return f"sources.{parts[1]}"
    return parts[0]


def module_name(path: Path) -> str:
    rel = path.relative_to(DAEMON.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import, including those inside functions (absolute imports only:
    the package uses no relative ones, and one would show up here as a module named by its dots)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            # `from daemon import x` / `from daemon.sources import feeds`: x may be a module
            found += [(node.lineno, f"{base}.{a.name}" if base in ("daemon", "daemon.sources") else base)
                      for a in node.names]
    return found


def test_no_relative_imports() -> None:
    relative = [f"{p.relative_to(DAEMON.parent)}:{line}" for p in sources() for line, t in imports(p) if t[0] == "."]
    assert not relative, f"use absolute imports (the layer check reads module names): {relative}"


def sources() -> list[Path]:
    return sorted(p for p in DAEMON.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_unit_has_a_layer() -> None:
    missing = {unit_of(module_name(p)) for p in sources()} - LAYERS.keys()
    assert not missing, f"place these in LAYERS (and in the README's module map): {sorted(missing)}"


def test_imports_point_down_the_pipeline() -> None:
    wrong = []
    for path in sources():
        here = unit_of(module_name(path))
        for line, target in imports(path):
            if not target.startswith("daemon"):
                continue
            there = unit_of(target)
            if there != here and LAYERS.get(there, 99) >= LAYERS[here]:
                wrong.append(f"{path.relative_to(DAEMON.parent)}:{line}: {here} (layer {LAYERS[here]}) imports "
                             f"{target} (layer {LAYERS.get(there)})")
    assert not wrong, "imports against the pipeline's direction:\n" + "\n".join(wrong)


def test_only_the_store_touches_sqlite() -> None:
    offenders = [f"{p.relative_to(DAEMON.parent)}:{line}" for p in sources() if unit_of(module_name(p)) != "store"
                 for line, target in imports(p) if target.split(".")[0] in ("sqlite3", "sqlite_utils")]
    assert not offenders, f"SQLite is the store's business: {offenders}"


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checks above must be able to fail: a text module importing the store is caught."""
    bad = tmp_path / "daemon" / "text" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text("from daemon.store import Store\nimport sqlite3\n", encoding="utf-8")
    targets = [t for _, t in imports(bad)]
    assert targets == ["daemon.store", "sqlite3"]
    assert LAYERS[unit_of(targets[0])] >= LAYERS["text"]
