"""The curated public surface of the core stays deliberate (as httpx tests its __all__).

``credentials`` is the core's API (docs/design.md, "The core's public API"): ``__all__``
lists exactly its public names, sorted as ruff's RUF022 sorts them, and every name a
service takes from the core is one of them (tests/test_architecture.py checks the import
lines).
"""

from __future__ import annotations

import types

import credentials

#: Families exported as namespaces (their members read with the prefix).
NAMESPACES = {"disclosure", "ecdsa_sd", "openid4vp", "sdjwt_core", "sdjwt_jose", "sdjwt_vc"}


def _ruff_order(name: str) -> tuple[int, str]:
    """RUF022's isort-style order: SCREAMING_CASE, then CamelCase, then the rest."""
    if name.isupper() or (name.upper() == name and any(c.isalpha() for c in name)):
        return 0, name
    return (1 if name[0].isupper() else 2), name


def test_all_is_sorted_and_names_only_what_exists() -> None:
    assert credentials.__all__ == sorted(credentials.__all__, key=_ruff_order)
    assert len(set(credentials.__all__)) == len(credentials.__all__)
    for name in credentials.__all__:
        assert hasattr(credentials, name), name


def test_all_equals_the_public_members() -> None:
    """Every public name of the namespace is in ``__all__`` and nothing else is; a
    submodule is an attribute only because it was imported, so modules count only when
    they are one of the exported namespaces."""
    public = {
        name
        for name, value in vars(credentials).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(credentials.__all__) == public | NAMESPACES
    for name in NAMESPACES:
        assert isinstance(getattr(credentials, name), types.ModuleType), name


def test_a_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from credentials import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(credentials.__all__)


def test_core_imports_no_web_framework_or_database() -> None:
    import subprocess
    import sys

    code = (
        "import sys, credentials; "
        "mods = ('fastapi', 'sqlmodel', 'sqlalchemy', 'starlette'); "
        "bad = [m for m in mods if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
