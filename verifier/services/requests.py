"""Presentation requests, OpenID4VP 1.0 shaped (``direct_post``, DCQL, signed request objects).

The flow, from the employer's side:

1. ``create`` stores a request — what is asked (``dcql``), a purpose, an expiry — with a
   fresh ``nonce`` and ``state``, and returns links and a QR for the wallet plus a secret
   ``result_token`` for the employer's page (the result names the learner: knowing the
   request id, which is in the QR, must not be enough to read it);
2. the wallet reads the parameters: by value from the QR (client id
   ``redirect_uri:<response_uri>``, unsigned), or from ``request_uri`` as a request object
   signed by the verifier's did:web key (client id ``decentralized_identifier:<did>``,
   ``signing.VerifierIdentity``), or as JSON when it asks for JSON;
3. the wallet POSTs ``vp_token`` (JSON keyed by DCQL query id, values arrays of VPs) and
   ``state`` to ``response_uri``; each VP must carry ``challenge`` = nonce and ``domain`` =
   the full client id the wallet was given (either of the two);
4. the first answer whose presentation proofs verify with that nonce consumes it — a
   conditional UPDATE that one transaction wins across all instances — and its result is
   stored; any later answer with the same nonce is refused as a replay;
5. the employer's page polls the result or listens for it as server-sent events.

An answer whose presentation proof does not verify (wrong nonce, tampered, wrong domain) is
refused without consuming the nonce, so junk posted by someone who saw the QR cannot burn
the learner's genuine answer; the attempt is counted and shown with the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import update
from sqlmodel import col

from credentials import (
    MicrocredError,
    RequestSpec,
    by_value_uri,
    dcql_query,
    openid4vp,
    proof_domains,
    queries_for,
)
from servicekit.db import Database, rowcount
from servicekit.errors import (
    Forbidden,
    Gone,
    Invalid,
    NotAcceptable,
    NotFound,
    ServiceError,
    Unauthorized,
)
from servicekit.qr import qr_png_data_uri, qr_svg
from servicekit.tokens import new_token, same, token_hash

from ..models import PresentationRequest
from . import sdjwt
from .admissions import evaluate_results
from .clock import Clock, aware, iso, utc
from .signing import VerifierIdentity
from .stack import stacks_of_results
from .verification import VerificationResult, VerificationService

CRYPTOSUITES = openid4vp.CRYPTOSUITES
SD_JWT_ALGS = openid4vp.SD_JWT_ALGS
QR_MAX_CHARS = 1800
MAX_PRESENTATIONS = openid4vp.MAX_PRESENTATIONS
PENDING, COMPLETED, DECLINED, EXPIRED = "pending", "completed", "declined", "expired"


def _invalid(
    detail: str, code: str = "invalid_request", kind: type[ServiceError] = Invalid
) -> ServiceError:
    # ``error`` is the OAuth-style code a wallet looks for; ``code`` is microcred's own.
    return kind(code, detail, error="invalid_request")


@dataclass(frozen=True)
class CreatedRequest:
    id: str
    request_uri: str
    response_uri: str
    parameters: dict[str, Any]
    openid4vp_uri: str
    by_reference_uri: str
    result_token: str
    expires_at: datetime
    public_url: str

    def to_dict(self) -> dict[str, Any]:
        qr_uri = (
            self.openid4vp_uri
            if len(self.openid4vp_uri) <= QR_MAX_CHARS
            else (self.by_reference_uri)
        )
        return {
            "id": self.id,
            "request_uri": self.request_uri,
            "response_uri": self.response_uri,
            "client_id": self.parameters["client_id"],
            "nonce": self.parameters["nonce"],
            "state": self.parameters["state"],
            "openid4vp_uri": self.openid4vp_uri,
            "openid4vp_by_reference_uri": self.by_reference_uri,
            "qr_uri": qr_uri,
            "qrPng": qr_png_data_uri(qr_uri),
            "qrSvg": qr_svg(qr_uri),
            "result_token": self.result_token,
            "result_uri": f"{self.public_url}/requests/{self.id}/result",
            "events_uri": f"{self.public_url}/requests/{self.id}/events",
            "expires_at": iso(self.expires_at),
        }


def authorization_parameters(
    row: PresentationRequest, public_url: str, client_id: str | None = None
) -> dict[str, Any]:
    """The OpenID4VP authorization request parameters (§5.1) for a stored request.

    ``client_id`` defaults to ``redirect_uri:<response_uri>``, the prefix for parameters
    sent unsigned (by value, or as JSON); the signed request object passes the verifier's
    ``decentralized_identifier:`` instead.
    """
    response_uri = f"{public_url}/requests/{row.id}/response"
    parameters = openid4vp.authorization_parameters(
        response_uri=response_uri,
        client_id=client_id,
        nonce=row.nonce,
        state=row.state,
        dcql_query=row.dcql_query,
        client_name=row.client_name,
        purpose=row.purpose,
    )
    rule = (row.spec or {}).get("rule")
    if rule:
        # the admission rule itself, so the learner's wallet can show the actual requirement
        # ("minimaal 10 ECTS op EQF ≥ 4") before consenting; an extension parameter that
        # other wallets ignore (RFC 6749 §3.1)
        parameters["microcred_rule"] = rule
    return parameters


def fetch_key(state: str) -> str:
    """The capability in ``request_uri`` (``?key=``), derived from the request's ``state``.

    The request id alone (in result and event URLs, page addresses, logs) must not open the
    request: whoever can read the request learns its ``state``, and ``state`` is what a
    decline (``error=access_denied``) must carry. So the request is served only to those
    given its ``request_uri`` or QR — the wallet — and declining takes that capability,
    not just the id (issue 14, item 7). Derived, not stored: no migration, and the key
    reveals nothing of ``state``.
    """
    return token_hash(f"request_uri:{state}")[:32]


def request_uri_for(public_url: str, request_id: str, state: str) -> str:
    """The ``request_uri`` of a request: where the wallet fetches its parameters, with the
    fetch key derived from ``state``.
    """
    return f"{public_url}/requests/{request_id}?" + urlencode({"key": fetch_key(state)})


def redirect_client_id(public_url: str, request_id: str) -> str:
    """The ``redirect_uri:`` client id of a request (its ``response_uri``)."""
    return f"redirect_uri:{public_url}/requests/{request_id}/response"


_proof_domains = proof_domains  # the protocol part lives in credentials.openid4vp


class PresentationRequestService:
    def __init__(
        self,
        db: Database,
        verification: VerificationService,
        *,
        public_url: str,
        default_ttl: int,
        max_ttl: int,
        max_body: int,
        clock: Clock,
        identity: VerifierIdentity | None = None,
        default_name: str = "microcred verifier",
        result_retention_hours: float = 1,
    ) -> None:
        self.db = db
        self.default_name = default_name
        self.identity = identity
        self.result_retention = timedelta(hours=result_retention_hours)
        self.verification = verification
        self.public_url = public_url.rstrip("/")
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl
        self.max_body = max_body
        self.clock = clock

    # -- creating -------------------------------------------------------------------------

    def create(
        self,
        *,
        purpose: str,
        credential_types: list[str] | None = None,
        modules: list[str] | None = None,
        rule: Mapping[str, Any] | None = None,
        expires_in: int | None = None,
        client_name: str | None = None,
        requester: str | None = None,
        formats: list[str] | None = None,
        vct_values: list[str] | None = None,
    ) -> CreatedRequest:
        """Store a request. ``requester`` is the verified requester name (from the verifier's
        registry of requester keys, ``requester_names``); an anonymous caller may not name
        one itself (``client_name``): "Belastingdienst" from anyone was the attack."""
        if client_name is not None and client_name != requester:
            raise Forbidden(
                "requester_not_verified",
                "a requester name comes from this verifier's registry of requesters (send its "
                "API key as a Bearer token), not from the request body",
            )
        try:
            spec = RequestSpec.parse(credential_types, modules, rule, formats, vct_values)
            query = dcql_query(queries_for(spec))
        except MicrocredError as exc:
            raise Invalid(exc.code, exc.message) from None
        ttl = expires_in if expires_in is not None else self.default_ttl
        if not 0 < ttl <= self.max_ttl:
            raise Invalid("invalid_expiry", f"expires_in must be from 1 to {self.max_ttl} seconds")
        now = utc(self.clock())
        result_token = new_token(nbytes=32)
        row = PresentationRequest(
            id=new_token(nbytes=16),
            nonce=new_token(nbytes=24),
            state=new_token(nbytes=16),
            result_token_hash=token_hash(result_token),
            purpose=purpose,
            client_name=requester or self.default_name,
            spec=spec.to_dict(),
            dcql_query=query,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        with self.db.session() as session:
            session.add(row)
        parameters = authorization_parameters(row, self.public_url)
        request_uri = request_uri_for(self.public_url, row.id, row.state)
        # by reference, the wallet gets the signed request object: the DID client id
        reference_client = self.identity.client_id if self.identity else parameters["client_id"]
        by_reference = openid4vp.by_reference_uri(reference_client, request_uri)
        return CreatedRequest(
            id=row.id,
            request_uri=request_uri,
            response_uri=parameters["response_uri"],
            parameters=parameters,
            openid4vp_uri=by_value_uri(parameters),
            by_reference_uri=by_reference,
            result_token=result_token,
            expires_at=aware(row.expires_at),
            public_url=self.public_url,
        )

    def _get(self, request_id: str) -> PresentationRequest:
        with self.db.session() as session:
            row = session.get(PresentationRequest, request_id) if len(request_id) <= 64 else None
        if row is None:
            raise NotFound("request_not_found", "no such presentation request")
        return row

    def _expired(self, row: PresentationRequest) -> bool:
        return row.expires_at <= utc(self.clock())

    def _pending(self, request_id: str) -> PresentationRequest:
        row = self._get(request_id)
        if row.status != PENDING:
            raise Gone("request_answered", "this request has already been answered")
        if self._expired(row):
            raise Gone("request_expired", "this presentation request has expired")
        return row

    def check_key(self, request_id: str, key: str | None) -> None:
        """404 unless ``key`` is the request's ``request_uri`` capability (``fetch_key``):
        the same answer as for no such request, so the id alone tells nothing."""
        row = self._get(request_id)
        if not key or not same(key, fetch_key(row.state)):
            raise NotFound("request_not_found", "no such presentation request")

    def parameters(self, request_id: str) -> dict[str, Any]:
        """What the wallet fetches from ``request_uri`` as JSON; gone once answered or expired."""
        return authorization_parameters(self._pending(request_id), self.public_url)

    def request_object(self, request_id: str) -> str:
        """The signed request object (RFC 9101, OpenID4VP §5.10) behind ``request_uri``.

        Its ``client_id`` is the verifier's ``decentralized_identifier:``; ``aud`` is the
        static-discovery audience (§5.8), ``exp`` the request's expiry. ``iss`` (which
        OpenID4VP wallets ignore) is the bare DID: libraries that do read it
        (``@openid4vc/oauth2``) require the signing ``kid`` to start with it.
        """
        if self.identity is None:
            raise NotAcceptable(
                "not_acceptable", "this verifier serves request parameters as JSON only"
            )
        row = self._pending(request_id)
        claims = openid4vp.request_object_claims(
            authorization_parameters(row, self.public_url, self.identity.client_id),
            did=self.identity.did,
            now=utc(self.clock()),
            expires=aware(row.expires_at),
        )
        return self.identity.sign_request_object(claims)

    # -- the wallet's answer ----------------------------------------------------------------

    def respond(self, request_id: str, fields: Mapping[str, str]) -> dict[str, Any]:
        """Process a ``direct_post`` answer; ``{}`` when accepted, a problem when refused."""
        row = self._get(request_id)
        state = fields.get("state")
        if not isinstance(state, str) or not same(state, row.state):
            self._note_rejection(row.id, "the answer's state does not match the request")
            raise _invalid("state does not match this request", "invalid_state")
        if row.nonce_used_at is not None or row.status != PENDING:
            raise _invalid(
                "this request has already been answered; its nonce cannot be used again",
                "nonce_replayed",
            )
        if self._expired(row):
            raise _invalid("this presentation request has expired", "request_expired", Gone)
        if "error" in fields:
            return self._declined(row, fields)
        spec = RequestSpec.from_dict(row.spec)
        answers = self._parse_vp_token(fields.get("vp_token"), spec, row.id)
        client_id = self._client_id_of(row, answers)
        results = [
            (
                query_id,
                sdjwt.verify_sd_jwt_presentation(
                    self.verification,
                    vp,
                    nonce=row.nonce,
                    audience=client_id,
                    vct_values=spec.vct_values,
                )
                if sdjwt.is_sd_jwt(vp)
                else self.verification.verify_presentation(
                    vp, challenge=row.nonce, domain=client_id, kind="request", log=False
                ),
            )
            for query_id, vp in answers
        ]
        for _, result in results:
            self.verification.record(result)
        unbound = next((r for _, r in results if not r.binding_holds()), None)
        if unbound is not None:
            failed = [c for c in unbound.report.failed if not c.id.startswith("credential[")]
            detail = failed[0].message if failed else "the presentation proof does not verify"
            self._note_rejection(row.id, detail)
            raise Invalid(
                "invalid_presentation",
                f"the presentation is not a valid answer to this request: {detail}",
                error="invalid_request",
                report=unbound.to_dict(),
            )
        outcome = self._outcome(spec, results)
        self._complete(row, COMPLETED, outcome)
        return {}

    def _client_id_of(self, row: PresentationRequest, answers: list[tuple[str, Any]]) -> str:
        """The client id the answer is bound to: the request went out under two.

        By value (and as JSON) it is ``redirect_uri:``; the signed request object names the
        verifier's ``decentralized_identifier:``. Both identify this verifier and the nonce
        identifies the request, so the DID one is taken when every presentation claims it.
        """
        if self.identity is not None and answers:
            wanted = self.identity.client_id
            if all(wanted in _proof_domains(vp) for _, vp in answers):
                return wanted
        return redirect_client_id(self.public_url, row.id)

    def _parse_vp_token(
        self, raw: Any, spec: RequestSpec, request_id: str
    ) -> list[tuple[str, Any]]:
        try:
            return openid4vp.parse_vp_token(raw, queries_for(spec), max_bytes=self.max_body)
        except MicrocredError as exc:
            if exc.code == "invalid_vp_token":
                self._note_rejection(request_id, exc.message)
            raise _invalid(exc.message) from None

    def _outcome(
        self, spec: RequestSpec, results: list[tuple[str, VerificationResult]]
    ) -> dict[str, Any]:
        queries = []
        for query in queries_for(spec):
            counted = [
                (credential, report)
                for query_id, result in results
                if query_id == query.id
                for _, credential, report in result.counted_credentials()
            ]
            fitting = [(c, r) for c, r in counted if query.matches(c)]
            answered = any(query_id == query.id for query_id, _ in results)
            if fitting:
                names = ", ".join(
                    str(r.summary.get("module") or c.get("id") or "a credential")
                    for c, r in fitting
                )
                message = f"{query.label}: {names}"
            elif answered:
                message = f"{query.label}: answered, but no verified credential fits"
            else:
                message = f"{query.label}: not answered"
            queries.append({"id": query.id, "matched": bool(fitting), "message": message})
        all_results = [r for _, r in results]
        holders = {r.report.summary.get("holder") for r in all_results if r.report.summary}
        verified = bool(all_results) and all(r.verified for r in all_results)
        # a logical query is met when any of its alternatives (one per format) is
        groups: dict[str, bool] = {}
        for query, entry in zip(queries_for(spec), queries, strict=True):
            groups[query.group or query.id] = groups.get(query.group or query.id, False) or bool(
                entry["matched"]
            )
        matches = all(groups.values()) and len(holders) <= 1
        rule = None
        if spec.rule is not None and spec.route is not None:
            rule = evaluate_results(spec.route, all_results, now=self.clock()).to_dict()
        return {
            "verified": verified,
            "matches_request": matches,
            "accepted": verified and matches and (rule is None or rule["satisfied"]),
            "queries": queries,
            "holders_agree": len(holders) <= 1,
            "summary": {
                "holder": next(iter(holders)) if len(holders) == 1 else None,
                "credentials": [
                    s for r in all_results for s in r.report.summary.get("credentials", [])
                ],
            },
            "rule": rule,
            "stacks": stacks_of_results(all_results),  # issue 17: an award and its parts
            "presentations": [{"query": q, **r.to_dict()} for q, r in results],
        }

    def _declined(self, row: PresentationRequest, fields: Mapping[str, str]) -> dict[str, Any]:
        error = str(fields.get("error", ""))[:100] or "access_denied"
        description = str(fields.get("error_description", ""))[:500] or None
        self._complete(row, DECLINED, {"error": error, "error_description": description})
        return {}

    def _complete(self, row: PresentationRequest, status: str, result: dict[str, Any]) -> None:
        """Consume the nonce and store the result in one conditional UPDATE."""
        now = utc(self.clock())
        statement = (
            update(PresentationRequest)
            .where(col(PresentationRequest.id) == row.id)
            .where(col(PresentationRequest.nonce_used_at).is_(None))
            .where(col(PresentationRequest.expires_at) > now)
            .values(nonce_used_at=now, completed_at=now, status=status, result=result)
        )
        with self.db.session() as session:
            won = rowcount(session.execute(statement)) == 1
        if not won:
            if self._expired(self._get(row.id)):
                raise _invalid("this presentation request has expired", "request_expired", Gone)
            raise _invalid(
                "this request has already been answered; its nonce cannot be used again",
                "nonce_replayed",
            )

    def _note_rejection(self, request_id: str, message: str) -> None:
        statement = (
            update(PresentationRequest)
            .where(col(PresentationRequest.id) == request_id)
            .values(
                rejected_attempts=PresentationRequest.rejected_attempts + 1,
                last_rejection=message[:1000],
            )
        )
        with self.db.session() as session:
            session.execute(statement)

    # -- the employer's view ----------------------------------------------------------------

    def result(self, request_id: str, token: str | None) -> dict[str, Any]:
        """The request's state and, once answered, its outcome, for the holder of the result
        token.

        Raises ``NotFound`` (``request_not_found``), ``Unauthorized``
        (``result_token_required``) without the right token, and ``Gone``
        (``result_expired``) once the result is past its retention.
        """
        row = self._get(request_id)
        if not token or not same(token_hash(token), row.result_token_hash):
            raise Unauthorized(
                "result_token_required",
                "the result of a presentation request is only shown with its result token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        ended = row.completed_at or row.expires_at
        if ended is not None and utc(ended) + self.result_retention <= utc(self.clock()):
            # retention is enforced when read, not only when the purge runs (issue 14 item 9):
            # a result names the learner and their grades
            raise Gone("result_expired", "this result is past its retention and is not shown")
        status = row.status
        if status == PENDING and self._expired(row):
            status = EXPIRED
        return {
            "id": row.id,
            "status": status,
            "purpose": row.purpose,
            "request": row.spec,
            "created_at": iso(row.created_at),
            "expires_at": iso(row.expires_at),
            "completed_at": iso(row.completed_at),
            "rejected_attempts": row.rejected_attempts,
            "last_rejection": row.last_rejection,
            "result": row.result,
        }
