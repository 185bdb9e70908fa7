"""The issuer against the independent reference implementation (Digital Bazaar, from npm):
a credential issued over HTTP verifies there with the institution's did:web resolved from
the running issuer, and after revocation ``microcred verify`` reports it revoked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from interop.reference import REPO_ROOT, ReferenceImplementation
from tests.issuer.support import build_app, make_institution, module_spec, unsigned_badge
from tests.support.servers import free_port, live_server

pytestmark = pytest.mark.interop


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def app(database_url: str, port: int, tmp_path: Path) -> Any:
    """A migrated issuer whose did:web names the live server on ``port``."""
    return build_app(database_url, port, tmp_path)


def microcred_verify(credential: dict[str, Any], tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """``microcred verify --dev`` as a user runs it (a separate process)."""
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(credential))
    result = subprocess.run(
        [sys.executable, "-m", "microcred", "verify", "--dev", str(path)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def status_codes(report: dict[str, Any]) -> list[str]:
    return [check["code"] for check in report["checks"] if check["id"] == "status"]


@pytest.mark.parametrize("key_type", ["ed25519", "p256"])
def test_issued_over_http_verifies_in_the_reference_and_revocation_shows_in_microcred(
    reference: ReferenceImplementation, app: Any, port: int, tmp_path: Path, key_type: str
) -> None:
    inst = make_institution(app, f"hsr-{key_type}", key_type=key_type)
    with live_server(app, port) as base, TestClient(app) as client:
        issued = client.post(
            f"{base}{inst.path('/credentials/issue')}",
            json={"credential": unsigned_badge(inst.did)},
            headers=inst.headers,
        )
        assert issued.status_code == 201, issued.text
        credential = issued.json()["verifiableCredential"]
        assert credential["issuer"]["id"] == inst.did
        assert reference.verify(credential) == (True, None)

        code, report = microcred_verify(credential, tmp_path)
        assert code == 0, report
        assert status_codes(report) == ["ok", "ok"]

        change = {
            "credentialId": credential["id"],
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        }
        revoked = client.post(inst.path("/credentials/status"), json=change, headers=inst.headers)
        assert revoked.status_code == 200
        code, report = microcred_verify(credential, tmp_path)
        assert code == 1
        assert "revoked" in status_codes(report)
        # the signature itself is still good: the reference (no status check) agrees
        assert reference.verify(credential) == (True, None)


def test_a_module_credential_and_the_status_list_verify_in_the_reference(
    reference: ReferenceImplementation, app: Any, port: int
) -> None:
    inst = make_institution(app)
    with live_server(app, port), TestClient(app) as client:
        client.post(inst.path("/modules"), json=module_spec(), headers=inst.headers)
        issued = client.post(
            inst.path("/issuances"),
            json={
                "module_id": "data-wrangling",
                "learner": {"email": "jan@example.nl", "student_number": "500123"},
                "result": {"grade": "8", "awarded_date": "2026-06-30"},
            },
            headers=inst.headers,
        )
        credential = issued.json()["verifiableCredential"]
        assert reference.verify(credential) == (True, None)
        list_url = credential["credentialStatus"][0]["statusListCredential"]
        status_list = client.get(list_url).json()
        assert reference.verify(status_list) == (True, None)
