"""The issuer console: a registrar (studentenadministratie) works here in a browser.

Log in with an institution's API token; then manage the module catalogue, issue a module to
one learner (an OpenID4VCI offer shown as a QR code, or signed at once for an e-mail
address), issue to a whole cohort from a CSV file with a progress bar, look through what
was issued, and revoke or suspend a credential with a reason.

Every action calls the same service function the HTTP API calls (``services.modules``,
``offers``, ``issuance``, ``batch``, ``records``, ``status_lists``, ``audit``), under the
same scopes, with the token's id as the actor in the audit log. The pages add no logic of
their own beyond turning form fields into the API's input models (so a bad field gets the
API's field-by-field message) and results into templates.

The page session is the API token itself, sealed (AES-GCM, 8 hours) in an HttpOnly
cookie: the service has no session table, and sealing means a copied cookie expires and
never reveals the token. It is checked against the token table on every request, so a
revoked token ends the session at once.

Cohort batches run in a background thread of this process so the page can show progress
(``batch.run`` reports it through its ``progress`` callback); the job's state lives in
process memory. Behind a load balancer with several instances the progress page needs
sticky sessions; the batch itself stays idempotent and its report is in the audit log.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlmodel import col, select

from credentials.microcredential import PARTICIPATION_FORMS, SUPERVISION, read_microcredential
from servicekit.errors import ServiceError, http_status
from servicekit.qr import qr_png_data_uri
from servicekit.web import (
    LoginRequired,
    NavItem,
    PageError,
    Web,
    format_date,
    microcredential_rows,
    safe_next,
)

from ..deps import Principal
from ..models import ApiToken, Institution
from ..schemas import IssueModuleIn, ModuleIn, OfferIn, validate
from ..services import (
    audit,
    batch,
    institutions,
    issuance,
    modules,
    offers,
    records,
    status_lists,
    tokens,
    urls,
)
from ..services.clock import aware
from ..services.context import IssuerContext

HERE = Path(__file__).resolve().parent.parent
SESSION_COOKIE = "mc_issuer_session"
OFFER_COOKIE = "mc_issuer_offer"
SESSION_SECONDS = 8 * 3600
WALLET_URL_ENV = "MICROCRED_WALLET_URL"
PAGE_SIZE = 25
JOB_KEEP_SECONDS = 3600
SAMPLE_CSV = "email,student_number,grade,awarded_date\nanna@example.nl,500123,8,2026-06-30\n"

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "issuer.app_name": "microcred uitgifte",
        "issuer.nav.home": "Overzicht",
        "issuer.nav.modules": "Modules",
        "issuer.nav.issue": "Uitgeven",
        "issuer.nav.batch": "Cohort",
        "issuer.nav.credentials": "Uitgegeven",
        "logout": "Uitloggen",
        "issuer.login.title": "Inloggen voor de studentenadministratie",
        "issuer.login.lead": (
            "Log in met het API-token van je instelling. Het token staat alleen in een "
            "versleutelde cookie en vervalt na 8 uur."
        ),
        "issuer.login.token": "API-token",
        "issuer.login.submit": "Inloggen",
        "issuer.login.failed": "Dit token is onbekend of ingetrokken.",
        "issuer.login.ok": "Ingelogd als {name}.",
        "issuer.logout.ok": "Uitgelogd.",
        "issuer.scope_missing": "Je token mag dit niet (nodig: {scope}).",
        "issuer.home.title": "{name}",
        "issuer.home.did": "DID van de instelling",
        "issuer.home.modules": "Modules",
        "issuer.home.recent": "Laatst uitgegeven",
        "issuer.home.none": "Nog niets uitgegeven.",
        "issuer.home.issue": "Geef een module uit",
        "issuer.home.batch": "Cohort uit CSV",
        "issuer.modules.title": "Modules",
        "issuer.modules.none": "Nog geen modules. Maak hieronder de eerste.",
        "issuer.modules.new": "Nieuwe module",
        "issuer.modules.created": "Module ‘{name}’ is aangemaakt.",
        "issuer.modules.archived": "Module ‘{name}’ is gearchiveerd.",
        "issuer.modules.archive": "Archiveren",
        "issuer.modules.issue": "Uitgeven",
        "issuer.modules.invalid": "De module is niet opgeslagen. Verbeter de gemarkeerde velden.",
        "issuer.module.name": "Naam van de module",
        "issuer.module.description": "Omschrijving",
        "issuer.module.outcomes": "Leerresultaten (één per regel)",
        "issuer.module.ects": "ECTS",
        "issuer.module.hours": "Studielast in uren",
        "issuer.module.eqf": "EQF-niveau",
        "issuer.module.nlqf": "NLQF-niveau",
        "issuer.module.assessment": "Soort toetsing",
        "issuer.module.participation": "Vorm van deelname",
        "issuer.module.proof_suite": "Ondertekening",
        "issuer.module.proof_suite.default": "standaard (alles of niets delen)",
        "issuer.module.proof_suite.sd": "selectief delen (ecdsa-sd-2023, P-256-sleutel): "
        "de student kan cijfer, naam en studentnummer weglaten",
        "issuer.module.supervision": "Toezicht bij de toets",
        "issuer.module.identity_check": "Identiteit gecontroleerd bij de toets",
        "issuer.module.qa_name": "Kwaliteitszorg (naam)",
        "issuer.module.qa_url": "Kwaliteitszorg (link)",
        "issuer.module.language": "Taal (bijv. nl of en)",
        "issuer.module.prerequisites": "Vooropleiding (één per regel)",
        "issuer.module.grade_min": "Laagste cijfer",
        "issuer.module.grade_max": "Hoogste cijfer",
        "issuer.module.grade_pass": "Voldoende vanaf",
        "issuer.module.submit": "Module opslaan",
        "issuer.module.achievement_id": "Kenmerk (achievement id)",
        "issuer.issue.title": "Een module uitgeven aan één student",
        "issuer.issue.module": "Module",
        "issuer.issue.email": "E-mailadres van de student",
        "issuer.issue.student_number": "Studentnummer",
        "issuer.issue.did": "DID van de wallet (optioneel)",
        "issuer.issue.grade": "Cijfer",
        "issuer.issue.awarded": "Datum behaald",
        "issuer.issue.how": "Hoe ontvangt de student het?",
        "issuer.issue.offer": "Via de wallet van de student (QR-code)",
        "issuer.issue.direct": "Direct ondertekenen (te downloaden, zonder wallet)",
        "issuer.issue.pin": "Met pincode (de student krijgt die apart van je)",
        "issuer.issue.submit": "Uitgeven",
        "issuer.issue.no_modules": "Maak eerst een module aan.",
        "issuer.issue.invalid": "Niet uitgegeven: {detail}",
        "issuer.issue.signed": "Ondertekend en uitgegeven.",
        "issuer.offer.title": "Aanbod voor de student",
        "issuer.offer.lead": (
            "Laat de student deze QR-code scannen met zijn wallet, of stuur hem de link. "
            "Het aanbod is één keer te gebruiken."
        ),
        "issuer.offer.qr_caption": "Aanbod (OpenID4VCI)",
        "issuer.offer.open_wallet": "Openen in de microcred-wallet",
        "issuer.offer.pin": "Pincode voor de student: {pin}",
        "issuer.offer.pin_note": (
            "Geef de pincode apart (bijvoorbeeld per sms); hij staat niet in de QR-code."
        ),
        "issuer.offer.state": "Stand",
        "issuer.offer.state.offered": "wacht op de student",
        "issuer.offer.state.redeemed": "wordt opgehaald",
        "issuer.offer.state.issuing": "wordt opgehaald",
        "issuer.offer.state.issued": "opgehaald door de student",
        "issuer.offer.state.accepted": "in de wallet van de student",
        "issuer.offer.state.failed": "niet bewaard door de wallet",
        "issuer.offer.state.deleted": "verwijderd uit de wallet",
        "issuer.offer.not_kept": (
            "De wallet van de student heeft de microcredential niet bewaard. Maak een nieuw "
            "aanbod."
        ),
        "issuer.offer.state.expired": "verlopen",
        "issuer.offer.state.cancelled": "geannuleerd",
        "issuer.offer.waiting": "Wachten tot de student het ophaalt…",
        "issuer.offer.collected": "De student heeft de microcredential opgehaald.",
        "issuer.offer.expires": "Geldig tot",
        "issuer.offer.link_gone": (
            "De QR-code is alleen te zien in de browser waarin het aanbod is gemaakt."
        ),
        "issuer.offer.cancel": "Aanbod annuleren",
        "issuer.offer.cancelled": "Het aanbod is geannuleerd.",
        "issuer.offer.view_credential": "Bekijk de uitgegeven credential",
        "issuer.batch.title": "Een cohort uitgeven uit een CSV-bestand",
        "issuer.batch.lead": (
            "Eén regel per student. Kolommen: email, student_number, did, grade, "
            "awarded_date, result_status, row_key. Nogmaals uploaden geeft niets dubbel uit."
        ),
        "issuer.batch.file": "CSV-bestand",
        "issuer.batch.example": "Voorbeeld",
        "issuer.batch.submit": "Uitgeven aan het cohort",
        "issuer.batch.no_file": "Kies een CSV-bestand.",
        "issuer.batch.progress": "Voortgang",
        "issuer.batch.running": "Bezig: {done} van {total} regels",
        "issuer.batch.done": "Klaar: {total} regels in {seconds} s",
        "issuer.batch.failed": "De batch is niet uitgevoerd: {detail}",
        "issuer.batch.gone": "Deze batch is niet (meer) bekend in dit proces.",
        "issuer.batch.counts": (
            "Uitgegeven {issued} · al eerder {already_issued} · conflict "
            "{conflict} · mislukt {failed}"
        ),
        "issuer.batch.row": "Regel",
        "issuer.batch.key": "Student",
        "issuer.batch.status": "Uitkomst",
        "issuer.batch.detail": "Toelichting",
        "issuer.batch.status.issued": "uitgegeven",
        "issuer.batch.status.already_issued": "al eerder uitgegeven",
        "issuer.batch.status.conflict": "conflict",
        "issuer.batch.status.failed": "mislukt",
        "issuer.credentials.title": "Uitgegeven credentials",
        "issuer.credentials.filter": "Zoek op student",
        "issuer.credentials.filter_module": "Module",
        "issuer.credentials.all_modules": "alle modules",
        "issuer.credentials.search": "Zoeken",
        "issuer.credentials.none": "Niets gevonden.",
        "issuer.credentials.learner": "Student",
        "issuer.credentials.module": "Module",
        "issuer.credentials.issued": "Uitgegeven",
        "issuer.credentials.status": "Status",
        "issuer.credentials.source": "Via",
        "issuer.credentials.more": "Meer",
        "issuer.credential.title": "Credential",
        "issuer.credential.status": "Status wijzigen",
        "issuer.credential.reason": "Reden (komt in het auditlog)",
        "issuer.credential.revoke": "Intrekken",
        "issuer.credential.revoke_note": "Intrekken is definitief.",
        "issuer.credential.suspend": "Schorsen",
        "issuer.credential.unsuspend": "Schorsing opheffen",
        "issuer.credential.changed": "De status is nu: {status}.",
        "issuer.credential.failed": "De status is niet gewijzigd: {detail}",
        "issuer.credential.history": "Geschiedenis",
        "issuer.credential.download": "Download (JSON)",
        "issuer.credential.holder": "Wallet (DID)",
        "issuer.status.active": "geldig",
        "issuer.status.revoked": "ingetrokken",
        "issuer.status.suspended": "geschorst",
    },
    "en": {
        "issuer.app_name": "microcred issuing",
        "issuer.nav.home": "Overview",
        "issuer.nav.modules": "Modules",
        "issuer.nav.issue": "Issue",
        "issuer.nav.batch": "Cohort",
        "issuer.nav.credentials": "Issued",
        "logout": "Log out",
        "issuer.login.title": "Log in for the registrar's office",
        "issuer.login.lead": (
            "Log in with your institution's API token. The token is kept only in an "
            "encrypted cookie and expires after 8 hours."
        ),
        "issuer.login.token": "API token",
        "issuer.login.submit": "Log in",
        "issuer.login.failed": "This token is unknown or revoked.",
        "issuer.login.ok": "Logged in as {name}.",
        "issuer.logout.ok": "Logged out.",
        "issuer.scope_missing": "Your token may not do this (needs: {scope}).",
        "issuer.home.title": "{name}",
        "issuer.home.did": "The institution's DID",
        "issuer.home.modules": "Modules",
        "issuer.home.recent": "Recently issued",
        "issuer.home.none": "Nothing issued yet.",
        "issuer.home.issue": "Issue a module",
        "issuer.home.batch": "Cohort from CSV",
        "issuer.modules.title": "Modules",
        "issuer.modules.none": "No modules yet. Create the first one below.",
        "issuer.modules.new": "New module",
        "issuer.modules.created": "Module ‘{name}’ was created.",
        "issuer.modules.archived": "Module ‘{name}’ was archived.",
        "issuer.modules.archive": "Archive",
        "issuer.modules.issue": "Issue",
        "issuer.modules.invalid": "The module was not saved. Correct the marked fields.",
        "issuer.module.name": "Name of the module",
        "issuer.module.description": "Description",
        "issuer.module.outcomes": "Learning outcomes (one per line)",
        "issuer.module.ects": "ECTS",
        "issuer.module.hours": "Workload in hours",
        "issuer.module.eqf": "EQF level",
        "issuer.module.nlqf": "NLQF level",
        "issuer.module.assessment": "Type of assessment",
        "issuer.module.participation": "Form of participation",
        "issuer.module.proof_suite": "Signature",
        "issuer.module.proof_suite.default": "default (share all or nothing)",
        "issuer.module.proof_suite.sd": "selective disclosure (ecdsa-sd-2023, P-256 key): "
        "the learner may leave out grade, name and student number",
        "issuer.module.supervision": "Supervision during assessment",
        "issuer.module.identity_check": "Identity checked at assessment",
        "issuer.module.qa_name": "Quality assurance (name)",
        "issuer.module.qa_url": "Quality assurance (link)",
        "issuer.module.language": "Language (e.g. nl or en)",
        "issuer.module.prerequisites": "Prerequisites (one per line)",
        "issuer.module.grade_min": "Lowest grade",
        "issuer.module.grade_max": "Highest grade",
        "issuer.module.grade_pass": "Pass mark",
        "issuer.module.submit": "Save module",
        "issuer.module.achievement_id": "Identifier (achievement id)",
        "issuer.issue.title": "Issue a module to one learner",
        "issuer.issue.module": "Module",
        "issuer.issue.email": "Learner's e-mail address",
        "issuer.issue.student_number": "Student number",
        "issuer.issue.did": "Wallet DID (optional)",
        "issuer.issue.grade": "Grade",
        "issuer.issue.awarded": "Date achieved",
        "issuer.issue.how": "How does the learner receive it?",
        "issuer.issue.offer": "In the learner's wallet (QR code)",
        "issuer.issue.direct": "Sign now (downloadable, without a wallet)",
        "issuer.issue.pin": "With a PIN (you give it to the learner separately)",
        "issuer.issue.submit": "Issue",
        "issuer.issue.no_modules": "Create a module first.",
        "issuer.issue.invalid": "Not issued: {detail}",
        "issuer.issue.signed": "Signed and issued.",
        "issuer.offer.title": "Offer for the learner",
        "issuer.offer.lead": (
            "Let the learner scan this QR code with their wallet, or send them the link. "
            "The offer can be used once."
        ),
        "issuer.offer.qr_caption": "Offer (OpenID4VCI)",
        "issuer.offer.open_wallet": "Open in the microcred wallet",
        "issuer.offer.pin": "PIN for the learner: {pin}",
        "issuer.offer.pin_note": (
            "Give the PIN separately (e.g. by text message); it is not in the QR code."
        ),
        "issuer.offer.state": "State",
        "issuer.offer.state.offered": "waiting for the learner",
        "issuer.offer.state.redeemed": "being collected",
        "issuer.offer.state.issuing": "being collected",
        "issuer.offer.state.issued": "collected by the learner",
        "issuer.offer.state.accepted": "in the learner's wallet",
        "issuer.offer.state.failed": "not kept by the wallet",
        "issuer.offer.state.deleted": "deleted from the wallet",
        "issuer.offer.not_kept": (
            "The learner's wallet did not keep the microcredential. Make a new offer."
        ),
        "issuer.offer.state.expired": "expired",
        "issuer.offer.state.cancelled": "cancelled",
        "issuer.offer.waiting": "Waiting for the learner to collect it…",
        "issuer.offer.collected": "The learner has collected the microcredential.",
        "issuer.offer.expires": "Valid until",
        "issuer.offer.link_gone": (
            "The QR code can only be seen in the browser that created the offer."
        ),
        "issuer.offer.cancel": "Cancel offer",
        "issuer.offer.cancelled": "The offer was cancelled.",
        "issuer.offer.view_credential": "View the issued credential",
        "issuer.batch.title": "Issue to a cohort from a CSV file",
        "issuer.batch.lead": (
            "One line per learner. Columns: email, student_number, did, grade, awarded_date, "
            "result_status, row_key. Uploading again issues nothing twice."
        ),
        "issuer.batch.file": "CSV file",
        "issuer.batch.example": "Example",
        "issuer.batch.submit": "Issue to the cohort",
        "issuer.batch.no_file": "Choose a CSV file.",
        "issuer.batch.progress": "Progress",
        "issuer.batch.running": "Working: {done} of {total} rows",
        "issuer.batch.done": "Done: {total} rows in {seconds} s",
        "issuer.batch.failed": "The batch did not run: {detail}",
        "issuer.batch.gone": "This batch is not (or no longer) known to this process.",
        "issuer.batch.counts": (
            "Issued {issued} · earlier {already_issued} · conflict {conflict} · failed {failed}"
        ),
        "issuer.batch.row": "Row",
        "issuer.batch.key": "Learner",
        "issuer.batch.status": "Outcome",
        "issuer.batch.detail": "Detail",
        "issuer.batch.status.issued": "issued",
        "issuer.batch.status.already_issued": "issued earlier",
        "issuer.batch.status.conflict": "conflict",
        "issuer.batch.status.failed": "failed",
        "issuer.credentials.title": "Issued credentials",
        "issuer.credentials.filter": "Find a learner",
        "issuer.credentials.filter_module": "Module",
        "issuer.credentials.all_modules": "all modules",
        "issuer.credentials.search": "Search",
        "issuer.credentials.none": "Nothing found.",
        "issuer.credentials.learner": "Learner",
        "issuer.credentials.module": "Module",
        "issuer.credentials.issued": "Issued",
        "issuer.credentials.status": "Status",
        "issuer.credentials.source": "Via",
        "issuer.credentials.more": "More",
        "issuer.credential.title": "Credential",
        "issuer.credential.status": "Change the status",
        "issuer.credential.reason": "Reason (goes into the audit log)",
        "issuer.credential.revoke": "Revoke",
        "issuer.credential.revoke_note": "Revocation is permanent.",
        "issuer.credential.suspend": "Suspend",
        "issuer.credential.unsuspend": "Lift suspension",
        "issuer.credential.changed": "The status is now: {status}.",
        "issuer.credential.failed": "The status was not changed: {detail}",
        "issuer.credential.history": "History",
        "issuer.credential.download": "Download (JSON)",
        "issuer.credential.holder": "Wallet (DID)",
        "issuer.status.active": "valid",
        "issuer.status.revoked": "revoked",
        "issuer.status.suspended": "suspended",
    },
}

web = Web(
    "issuer",
    templates=HERE / "templates",
    messages=MESSAGES,
    session_cookie=SESSION_COOKIE,
    settings_of=lambda request: request.app.state.issuer.settings,
)
router = web.page_router()

NAV = [
    NavItem("issuer.nav.home", "/console"),
    NavItem("issuer.nav.modules", "/console/modules"),
    NavItem("issuer.nav.issue", "/console/issue"),
    NavItem("issuer.nav.batch", "/console/batch"),
    NavItem("issuer.nav.credentials", "/console/credentials"),
    NavItem("recognition.nav", "/console/recognition"),  # issue 17 (recognition_pages.py)
]


# --------------------------------------------------------------------------- session


def _ctx(request: Request) -> IssuerContext:
    return request.app.state.issuer


def _principal(request: Request) -> Principal | None:
    """The logged-in token, checked against the token table on every request."""
    sealed = web.unseal(request, "console", request.cookies.get(SESSION_COOKIE))
    if not sealed or "|" not in sealed:
        return None
    slug, _, rest = sealed.partition("|")
    token, _, parent_id = rest.partition("|")
    ctx = _ctx(request)
    with ctx.db.session() as session:
        row = tokens.authenticate(session, token)
        if row is None:
            return None
        if parent_id:
            # the session ends with the token that opened it
            parent = session.get(ApiToken, parent_id)
            if parent is None or parent.revoked_at is not None:
                return None
        try:
            institution = institutions.by_slug(session, slug)
        except ServiceError:
            return None
    if row.institution_id != institution.id:
        return None
    return Principal(row.id, institution, frozenset(row.scopes.split()))


def require_login(request: Request) -> Principal:
    principal = _principal(request)
    if principal is None:
        raise LoginRequired("/", request.url.path)
    return principal


Console = Annotated[Principal, Depends(require_login)]


def _need(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise PageError(403, "issuer.scope_missing", scope=scope)


def _render(request: Request, principal: Principal | None, template: str, **context: Any) -> Any:
    return web.render(
        request,
        template,
        nav=NAV if principal else [],
        user_label=principal.institution.name if principal else None,
        logout_path="/logout" if principal else None,
        institution=principal.institution if principal else None,
        scopes=principal.scopes if principal else frozenset(),
        **context,
    )


# --------------------------------------------------------------------------- log-in


@router.get("/")
def start(request: Request, next: str = "") -> Response:
    """The start page: the log-in form, or the console when logged in already."""
    if _principal(request) is not None:
        return web.redirect(request, safe_next(next, "/console"))
    t = web.translator(request)
    return _render(request, None, "login.html", page_title=t("issuer.login.title"), next=next)


@router.post("/login")
def login(
    request: Request, token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = ""
) -> Response:
    ctx = _ctx(request)
    token = token.strip()
    with ctx.db.session() as session:
        row = tokens.authenticate(session, token)
        institution = session.get(Institution, row.institution_id) if row else None
    if row is None or institution is None:
        t = web.translator(request)
        return _render(
            request,
            None,
            "login.html",
            page_title=t("issuer.login.title"),
            next=next,
            error=t("issuer.login.failed"),
            status_code=401,
        )
    response = web.redirect(
        request,
        safe_next(next, "/console"),
        flash=("success", "issuer.login.ok"),
        name=institution.name,
    )
    session_token = _open_console_session(ctx, institution, row)
    sealed = web.seal(
        request, "console", f"{institution.slug}|{session_token}|{row.id}", SESSION_SECONDS
    )
    web.set_cookie(request, response, SESSION_COOKIE, sealed, max_age=SESSION_SECONDS)
    return response


CONSOLE_SESSION = "console session"


def _open_console_session(ctx: IssuerContext, institution: Institution, parent: Any) -> str:
    """A token of its own for this console session, so that log-out can end it server-side.

    Issue 14 item 10: the cookie used to carry the API token itself, so a copy of the cookie
    kept working after log-out. Now log-out revokes the session token; sessions nobody
    logged out of are revoked at a later log-in once older than the cookie's lifetime.
    """
    now = ctx.now()
    with ctx.db.session() as session:
        stale = session.exec(
            select(ApiToken).where(
                ApiToken.institution_id == institution.id,
                ApiToken.name == CONSOLE_SESSION,
                col(ApiToken.revoked_at).is_(None),
            )
        ).all()
        for old in stale:
            created = aware(old.created_at) or now
            if (now - created).total_seconds() > SESSION_SECONDS:
                old.revoked_at = now
                session.add(old)
        _, plain = tokens.create(
            session,
            institution,
            name=CONSOLE_SESSION,
            scopes=parent.scopes,
            actor=f"console:{parent.id}",
            now=now,
        )
    return plain


@router.post("/logout")
def logout(request: Request) -> Response:
    response = web.redirect(request, "/", flash=("info", "issuer.logout.ok"))
    sealed = web.unseal(request, "console", request.cookies.get(SESSION_COOKIE))
    if sealed and sealed.count("|") == 2:
        _, token, _ = sealed.split("|")
        ctx = _ctx(request)
        with ctx.db.session() as session:
            row = tokens.authenticate(session, token)
            if row is not None and row.name == CONSOLE_SESSION:
                row.revoked_at = ctx.now()
                session.add(row)
    web.delete_cookie(request, response, SESSION_COOKIE)
    return response


# --------------------------------------------------------------------------- overview


def _title_of(document: dict[str, Any] | None) -> str | None:
    if not isinstance(document, dict):
        return None
    return read_microcredential(document).title


def _listed(ctx: IssuerContext, institution: Institution, items: list[dict[str, Any]]) -> list:
    """Issued-credential summaries with the module title read from each document.

    The listing service does not name the module, so each listed credential is read back
    with ``records.get`` (a page shows at most ``PAGE_SIZE`` of them).
    """
    out = []
    for item in items:
        try:
            full = records.get(ctx, institution, item["credentialId"])
            title = _title_of(full.get("verifiableCredential"))
        except ServiceError:
            title = None
        out.append({**item, "title": title})
    return out


@router.get("/console")
def home(request: Request, principal: Console) -> Response:
    ctx = _ctx(request)
    institution = principal.institution
    listing = records.listing(ctx, institution, limit=5)
    return _render(
        request,
        principal,
        "home.html",
        page_title=institution.name,
        did=urls.institution_did(ctx.settings.public_url, institution.slug),
        modules=modules.listing(ctx, institution),
        recent=_listed(ctx, institution, listing["credentials"]),
    )


# --------------------------------------------------------------------------- modules


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _module_body(form: dict[str, str]) -> dict[str, Any]:
    """The API's module body from the form (empty fields left out, so the API's own
    defaults and messages apply)."""
    body: dict[str, Any] = {
        "name": form.get("name", ""),
        "description": form.get("description", ""),
        "learning_outcomes": _lines(form.get("learning_outcomes", "")),
        "assessment_type": form.get("assessment_type", ""),
        "participation_form": form.get("participation_form", ""),
        "quality_assurance": {"name": form.get("qa_name", ""), "url": form.get("qa_url", "")},
        "prerequisites": _lines(form.get("prerequisites", "")),
    }
    for key, kind in (("ects", float), ("hours", int), ("eqf_level", int), ("nlqf_level", int)):
        raw = form.get(key, "").strip().replace(",", ".")
        if raw:
            try:
                body[key] = kind(float(raw)) if kind is int else kind(raw)
            except ValueError:
                body[key] = raw  # the API names the field
    for key in ("language", "supervision", "proof_suite"):
        if form.get(key, "").strip():
            body[key] = form[key].strip()
    if form.get("identity_check"):
        body["identity_check"] = True
    grading = {
        name: form.get(field_name, "").strip()
        for name, field_name in (
            ("value_min", "grade_min"),
            ("value_max", "grade_max"),
            ("required_value", "grade_pass"),
        )
        if form.get(field_name, "").strip()
    }
    if grading:
        body["grading"] = grading
    return body


def _field_errors(exc: ServiceError) -> dict[str, str]:
    errors = exc.extra.get("errors") or [{"field": "", "message": exc.detail}]
    return {str(e.get("field", "")): str(e.get("message", "")) for e in errors}


def _modules_page(request: Request, principal: Principal, **context: Any) -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return _render(
        request,
        principal,
        "modules.html",
        page_title=t("issuer.modules.title"),
        modules=modules.listing(ctx, principal.institution),
        participation_forms=PARTICIPATION_FORMS,
        supervision_values=SUPERVISION,
        **context,
    )


@router.get("/console/modules")
def module_list(request: Request, principal: Console) -> Response:
    return _modules_page(request, principal)


@router.post("/console/modules")
async def module_create(request: Request, principal: Console) -> Response:
    _need(principal, "admin")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    ctx = _ctx(request)
    try:
        spec = validate(ModuleIn, _module_body(form))
        created = modules.create(ctx, principal.institution, spec, actor=principal.actor)
    except ServiceError as exc:
        t = web.translator(request)
        return _modules_page(
            request,
            principal,
            form=form,
            errors=_field_errors(exc),
            error=t("issuer.modules.invalid"),
            status_code=422,
        )
    return web.redirect(
        request,
        "/console/modules",
        flash=("success", "issuer.modules.created"),
        name=created["name"],
    )


@router.post("/console/modules/{module_id}/archive")
def module_archive(request: Request, principal: Console, module_id: str) -> Response:
    _need(principal, "admin")
    try:
        archived = modules.archive(
            _ctx(request), principal.institution, module_id, actor=principal.actor
        )
    except ServiceError as exc:
        raise PageError(http_status(exc), "error.not_found") from None
    return web.redirect(
        request,
        "/console/modules",
        flash=("info", "issuer.modules.archived"),
        name=archived["name"],
    )


# --------------------------------------------------------------------------- issuing


def _issue_page(request: Request, principal: Principal, **context: Any) -> Response:
    t = web.translator(request)
    context.setdefault("form", {"module_id": request.query_params.get("module", "")})
    context.setdefault("error", None)
    return _render(
        request,
        principal,
        "issue.html",
        page_title=t("issuer.issue.title"),
        modules=modules.listing(_ctx(request), principal.institution),
        **context,
    )


@router.get("/console/issue")
def issue_form(request: Request, principal: Console) -> Response:
    return _issue_page(request, principal)


@router.post("/console/issue")
async def issue(request: Request, principal: Console) -> Response:
    """An offer for the learner's wallet (default), or a credential signed at once."""
    _need(principal, "issue")
    ctx = _ctx(request)
    t = web.translator(request)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    learner = {
        key: form[key].strip()
        for key in ("email", "student_number", "did")
        if form.get(key, "").strip()
    }
    result = {
        key: form[name].strip()
        for key, name in (("grade", "grade"), ("awarded_date", "awarded_date"))
        if form.get(name, "").strip()
    }
    body: dict[str, Any] = {"module_id": form.get("module_id", ""), "learner": learner}
    if result:
        body["result"] = result
    direct = form.get("how") == "direct"
    try:
        if direct:
            issued = issuance.issue_module(
                ctx,
                principal.institution,
                validate(IssueModuleIn, body),
                actor=principal.actor,
                raw_body=body,
            )
        else:
            if form.get("pin"):
                body["pin"] = True
            created = offers.create(
                ctx, principal.institution, validate(OfferIn, body), actor=principal.actor
            )
    except ServiceError as exc:
        return _issue_page(
            request,
            principal,
            form=form,
            error=t("issuer.issue.invalid", detail=exc.detail),
            status_code=http_status(exc) if http_status(exc) < 500 else 400,
        )
    if direct:
        target = "/console/credential?id=" + quote(issued.credential["id"], safe="")
        return web.redirect(request, target, flash=("success", "issuer.issue.signed"))
    path = f"/console/offers/{created['id']}"
    response = web.redirect(request, path)
    sealed = web.seal(
        request,
        "offer",
        json.dumps({"uri": created["offer_uri"], "pin": created.get("pin")}),
        ctx.settings.max_offer_ttl,
    )
    web.set_cookie(
        request, response, OFFER_COOKIE, sealed, max_age=ctx.settings.offer_ttl, path=path
    )
    return response


