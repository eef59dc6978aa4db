"""The shape of the code, read from its syntax: no import circle inside include/ (every import
counted, also one inside a function), and no public function in include/ with more than six
parameters (a data shape or a context object reads better). Each check has a control that shows
it finds what it looks for."""

from __future__ import annotations

import ast
from pathlib import Path

from .conftest import SLOW_MODULES
from .support.airflow import ROOT

MAX_PARAMETERS = 6


def module_names(root: Path) -> dict[str, Path]:
    """Every module below ``root`` by its dotted name (a package by the name of its folder)."""
    names = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _imported(node: ast.AST, module: str, is_package: bool, known: dict) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor if is_package else anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    # `from package import module` imports the module; `from module import name`, the module
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules of ``root`` it imports (anywhere in its body)."""
    known = module_names(root)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            for target in _imported(node, name, is_package, known):
                while target and target not in known:  # `import a.b.c` of a name inside a.b
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_inside_include():
    assert circles(import_graph(ROOT / "include")) == []


def test_the_circle_finder_finds_a_circle(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from ..c import x\n")  # a lazy import
    (pkg / "c.py").write_text("import pkg.a\nx = 1\n")
    (pkg / "d.py").write_text("from pkg import c\n")  # outside the circle
    assert circles(import_graph(tmp_path)) == [["pkg.a", "pkg.c", "pkg.sub.b"]]


def long_signatures(root: Path) -> list[str]:
    """Public functions and methods with more than MAX_PARAMETERS parameters (self and cls
    aside)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if node.name.startswith("_"):
                continue
            args = node.args
            names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
            count = len([n for n in names if n not in ("self", "cls")])
            if count > MAX_PARAMETERS:
                found.append(f"{path.relative_to(root)}:{node.name}({count})")
    return found


def test_no_public_function_takes_more_than_six_parameters():
    assert long_signatures(ROOT / "include") == []


def test_the_signature_check_sees_a_long_one(tmp_path):
    (tmp_path / "m.py").write_text(
        "def ok(a, b, c, d, e, f): ...\n"
        "def _private(a, b, c, d, e, f, g): ...\n"
        "class C:\n"
        "    def long(self, a, b, c, d, e, f, *, g=1): ...\n"
    )
    assert long_signatures(tmp_path) == ["m.py:long(7)"]


def test_every_slow_module_exists():
    """A renamed slow module would silently move back into the quick loop."""
    assert sorted(m for m in SLOW_MODULES if not (ROOT / m).is_file()) == []
