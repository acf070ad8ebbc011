"""The kernel's modules import one another one way: no circle, lazy imports included.

The graph is read from the source with ``ast``.  An import inside a function
counts (a lazy import that closes a circle is still a circle for whoever
reads the code); ``from bentoml import X`` is an edge to the package
``__init__`` unless X is a submodule; imports under ``if TYPE_CHECKING:`` do
not count (they never run).
"""
from __future__ import annotations

import ast
import pathlib
import textwrap
from typing import Dict, List, Set

import bentoml

KERNEL = pathlib.Path(bentoml.__file__).parent

Graph = Dict[str, Dict[str, int]]  # module -> imported module -> first line


def _module_files(package_dir: pathlib.Path) -> Dict[str, pathlib.Path]:
    root = package_dir.parent
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _owner(name: str, modules: Dict[str, pathlib.Path]) -> str | None:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _imports(tree: ast.AST) -> List[ast.stmt]:
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``."""
    found: List[ast.stmt] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for stmt in child.orelse:
                    visit(stmt)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def import_graph(package_dir: pathlib.Path) -> Graph:
    modules = _module_files(package_dir)
    graph: Graph = {name: {} for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for stmt in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(stmt, ast.Import):
                targets = [alias.name for alias in stmt.names]
            else:
                base = stmt.module or ""
                if stmt.level:
                    anchor = package.split(".")[: len(package.split(".")) - stmt.level + 1]
                    base = ".".join(anchor + ([stmt.module] if stmt.module else []))
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in stmt.names]
            for target in targets:
                owner = _owner(target, modules)
                if owner and owner != name:
                    graph[name].setdefault(owner, stmt.lineno)
    return graph


def circles(graph: Graph) -> List[List[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return found


def describe(graph: Graph, component: List[str]) -> str:
    members = set(component)
    edges = [f"  {a} imports {b} (line {line})" for a in component
             for b, line in sorted(graph[a].items()) if b in members]
    return f"circle of {len(component)} modules: {', '.join(component)}\n" + "\n".join(edges)


def test_the_kernel_has_no_import_circle():
    graph = import_graph(KERNEL)
    assert len(graph) > 50 and "bentoml.service.bento_service" in graph
    found = circles(graph)
    assert not found, "\n".join(describe(graph, c) for c in found)


def _write(root: pathlib.Path, files: Dict[str, str]) -> pathlib.Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / "pkg"


def test_lazy_and_package_imports_close_circles(tmp_path):
    package = _write(tmp_path, {
        "pkg/__init__.py": "from pkg.service import Service\n",
        "pkg/service.py": "def save():\n    from pkg.store import put\n",
        "pkg/store.py": "from pkg import __version__\n",
        "pkg/leaf.py": "import pkg.service\n",
    })
    graph = import_graph(package)
    assert circles(graph) == [["pkg", "pkg.service", "pkg.store"]]
    message = describe(graph, circles(graph)[0])
    assert "pkg.service imports pkg.store (line 2)" in message and "pkg.store imports pkg (line 1)" in message


def test_type_checking_imports_and_submodule_names_do_not(tmp_path):
    package = _write(tmp_path, {
        "pkg/__init__.py": "from pkg import a\n",
        "pkg/a.py": """\
            from typing import TYPE_CHECKING
            from pkg import b
            if TYPE_CHECKING:
                from pkg import c
            """,
        "pkg/b.py": "from . import c\n",
        "pkg/c.py": """\
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                import pkg.a
            else:
                import json
            """,
    })
    graph = import_graph(package)
    assert graph["pkg.b"] == {"pkg.c": 1} and graph["pkg.c"] == {}
    assert circles(graph) == []
