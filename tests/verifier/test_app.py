"""The app as a whole: refuses an unmigrated schema, settings from the environment, problem
details, hardening headers, and two real verifier processes sharing one database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from credentials.errors import MalformedInput
from credentials.keys import Multikey
from credentials.verify import create_presentation
from servicekit.migrations import SchemaOutOfDate
from tests.support.servers import free_port
from tests.verifier.conftest import PUBLIC_URL
from tests.verifier.request_flow import local
from tests.verifier.support import microcredential, write_registry
from verifier.config import Settings
from verifier.main import app_from_environment, create_app

REPO = Path(__file__).resolve().parents[2]


def test_an_unmigrated_database_is_refused_with_the_command_to_run(
    database_url: str, tmp_path: Path
) -> None:
    with pytest.raises(SchemaOutOfDate) as info:
        create_app(Settings(database_url=database_url, data_dir=tmp_path))
    assert "microcred migrate verifier" in str(info.value)


def test_a_broken_trust_registry_file_is_refused_at_start(
    settings_for: Any, tmp_path: Path
) -> None:
    broken = tmp_path / "registry.yaml"
    broken.write_text("institutions:\n  - did: not-a-did\n    name: X\n")
    from credentials.errors import MalformedInput

    with pytest.raises(MalformedInput, match="did must be a DID"):
        create_app(settings_for(trust_registry=broken))


def test_settings_defaults_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    default = Settings(data_dir=tmp_path)
    assert default.port == 8003 and default.service == "verifier"
    assert default.trust_registry is None and not default.strict_trust
    assert default.database_url.endswith("verifier.db")
    monkeypatch.setenv("MICROCRED_TRUST_REGISTRY", str(tmp_path / "r.json"))
    monkeypatch.setenv("MICROCRED_STRICT_TRUST", "1")
    monkeypatch.setenv("MICROCRED_LOG_RETENTION_DAYS", "7")
    from_env = Settings(data_dir=tmp_path)
    assert from_env.trust_registry == tmp_path / "r.json"
    assert from_env.strict_trust and from_env.log_retention_days == 7
    explicit = Settings(data_dir=tmp_path, trust_registry=str(tmp_path / "x.yaml"))
    assert explicit.trust_registry == tmp_path / "x.yaml"
    with pytest.raises(ValueError):
        Settings(data_dir=tmp_path, clock_skew=-1)


def test_policy_settings_defaults_and_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The VC-API conforms by default; the pages keep stricter, named policies."""
    default = Settings(data_dir=tmp_path)
    assert default.policies == ""
    assert default.page_policies == "no-inline-contexts,holder-is-subject"
    monkeypatch.setenv("MICROCRED_VERIFIER_POLICIES", "trusted-issuers-only")
    monkeypatch.setenv("MICROCRED_VERIFIER_PAGE_POLICIES", "")
    from_env = Settings(data_dir=tmp_path)
    assert from_env.policies == "trusted-issuers-only" and from_env.page_policies == ""
    monkeypatch.setenv("MICROCRED_VERIFIER_POLICIES", "trusted-issuer-only")
    with pytest.raises(MalformedInput):
        Settings(data_dir=tmp_path)


def test_app_from_environment(
    monkeypatch: pytest.MonkeyPatch, migrated_url: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_url)
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path))
    app = app_from_environment()
    assert app.state.services.settings.database_url.endswith(migrated_url.split("/")[-1])
    app.state.services.db.dispose()


def test_errors_are_problem_details_and_responses_are_hardened(client: Any) -> None:
    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    assert client.get("/credentials/verify").status_code == 405
    ok = client.get("/healthz")
    assert ok.headers["x-content-type-options"] == "nosniff"
    assert ok.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in ok.headers["content-security-policy"]


def test_the_openapi_document_lists_every_endpoint(client: Any) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {
        "/credentials/verify",
        "/presentations/verify",
        "/challenges",
        "/requests",
        "/requests/{request_id}",
        "/requests/{request_id}/response",
        "/requests/{request_id}/result",
        "/requests/{request_id}/events",
        "/shares/verify",
        "/admissions/evaluate",
        "/trust-registry",
        "/admin/trust-registry/reload",
        "/admin/verification-log",
        "/admin/verification-log/purge",
    } <= paths


def test_a_chunked_upload_over_the_limit_is_cut_off_early(settings_for: Any) -> None:
    """No Content-Length: the body limit still answers 413 after ~1 MiB, long before 50 MB."""
    import socket

    from tests.support.servers import live_server

    with live_server(create_app(settings_for())) as base:
        host, port = urlsplit(base).hostname, urlsplit(base).port
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(
                b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"a" * 65536
            sent = 0
            try:
                while sent < 4 * 1024 * 1024:  # stop well short of 50 MB
                    sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
            except OSError:
                pass  # the server may close the connection once it has refused
            answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_50_mb_declared_body_is_refused_without_being_sent(settings_for: Any) -> None:
    import socket

    from tests.support.servers import live_server

    with live_server(create_app(settings_for())) as base:
        host, port = urlsplit(base).hostname, urlsplit(base).port
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(
                b"POST /credentials/verify HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n{"
            )
            answer = b""  # answered after 1 byte of the 50 MB was sent
            while b"body_too_large" not in answer and (part := sock.recv(65536)):
                answer += part
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body_too_large" in answer


# --------------------------------------------------------------------------- two processes


@pytest.fixture
def second_process(migrated_url: str, tmp_path: Path) -> Any:
    """Another verifier *process* (uvicorn, worker factory) on the same database."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": migrated_url,
        "MICROCRED_PUBLIC_URL": PUBLIC_URL,
        "MICROCRED_DATA_DIR": str(tmp_path / "second"),
        "PYTHONPATH": str(REPO),
    }
    process = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "verifier.main:app_from_environment", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"second verifier did not start: {process.stderr.read()!r}")
        time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_nonce_used_at_one_process_is_refused_at_another(
    client: Any, second_process: str, holder: Multikey
) -> None:
    issuer = Multikey.generate()
    created = client.post("/requests", json={"purpose": "two processes"}).json()
    params = client.get(
        local(created["request_uri"]), headers={"accept": "application/json"}
    ).json()
    vp = create_presentation(
        [microcredential(issuer, holder)],
        holder,
        challenge=params["nonce"],
        domain=params["client_id"],
    )
    form = {"vp_token": json.dumps({"credential": [vp]}), "state": params["state"]}
    path = urlsplit(params["response_uri"]).path
    at_other = httpx.post(f"{second_process}{path}", data=form, timeout=20)
    assert at_other.status_code == 200, at_other.text
    replay_here = client.post(path, data=form)
    assert replay_here.json()["code"] == "nonce_replayed"

    challenge = httpx.post(f"{second_process}/challenges").json()["challenge"]
    vp = create_presentation([microcredential(issuer, holder)], holder, challenge=challenge)
    body = {"verifiablePresentation": vp, "options": {"challenge": challenge}}
    assert client.post("/presentations/verify", json=body).status_code == 200
    replay_there = httpx.post(f"{second_process}/presentations/verify", json=body, timeout=20)
    assert {c["code"] for c in replay_there.json()["errors"]} == {"challenge_replayed"}


def test_write_registry_helper_round_trips(tmp_path: Path) -> None:
    path = write_registry(tmp_path / "r.yaml", [{"did": "did:web:a.example", "name": "A"}])
    from verifier.services.trust import load_registry

    assert load_registry(path).lookup("did:web:a.example").name == "A"  # type: ignore[union-attr]
