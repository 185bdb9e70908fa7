"""The service layers (``*/services/``) say what went wrong with the kinds of
``servicekit.errors`` and never speak HTTP: the routes, the pages and the CLIs all call
them, and only the problem handlers decide a status (issue 15, build 3).

Read from the source (AST), so a violation is found even in a branch no test reaches.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE_DIRS = [ROOT / name / "services" for name in ("issuer", "wallet", "verifier")]

#: Modules a service must not import: the web framework and the HTTP error plumbing.
FORBIDDEN_MODULES = ("fastapi", "starlette", "servicekit.problems", "servicekit.web")
#: Names that only make sense in an HTTP layer.
FORBIDDEN_NAMES = {"ProblemError", "HTTPException", "problem_response", "JSONResponse"}
#: Keyword arguments that carry an HTTP status.
STATUS_KEYWORDS = {"status", "status_code"}


def _is_status(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int)
        and not isinstance(node.value, bool)
        and 400 <= node.value <= 599
    )


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def violations(source: str, filename: str = "<source>") -> list[str]:
    """What in ``source`` speaks HTTP, as ``file:line: reason`` strings."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for module in modules:
                if any(module == m or module.startswith(m + ".") for m in FORBIDDEN_MODULES):
                    found.append(f"{where}: imports {module}")
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name in FORBIDDEN_NAMES:
                        found.append(f"{where}: imports {alias.name}")
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"{where}: uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_NAMES:
            found.append(f"{where}: uses {node.attr}")
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in STATUS_KEYWORDS and _is_status(keyword.value):
                    found.append(f"{where}: {keyword.arg}={ast.unparse(keyword.value)}")
            name = _callee(node)
            if (
                node.args
                and _is_status(node.args[0])
                and (name.endswith(("Error", "Exception", "Problem")) or name[:1].isupper())
            ):
                found.append(f"{where}: {name}({ast.unparse(node.args[0])}, …)")
    return found


def _service_modules() -> list[Path]:
    return sorted(p for d in SERVICE_DIRS for p in d.rglob("*.py"))


def test_the_service_layers_are_found() -> None:
    modules = _service_modules()
    assert len(modules) > 40  # three packages of service modules, not an empty glob
    assert {p.relative_to(ROOT).parts[0] for p in modules} == {"issuer", "wallet", "verifier"}


def test_no_service_module_speaks_http() -> None:
    found = [
        line
        for path in _service_modules()
        for line in violations(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "from servicekit.problems import ProblemError",
        "import fastapi",
        "from starlette.exceptions import HTTPException",
        "from fastapi.responses import JSONResponse",
        "raise ProblemError(404, 'x', 'y')",
        "raise errors.HTTPException(404)",
        "raise OfferError('m', code='c', status=502)",
        "raise OAuthError(400, 'invalid_request', 'why')",
        "return Response(b'', status_code=410)",
    ],
)
def test_the_check_sees_http(source: str) -> None:
    assert violations(source)


@pytest.mark.parametrize(
    "source",
    [
        "from servicekit.errors import NotFound\nraise NotFound('x_not_found', 'no such x')",
        "if exc.status in (404, 410): pass",  # the status another party answered with
        "row = Row(status='pending')",
        "data[key][:500]",
        "lru_cache(maxsize=512)",
    ],
)
def test_the_check_lets_service_code_be(source: str) -> None:
    assert violations(source) == []