def _offer(request: Request, principal: Principal, offer_id: str) -> dict[str, Any]:
    try:
        return offers.get(_ctx(request), principal.institution, offer_id)
    except ServiceError:
        raise PageError(404, "error.not_found") from None


@router.get("/console/offers/{offer_id}")
def offer_page(request: Request, principal: Console, offer_id: str) -> Response:
    t = web.translator(request)
    offer = _offer(request, principal, offer_id)
    raw = web.unseal(request, "offer", request.cookies.get(OFFER_COOKIE))
    secret = json.loads(raw) if raw else {}
    link = secret.get("uri") if offer["state"] == "offered" else None
    wallet = os.environ.get(WALLET_URL_ENV, "").rstrip("/")
    return _render(
        request,
        principal,
        "offer.html",
        page_title=t("issuer.offer.title"),
        offer=offer,
        link=link,
        qr=qr_png_data_uri(link) if link else None,
        pin=secret.get("pin") if link else None,
        wallet_link=f"{wallet}/receive?offer={quote(link, safe='')}" if link and wallet else None,
        has_secret=bool(raw),
        credential_href=(
            "/console/credential?id=" + quote(offer["credential_id"], safe="")
            if offer.get("credential_id")
            else None
        ),
    )


@router.get("/console/offers/{offer_id}/state")
def offer_state(request: Request, principal: Console, offer_id: str) -> Response:
    """For poll.js: has the learner collected the offer yet?"""
    offer = _offer(request, principal, offer_id)
    done = offer["state"] not in ("offered", "redeemed", "issuing")
    body = {"done": done, "url": f"/console/offers/{offer_id}"} if done else {"done": False}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/console/offers/{offer_id}/cancel")
