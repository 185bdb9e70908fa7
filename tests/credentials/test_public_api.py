"""The curated public surface of the core stays deliberate (as httpx tests its __all__)."""

import credentials


def test_all_names_exist_and_are_sorted() -> None:
    assert credentials.__all__ == sorted(credentials.__all__)
    for name in credentials.__all__:
        assert hasattr(credentials, name), name


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
