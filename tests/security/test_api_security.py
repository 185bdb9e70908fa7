"""The three services' HTTP APIs under hostile use, in-process, on fresh migrated databases.

* schemathesis generates requests from each service's own OpenAPI document (valid and
  invalid, with and without credentials): no answer may be a 5xx, and a documented answer
  must match its documented schema and content type;
* every operation is classified as protected or public (a new operation fails the test
  until someone decides which it is), and every protected one refuses a request without
  credentials, with a made-up token, and — at the issuer — with another institution's token;
* security headers are on every answer.

Nothing leaves the process: the services' SafeFetchers answer 404 in-process and the
network guard refuses every connection except to the test PostgreSQL on loopback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import checks as st_checks
from schemathesis.core.failures import FailureGroup

from tests.security.services import Deployment, deployment, describe
from tests.security.support import Counter, NetworkGuard, fuzz_settings, record

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SERVICES = ("issuer", "wallet", "verifier")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    guard = NetworkGuard(allow=LOOPBACK)
    with guard.active(), deployment(tmp_path_factory.mktemp("deployment")) as services:
        yield services
    assert guard.attempts == [], guard.attempts


# --------------------------------------------------------------------------- classification

# Operations that need credentials: (method, path template) -> how the service knows who asks.
PROTECTED: dict[str, dict[tuple[str, str], str]] = {
    "issuer": {
        ("POST", "/admin/institutions"): "deployment admin token",
        ("GET", "/institutions/{slug}/tokens"): "institution token (admin)",
        # issue 17: the institution's routes, trusted issuers and its exam board's cases
        ("POST", "/institutions/{slug}/routes"): "institution token (admin)",
        ("DELETE", "/institutions/{slug}/routes/{route}"): "institution token (admin)",
        ("GET", "/institutions/{slug}/accepted-issuers"): "institution token",
        ("POST", "/institutions/{slug}/accepted-issuers"): "institution token (admin)",
        ("DELETE", "/institutions/{slug}/accepted-issuers/{did}"): "institution token (admin)",
        ("GET", "/institutions/{slug}/recognition/cases"): "institution token",
        ("GET", "/institutions/{slug}/recognition/board/{case_id}"): "institution token",
        ("POST", "/institutions/{slug}/recognition/board/{case_id}/decision"): (
            "institution token (issue)"
        ),
        ("POST", "/institutions/{slug}/recognition/recheck"): "institution token (issue)",
        ("POST", "/institutions/{slug}/tokens"): "institution token (admin)",
        ("DELETE", "/institutions/{slug}/tokens/{token_id}"): "institution token (admin)",
        ("GET", "/institutions/{slug}/keys"): "institution token (admin)",
        ("POST", "/institutions/{slug}/keys/rotate"): "institution token (admin)",
        ("POST", "/institutions/{slug}/keys/{generation}/compromise"): "institution token",
        ("GET", "/institutions/{slug}/keys/{generation}/credentials"): "token (admin)",
        ("POST", "/institutions/{slug}/keys/{generation}/reissue"): "token (admin)",
        ("POST", "/institutions/{slug}/modules"): "institution token",
        ("PUT", "/institutions/{slug}/modules/{module_id}"): "institution token",
        ("DELETE", "/institutions/{slug}/modules/{module_id}"): "institution token",
        ("POST", "/institutions/{slug}/credentials/issue"): "institution token (issue)",
        ("POST", "/institutions/{slug}/issuances"): "institution token (issue)",
        ("POST", "/institutions/{slug}/credentials/status"): "institution token (revoke)",
        ("GET", "/institutions/{slug}/credentials"): "institution token",
        ("GET", "/institutions/{slug}/credentials/{credential_id}"): "institution token",
        ("POST", "/institutions/{slug}/credentials/{credential_id}/{action}"): "token (revoke)",
        ("POST", "/institutions/{slug}/batches"): "institution token (issue)",
        ("POST", "/institutions/{slug}/offers"): "institution token (issue)",
        ("GET", "/institutions/{slug}/offers/{offer_id}"): "institution token",
        ("DELETE", "/institutions/{slug}/offers/{offer_id}"): "institution token",
        ("GET", "/institutions/{slug}/audit"): "institution token",
        ("POST", "/institutions/{slug}/credential"): "OpenID4VCI access token",
        ("POST", "/institutions/{slug}/notification"): "OpenID4VCI access token",
    },
    "wallet": {
        ("GET", "/api/learners/me"): "learner token",
        ("DELETE", "/api/learners/me"): "learner token",
        ("DELETE", "/api/session"): "learner token",
        ("GET", "/api/credentials"): "learner token",
        ("POST", "/api/credentials/offers"): "learner token",
        ("POST", "/api/credentials/import"): "learner token",
        ("GET", "/api/credentials/{credential_id}"): "learner token",
        ("DELETE", "/api/credentials/{credential_id}"): "learner token",
        ("GET", "/api/routes"): "learner token",
        ("POST", "/api/routes"): "learner token",
        ("GET", "/api/routes/{route_id}"): "learner token",
        ("DELETE", "/api/routes/{route_id}"): "learner token",
        ("GET", "/api/shares"): "learner token",
        ("POST", "/api/shares"): "learner token",
        ("GET", "/api/shares/{share_id}"): "learner token",
        ("DELETE", "/api/shares/{share_id}"): "learner token",
        ("GET", "/api/shares/{share_id}/accesses"): "learner token",
        ("POST", "/api/requests/preview"): "learner token",
        ("POST", "/api/requests/respond"): "learner token",
        ("POST", "/api/requests/decline"): "learner token",
        ("GET", "/api/disclosures"): "learner token",
        ("GET", "/api/disclosures/{disclosure_id}"): "learner token",
        ("GET", "/api/export"): "learner token",
        ("POST", "/api/import"): "learner token",
        ("GET", "/api/recognition/routes"): "learner token",
        ("POST", "/api/recognition/routes"): "learner token",
        ("GET", "/api/recognition/routes/{route_id}"): "learner token",
        ("POST", "/api/recognition/routes/{route_id}/request"): "learner token",
        ("GET", "/api/recognition/cases"): "learner token",
        ("GET", "/api/recognition/cases/{case_id}"): "learner token",
        ("POST", "/api/recognition/cases/{case_id}/collect"): "learner token",
        ("GET", "/api/recognition/credentials/{credential_id}/parts"): "learner token",
    },
    "verifier": {
        ("POST", "/admin/trust-registry/reload"): "verifier admin token",
        ("GET", "/admin/verification-log"): "verifier admin token",
        ("POST", "/admin/verification-log/purge"): "verifier admin token",
    },
}

# Public on purpose, with the reason (what protects them instead, if anything).
PUBLIC: dict[str, dict[tuple[str, str], str]] = {
    "issuer": {
        ("GET", "/institutions/{slug}/did.json"): "DID document: public by design",
        ("GET", "/institutions/{slug}"): "institution profile",
        ("GET", "/institutions/{slug}/modules"): "published module catalogue",
        ("GET", "/institutions/{slug}/routes"): "published routes (issue 17)",
        ("GET", "/institutions/{slug}/routes/{route}"): "published route and its rule",
        ("POST", "/institutions/{slug}/routes/{route}/recognition"): (
            "a learner's wallet asks; rate-limited, creates only a pending request"
        ),
        ("GET", "/institutions/{slug}/recognition/requests/{case_id}"): (
            "OpenID4VP request object; the case id is unguessable and single-case"
        ),
        ("POST", "/institutions/{slug}/recognition/requests/{case_id}/response"): (
            "OpenID4VP direct_post; the nonce and the holder's signature protect it"
        ),
        ("GET", "/institutions/{slug}/recognition/cases/{token}"): (
            "the learner's case; the token in the URL is the capability"
        ),
        ("GET", "/institutions/{slug}/modules/{module_id}"): "published module",
        ("GET", "/institutions/{slug}/status/{list_id}/{purpose}"): "status list: public",
        ("GET", "/institutions/{slug}/status/{list_id}/token"): "token status list: public",
        ("GET", "/.well-known/jwt-vc-issuer/institutions/{slug}"): "SD-JWT VC issuer metadata",
        ("GET", "/institutions/{slug}/vct/{module_type}"): "SD-JWT VC type metadata",
        ("GET", "/institutions/{slug}/.well-known/openid-credential-issuer"): "metadata",
        ("GET", "/.well-known/openid-credential-issuer/institutions/{slug}"): "metadata",
        ("GET", "/institutions/{slug}/.well-known/oauth-authorization-server"): "metadata",
        ("GET", "/.well-known/oauth-authorization-server/institutions/{slug}"): "metadata",
        ("GET", "/institutions/{slug}/credential-offers/{handle}"): "unguessable handle",
        ("GET", "/institutions/{slug}/credential-offers/{handle}/qr.png"): "unguessable handle",
        ("GET", "/institutions/{slug}/credential-offers/{handle}/qr.svg"): "unguessable handle",
        ("POST", "/institutions/{slug}/token"): "pre-authorised code (+ PIN) in the body",
        ("POST", "/institutions/{slug}/nonce"): "c_nonce for key proofs",
    },
    "wallet": {
        ("POST", "/api/learners"): "registration",
        ("POST", "/api/session"): "log-in",
        ("GET", "/api/routes/published"): "published route definitions",
    },
    "verifier": {
        ("POST", "/credentials/verify"): "VC-API verification: anyone may verify",
        ("POST", "/presentations/verify"): "VC-API verification",
        ("POST", "/challenges"): "VC-API challenge",
        ("POST", "/requests"): "employer creates a presentation request",
        ("GET", "/requests/{request_id}"): "unguessable request id (the wallet fetches it)",
        ("POST", "/requests/{request_id}/response"): "the wallet posts the VP (nonce-bound)",
        ("GET", "/requests/{request_id}/result"): "unguessable request id",
        ("GET", "/requests/{request_id}/events"): "unguessable request id",
        ("POST", "/shares/verify"): "verify a pasted share link",
        ("POST", "/admissions/evaluate"): "rules over a posted presentation",
        ("GET", "/trust-registry"): "the registry is public information",
        ("GET", "/.well-known/did.json"): "the verifier's DID document (request-signing key)",
        ("GET", "/did.json"): "the same DID document for a verifier under a path",
    },
}


def operations(client: Any) -> set[tuple[str, str]]:
    spec = client.app.openapi()
    return {(m.upper(), path) for path, ops in spec["paths"].items() for m in ops}


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_is_classified_as_protected_or_public(
    deployed: Deployment, service: str
) -> None:
    documented = operations(deployed.client(service))
    known = set(PROTECTED[service]) | set(PUBLIC[service])
    assert documented - known == set(), "classify these operations in test_api_security.py"
    assert known - documented == set(), "these operations are gone: update the lists"


def _path(template: str, deployed: Deployment) -> str:
    values = {"slug": deployed.institution, "generation": "1", "action": "revoke"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x" * 22), template)


PROTECTED_CASES = [
    pytest.param(service, method, path, id=f"{service} {method} {path}")
    for service, table in PROTECTED.items()
    for method, path in table
]


@pytest.mark.parametrize(("service", "method", "path"), PROTECTED_CASES)
def test_protected_operations_refuse_anonymous_and_forged_callers(
    deployed: Deployment, service: str, method: str, path: str
) -> None:
    client = deployed.client(service)
    url = _path(path, deployed)
    for headers in ({}, {"Authorization": "Bearer forged-" + "x" * 40}, {"Authorization": "x"}):
        response = client.request(method, url, headers=headers, json={})
        assert response.status_code in (401, 403), f"{method} {url} {headers}: {describe(response)}"
        # RFC 9457 problems; the OpenID4VCI endpoint answers in OAuth's own error format
        oauth = path.endswith(("/credential", "/notification"))
        expected = "application/json" if oauth else "application/problem"
        assert response.headers["content-type"].startswith(expected), describe(response)


ISSUER_INSTITUTION_OPS = [
    pytest.param(method, path, id=f"{method} {path}")
    for method, path in PROTECTED["issuer"]
    if path.startswith("/institutions/{slug}/")
    and path not in ("/institutions/{slug}/credential", "/institutions/{slug}/notification")
]


@pytest.mark.parametrize(("method", "path"), ISSUER_INSTITUTION_OPS)
def test_another_institutions_token_is_refused(
    deployed: Deployment, method: str, path: str
) -> None:
    response = deployed.issuer.request(
        method,
        _path(path, deployed),
        headers={"Authorization": f"Bearer {deployed.other_token}"},
        json={},
    )
    assert response.status_code in (403, 404), describe(response)


@pytest.mark.parametrize("service", SERVICES)
def test_security_headers_on_every_answer(deployed: Deployment, service: str) -> None:
    client = deployed.client(service)
    for method, path in sorted(operations(client))[:40]:
        response = client.request(method, _path(path, deployed), json={})
        headers = response.headers
        assert headers.get("x-content-type-options") == "nosniff", path
        assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), path
        assert "'unsafe-inline'" not in headers.get("content-security-policy", ""), path
        assert headers.get("x-frame-options") == "DENY", path


# --------------------------------------------------------------------------- schemathesis

# Schema violations reported to the service owners and not fixed yet, each to be pinned by
# an xfail(strict=True) test; they are left out of the run so that it catches new ones.
# (Empty: the last one, the DID document's media type, is documented now.)
KNOWN_VIOLATIONS: set[tuple[tuple[str, str], str]] = set()

# Destroying the test principal would turn every later case into a 401.
DESTRUCTIVE_WITH_CREDENTIALS = {("DELETE", "/api/learners/me"), ("DELETE", "/api/session")}
CASES = {service: Counter(f"schemathesis cases ({service})") for service in SERVICES}


def _schema(deployed: Deployment, service: str) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", deployed.client(service).app)


def _fuzz_operation(
    deployed: Deployment,
    service: str,
    operation: Any,
    server_errors: list[str],
    violations: list[str],
) -> Any:
    """A hypothesis test over one operation's generated cases (half with credentials, half
    with the real institution in the path so cases get past "no such institution")."""
    key = (operation.method.upper(), operation.path)

    @fuzz_settings(max_examples=6)
    @given(case=operation.as_strategy(), authenticated=st.booleans(), real=st.booleans())
    def run(case: Any, authenticated: bool, real: bool) -> None:
        CASES[service]()
        if real and case.path_parameters and "slug" in case.path_parameters:
            case.path_parameters["slug"] = deployed.institution
        headers = {}
        if authenticated and key not in DESTRUCTIVE_WITH_CREDENTIALS:
            headers = deployed.credentials_for(service)
        response = case.call(headers=headers)
        if response.status_code >= 500:
            server_errors.append(f"{key}: {response.status_code} {response.text[:200]}")
            return
        try:
            case.validate_response(
                response,
                checks=[st_checks.response_schema_conformance, st_checks.content_type_conformance],
            )
        except FailureGroup as exc:  # schemathesis groups its check failures
            for failure in exc.exceptions:
                title = str(failure).strip().splitlines()[0][:120]
                if (key, title) not in KNOWN_VIOLATIONS:
                    violations.append(f"{key}: {title}: {response.text[:150]}")

    return run


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    deployed: Deployment, service: str
) -> None:
    server_errors: list[str] = []
    violations: list[str] = []
    ops = [result.ok() for result in _schema(deployed, service).get_all_operations()]
    before = CASES[service].n
    for operation in ops:
        _fuzz_operation(deployed, service, operation, server_errors, violations)()
    record(
        f"schemathesis {service}",
        CASES[service].n,
        operations=len(ops),
        server_errors=len(server_errors),
        schema_violations=len(set(violations)),
    )
    assert CASES[service].n - before >= len(ops) > 0  # cases really ran, for every operation
    assert server_errors == [], "\n".join(server_errors[:20])
    assert violations == [], "\n".join(sorted(set(violations))[:20])


def test_the_did_document_media_type_is_documented(deployed: Deployment) -> None:
    spec = deployed.issuer.app.openapi()
    content = spec["paths"]["/institutions/{slug}/did.json"]["get"]["responses"]["200"]["content"]
    answered = deployed.issuer.get(f"/institutions/{deployed.institution}/did.json")
    assert answered.headers["content-type"].split(";")[0] in content