def offer_cancel(request: Request, principal: Console, offer_id: str) -> Response:
    _need(principal, "issue")
    try:
        offers.cancel(_ctx(request), principal.institution, offer_id, actor=principal.actor)
    except ServiceError as exc:
        raise PageError(http_status(exc), "error.not_found") from None
    return web.redirect(
        request, f"/console/offers/{offer_id}", flash=("info", "issuer.offer.cancelled")
    )


# --------------------------------------------------------------------------- cohorts


@dataclass
class BatchJob:
    """A cohort batch running in a thread of this process, as the progress page sees it."""

    id: str
    institution_id: str
    module_id: str
    done: int = 0
    total: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> bool:
        return self.result is not None or self.error is not None


_jobs: dict[str, BatchJob] = {}
_jobs_lock = threading.Lock()


def _forget_old_jobs() -> None:
    cutoff = time.monotonic() - JOB_KEEP_SECONDS
    with _jobs_lock:
        for key in [k for k, job in _jobs.items() if job.finished and job.started < cutoff]:
            del _jobs[key]


def _run_job(ctx: IssuerContext, institution: Institution, job: BatchJob, data: bytes, actor: str):  # type: ignore[no-untyped-def]
    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        job.result = batch.run(
            ctx, institution, job.module_id, data, actor=actor, progress=progress
        )
        job.done = job.total = job.result.get("total", job.total)
    except ServiceError as exc:
        job.error = exc.detail
    except Exception as exc:  # shown to the registrar; the batch leaves nothing half-done
        job.error = f"unexpected error: {type(exc).__name__}"


