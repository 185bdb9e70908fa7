"""The layering, as a test: imports run one way, services stay apart, no import cycles.

Every module of ours is parsed with ``ast`` (nothing is imported, so a module with side
effects cannot hide or fake an edge). An edge is an ``import``, a ``from … import``, or an
``importlib.import_module("literal")`` / ``__import__("literal")`` call. Intended direction
(docs/design.md, "Dependencies point one way")::

    microcred (umbrella CLI, demo)  →  anything
    issuer | wallet | verifier      →  servicekit, credentials, contexts   (never each other)
    servicekit                      →  credentials, contexts
    credentials                     →  contexts
    contexts                        →  nothing

``bench/`` may use the code it measures but not ``tests/``; tests are not checked. A
module-level cycle fails; imports inside a function and under ``if TYPE_CHECKING:`` do not
run at import time and are left out of the cycle check (never out of the direction
check). A dynamic import whose target is not a literal cannot be checked, so each one must
be listed in ``OPAQUE_DYNAMIC_IMPORTS`` with its reason. The negative tests at the end feed
synthetic module graphs to the same functions, so the checks are proven able to fail.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = frozenset({"issuer", "wallet", "verifier"})
ALLOWED: dict[str, frozenset[str]] = {
    "contexts": frozenset(),
    "credentials": frozenset({"contexts"}),
    "servicekit": frozenset({"credentials", "contexts"}),
    **{s: frozenset({"servicekit", "credentials", "contexts"}) for s in SERVICES},
    "microcred": frozenset({"contexts", "credentials", "servicekit", *SERVICES}),
    "bench": frozenset({"contexts", "credentials", "servicekit", "microcred", *SERVICES}),
}
PACKAGES = tuple(ALLOWED)
#: Where the layers above the core may reach into it: the public namespace only
#: (docs/design.md, "The core's public API").
PUBLIC_CORE = frozenset(
    {"credentials", "credentials.disclosure", "credentials.ecdsa_sd", "credentials.openid4vp"}
)
"""``from credentials import disclosure`` names a module, one the namespace exports."""

#: (module, reason): dynamic imports whose target is computed. Each is a hole in this
#: test, so each needs a reason a reviewer can judge.
OPAQUE_DYNAMIC_IMPORTS: dict[str, str] = {
    "microcred.commands": "the umbrella CLI wires each service's config/main/cli by name; "
    "microcred may import anything",
    "credentials.formats": "loads a format handler from PLUGIN_MODULES, whose values are "
    "checked to be core modules by test_format_plugins_are_core_modules",
}


#: Module-level cycles that exist today, each with its way out. The test fails on any other
#: cycle, and on one of these that is gone (so the list cannot go stale).
KNOWN_CYCLES: dict[tuple[str, ...], str] = {}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    module_level: bool  # runs when the module is imported (not in a function, not typing)

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


# ------------------------------------------------------------------------ reading the tree


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules(root: Path = ROOT) -> dict[str, str]:
    """``{module name: source}`` for every module of the checked packages."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if "node_modules" in path.parts:
                continue
            out[module_name(path, root)] = path.read_text(encoding="utf-8")
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _dynamic_target(call: ast.Call) -> str | bool | None:
    """The literal module of an ``import_module``/``__import__`` call; None when the call
    is not one; False when it is one whose target is computed."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return False


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, known: Iterable[str]) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.known = set(known)
        self.edges: list[Edge] = []
        self.opaque: list[int] = []
        self._depth = 0  # inside a function or a TYPE_CHECKING block

    def _add(self, target: str, node: ast.AST) -> None:
        self.edges.append(Edge(self.module, target, getattr(node, "lineno", 0), self._depth == 0))

    def _resolve(self, name: str) -> str:
        """The longest known module ``name`` starts with (an attribute import names its
        module); the name itself when it is not ours."""
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self.known:
                return candidate
        return name

    def _nested(self, node: ast.AST) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _nested

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self._depth += 1
            for child in node.body:
                self.visit(child)
            self._depth -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(self._resolve(alias.name), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - (node.level - 1)]
            parent = ".".join([*base, node.module] if node.module else base)
        else:
            parent = node.module or ""
        for alias in node.names:
            full = f"{parent}.{alias.name}"
            self._add(full if full in self.known else self._resolve(parent), node)

    def visit_Call(self, node: ast.Call) -> None:
        target = _dynamic_target(node)
        if target is False:
            self.opaque.append(node.lineno)
        elif isinstance(target, str):
            self._add(self._resolve(target), node)
        self.generic_visit(node)


def import_graph(
    sources: Mapping[str, str], packages: Iterable[str] = ()
) -> tuple[list[Edge], dict[str, list[int]]]:
    """Every edge between the given modules (and to outside ones), and the lines of each
    module's dynamic imports with a computed target."""
    known = set(sources)
    is_package = set(packages)
    edges: list[Edge] = []
    opaque: dict[str, list[int]] = {}
    for module, source in sources.items():
        collector = _Collector(module, module in is_package, known)
        collector.visit(ast.parse(source))
        edges.extend(collector.edges)
        if collector.opaque:
            opaque[module] = collector.opaque
    return edges, opaque


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def direction_problems(
    edges: Iterable[Edge], allowed: Mapping[str, frozenset[str]] = ALLOWED
) -> list[str]:
    problems = []
    for edge in edges:
        source, target = _top(edge.source), _top(edge.target)
        if target not in allowed or source == target:
            continue  # a third-party or standard-library module, or within a package
        if source in SERVICES and target in SERVICES:
            problems.append(f"{edge}: a service imports another service")
        elif target not in allowed.get(source, frozenset()):
            problems.append(f"{edge}: {source} may not depend on {target}")
    return problems


