"""scripts/audit judges what was really audited, not the tools' exit codes.

Where the vulnerability services are unreachable, pip-audit skips every package and still
says "No known vulnerabilities found" with exit code 0; these tests pin down that such a run
reads as NOT AUDITED, never as clean. (The script itself reaches out to the services and is
not run here: CI has no network beyond the package registries.)
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("microcred_audit", str(SCRIPT))
    spec = importlib.util.spec_from_loader("microcred_audit", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["microcred_audit"] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


def _pip_audit(*dependencies: dict) -> str:
    return json.dumps({"dependencies": list(dependencies), "fixes": []})


def test_everything_skipped_is_not_audited(audit: ModuleType) -> None:
    output = _pip_audit(
        {"name": "jinja2", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        {"name": "httpx", "skip_reason": "Dependency not found on PyPI and could not be audited"},
    )
    result = audit.judge_pip_audit("python", output)
    assert result.status == audit.NOT_AUDITED
    assert "not reachable" in result.problem


def test_no_report_at_all_is_not_audited(audit: ModuleType) -> None:
    result = audit.judge_pip_audit("python", "", "ConnectionError: Failed to resolve 'api.osv.dev'")
    assert result.status == audit.NOT_AUDITED
    assert "api.osv.dev" in result.problem


def test_a_partly_skipped_audit_is_not_clean(audit: ModuleType) -> None:
    output = _pip_audit(
        {"name": "jinja2", "version": "3.1.6", "vulns": []},
        {"name": "local-thing", "skip_reason": "Dependency not found on PyPI"},
    )
    assert audit.judge_pip_audit("python", output).status == audit.NOT_AUDITED


def test_clean_and_vulnerable_audits(audit: ModuleType) -> None:
    clean = _pip_audit({"name": "jinja2", "version": "3.1.6", "vulns": []})
    assert audit.judge_pip_audit("python", clean).status == audit.CLEAN
    vulnerable = _pip_audit(
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}],
        }
    )
    result = audit.judge_pip_audit("python", vulnerable)
    assert result.status == audit.VULNERABLE
    assert "GHSA-h5c8-rqwp-cp95" in result.findings[0] and "3.1.3" in result.findings[0]


def test_npm_audit_refused_by_the_registry_is_not_audited(audit: ModuleType) -> None:
    refused = json.dumps(
        {
            "message": "405 Method Not Allowed - POST https://registry.example/-/npm/v1/security",
            "statusCode": 405,
        }
    )
    assert audit.judge_npm_audit("node", refused).status == audit.NOT_AUDITED
    clean = json.dumps({"vulnerabilities": {}, "metadata": {"dependencies": {"total": 120}}})
    assert audit.judge_npm_audit("node", clean).status == audit.CLEAN
    found = json.dumps(
        {
            "vulnerabilities": {"jsonld": {"severity": "high", "range": "<8.3.3"}},
            "metadata": {"dependencies": {"total": 120}},
        }
    )
    assert audit.judge_npm_audit("node", found).status == audit.VULNERABLE
