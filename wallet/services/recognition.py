"""Recognition from the learner's side (issue 17): adopt an institution's route, ask the
institution to recognise it, follow the case, collect the award, and see what it stands on.

The protocol is the one the wallet speaks already, on purpose:

* a route is adopted from its published document (``GET /institutions/{inst}/routes/{r}``):
  its rule joins the learner's routes, so progress is the shared rules engine (the
  ``RouteService``), and the institution and its recognition endpoint are kept beside it;
* asking is ``POST <recognition_endpoint>``; the institution answers with an OpenID4VP
  authorization request and a case URI. The request goes through the wallet's existing
  consent screen (``RequestService``): the learner sees exactly what leaves the wallet, and
  nothing is sent without that consent. The case is joined to what was sent by the
  request's ``response_uri`` (the learner's disclosure record names it);
* the case is followed by ``GET <case_uri>`` whenever the learner looks; on approval the
  institution's OpenID4VCI offer is collected **automatically**, with the same holder key
  that presented (the institution binds the award to that DID). The learner already asked
  for this credential; a failed collection stays visible with a retry.

The route document must come from the same origin as its recognition endpoint, so a
document cannot send a learner's credentials to a third party. Errors are service kinds
with stable codes; the pages translate the codes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import col, select

from credentials import (
    FetchError,
    FetchHTTPError,
    MicrocredError,
    Route,
    SafeFetcher,
    check_stack,
    evidence_refs,
)
from servicekit.db import Database
from servicekit.errors import Conflict, Invalid, NotFound, ServiceError, Upstream

from ..models import Disclosure, Learner, LearnerRoute, RecognitionCase, RecognitionRoute
from .clock import Clock, iso
from .progress import RouteService
from .receiving import ReceiveService
from .requests import RequestService
from .store import CredentialStore, summary

SOURCE = "institution"
AWAITING = "awaiting_consent"
NOT_SENT = "not_sent"
CASE_STATES = ("open", "more_requested", "approved", "declined", "awarded")
FINAL = ("declined",)
KINDS = ("route", "exemption")
MAX_DOCUMENT = 256 * 1024


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class RecognitionService:
    def __init__(
        self,
        db: Database,
        routes: RouteService,
        store: CredentialStore,
        requests: RequestService,
        receive: ReceiveService,
        fetcher: SafeFetcher,
        *,
        clock: Clock,
        allow_insecure: bool,
    ) -> None:
        self.db = db
        self.routes = routes
        self.store = store
        self.requests = requests
        self.receive = receive
        self.fetcher = fetcher
        self.clock = clock
        self.allow_insecure = allow_insecure

    # -- adopting a route ----------------------------------------------------------------

    def adopt(self, learner: Learner, url: Any) -> dict[str, Any]:
        """Follow the institution's route published at ``url``."""
        if not isinstance(url, str) or not self._is_url(url.strip()):
            raise Invalid("invalid_route_url", "the route's address must be an https URL")
        url = url.strip()
        document = self._get_json(url, "route_unreachable")
        route, details = _read_route_document(document, url)
        adopted = self.routes.adopt(learner, route, SOURCE)
        row = RecognitionRoute(
            route_row_id=adopted["id"],
            learner_id=learner.id,
            url=url,
            recognition_endpoint=details["recognition_endpoint"],
            institution_name=details["institution_name"],
            institution_id=details["institution_id"],
            kind=details["kind"],
            award=details["award"],
            fetched_at=self.clock(),
        )
        with self.db.session() as session:
            session.add(row)
        return self._route_dict(learner, row)

    def list_routes(self, learner: Learner) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.exec(
                select(RecognitionRoute)
                .where(RecognitionRoute.learner_id == learner.id)
                .order_by(col(RecognitionRoute.fetched_at))
            ).all()
        with self.db.session() as session:
            followed = set(
                session.exec(
                    select(LearnerRoute.id).where(LearnerRoute.learner_id == learner.id)
                ).all()
            )
        # a route the learner stopped following takes its institution details with it
        return [self._route_dict(learner, row) for row in rows if row.route_row_id in followed]

    def route(self, learner: Learner, route_row_id: str) -> dict[str, Any]:
        return self._route_dict(learner, self._own_route(learner, route_row_id))

    def _route_dict(self, learner: Learner, row: RecognitionRoute) -> dict[str, Any]:
        progress = self.routes.progress(learner, row.route_row_id)
        return {
            "pendingCase": self._pending_case(learner, row.route_row_id),
            "id": row.route_row_id,
            "name": progress["name"],
            "url": row.url,
            "kind": row.kind,
            "institution": {"name": row.institution_name, "id": row.institution_id},
            "award": row.award,
            "satisfied": progress["satisfied"],
            "missing": progress["missing"],
            "ectsTotal": progress["ectsTotal"],
            "ectsRequired": progress["ectsRequired"],
        }

    # -- asking for recognition ----------------------------------------------------------

    def ask(self, learner: Learner, route_row_id: str) -> dict[str, Any]:
        """Open a case at the institution; the answer's ``authorizationRequest`` goes to the
        consent screen next. Only for a complete route: the rule is the institution's, and
        a request that cannot pass would only make work for its exam board."""
        route_row = self._own_route(learner, route_row_id)
        if self._pending_case(learner, route_row_id, refresh=True) is not None:
            raise Conflict(
                "recognition_pending",
                "the institution is already handling a request for this route",
            )
        progress = self.routes.progress(learner, route_row_id)
        if not progress["satisfied"]:
            raise Conflict(
                "route_not_complete",
                "the route is not complete yet; recognition can be asked once it is",
            )
        try:
            response = self.fetcher.post_json(route_row.recognition_endpoint, {})
        except FetchHTTPError as exc:
            raise Upstream(
                "institution_refused", f"the institution answered HTTP {exc.status}"
            ) from None
        except FetchError as exc:
            raise Upstream("institution_unreachable", exc.message) from None
        answer = _json_object(response.content, "institution_answer_invalid")
        authorization = answer.get("authorization_request")
        case_uri = answer.get("case_uri")
        if not isinstance(authorization, str) or not isinstance(case_uri, str):
            raise Upstream(
                "institution_answer_invalid",
                "the institution's answer lacks authorization_request or case_uri",
            )
        if not self._is_url(case_uri) or _origin(case_uri) != _origin(route_row.url):
            raise Upstream(
                "institution_answer_invalid", "the case address is not at the institution"
            )
        request = self.requests.read(authorization)  # refuses what the wallet cannot answer
        if _origin(request.response_uri) != _origin(route_row.url):
            raise Upstream(
                "institution_answer_invalid",
                "the presentation would go elsewhere than the institution that owns the route",
            )
        now = self.clock()
        case = RecognitionCase(
            id=str(uuid.uuid4()),
            learner_id=learner.id,
            route_row_id=route_row.route_row_id,
            route_name=progress["name"],
            institution_name=route_row.institution_name,
            case_uri=case_uri,
            authorization_request=authorization,
            response_uri=request.response_uri,
            state=AWAITING,
            created_at=now,
            updated_at=now,
        )
        with self.db.session() as session:
            session.add(case)
        return _case_dict(case, None)

    # -- following cases -----------------------------------------------------------------

    def cases(self, learner: Learner, *, refresh: bool = True) -> list[dict[str, Any]]:
        with self.db.session() as session:
            rows = session.exec(
                select(RecognitionCase)
                .where(RecognitionCase.learner_id == learner.id)
                .order_by(col(RecognitionCase.created_at).desc(), col(RecognitionCase.id))
            ).all()
        return [self._follow(learner, row, refresh) for row in rows]

    def case(self, learner: Learner, case_id: str, *, refresh: bool = True) -> dict[str, Any]:
        return self._follow(learner, self._own_case(learner, case_id), refresh)

    def case_for_request(self, learner: Learner, authorization_request: str) -> str | None:
        """The case awaiting the learner's answer to this request, if it is one (so the
        consent screen can lead back to the case rather than to the share list)."""
        with self.db.session() as session:
            row = session.exec(
                select(RecognitionCase)
                .where(RecognitionCase.learner_id == learner.id)
                .where(RecognitionCase.authorization_request == authorization_request)
            ).first()
        return row.id if row is not None else None

    def collect(self, learner: Learner, case_id: str) -> dict[str, Any]:
        """Collect an approved case's award now (after a failed automatic attempt)."""
        row = self._own_case(learner, case_id)
        if row.credential_id is not None:
            return self._follow(learner, row, False)
        if not row.credential_offer_uri:
            raise Conflict("no_award_offer", "the institution has not offered a credential yet")
        self._collect(learner, row, raise_errors=True)
        return self._follow(learner, row, False)

    def _follow(self, learner: Learner, row: RecognitionCase, refresh: bool) -> dict[str, Any]:
        unreachable = None
        if refresh:
            if row.state == AWAITING:
                sent = self._sent(learner, row)
                if sent is not None:
                    self._save(row, state="open" if sent else NOT_SENT)
            if row.state not in (AWAITING, NOT_SENT, *FINAL) and row.credential_id is None:
                unreachable = self._refresh(row)
            if (
                row.state in ("approved", "awarded")
                and row.credential_offer_uri
                and row.credential_id is None
                and row.collect_error is None
            ):
                self._collect(learner, row, raise_errors=False)
        return _case_dict(row, unreachable)

    def _sent(self, learner: Learner, row: RecognitionCase) -> bool | None:
        """True once the learner sent the presentation, False if she declined, else None."""
        with self.db.session() as session:
            found = session.exec(
                select(Disclosure)
                .where(Disclosure.learner_id == learner.id)
                .where(Disclosure.response_uri == row.response_uri)
                .where(col(Disclosure.sent_at) >= row.created_at)
            ).all()
        outcomes = {d.outcome for d in found}
        if "sent" in outcomes:
            return True
        return False if "declined" in outcomes else None

    def _refresh(self, row: RecognitionCase) -> str | None:
        """Ask the institution for the case's state; a code when it could not be asked."""
        try:
            data = self._get_json(row.case_uri, "case_unreachable")
        except ServiceError as exc:
            self._save(row, checked=True)
            return exc.code
        state = data.get("state")
        if state not in CASE_STATES:
            self._save(row, checked=True)
            return "case_answer_invalid"
        reason = data.get("reason")
        offer = data.get("credential_offer_uri")
        self._save(
            row,
            state=state,
            reason=reason[:2000] if isinstance(reason, str) and reason.strip() else None,
            offer=offer if isinstance(offer, str) and offer else None,
            checked=True,
        )
        return None

    def _collect(self, learner: Learner, row: RecognitionCase, *, raise_errors: bool) -> None:
        try:
            received = self.receive.receive_offer(
                learner, row.credential_offer_uri, tx_code=None, keep_unverified=True
            )
        except ServiceError as exc:
            self._save(row, collect_error=str(exc.code)[:100])
            if raise_errors:
                raise
            return
        self._save(row, credential_id=received[0]["id"], collect_error="")

    def _save(
        self,
        row: RecognitionCase,
        *,
        state: str | None = None,
        reason: str | None = None,
        offer: str | None = None,
        credential_id: str | None = None,
        collect_error: str | None = None,
        checked: bool = False,
    ) -> None:
        now = self.clock()
        changed = False
        if state is not None and (state, reason) != (row.state, row.reason):
            row.state, row.reason, changed = state, reason, True
        if offer is not None and offer != row.credential_offer_uri:
            row.credential_offer_uri, row.collect_error, changed = offer, None, True
        if credential_id is not None:
            row.credential_id, changed = credential_id, True
        if collect_error is not None:
            row.collect_error, changed = (collect_error or None), True
        if changed:
            row.updated_at = now
        if checked:
            row.checked_at = now
        with self.db.session() as session:
            session.merge(row)

    # -- an award's parts ----------------------------------------------------------------

    def parts(self, learner: Learner, credential_id: str) -> dict[str, Any] | None:
        """The credentials a route or exemption credential stands on, matched with what the
        wallet holds by digest; None for a credential that references none."""
        rows = self.store.rows(learner.id)
        award = next((r for r in rows if r.id == credential_id), None)
        if award is None:
            raise NotFound("credential_not_found", "no such credential")
        if not isinstance(award.document, dict) or not evidence_refs(award.document):
            return None
        others = [r for r in rows if r.id != award.id]
        by_document = {id(r.document): r for r in others}
        stack = check_stack(award.document, [r.document for r in others])
        parts: list[dict[str, Any]] = []
        for entry in stack.entries:
            held = by_document.get(id(entry.credential)) if entry.credential is not None else None
            parts.append(
                {
                    "id": entry.ref.id,
                    "name": entry.ref.name,
                    "issuer": {"id": entry.ref.issuer_id, "name": entry.ref.issuer_name},
                    "ects": entry.ref.ects,
                    "status": entry.status,
                    "credential": summary(held) if held is not None else None,
                }
            )
        return {
            "modules": stack.modules,
            "institutions": stack.institutions,
            "complete": stack.complete,
            "intact": stack.intact,
            "parts": parts,
            "shareable": [p["credential"]["id"] for p in parts if p["status"] == "found"],
        }

    # -- helpers -------------------------------------------------------------------------

    def _own_route(self, learner: Learner, route_row_id: str) -> RecognitionRoute:
        with self.db.session() as session:
            row = session.get(RecognitionRoute, route_row_id) if len(route_row_id) <= 36 else None
        if row is None or row.learner_id != learner.id:
            raise NotFound("route_not_found", "no such institution route")
        return row

    def _pending_case(
        self, learner: Learner, route_row_id: str, *, refresh: bool = False
    ) -> str | None:
        """The case the institution is handling for this route, if any (as last seen, or
        asked again with ``refresh``)."""
        with self.db.session() as session:
            rows = session.exec(
                select(RecognitionCase)
                .where(RecognitionCase.learner_id == learner.id)
                .where(RecognitionCase.route_row_id == route_row_id)
                .where(col(RecognitionCase.state).in_((AWAITING, "open")))
            ).all()
        for row in rows:
            if refresh:
                self._follow(learner, row, True)
            if row.state == "open":
                return row.id
        return None

    def _own_case(self, learner: Learner, case_id: str) -> RecognitionCase:
        with self.db.session() as session:
            row = session.get(RecognitionCase, case_id) if len(case_id) <= 36 else None
        if row is None or row.learner_id != learner.id:
            raise NotFound("case_not_found", "no such recognition request")
        return row

    def _is_url(self, value: str) -> bool:
        try:
            parts = urlsplit(value)
        except ValueError:
            return False
        schemes = ("https", "http") if self.allow_insecure else ("https",)
        return parts.scheme in schemes and bool(parts.netloc) and "@" not in parts.netloc

    def _get_json(self, url: str, code: str) -> dict[str, Any]:
        try:
            response = self.fetcher.get(url, accept="application/json")
        except FetchHTTPError as exc:
            raise Upstream(code, f"{url} answered HTTP {exc.status}") from None
        except FetchError as exc:
            raise Upstream(code, exc.message) from None
        return _json_object(response.content, code)