def private_core_problems(edges: Iterable[Edge], public: frozenset[str] = PUBLIC_CORE) -> list[str]:
    """Imports of a core implementation module from outside the core."""
    return [
        f"{edge}: import it from the core's public namespace (from credentials import …)"
        for edge in edges
        if _top(edge.target) == "credentials"
        and _top(edge.source) not in ("credentials", "bench")
        and edge.target not in public
    ]


def cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """Module-level import cycles (Tarjan's strongly connected components)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        if edge.module_level:
            graph.setdefault(edge.source, set()).add(edge.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# ------------------------------------------------------------------------- the real tree


@pytest.fixture(scope="module")
def tree() -> tuple[list[Edge], dict[str, list[int]]]:
    sources = our_modules()
    packages = {module_name(p, ROOT) for pkg in PACKAGES for p in (ROOT / pkg).rglob("__init__.py")}
    return import_graph(sources, packages)


def test_every_import_runs_in_the_intended_direction(tree: tuple[list[Edge], Any]) -> None:
    edges, _ = tree
    assert len(edges) > 500  # the parser saw the tree
    assert direction_problems(edges) == []


def test_the_layers_above_use_the_core_through_its_public_namespace(
    tree: tuple[list[Edge], Any],
) -> None:
    edges, _ = tree
    assert private_core_problems(edges) == []


def test_there_is_no_module_level_import_cycle(tree: tuple[list[Edge], Any]) -> None:
    edges, _ = tree
    assert {tuple(c) for c in cycles(edges)} == set(KNOWN_CYCLES)


def test_bench_does_not_import_the_tests() -> None:
    """Shared fixtures live in microcred/samples.py and interop/reference.py instead."""
    edges, _ = import_graph({m: s for m, s in our_modules().items() if _top(m) == "bench"})
    assert [str(e) for e in edges if _top(e.target) == "tests"] == []


def test_every_computed_dynamic_import_is_declared(tree: tuple[list[Edge], Any]) -> None:
    _, opaque = tree
    assert set(opaque) == set(OPAQUE_DYNAMIC_IMPORTS)


@pytest.mark.parametrize("package", ["credentials", "bench"])
def test_no_module_of_the_core_or_the_benchmarks_is_over_600_lines(package: str) -> None:
    """A new maintainer reads a module whole; past 600 lines it holds two concerns."""
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: n for path, n in sizes.items() if n > 600} == {}


def test_format_plugins_are_core_modules() -> None:
    from credentials.formats import PLUGIN_MODULES

    modules = our_modules()
    for module in PLUGIN_MODULES.values():
        assert _top(module) == "credentials" and module in modules, module


# ------------------------------------------------- negative tests: the checks can fail

SYNTHETIC_PACKAGES = {"credentials", "servicekit", "issuer", "wallet"}


def synthetic(**modules: str) -> list[Edge]:
    sources = {name.replace("__", "."): source for name, source in modules.items()}
    edges, _ = import_graph(sources, SYNTHETIC_PACKAGES & set(sources))
    return edges


def test_an_upward_import_from_the_core_is_caught() -> None:
    edges = synthetic(credentials="", credentials__proofs="from servicekit import web\n")
    assert direction_problems(edges) == [
        "credentials.proofs:1 imports servicekit: credentials may not depend on servicekit"
    ]


def test_a_service_importing_another_service_is_caught_even_inside_a_function() -> None:
    edges = synthetic(
        wallet__services="def f():\n    from issuer.services import offers\n",
        issuer__services__offers="",
    )
    assert direction_problems(edges) == [
        "wallet.services:2 imports issuer.services.offers: a service imports another service"
    ]


def test_importlib_with_a_literal_is_an_edge_and_without_one_is_opaque() -> None:
    sources = {
        "servicekit.kit": "import importlib\nimportlib.import_module('issuer.main')\n",
        "servicekit.other": "import importlib\nname = 'x'\n__import__(name)\n",
        "issuer.main": "",
    }
    edges, opaque = import_graph(sources)
    assert direction_problems(edges) == [
        "servicekit.kit:2 imports issuer.main: servicekit may not depend on issuer"
    ]
    assert opaque == {"servicekit.other": [3]}


def test_a_module_level_cycle_is_caught_and_a_deferred_one_is_not() -> None:
    cyclic = synthetic(
        credentials__a="from credentials.b import x\n",
        credentials__b="from . import a\n",
    )
    assert cycles(cyclic) == [["credentials.a", "credentials.b"]]
    deferred = synthetic(
        credentials__a="from credentials.b import x\n",
        credentials__b="def f():\n    from . import a\n",
    )
    assert cycles(deferred) == []
    typing_only = synthetic(
        credentials__a="from credentials.b import x\n",
        credentials__b=(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from credentials.a import y\n"
        ),
    )
    assert cycles(typing_only) == []


def test_reaching_into_a_core_module_from_a_service_is_caught() -> None:
    edges = synthetic(
        credentials="",
        credentials__proofs="",
        issuer__x="from credentials.proofs import sign\nfrom credentials import Verifier\n",
    )
    assert private_core_problems(edges) == [
        "issuer.x:1 imports credentials.proofs: import it from the core's public namespace "
        "(from credentials import …)"
    ]