def _batch_page(request: Request, principal: Principal, **context: Any) -> Response:
    t = web.translator(request)
    context.setdefault("error", None)
    context.setdefault("module_id", request.query_params.get("module", ""))
    return _render(
        request,
        principal,
        "batch.html",
        page_title=t("issuer.batch.title"),
        modules=modules.listing(_ctx(request), principal.institution),
        sample=SAMPLE_CSV,
        **context,
    )


@router.get("/console/batch")
def batch_form(request: Request, principal: Console) -> Response:
    return _batch_page(request, principal)


@router.post("/console/batch")
def batch_start(
    request: Request,
    principal: Console,
    module_id: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Start the batch in the background and go to its progress page."""
    _need(principal, "issue")
    ctx = _ctx(request)
    t = web.translator(request)
    data = file.file.read(ctx.settings.max_csv_bytes + 1) if file is not None else b""
    if not data.strip():
        return _batch_page(
            request, principal, error=t("issuer.batch.no_file"), module_id=module_id,
            status_code=400,
        )  # fmt: skip
    try:
        issuance_module = modules.get(ctx, principal.institution, module_id)
    except ServiceError as exc:
        return _batch_page(
            request, principal, error=t("issuer.batch.failed", detail=exc.detail),
            module_id=module_id, status_code=400,
        )  # fmt: skip
    _forget_old_jobs()
    job = BatchJob(
        id=secrets.token_urlsafe(12),
        institution_id=principal.institution.id,
        module_id=issuance_module["id"],
    )
    with _jobs_lock:
        _jobs[job.id] = job
    threading.Thread(
        target=_run_job,
        args=(ctx, principal.institution, job, data, principal.actor),
        name=f"batch-{job.id}",
        daemon=True,
    ).start()
    return web.redirect(request, f"/console/batch/{job.id}")


def _job(principal: Principal, job_id: str) -> BatchJob:
    with _jobs_lock:
        job = _jobs.get(job_id)
    if job is None or job.institution_id != principal.institution.id:
        raise PageError(404, "issuer.batch.gone")
    return job


@router.get("/console/batch/{job_id}")
def batch_page(request: Request, principal: Console, job_id: str) -> Response:
    t = web.translator(request)
    job = _job(principal, job_id)
    return _render(
        request,
        principal,
        "batch_job.html",
        page_title=t("issuer.batch.title"),
        job=job,
        rows=_report_rows(job.result) if job.result else [],
    )


def _report_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            **row,
            "href": "/console/credential?id=" + quote(row["credential_id"], safe="")
            if row.get("credential_id")
            else None,
            "message": (row.get("error") or {}).get("message", ""),
        }
        for row in result.get("rows", [])
    ]


@router.get("/console/batch/{job_id}/state")
def batch_state(request: Request, principal: Console, job_id: str) -> Response:
    job = _job(principal, job_id)
    body: dict[str, Any] = {"done": job.finished, "progress": job.done, "total": job.total}
    if job.finished:
        body["url"] = f"/console/batch/{job.id}"
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.get("/console/batch-example.csv")
def batch_example(request: Request, principal: Console) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in csv.reader(io.StringIO(SAMPLE_CSV)):
        writer.writerow(line)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="cohort-example.csv"'},
    )


# --------------------------------------------------------------------------- issued


@router.get("/console/credentials")
def credential_list(
    request: Request,
    principal: Console,
    learner: str = "",
    module: str = "",
    before: int | None = Query(default=None, ge=1, le=2**31 - 1),
) -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    listing = records.listing(
        ctx,
        principal.institution,
        learner=learner.strip() or None,
        module=module or None,
        before=before,
        limit=PAGE_SIZE,
    )
    items = _listed(ctx, principal.institution, listing["credentials"])
    for item in items:
        item["href"] = "/console/credential?id=" + quote(item["credentialId"], safe="")
    more = None
    if listing["next"]:
        more = (
            f"/console/credentials?learner={quote(learner)}&module={quote(module)}"
            f"&before={listing['next']}"
        )
    return _render(
        request,
        principal,
        "credentials.html",
        page_title=t("issuer.credentials.title"),
        items=items,
        learner=learner,
        module=module,
        modules=modules.listing(ctx, principal.institution, include_archived=True),
        more=more,
    )


@router.get("/console/credential")
def credential_page(request: Request, principal: Console, id: str = "") -> Response:
    ctx = _ctx(request)
    t = web.translator(request)
    try:
        record = records.get(ctx, principal.institution, id)
    except ServiceError:
        raise PageError(404, "error.not_found") from None
    document = record["verifiableCredential"]
    with ctx.db.session() as session:
        history, _ = audit.query(session, principal.institution.id, credential_id=id, limit=50)
    return _render(
        request,
        principal,
        "credential.html",
        page_title=t("issuer.credential.title"),
        record=record,
        rows=microcredential_rows(read_microcredential(document), t),
        history=history,
        credential_id=id,
        download=f"/console/credential.json?id={quote(id, safe='')}",
        formatted_date=format_date,
    )


@router.get("/console/credential.json")
def credential_download(request: Request, principal: Console, id: str = "") -> Response:
    try:
        record = records.get(_ctx(request), principal.institution, id)
    except ServiceError:
        raise PageError(404, "error.not_found") from None
    body = json.dumps(record["verifiableCredential"], indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="microcredential.json"',
            "Cache-Control": "no-store",
        },
    )


_ACTIONS = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "active"}


@router.post("/console/credential/status")
def credential_status(
    request: Request,
    principal: Console,
    credential_id: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Revoke, suspend or unsuspend through the same service as the status API."""
    _need(principal, "revoke")
    back = "/console/credential?id=" + quote(credential_id, safe="")
    if action not in _ACTIONS:
        raise PageError(400, "error.invalid_form", detail="action")
    t = web.translator(request)
    try:
        state = status_lists.change(
            _ctx(request),
            principal.institution,
            credential_id,
            [_ACTIONS[action]],
            actor=principal.actor,
            reason=reason.strip()[:1000] or None,
        )
    except ServiceError as exc:
        return web.redirect(
            request, back, flash=("error", "issuer.credential.failed"), detail=exc.detail
        )
    return web.redirect(
        request,
        back,
        flash=("success", "issuer.credential.changed"),
        status=t(f"issuer.status.{state['status']}"),
    )