def _json_object(content: bytes, code: str) -> dict[str, Any]:
    if len(content) > MAX_DOCUMENT:
        raise Upstream(code, "the answer is too large")
    try:
        data = json.loads(content or b"null")
    except ValueError:
        raise Upstream(code, "the answer is not JSON") from None
    if not isinstance(data, dict):
        raise Upstream(code, "the answer is not a JSON object")
    return data


def _read_route_document(document: Mapping[str, Any], url: str) -> tuple[Route, dict[str, Any]]:
    """The rule and what the wallet keeps beside it, from the institution's route document."""
    rule = document.get("rule")
    endpoint = document.get("recognition_endpoint")
    institution = document.get("institution")
    kind = document.get("kind", "route")
    if not isinstance(rule, dict) or not isinstance(endpoint, str):
        raise Invalid(
            "invalid_route_document", "the document has no rule or no recognition_endpoint"
        )
    if _origin(endpoint) != _origin(url):
        raise Invalid(
            "recognition_endpoint_elsewhere",
            "the recognition endpoint is not at the institution that published the route",
        )
    if kind not in KINDS:
        raise Invalid("invalid_route_document", "kind must be route or exemption")
    rule = dict(rule)
    # the route's identity in the wallet is its published address, not the rule's own id:
    # two institutions (or the wallet's catalogue) may both call a route "doorstroom-data"
    ident = document.get("id")
    rule["id"] = ident if isinstance(ident, str) and 0 < len(ident) <= 200 else url[:200]
    accepted = rule.get("accepted_issuers")
    if isinstance(accepted, list) and "trusted" in accepted:
        # "trusted" means the institution's own registry, which it does not publish: the
        # wallet counts any verified issuer, and the exam board decides whom it trusts
        # (its reason reaches the learner). Without this a route could never be asked for.
        del rule["accepted_issuers"]
    if "name" not in rule and isinstance(document.get("name"), str):
        rule["name"] = document["name"]
    try:
        route = Route.from_dict(rule)
    except MicrocredError as exc:
        raise Invalid(exc.code or "invalid_route", exc.message) from None
    name = institution.get("name") if isinstance(institution, dict) else None
    ident = None
    if isinstance(institution, dict):
        ident = institution.get("id") or institution.get("did")
    award = document.get("award")
    return route, {
        "recognition_endpoint": endpoint,
        "institution_name": name if isinstance(name, str) and name else urlsplit(url).netloc,
        "institution_id": ident if isinstance(ident, str) else None,
        "kind": kind,
        "award": award if isinstance(award, dict) else {},
    }


def _case_dict(row: RecognitionCase, unreachable: str | None) -> dict[str, Any]:
    return {
        "id": row.id,
        "routeId": row.route_row_id,
        "route": {"name": row.route_name, "institution": row.institution_name},
        "state": row.state,
        "reason": row.reason,
        "authorizationRequest": row.authorization_request if row.state == AWAITING else None,
        "credentialOffered": bool(row.credential_offer_uri),
        "credentialId": row.credential_id,
        "collectError": row.collect_error,
        "unreachable": unreachable,
        "createdAt": iso(row.created_at),
        "updatedAt": iso(row.updated_at),
        "checkedAt": iso(row.checked_at),
    }


__all__ = ["RecognitionService"]
