"""A small fake internet for wallet tests: an OpenID4VCI issuer, a status list host and an
OpenID4VP verifier, behind an ``httpx.MockTransport`` that the wallet's ``SafeFetcher``
uses. The fakes follow the protocols as the colleagues' services do (the real issuer is
exercised in test_with_issuer.py); they can also misbehave on purpose.
"""

from __future__ import annotations

import copy
import json
import secrets
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import httpx

from credentials.dids import DidResolver
from credentials.jose import verify_jwt
from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.proofs import sign
from credentials.status_list import StatusList, status_entry, status_list_credential
from credentials.verify import Verifier
from microcred.samples import HBO, module, sample_credential

PUBLIC_IP = "93.184.216.34"
ISSUER_HOST = "issuer.example"
VERIFIER_HOST = "verifier.example"


class Clock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def credential_for(
    issuer_key: Multikey,
    holder_did: str | None,
    *,
    status: dict[str, Any] | None = None,
    **module_changes: Any,
) -> dict[str, Any]:
    """A signed sample microcredential from a did:key issuer."""
    achievement = module(**module_changes) if module_changes else module()
    unsigned = sample_credential(
        issuer=replace(HBO, id=issuer_key.controller),
        achievement=achievement,
        learner=Learner(did=holder_did, identity="jan@example.nl", salt="00ff00ff")
        if holder_did
        else Learner(identity="jan@example.nl", salt="00ff00ff"),
        credential_id=f"urn:uuid:{uuid.uuid4()}",
    )
    if status is not None:
        unsigned["credentialStatus"] = status
    return sign(unsigned, issuer_key)


def _json(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=data, headers={"cache-control": "no-store"})


