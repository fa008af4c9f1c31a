"""The package's structure: no import cycles, only the CLI speaks argparse, fast imports."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "compare"


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """compare.* modules this file imports at module level or inside functions."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            targets = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            continue
        found.update(t for t in targets if t.startswith("compare"))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {t for t in _imports(path) if t in modules and t != name}
            for name, path in modules.items()}


def test_no_import_cycles_among_modules():
    """A library module never imports (even lazily) a module that imports it back.

    Packages' `__init__` re-exports are left out: `compare/__init__.py` loads names on first
    use, and a package importing its own submodules is not a cycle of responsibilities.
    """
    graph = {m: {t for t in ts if not _is_package(t)} for m, ts in _graph().items()
             if not _is_package(m)}
    colour: dict[str, int] = {}
    for start in graph:
        if colour.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        colour[start] = 1
        path = [start]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                colour[node] = 2
                stack.pop()
                path.pop()
                continue
            if colour.get(child) == 1:
                cycle = path[path.index(child):] + [child]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if not colour.get(child):
                colour[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))


def _is_package(name: str) -> bool:
    return (PACKAGE.parent / Path(*name.split(".")) / "__init__.py").exists()


def test_only_the_cli_speaks_argparse_and_library_never_imports_the_cli():
    for path in PACKAGE.rglob("*.py"):
        name = _module_name(path)
        if name.startswith("compare.cli") or name == "compare.__main__":
            continue
        text = path.read_text(encoding="utf-8")
        assert "argparse" not in text, f"{name} speaks argparse"
        assert not any(t.startswith("compare.cli") for t in _imports(path)), \
            f"{name} imports the CLI"


@pytest.mark.parametrize("code, heavy", [
    ("import compare.cli", ("sympy", "pandas", "matplotlib", "numpy")),
    ("import compare", ("sympy", "pandas", "matplotlib", "numpy")),
    ("import compare.cases, compare.forward, compare.methods.backprop",
     ("sympy", "pandas", "matplotlib")),
])
def test_heavy_libraries_are_imported_where_they_are_used(code, heavy):
    probe = f"{code}; import sys; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]", f"{code!r} imported {out}"


def test_cli_copies_of_library_constants_agree():
    """The CLI names methods, languages and families without importing their modules."""
    from compare import families, handout
    from compare.cli import common, scale
    from compare.cli import handout as handout_cmd
    from compare.methods import METHODS

    assert tuple(METHODS) == common.METHOD_NAMES
    assert handout_cmd.LANGUAGES == handout.LANGUAGES
    assert handout_cmd.DEFAULT_LEARNING_RATE == handout.DEFAULT_LEARNING_RATE
    assert scale.FAMILY_NAMES == tuple(families.FAMILIES)


def test_every_command_has_help_and_an_example():
    from compare.cli import COMMANDS, build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert sorted(sub.choices) == sorted(["list", "run", "report", "check", "handout", "scale",
                                          "descend", "numeric", "export"])
    for name, p in sub.choices.items():
        assert p.description and p.epilog and "gradcompare" in p.epilog, name
    assert len(COMMANDS) == len(sub.choices)
