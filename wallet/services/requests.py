"""Answering a verifier's presentation request, with the learner's consent in between.

Two steps, so that nothing leaves the wallet before the learner has seen it:

1. ``preview`` fetches and checks the request and answers: who asks (client id, name, the
   host the answer goes to), why (purpose), what (each DCQL query in words), which of my
   credentials fit each query, and exactly what would be disclosed for each — every field
   of the credential, because a Data Integrity proof covers the whole document and cannot
   be cut down (no selective disclosure with these cryptosuites), plus the holder DID;
2. ``respond`` needs ``consent: true`` and the credentials the learner picked; it fetches
   the request again (it may have expired or been answered meanwhile), checks the picks
   against the queries, signs one presentation per credential with ``challenge`` = the
   request's nonce and ``domain`` = the full ``client_id``, and POSTs ``vp_token`` (a JSON
   object keyed by query id, each value an array of presentations) with ``state`` to the
   ``response_uri``. What was sent to whom is recorded for the learner (``disclosures``).

``decline`` tells the verifier no (``error=access_denied``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlmodel import col, select

from credentials import (
    Claim,
    CredentialQuery,
    FetchError,
    FetchHTTPError,
    MicrocredError,
    SafeFetcher,
    create_presentation,
    sd_jwt_claims,
    select_path,
)
from servicekit.db import Database
from servicekit.errors import Gone, Invalid, NotFound, Upstream

from ..models import Disclosure, Learner, StoredCredential
from . import disclosing, sdjwt
from .checking import CredentialChecker
from .clock import Clock, iso
from .keys import HolderKeys
from .openid4vp import PresentationRequest, RequestError, read_request
from .store import CredentialStore, summary


class RequestService:
    def __init__(
        self,
        db: Database,
        store: CredentialStore,
        keys: HolderKeys,
        checker: CredentialChecker,
        fetcher: SafeFetcher,
        *,
        clock: Clock,
        allow_insecure: bool,
    ) -> None:
        self.db = db
        self.store = store
        self.keys = keys
        self.checker = checker
        self.fetcher = fetcher
        self.clock = clock
        self.allow_insecure = allow_insecure

    def read(self, value: Any) -> PresentationRequest:
        """The verifier's presentation request behind ``value`` (its link, URI or JSON),
        fetched and checked (signed request objects by the client's DID).

        Raises ``Invalid`` (``invalid_presentation_request`` and the like), ``Gone``
        (``request_gone``: answered, expired or unknown at the verifier) or ``Upstream``
        (``verifier_unreachable``).
        """
        try:
            return read_request(
                value,
                self.fetcher,
                self.checker.verifier.resolver,
                allow_insecure=self.allow_insecure,
            )
        except RequestError as exc:
            raise exc.kind(exc.code, exc.message) from None

    # -- step 1 ------------------------------------------------------------------------

    def preview(self, learner: Learner, value: Any) -> dict[str, Any]:
        """What the verifier asks and which of the learner's credentials could answer each
        query (and which details would be shared); nothing is sent. Raises like ``read``.
        """
        request = self.read(value)
        rows = self.store.rows(learner.id)
        required = request.dcql.required_ids()
        queries = []
        answerable = []
        for query in request.dcql.credentials:
            matches = []
            for row in rows:
                claims = _fits(query, row)
                if claims is None:
                    continue
                item = summary(row)
                if isinstance(row.document, str):  # SD-JWT VC: the learner ticks claims
                    values = sd_jwt_claims(row.document)
                    item["requestedClaims"] = [
                        {**c.to_dict(), "value": sdjwt._at(values, c.path)} for c in claims
                    ]
                    item["disclosable"] = sdjwt.disclosable(
                        row.document, {sdjwt.path_text(c.path) for c in claims}
                    )
                    item["sharedFields"] = sdjwt.always_shown(row.document)
                else:
                    item["requestedClaims"] = [
                        {**c.to_dict(), "value": _values(row.document, c.path)} for c in claims
                    ]
                    item["sharedFields"] = shared_fields(row.document)
                    # selective disclosure (issue 18): what may be left out, and exactly what
                    # the request's claims ask for, pre-selected
                    item["disclosable"] = disclosing.fields_for(row.document)
                    item["preselected"] = (
                        disclosing.requested(row.document, [c.path for c in claims])
                        if item["disclosable"]
                        else []
                    )
                matches.append(item)
            # pre-ticked: only what fits and can be relied on, and under a rule only what
            # counts for it (issue 16: nothing pre-ticked except what matches)
            usable = [m for m in matches if m["verified"] and m["status"] in ("active", "none")]
            if request.rule is not None and query.multiple:
                counting = _counting(request.rule, rows, set(self.checker.known.names))
                usable = [m for m in usable if m["id"] in counting]
            selected = [m["id"] for m in usable][: (None if query.multiple else 1)]
            if matches:
                answerable.append(query.id)
            queries.append(
                {
                    "id": query.id,
                    "asks": query.describe(),
                    "claims": [c.to_dict() for c in query.claims],
                    "format": query.format,
                    "required": query.id in required,
                    "multiple": query.multiple,
                    "matches": matches,
                    "selected": selected,
                }
            )
        return {
            "verifier": request.verifier(),
            "purpose": request.purpose,
            "rule": request.rule,
            "queries": queries,
            "satisfiable": request.dcql.satisfied_by(answerable),
            "holder": learner.did,
            "disclosure": (
                "Each credential you choose is shared whole — every field listed under "
                "sharedFields — inside a presentation signed with your wallet's key, which "
                f"also tells the verifier your holder DID ({learner.did}). The proof covers "
                "the whole credential, so single fields cannot be left out."
            ),
        }

    # -- step 2 ------------------------------------------------------------------------

    def respond(
        self,
        learner: Learner,
        value: Any,
        credential_ids: list[str],
        consent: bool,
        disclose: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """Send the answer. ``disclose`` names, per credential, what of a selectively
        disclosable one goes: field keys of an ecdsa-sd-2023 credential (issue 18) or the
        claims of an SD-JWT VC (issue 19); by default exactly what the request's claims ask
        for (the preview's pre-selection)."""
        if consent is not True:
            raise Invalid(
                "consent_required",
                "nothing was sent: answering a request needs your explicit consent "
                "(consent: true) after you have seen the preview",
            )
        if not credential_ids or len(set(credential_ids)) != len(credential_ids):
            raise Invalid("invalid_selection", "credentialIds must name distinct credentials")
        request = self.read(value)
        rows = self.store.rows(learner.id, credential_ids)
        assignment = _assign(request.dcql.credentials, rows)
        assigned = {row.id for chosen in assignment.values() for row in chosen}
        unused = [row.id for row in rows if row.id not in assigned]
        if unused:
            raise Invalid(
                "credential_not_requested",
                "nothing was sent: the verifier did not ask for "
                + ", ".join(unused)
                + " (pick only credentials listed as matches in the preview)",
                credentialIds=unused,
            )
        if not request.dcql.satisfied_by(q for q, chosen in assignment.items() if chosen):
            raise Invalid(
                "request_not_satisfied",
                "nothing was sent: the chosen credentials do not answer every required part "
                "of the request",
            )
        chosen_fields = _chosen_fields(assignment, disclose, request.dcql.credentials)
        key = self.keys.key_for(learner)
        chosen_fields = _chosen_fields(assignment, disclose, request.dcql.credentials)
        key = self.keys.key_for(learner)
        disclosed: dict[str, list[str]] = {}
        queries = {q.id: q for q in request.dcql.credentials}

        def present(query_id: str, row: StoredCredential) -> Any:
            if not isinstance(row.document, str):
                return create_presentation(
                    [disclosing.shown(row.document, chosen_fields.get(row.id, []))],
                    key,
                    challenge=request.nonce,
                    domain=request.client_id,
                    presentation_id=f"urn:uuid:{uuid.uuid4()}",
                    created=self.clock(),
                )
            asked = {sdjwt.path_text(c.path) for c in queries[query_id].claims}
            if disclose is not None and row.id in disclose:
                chosen_paths = set(disclose[row.id])
            else:
                chosen_paths = {
                    c["path"] for c in sdjwt.disclosable(row.document, asked) if c["requested"]
                }
            try:
                out = sdjwt.presentation(request, row.document, key, chosen_paths)
            except MicrocredError as exc:
                raise Invalid(exc.code or "invalid_disclosure", exc.message) from None
            disclosed[row.id] = sorted(chosen_paths)
            return out

        vp_token = {
            query_id: [present(query_id, row) for row in chosen]
            for query_id, chosen in assignment.items()
            if chosen
        }
        form = {"vp_token": json.dumps(vp_token, separators=(",", ":"), ensure_ascii=False)}
        if request.state is not None:
            form["state"] = request.state
        answer = self._post(request, form)
        sent = [row.id for row in rows]
        record = self._record(
            learner, request, sent, "sent", chosen_fields or None, disclosed or None
        )
        out: dict[str, Any] = {
            "status": "sent",
            "disclosure": record,
            "verifier": request.verifier(),
            "credentialIds": sent,
        }
        if isinstance(answer.get("redirect_uri"), str):
            out["redirectUri"] = answer["redirect_uri"]
        return out

    def decline(self, learner: Learner, value: Any) -> dict[str, Any]:
        """Tell the verifier the learner declines (``access_denied``) and record it.

        Raises like ``read``, and ``Gone`` / ``Upstream`` when the verifier refuses the answer.
        """
        request = self.read(value)
        form = {"error": "access_denied", "error_description": "the learner declined"}
        if request.state is not None:
            form["state"] = request.state
        self._post(request, form)
        return {"status": "declined", "disclosure": self._record(learner, request, [], "declined")}

    def disclosures(self, learner: Learner) -> list[dict[str, Any]]:
        """Everything the learner sent to verifiers (or declined), oldest first."""
        with self.db.session() as session:
            rows = session.exec(
                select(Disclosure)
                .where(Disclosure.learner_id == learner.id)
                .order_by(col(Disclosure.sent_at), col(Disclosure.id))
            ).all()
        return [disclosure_dict(r) for r in rows]

    def disclosure(self, learner: Learner, disclosure_id: str) -> dict[str, Any]:
        """One record of what the learner sent to a verifier.

        Raises ``NotFound`` (``disclosure_not_found``) for one of no or another learner.
        """
        with self.db.session() as session:
            row = session.get(Disclosure, disclosure_id) if len(disclosure_id) <= 36 else None
        if row is None or row.learner_id != learner.id:
            raise NotFound("disclosure_not_found", "no such disclosure")
        return disclosure_dict(row)

    # -- helpers -----------------------------------------------------------------------

    def _post(self, request: PresentationRequest, form: dict[str, str]) -> dict[str, Any]:
        try:
            response = self.fetcher.post_form(request.response_uri, form)
        except FetchHTTPError as exc:
            detail = _verifier_detail(exc)
            if exc.status == 410:
                raise Gone(
                    "request_gone", f"the verifier no longer accepts answers: {detail}"
                ) from None
            raise Upstream(
                "verifier_refused",
                f"the verifier refused the answer: {detail}",
                verifierStatus=exc.status,
            ) from None
        except FetchError as exc:
            raise Upstream(
                "verifier_unreachable", f"the answer could not be sent: {exc.message}"
            ) from None
        try:
            data = json.loads(response.content or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _record(
        self,
        learner: Learner,
        request: PresentationRequest,
        ids: list[str],
        outcome: str,
        fields: dict[str, list[str]] | None = None,
        disclosed: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        row = Disclosure(
            id=str(uuid.uuid4()),
            learner_id=learner.id,
            client_id=request.client_id,
            verifier_name=request.verifier_name,
            purpose=request.purpose,
            response_uri=request.response_uri,
            credential_ids=ids,
            outcome=outcome,
            sent_at=self.clock(),
            fields=fields,
            disclosed=disclosed,
        )
        with self.db.session() as session:
            session.add(row)
        return disclosure_dict(row)


def _assign(
    queries: tuple[CredentialQuery, ...], rows: list[StoredCredential]
) -> dict[str, list[StoredCredential]]:
    """Which picked credential answers which query (one per query unless ``multiple``)."""
    out: dict[str, list[StoredCredential]] = {}
    for query in queries:
        fitting = [row for row in rows if _fits(query, row) is not None]
        out[query.id] = fitting if query.multiple else fitting[:1]
    return out


def _counting(rule: dict[str, Any], rows: list[StoredCredential], trusted: set[str]) -> set[str]:
    """The wallet ids of the credentials that count for ``rule`` (the shared rules engine,
    as the verifier will weigh them)."""
    from dataclasses import replace

    from credentials import Route, evaluate, read_credential

    views = []
    for row in rows:
        if row.verified and row.status in ("active", "none"):
            try:
                views.append(replace(read_credential(row.document), credential_id=row.id))
            except MicrocredError:
                continue
    result = evaluate(Route.from_dict(rule), views, trusted_issuers=trusted)
    return {v.credential_id for v in result.counted}


def _fits(query: CredentialQuery, row: StoredCredential) -> list[Claim] | None:
    """The claims that make this stored credential answer ``query`` (None: it does not):
    SD-JWT VCs answer ``dc+sd-jwt`` queries only, JSON-LD credentials the others."""
    if isinstance(row.document, str):
        return sdjwt.query_fits(query, row.document)
    if query.format == sdjwt.FORMAT:
        return None
    return query.matching_claims(row.document)


def shared_fields(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every leaf of the credential (proof excluded) as ``{path, value}``: what is disclosed."""
    out: list[dict[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else key)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        else:
            out.append({"path": path, "value": node})

    walk({k: v for k, v in document.items() if k != "proof"}, "")
    return out


def _values(document: dict[str, Any], path: tuple[Any, ...]) -> Any:
    found = select_path(document, path)
    return found[0] if len(found) == 1 else found


def _verifier_detail(exc: FetchHTTPError) -> str:
    try:
        data = json.loads(exc.response.content)
    except ValueError:
        return f"HTTP {exc.status}"
    if isinstance(data, dict):
        for key in ("detail", "error_description", "error"):
            if isinstance(data.get(key), str):
                return data[key][:500]
    return f"HTTP {exc.status}"


def disclosure_dict(row: Disclosure) -> dict[str, Any]:
    return {
        "id": row.id,
        "clientId": row.client_id,
        "verifierName": row.verifier_name,
        "purpose": row.purpose,
        "responseUri": row.response_uri,
        "credentialIds": list(row.credential_ids),
        "outcome": row.outcome,
        "at": iso(row.sent_at),
        "disclosed": {**(row.fields or {}), **(row.disclosed or {})},
    }


def _chosen_fields(
    assignment: dict[str, list[StoredCredential]],
    disclose: dict[str, list[str]] | None,
    queries: tuple[CredentialQuery, ...],
) -> dict[str, list[str]]:
    """Per selectively disclosable credential sent: the learner's choice, else exactly the
    fields its query's claims ask for (issue 18)."""
    disclose = disclose or {}
    by_id = {q.id: q for q in queries}
    sent = {row.id: (by_id[qid], row) for qid, rows in assignment.items() for row in rows}
    stray = [cid for cid in disclose if cid not in sent]
    if stray:
        raise Invalid("invalid_disclosure", "disclose names credentials not being sent")
    out: dict[str, list[str]] = {}
    for cid, (query, row) in sent.items():
        if isinstance(row.document, str):
            continue  # an SD-JWT VC: its claims are chosen in ``respond`` (issue 19)
        if not disclosing.fields_for(row.document):
            if cid in disclose:
                raise Invalid(
                    "not_selectively_disclosable",
                    "this credential's proof cannot leave fields out: it is shared whole",
                )
            continue
        if cid in disclose:
            out[cid] = disclosing.validated(row.document, disclose[cid])
        else:
            claims = query.matching_claims(row.document) or []
            out[cid] = disclosing.requested(row.document, [c.path for c in claims])
    return out