@dataclass
class FakeIssuer:
    path: str = "/institutions/hbo"
    key: Multikey = field(default_factory=Multikey.generate)
    config_id: str = "MicroCredential_ldp_vc"
    format: str = "ldp_vc"
    bind_to: str | None = None
    """Bind credentials to this DID instead of the proof's (an offer for another wallet)."""
    tamper: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    nonces: set[str] = field(default_factory=set)
    issued: list[dict[str, Any]] = field(default_factory=list)
    status: StatusList = field(default_factory=StatusList)
    next_index: int = 41
    requests: list[str] = field(default_factory=list)
    also_sd_jwt: bool = False
    """Offer the credential as dc+sd-jwt too (microcred's issuer does, issue 19)."""

    @property
    def identifier(self) -> str:
        return f"https://{ISSUER_HOST}{self.path}"

    @property
    def status_url(self) -> str:
        return f"https://{ISSUER_HOST}/status/1"

    def offer(self, *, tx_code: str | None = None) -> dict[str, Any]:
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"used": False, "tx_code": tx_code}
        grant: dict[str, Any] = {"pre-authorized_code": code}
        if tx_code is not None:
            grant["tx_code"] = {"input_mode": "numeric", "length": len(tx_code)}
        return {
            "credential_issuer": self.identifier,
            "credential_configuration_ids": [self.config_id]
            + (["MicroCredential_dc_sd_jwt"] if self.also_sd_jwt else []),
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": grant},
        }

    def offer_uri(self, **kwargs: Any) -> str:
        return "openid-credential-offer://?credential_offer=" + quote(
            json.dumps(self.offer(**kwargs))
        )

    def revoke(self, credential: dict[str, Any]) -> None:
        self.status.set(int(credential["credentialStatus"]["statusListIndex"]), 1)

    def status_entry(self) -> dict[str, Any]:
        self.next_index += 1
        return status_entry(self.status_url, self.next_index, "revocation")

    # -- HTTP

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.requests.append(f"{request.method} {path}")
        if path == f"/.well-known/openid-credential-issuer{self.path}":
            return _json(self.metadata())
        if path == f"/.well-known/oauth-authorization-server{self.path}":
            return _json(
                {
                    "issuer": self.identifier,
                    "token_endpoint": self.identifier + "/token",
                    "grant_types_supported": [
                        "urn:ietf:params:oauth:grant-type:pre-authorized_code"
                    ],
                }
            )
        if path == f"{self.path}/token" and request.method == "POST":
            return self.token(parse_qs(request.content.decode()))
        if path == f"{self.path}/nonce" and request.method == "POST":
            nonce = secrets.token_urlsafe(12)
            self.nonces.add(nonce)
            return _json({"c_nonce": nonce})
        if path == f"{self.path}/credential" and request.method == "POST":
            return self.credential(request)
        if path == "/status/1":
            unsigned = status_list_credential(
                self.status_url,
                self.key.controller,
                "revocation",
                self.status.encode(),
                valid_from="2020-01-01T00:00:00Z",
            )
            return httpx.Response(
                200, json=sign(unsigned, self.key), headers={"cache-control": "max-age=300"}
            )
        return _json({"error": "not_found"}, 404)

    def metadata(self) -> dict[str, Any]:
        return {
            "credential_issuer": self.identifier,
            "credential_endpoint": self.identifier + "/credential",
            "nonce_endpoint": self.identifier + "/nonce",
            "display": [{"name": "Hogeschool Rijnland"}],
            "credential_configurations_supported": {
                self.config_id: {
                    "format": self.format,
                    "credential_definition": {
                        "type": ["VerifiableCredential", "OpenBadgeCredential"]
                    },
                    "cryptographic_binding_methods_supported": ["did:key"],
                    "proof_types_supported": {
                        "jwt": {"proof_signing_alg_values_supported": ["EdDSA"]}
                    },
                },
                "MicroCredential_dc_sd_jwt": {
                    "format": "dc+sd-jwt",
                    "vct": self.identifier + "/vct/microcredential",
                    "cryptographic_binding_methods_supported": ["jwk"],
                },
            },
        }

    def token(self, form: dict[str, list[str]]) -> httpx.Response:
        code = (form.get("pre-authorized_code") or [""])[0]
        entry = self.codes.get(code)
        if entry is None or entry["used"]:
            return _json(
                {"error": "invalid_grant", "error_description": "unknown or used code"}, 400
            )
        if entry["tx_code"] is not None and (form.get("tx_code") or [""])[0] != entry["tx_code"]:
            return _json({"error": "invalid_grant", "error_description": "wrong tx_code"}, 400)
        entry["used"] = True
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": 300})

    def credential(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return _json({"error": "invalid_token"}, 401)
        body = json.loads(request.content)
        if body.get("credential_configuration_id") != self.config_id:
            return _json({"error": "unknown_credential_configuration"}, 400)
        proof = body["proofs"]["jwt"][0]
        header, claims, key = verify_jwt(proof, DidResolver())
        assert header["typ"] == "openid4vci-proof+jwt"
        assert claims["aud"] == self.identifier
        if claims.get("nonce") not in self.nonces:
            return _json({"error": "invalid_nonce"}, 400)
        self.nonces.discard(claims["nonce"])
        self.tokens.discard(token)
        credential = credential_for(
            self.key, self.bind_to or key.controller, status=self.status_entry()
        )
        if self.tamper:
            credential = copy.deepcopy(credential)
            credential["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
        self.issued.append(credential)
        return _json({"credentials": [{"credential": credential}]})


@dataclass
class FakeVerifier:
    """OpenID4VP 1.0 direct_post verifier: request link, by-value URI, response endpoint."""

    requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def create(self, dcql: dict[str, Any], *, purpose: str = "Admission check") -> str:
        request_id = secrets.token_urlsafe(8)
        response_uri = f"https://{VERIFIER_HOST}/requests/{request_id}/response"
        self.requests[request_id] = {
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "client_id": f"redirect_uri:{response_uri}",
            "response_uri": response_uri,
            "nonce": secrets.token_urlsafe(16),
            "state": secrets.token_urlsafe(8),
            "dcql_query": dcql,
            "client_metadata": {"client_name": "Employer BV"},
            "purpose": purpose,
        }
        return f"https://{VERIFIER_HOST}/requests/{request_id}"

    def by_value(self, link: str) -> str:
        params = self.requests[link.rsplit("/", 1)[1]]
        flat = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in params.items()}
        return "openid4vp://?" + urlencode(flat)

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if len(parts) >= 2 and parts[0] == "requests" and parts[1] in self.requests:
            params = self.requests[parts[1]]
            if len(parts) == 2:
                if parts[1] in self.answers:
                    return _json({"error": "gone"}, 410)
                return _json(params)
            if parts[2] == "response" and request.method == "POST":
                return self.respond(parts[1], params, parse_qs(request.content.decode()))
        return _json({"error": "not_found"}, 404)

    def respond(
        self, request_id: str, params: dict[str, Any], form: dict[str, list[str]]
    ) -> httpx.Response:
        if request_id in self.answers:
            return _json({"error": "invalid_request", "detail": "nonce already used"}, 400)
        if (form.get("state") or [""])[0] != params["state"]:
            return _json({"error": "invalid_request", "detail": "state mismatch"}, 400)
        if "error" in form:
            self.answers[request_id] = {"declined": form["error"][0]}
            return _json({})
        token = json.loads(form["vp_token"][0])
        reports = {}
        for query_id, presentations in token.items():
            reports[query_id] = []
            for vp in presentations:
                report, _ = Verifier().verify_presentation(
                    vp, challenge=params["nonce"], domain=params["client_id"], check_status=False
                )
                reports[query_id].append(report)
        if not all(r.verified for rs in reports.values() for r in rs):
            return _json(
                {"error": "invalid_request", "detail": "presentation does not verify"}, 400
            )
        self.answers[request_id] = {"vp_token": token, "reports": reports}
        return _json({})


@dataclass
class FakeInternet:
    issuer: FakeIssuer = field(default_factory=FakeIssuer)
    verifier: FakeVerifier = field(default_factory=FakeVerifier)
    extra: dict[str, Any] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host == ISSUER_HOST:
            return self.issuer.handle(request)
        if host == VERIFIER_HOST:
            return self.verifier.handle(request)
        if host in self.extra:
            return self.extra[host](request)
        raise httpx.ConnectError(f"no route to {host}", request=request)

    def resolver(self, host: str, port: int) -> list[str]:
        return [PUBLIC_IP]
