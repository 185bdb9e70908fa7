"""The verifier's pages: an employer or exam board checks a microcredential in a browser.

Four ways in, one way out. A credential is pasted or uploaded, a learner's share link is
pasted, a presentation request is shown as a QR for the learner's wallet, or an admission
rule is evaluated; each ends on a result page that a non-technical reader understands at a
glance (a green or red verdict with the institution's registry name, the module, ECTS,
level and date) while every check stays one click away.

The pages call the very services the VC-API routes call (``services.vcapi``,
``services.shares``, ``services.requests``, ``services.admissions``); they only turn form
fields into the services' inputs and results into templates. Nothing verified is stored
for the pages: results are rendered in the answer to the form, or, for a presentation
request, read from the request's stored result with its secret token, which the page keeps
in a cookie limited to that request's path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from credentials import disclosure
from credentials.errors import MicrocredError
from credentials.formats import detect_format
from credentials.ob2 import is_ob2
from credentials.reading import read_credential
from servicekit.errors import NotFound, ServiceError
from servicekit.qr import qr_png_data_uri
from servicekit.ratelimit import per_client
from servicekit.web import (
    FieldRow,
    NavItem,
    PageError,
    ReportView,
    Translator,
    Web,
    format_date,
    format_number,
    microcredential_rows,
    report_view,
)

from ..services.admissions import evaluate_results, parse_route
from ..services.container import Services
from ..services.requests import QR_MAX_CHARS, by_value_uri, request_uri_for
from ..services.vcapi import parse_body
from ..services.verification import VerificationResult, malformed

HERE = Path(__file__).resolve().parent.parent
RESULT_COOKIE = "mc_verifier_result"
EXPIRY_CHOICES = (600, 3600, 86400)

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "verifier.app_name": "microcred controle",
        "verifier.nav.check": "Controleren",
        "verifier.nav.request": "Vraag de student",
        "verifier.nav.admission": "Toelating",
        "verifier.start.title": "Controleer een microcredential",
        "verifier.start.lead": (
            "Zie in één oogopslag of een microcredential echt is, van welke erkende "
            "instelling hij komt en wat hij waard is."
        ),
        "verifier.share.title": "Deellink van een student",
        "verifier.share.label": "Plak de deellink",
        "verifier.share.hint": "De link die de student uit zijn wallet met je heeft gedeeld.",
        "verifier.share.submit": "Controleer link",
        "verifier.share.again": "Opnieuw controleren",
        "verifier.file.title": "Bestand of JSON",
        "verifier.file.label": "Plak de credential (JSON)",
        "verifier.file.upload": "of kies een bestand",
        "verifier.file.submit": "Controleer credential",
        "verifier.file.empty": "Plak een credential of kies een bestand.",
        "verifier.request.card_title": "Vraag de student om een bewijs",
        "verifier.request.card_text": (
            "Maak een verzoek en laat de student de QR-code scannen met zijn wallet."
        ),
        "verifier.request.start": "Nieuw verzoek",
        "verifier.admission.card_title": "Toelating of vrijstelling",
        "verifier.admission.card_text": (
            "Toets gestapelde microcredentials aan een regel, bijvoorbeeld 15 ECTS op EQF-niveau 6."
        ),
        "verifier.admission.start": "Regel toetsen",
        "verifier.verdict.verified.title": "Echt en geldig",
        "verifier.verdict.verified.text": (
            "Uitgegeven door een erkende instelling, onderweg niet veranderd en niet ingetrokken."
        ),
        "verifier.verdict.untrusted.title": "Echt ondertekend, instelling niet erkend",
        "verifier.verdict.untrusted.text": (
            "De handtekening klopt, maar de uitgever staat niet in het register van erkende "
            "instellingen. Ga na wie dit heeft uitgegeven."
        ),
        "verifier.verdict.hosted_verified.title": "Bevestigd door de server van de uitgever",
        "verifier.verdict.hosted_untrusted.title": (
            "Bevestigd door de server van de uitgever, instelling niet erkend"
        ),
        "verifier.verdict.hosted_unknown.title": (
            "Bevestigd door de server van de uitgever, status onbekend"
        ),
        "verifier.verdict.hosted.text": (
            "Deze Open Badge 2.0 is niet digitaal ondertekend. Hij klopt met wat de server van "
            "de uitgever nu bewaart en is zo betrouwbaar als die server: wie die beheert, kan "
            "hem veranderen."
        ),
        "verifier.verdict.unknown.title": "Echt, status onbekend",
        "verifier.verdict.unknown.text": (
            "De handtekening klopt, maar of de instelling hem heeft ingetrokken kon nu niet "
            "worden nagegaan. Probeer het later opnieuw."
        ),
        "verifier.verdict.revoked.title": "Ingetrokken",
        "verifier.verdict.revoked.text": (
            "De instelling heeft deze microcredential ingetrokken. Hij is niet meer geldig."
        ),
        "verifier.verdict.suspended.title": "Geschorst",
        "verifier.verdict.suspended.text": (
            "De instelling heeft deze microcredential tijdelijk geschorst. Hij is nu niet geldig."
        ),
        "verifier.verdict.expired.title": "Verlopen",
        "verifier.verdict.expired.text": "De geldigheid van deze microcredential is verlopen.",
        "verifier.verdict.failed.title": "Niet geldig",
        "verifier.verdict.failed.text": "Deze microcredential kon niet worden bevestigd.",
        "verifier.verdict.declined.title": "Geweigerd door de student",
        "verifier.verdict.declined.text": "De student heeft besloten niets te delen.",
        "verifier.verdict.mismatch.title": "Past niet bij het verzoek",
        "verifier.verdict.mismatch.text": (
            "Wat gedeeld is, is niet wat u vroeg. Bekijk hieronder wat er ontbreekt."
        ),
        "verifier.reason": "Reden: {reason}",
        "verifier.result.title": "Resultaat van de controle",
        "verifier.result.credentials": "Gedeelde microcredentials",
        "verifier.result.presentation": "Controles van het delen",
        "verifier.result.none": "Er zat geen microcredential in.",
        "verifier.result.all_details": "Alle gegevens van deze microcredential",
        "verifier.result.checked_at": "Gecontroleerd op {when}",
        "verifier.result.share_url": "Gecontroleerde link",
        "verifier.result.new": "Nog een controle",
        "verifier.card.institution_registry": "volgens het register van erkende instellingen",
        "verifier.card.institution_claimed": (
            "naam volgens de credential zelf; niet in het register"
        ),
        "verifier.card.holder": "Op naam van (DID)",
        "verifier.request.title": "Vraag de student om een bewijs",
        "verifier.request.purpose": "Waarvoor vraagt u het?",
        "verifier.request.purpose_hint": (
            "De student ziet dit, bijvoorbeeld ‘Sollicitatie data-analist’."
        ),
        "verifier.request.purpose_default": "Controle van een microcredential",
        "verifier.request.ask": "Wat vraagt u?",
        "verifier.request.ask_any": "Een microcredential naar keuze van de student",
        "verifier.request.ask_module": "Een bepaalde module",
        "verifier.request.ask_rule": "Genoeg studiepunten volgens een regel",
        "verifier.request.module": "Naam van de module",
        "verifier.request.expires": "Geldig",
        "verifier.request.expires_600": "10 minuten",
        "verifier.request.expires_3600": "1 uur",
        "verifier.request.expires_86400": "1 dag",
        "verifier.request.submit": "Maak verzoek met QR-code",
        "verifier.request.wait_title": "Laat de student deze code scannen",
        "verifier.request.wait_text": (
            "De student opent het verzoek in zijn wallet, ziet precies wat u vraagt en "
            "besluit zelf of hij het deelt. Het resultaat verschijnt hier vanzelf."
        ),
        "verifier.request.qr_caption": "Verzoek voor de wallet van de student",
        "verifier.request.waiting": "Wachten op het antwoord van de student…",
        "verifier.request.expired": "Dit verzoek is verlopen. Maak een nieuw verzoek.",
        "verifier.request.reload": "Nog geen antwoord? Ververs deze pagina.",
        "verifier.request.attempts": "Ongeldige antwoorden ontvangen: {n} (laatste: {last})",
        "verifier.request.no_token": (
            "Dit verzoek is in een andere browser gemaakt; alleen daar is het resultaat te zien."
        ),
        "verifier.request.asked": "Gevraagd",
        "verifier.request.purpose_label": "Doel",
        "verifier.request.query_met": "aanwezig",
        "verifier.request.query_unmet": "ontbreekt",
        "verifier.rule.title": "Regel",
        "verifier.rule.name": "Naam van de regel",
        "verifier.rule.name_default": "Toelatingsregel",
        "verifier.rule.min_ects": "Minimaal aantal ECTS",
        "verifier.rule.min_eqf": "Minimaal EQF-niveau van elke module",
        "verifier.rule.max_age": "Niet ouder dan (jaren)",
        "verifier.rule.keywords": "Onderwerp (trefwoord in de modulenaam)",
        "verifier.rule.keywords_hint": "Bijvoorbeeld ‘data’. Leeg laten voor elk onderwerp.",
        "verifier.rule.trusted_only": "Alleen erkende instellingen uit het register",
        "verifier.rule.advanced": "Of plak een volledige route-definitie (JSON)",
        "verifier.rule.invalid": "De regel klopt niet: {detail}",
        "verifier.admission.title": "Toelating of vrijstelling toetsen",
        "verifier.admission.lead": (
            "Toets de microcredentials van een aanvrager aan een regel. Alleen credentials "
            "die echt, geldig en van de aanvrager zelf zijn tellen mee."
        ),
        "verifier.admission.evidence": "Bewijs van de aanvrager",
        "verifier.admission.share": "Deellink van de aanvrager",
        "verifier.admission.json": "of plak een presentatie of credentials (JSON)",
        "verifier.admission.submit": "Toets aan de regel",
        "verifier.admission.no_evidence": "Geef een deellink of plak de credentials.",
        "verifier.admission.satisfied": "Voldoet aan de regel",
        "verifier.admission.not_satisfied": "Voldoet niet aan de regel",
        "verifier.admission.total": "{ects} ECTS telt mee",
        "verifier.admission.requirements": "Eisen",
        "verifier.admission.counted": "Wat meetelt",
        "verifier.admission.not_counted": "Wat niet meetelt",
        "verifier.admission.rejected": "Niet geverifieerd, telt niet mee",
        "verifier.admission.missing": "Wat ontbreekt",
        "verifier.admission.holder_unproven": (
            "Losse credentials: niet bewezen dat ze van de aanvrager zijn. Vraag om een "
            "deellink of verzoek voor zekerheid."
        ),
        "verifier.admission.result_title": "Uitkomst van de toets",
        "verifier.error.request_gone": "Dit verzoek bestaat niet (meer).",
    },
    "en": {
        "verifier.app_name": "microcred check",
        "verifier.nav.check": "Check",
        "verifier.nav.request": "Ask the learner",
        "verifier.nav.admission": "Admission",
        "verifier.start.title": "Check a microcredential",
        "verifier.start.lead": (
            "See at a glance whether a microcredential is genuine, which recognised "
            "institution issued it and what it is worth."
        ),
        "verifier.share.title": "A learner's share link",
        "verifier.share.label": "Paste the share link",
        "verifier.share.hint": "The link the learner shared with you from their wallet.",
        "verifier.share.submit": "Check link",
        "verifier.share.again": "Check again",
        "verifier.file.title": "File or JSON",
        "verifier.file.label": "Paste the credential (JSON)",
        "verifier.file.upload": "or choose a file",
        "verifier.file.submit": "Check credential",
        "verifier.file.empty": "Paste a credential or choose a file.",
        "verifier.request.card_title": "Ask the learner for proof",
        "verifier.request.card_text": (
            "Create a request and let the learner scan the QR code with their wallet."
        ),
        "verifier.request.start": "New request",
        "verifier.admission.card_title": "Admission or exemption",
        "verifier.admission.card_text": (
            "Test stacked microcredentials against a rule, for example 15 ECTS at EQF level 6."
        ),
        "verifier.admission.start": "Test a rule",
        "verifier.verdict.verified.title": "Genuine and valid",
        "verifier.verdict.verified.text": (
            "Issued by a recognised institution, unchanged since, and not revoked."
        ),
        "verifier.verdict.untrusted.title": "Genuinely signed, institution not recognised",
        "verifier.verdict.untrusted.text": (
            "The signature is correct, but the issuer is not in the register of recognised "
            "institutions. Find out who issued it."
        ),
        "verifier.verdict.hosted_verified.title": "Confirmed by the issuer's server",
        "verifier.verdict.hosted_untrusted.title": (
            "Confirmed by the issuer's server, institution not recognised"
        ),
        "verifier.verdict.hosted_unknown.title": "Confirmed by the issuer's server, status unknown",
        "verifier.verdict.hosted.text": (
            "This Open Badge 2.0 is not digitally signed. It matches what the issuer's server "
            "holds now and is only as trustworthy as that server: whoever controls it can "
            "change it."
        ),
        "verifier.verdict.unknown.title": "Genuine, status unknown",
        "verifier.verdict.unknown.text": (
            "The signature is correct, but whether the institution revoked it could not be "
            "checked right now. Try again later."
        ),
        "verifier.verdict.revoked.title": "Revoked",
        "verifier.verdict.revoked.text": (
            "The institution has revoked this microcredential. It is no longer valid."
        ),
        "verifier.verdict.suspended.title": "Suspended",
        "verifier.verdict.suspended.text": (
            "The institution has suspended this microcredential. It is not valid now."
        ),
        "verifier.verdict.expired.title": "Expired",
        "verifier.verdict.expired.text": "This microcredential is past its validity period.",
        "verifier.verdict.failed.title": "Not valid",
        "verifier.verdict.failed.text": "This microcredential could not be confirmed.",
        "verifier.verdict.declined.title": "Declined by the learner",
        "verifier.verdict.declined.text": "The learner decided not to share anything.",
        "verifier.verdict.mismatch.title": "Does not match the request",
        "verifier.verdict.mismatch.text": (
            "What was shared is not what you asked for. See below what is missing."
        ),
        "verifier.reason": "Reason: {reason}",
        "verifier.result.title": "Result of the check",
        "verifier.result.credentials": "Shared microcredentials",
        "verifier.result.presentation": "Checks of the sharing",
        "verifier.result.none": "It contained no microcredential.",
        "verifier.result.all_details": "All details of this microcredential",
        "verifier.result.checked_at": "Checked on {when}",
        "verifier.result.share_url": "Checked link",
        "verifier.result.new": "Another check",
        "verifier.card.institution_registry": "as named in the register of recognised institutions",
        "verifier.card.institution_claimed": (
            "name as the credential states it; not in the register"
        ),
        "verifier.card.holder": "Issued to (DID)",
        "verifier.request.title": "Ask the learner for proof",
        "verifier.request.purpose": "What do you need it for?",
        "verifier.request.purpose_hint": "The learner sees this, e.g. ‘Application data analyst’.",
        "verifier.request.purpose_default": "Check of a microcredential",
        "verifier.request.ask": "What do you ask for?",
        "verifier.request.ask_any": "A microcredential of the learner's choice",
        "verifier.request.ask_module": "A particular module",
        "verifier.request.ask_rule": "Enough credits according to a rule",
        "verifier.request.module": "Name of the module",
        "verifier.request.expires": "Valid for",
        "verifier.request.expires_600": "10 minutes",
        "verifier.request.expires_3600": "1 hour",
        "verifier.request.expires_86400": "1 day",
        "verifier.request.submit": "Create request with QR code",
        "verifier.request.wait_title": "Let the learner scan this code",
        "verifier.request.wait_text": (
            "The learner opens the request in their wallet, sees exactly what you ask for and "
            "decides whether to share it. The result appears here by itself."
        ),
        "verifier.request.qr_caption": "Request for the learner's wallet",
        "verifier.request.waiting": "Waiting for the learner's answer…",
        "verifier.request.expired": "This request has expired. Create a new one.",
        "verifier.request.reload": "No answer yet? Reload this page.",
        "verifier.request.attempts": "Invalid answers received: {n} (last: {last})",
        "verifier.request.no_token": (
            "This request was created in another browser; only there can its result be seen."
        ),
        "verifier.request.asked": "Asked for",
        "verifier.request.purpose_label": "Purpose",
        "verifier.request.query_met": "present",
        "verifier.request.query_unmet": "missing",
        "verifier.rule.title": "Rule",
        "verifier.rule.name": "Name of the rule",
        "verifier.rule.name_default": "Admission rule",
        "verifier.rule.min_ects": "Minimum ECTS",
        "verifier.rule.min_eqf": "Minimum EQF level of each module",
        "verifier.rule.max_age": "Not older than (years)",
        "verifier.rule.keywords": "Subject (keyword in the module name)",
        "verifier.rule.keywords_hint": "For example ‘data’. Leave empty for any subject.",
        "verifier.rule.trusted_only": "Only recognised institutions from the register",
        "verifier.rule.advanced": "Or paste a full route definition (JSON)",
        "verifier.rule.invalid": "The rule is not right: {detail}",
        "verifier.admission.title": "Test admission or exemption",
        "verifier.admission.lead": (
            "Test an applicant's microcredentials against a rule. Only credentials that are "
            "genuine, valid and the applicant's own count."
        ),
        "verifier.admission.evidence": "The applicant's evidence",
        "verifier.admission.share": "The applicant's share link",
        "verifier.admission.json": "or paste a presentation or credentials (JSON)",
        "verifier.admission.submit": "Test against the rule",
        "verifier.admission.no_evidence": "Give a share link or paste the credentials.",
        "verifier.admission.satisfied": "Meets the rule",
        "verifier.admission.not_satisfied": "Does not meet the rule",
        "verifier.admission.total": "{ects} ECTS count",
        "verifier.admission.requirements": "Requirements",
        "verifier.admission.counted": "What counts",
        "verifier.admission.not_counted": "What does not count",
        "verifier.admission.rejected": "Not verified, does not count",
        "verifier.admission.missing": "What is missing",
        "verifier.admission.holder_unproven": (
            "Loose credentials: nobody proved they belong to the applicant. Ask for a share "
            "link or a request to be sure."
        ),
        "verifier.admission.result_title": "Outcome of the test",
        "verifier.error.request_gone": "This request does not exist (any more).",
    },
}

web = Web(
    "verifier",
    templates=HERE / "templates",
    messages=MESSAGES,
    settings_of=lambda request: request.app.state.services.settings,
)
_anonymous_request_limit = per_client("request")
router = web.page_router()

NAV = [
    NavItem("verifier.nav.check", "/"),
    NavItem("verifier.nav.request", "/check/request"),
    NavItem("verifier.nav.admission", "/check/admission"),
]


def _services(request: Request) -> Services:
    return request.app.state.services


def _render(request: Request, template: str, **context: Any) -> Response:
    return web.render(request, template, nav=NAV, **context)


# --------------------------------------------------------------------------- view models


@dataclass
class CredentialCard:
    """One credential on a result page: the few facts first, everything else folded."""

    state: str
    title: str | None
    institution: str | None
    institution_from_registry: bool
    ects: str
    level: str
    date: str
    holder: str | None
    grade: str | None
    report: ReportView | None = None
    rows: list[FieldRow] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)
    """Selective disclosure: what the learner chose not to show ("cijfer niet gedeeld")."""


def _level(summary: dict[str, Any], t: Translator) -> str:
    parts = []
    if summary.get("eqfLevel") is not None:
        parts.append(t("field.eqf", n=summary["eqfLevel"]))
    if summary.get("nlqfLevel") is not None:
        parts.append(t("field.nlqf", n=summary["nlqfLevel"]))
    return ", ".join(parts) or t("value.not_stated")


def _card(
    summary: dict[str, Any],
    report: ReportView | None,
    t: Translator,
    credential: Any = None,
) -> CredentialCard:
    from_registry = summary.get("issuerNameSource") == "trust registry"
    rows: list[FieldRow] = []
    if isinstance(credential, dict):
        try:
            view = read_credential(credential)
            rows = microcredential_rows(
                view, t, institution_name=summary.get("issuerName") if from_registry else None
            )
        except MicrocredError:
            rows = []
    not_stated = t("value.not_stated")
    return CredentialCard(
        state=report.state if report is not None else "failed",
        title=summary.get("module"),
        institution=summary.get("issuerName") or summary.get("issuer"),
        institution_from_registry=from_registry,
        ects=format_number(summary.get("ects")) or not_stated,
        level=_level(summary, t),
        date=format_date(summary.get("awarded")) or not_stated,
        holder=summary.get("holder"),
        grade=summary.get("grade"),
        report=report,
        rows=rows,
        withheld=[
            f"{nl} niet gedeeld" if t.lang == "nl" else f"{en} not shared"
            for nl, en in (
                disclosure.withheld_in_derived(credential)
                if credential is not None
                else [(w.get("nl"), w.get("en")) for w in summary.get("withheld") or []]
            )
        ],
    )


def _cards_of(result: VerificationResult, t: Translator) -> list[CredentialCard]:
    cards = []
    for index, sub in enumerate(result.credential_reports):
        credential = result.credentials[index] if index < len(result.credentials) else None
        cards.append(_card(dict(sub.summary or {}), report_view(sub, t), t, credential))
    return cards


def _first_reason(view: ReportView) -> str | None:
    failed = view.failed
    if failed:
        return failed[0].message
    return None


def _render_result(
    request: Request,
    result: VerificationResult,
    *,
    share_url: str | None = None,
) -> Response:
    t = web.translator(request)
    overall = report_view(result.report, t)
    cards = _cards_of(result, t)
    return _render(
        request,
        "result.html",
        page_title=t("verifier.result.title"),
        verdict=overall.state,
        reason=_first_reason(overall),
        overall=overall,
        cards=cards,
        is_presentation=result.is_presentation,
        share_url=share_url,
        checked_at=format_date(_services(request).clock(), with_time=True),
        status_code=200,
    )


# --------------------------------------------------------------------------- start


@router.get("/")
def start(request: Request) -> Response:
    t = web.translator(request)
    return _render(
        request,
        "start.html",
        page_title=t("verifier.start.title"),
        share_url=request.query_params.get("share", ""),
    )


@router.post("/check/share")
def check_share(request: Request, url: Annotated[str, Form()] = "") -> Response:
    """Verify a learner's share link: the service fetches it safely and checks the domain."""
    result = _services(request).shares.verify(url.strip())
    return _render_result(request, result, share_url=url.strip())


@router.post("/check/credential")
def check_credential(
    request: Request,
    document: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Verify a pasted or uploaded credential (or a presentation, without a challenge)."""
    services = _services(request)
    raw = b""
    if file is not None and file.filename:
        raw = file.file.read(services.settings.max_body + 1)
    if not raw.strip():
        raw = document.encode("utf-8")
    if not raw.strip():
        t = web.translator(request)
        return _render(
            request,
            "start.html",
            page_title=t("verifier.start.title"),
            share_url="",
            file_error=t("verifier.file.empty"),
            status_code=400,
        )
    text = raw[: services.settings.max_body].decode("utf-8", errors="replace").strip()
    try:
        # a signed Open Badges 2.0 assertion is a compact JWS, not JSON, nor is an SD-JWT VC
        # (issue 19): both go to the format handlers as text; a JWT-secured VC or another
        # unsupported format is named as that format, not refused as broken JSON
        detected = detect_format(text)
        as_text = is_ob2(text) or detected.family == "sdjwt" or not detected.supported
        parsed = text if as_text else parse_body(raw, max_bytes=services.settings.max_body)
    except MicrocredError as exc:
        return _render_result(
            request, _recorded(services, malformed("credential", exc.code, exc.message))
        )
    if isinstance(parsed, dict) and _is_presentation(parsed):
        result = services.vcapi.verify_presentation(parsed, {})
    else:
        result = services.verification.verify_credential(parsed)
    return _render_result(request, result)


def _recorded(services: Services, result: VerificationResult) -> VerificationResult:
    services.verification.record(result)
    return result


def _is_presentation(document: dict[str, Any]) -> bool:
    types = document.get("type") or []
    return "VerifiablePresentation" in (types if isinstance(types, list) else [types])


# --------------------------------------------------------------------------- rules


def _rule_from_form(form: dict[str, str], t: Translator) -> dict[str, Any]:
    """A route definition from the simple rule fields, or the pasted JSON when given.

    Returns the mapping as the rules engine reads it; the engine (through the service's
    ``parse_route``) says what is wrong with it, field by field.
    """
    advanced = form.get("rule_json", "").strip()
    if advanced:
        try:
            data = json.loads(advanced)
        except ValueError as exc:
            raise _RuleError(str(exc)) from None
        if not isinstance(data, dict):
            raise _RuleError("a route definition is a JSON object")
        return data
    rule: dict[str, Any] = {
        "id": "verifier-rule",
        "name": form.get("rule_name", "").strip() or t("verifier.rule.name_default"),
    }
    for key, name, kind in (
        ("min_ects", "min_ects", float),
        ("min_eqf_level", "min_eqf", int),
        ("max_age_years", "max_age", float),
    ):
        raw = form.get(name, "").strip().replace(",", ".")
        if raw:
            try:
                rule[key] = kind(raw)
            except ValueError:
                raise _RuleError(f"{name}: {raw!r} is not a number") from None
    keywords = [k.strip() for k in form.get("keywords", "").split(",") if k.strip()]
    if keywords:
        rule["only_listed_modules"] = True
        rule["module_groups"] = [
            {
                "id": "subject",
                "name": ", ".join(keywords),
                "choose": 1,
                "modules": [
                    {"id": f"kw{n}", "name": k, "keywords": [k]} for n, k in enumerate(keywords)
                ],
            }
        ]
    if form.get("trusted_only"):
        rule["accepted_issuers"] = ["trusted"]
    return rule


class _RuleError(Exception):
    pass


async def _form_dict(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --------------------------------------------------------------------------- requests


@router.get("/check/request")
def request_form(request: Request) -> Response:
    t = web.translator(request)
    return _render(
        request,
        "request_new.html",
        page_title=t("verifier.request.title"),
        form={},
        error=None,
        expiry_choices=EXPIRY_CHOICES,
    )


@router.post("/check/request")
async def create_request(request: Request) -> Response:
    """Create a presentation request through the service and go to its QR page."""
    t = web.translator(request)
    form = await _form_dict(request)
    services = _services(request)
    _anonymous_request_limit(request)  # the form is anonymous: same limit as the API
    ask = form.get("ask", "any")
    modules: list[str] = []
    rule: dict[str, Any] | None = None
    try:
        if ask == "module":
            module = form.get("module", "").strip()
            if not module:
                raise _RuleError(t("verifier.request.module"))
            modules = [module]
        elif ask == "rule":
            rule = _rule_from_form(form, t)
        try:
            expires_in = int(form.get("expires_in", "600"))
        except ValueError:
            expires_in = 600
        created = services.requests.create(
            purpose=form.get("purpose", "").strip()[:500] or t("verifier.request.purpose_default"),
            modules=modules or None,
            rule=rule,
            expires_in=expires_in if expires_in in EXPIRY_CHOICES else 600,
        )
    except (_RuleError, ServiceError) as exc:
        detail = exc.detail if isinstance(exc, ServiceError) else str(exc)
        return _render(
            request,
            "request_new.html",
            page_title=t("verifier.request.title"),
            form=form,
            error=t("verifier.rule.invalid", detail=detail),
            expiry_choices=EXPIRY_CHOICES,
            status_code=400,
        )
    path = f"/check/request/{created.id}"
    response = web.redirect(request, path)
    web.set_cookie(
        request,
        response,
        RESULT_COOKIE,
        created.result_token,
        max_age=services.settings.max_request_ttl,
        path=path,
    )
    return response


def _request_state(request: Request, request_id: str) -> dict[str, Any] | None:
    """The stored request as the service reports it to its creator; None without the token."""
    token = request.cookies.get(RESULT_COOKIE)
    if not token:
        return None
    try:
        return _services(request).requests.result(request_id, token)
    except ServiceError as exc:
        if isinstance(exc, NotFound):
            raise PageError(404, "verifier.error.request_gone") from None
        return None


def _qr_link(services: Services, request_id: str) -> str | None:
    """The link the wallet opens: the parameters by value, or by reference when too long."""
    try:
        parameters = services.requests.parameters(request_id)
    except ServiceError:
        return None
    link = by_value_uri(parameters)
    if len(link) > QR_MAX_CHARS:
        from urllib.parse import urlencode

        link = "openid4vp://?" + urlencode(
            {
                # by reference the wallet gets the signed request object: the DID client id
                "client_id": services.identity.client_id,
                "request_uri": request_uri_for(
                    services.settings.public_url, request_id, parameters["state"]
                ),
            }
        )
    return link


@router.get("/check/request/{request_id}")
def request_page(request: Request, request_id: str) -> Response:
    t = web.translator(request)
    state = _request_state(request, request_id)
    if state is None:
        raise PageError(403, "verifier.request.no_token")
    if state["status"] in ("completed", "declined"):
        return web.redirect(request, f"/check/request/{request_id}/result")
    link = _qr_link(_services(request), request_id) if state["status"] == "pending" else None
    return _render(
        request,
        "request_wait.html",
        page_title=t("verifier.request.wait_title"),
        state=state,
        link=link,
        qr=qr_png_data_uri(link) if link else None,
        request_id=request_id,
    )


@router.get("/check/request/{request_id}/state")
def request_state(request: Request, request_id: str) -> Response:
    """What the page's poll.js asks every few seconds: answered yet, and where to go."""
    state = _request_state(request, request_id)
    headers = {"Cache-Control": "no-store"}
    if state is None:
        return JSONResponse({"done": False, "expired": True}, headers=headers)
    done = state["status"] in ("completed", "declined")
    body: dict[str, Any] = {"done": done, "expired": state["status"] == "expired"}
    if done:
        body["url"] = f"/check/request/{request_id}/result"
    return JSONResponse(body, headers=headers)


@router.get("/check/request/{request_id}/result")
def request_result(request: Request, request_id: str) -> Response:
    t = web.translator(request)
    state = _request_state(request, request_id)
    if state is None:
        raise PageError(403, "verifier.request.no_token")
    if state["status"] not in ("completed", "declined"):
        return web.redirect(request, f"/check/request/{request_id}")
    outcome = state.get("result") or {}
    cards: list[CredentialCard] = []
    presentation_views: list[ReportView] = []
    for presentation in outcome.get("presentations", []):
        overall = report_view(presentation, t)
        presentation_views.append(overall)
        for sub in presentation.get("credentials", []):
            cards.append(_card(dict(sub.get("summary") or {}), report_view(sub, t), t))
    if state["status"] == "declined":
        verdict, reason = "declined", outcome.get("error_description")
    else:
        states = [v.state for v in presentation_views]
        verdict = _worst(states) if states else "failed"
        reason = next((r for r in (_first_reason(v) for v in presentation_views) if r), None)
        if verdict in ("verified", "untrusted", "unknown") and not outcome.get("matches_request"):
            verdict = "mismatch"
    return _render(
        request,
        "request_result.html",
        page_title=t("verifier.result.title"),
        verdict=verdict,
        reason=reason,
        state=state,
        outcome=outcome,
        cards=cards,
        presentations=presentation_views,
        rule=outcome.get("rule"),
    )


_SEVERITY = ("failed", "revoked", "suspended", "expired", "unknown", "untrusted", "verified")


def _worst(states: list[str]) -> str:
    return min(states, key=lambda s: _SEVERITY.index(s) if s in _SEVERITY else 0)


# --------------------------------------------------------------------------- admission


@router.get("/check/admission")
def admission_form(request: Request) -> Response:
    t = web.translator(request)
    return _render(
        request,
        "admission.html",
        page_title=t("verifier.admission.title"),
        form={},
        error=None,
    )


@router.post("/check/admission")
async def admission_evaluate(
    request: Request, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    """Evaluate a rule over an applicant's share link or pasted credentials.

    A share link is verified by the share service and handed to ``evaluate_results``; pasted
    JSON goes through ``AdmissionService.evaluate`` exactly as the API's body would.
    """
    from starlette.concurrency import run_in_threadpool

    t = web.translator(request)
    form = await _form_dict(request)
    services = _services(request)

    def refuse(message: str) -> Response:
        return _render(
            request,
            "admission.html",
            page_title=t("verifier.admission.title"),
            form=form,
            error=message,
            status_code=400,
        )

    try:
        rule = _rule_from_form(form, t)
        route = parse_route(rule)
    except _RuleError as exc:
        return refuse(t("verifier.rule.invalid", detail=str(exc)))
    except ServiceError as exc:
        return refuse(t("verifier.rule.invalid", detail=exc.detail))
    share = form.get("share_url", "").strip()
    raw = form.get("evidence_json", "").strip().encode()
    if file is not None and file.filename:
        raw = (await file.read(services.settings.max_body + 1)) or raw
    if share:
        result = await run_in_threadpool(services.shares.verify, share)
        outcome = evaluate_results(route, [result], now=services.clock()).to_dict()
        outcome["holder_proven"] = bool(result.counted_credentials())
    elif raw:
        try:
            evidence = parse_body(raw, max_bytes=services.settings.max_body)
        except MicrocredError as exc:
            return refuse(exc.message)
        if isinstance(evidence, dict) and _is_presentation(evidence):
            body: dict[str, Any] = {"verifiablePresentation": evidence, "rule": rule}
        else:
            body = {"credentials": evidence, "rule": rule}
        try:
            outcome = await run_in_threadpool(services.admissions.evaluate, body)
        except ServiceError as exc:
            return refuse(exc.detail)
    else:
        return refuse(t("verifier.admission.no_evidence"))
    return _render(
        request,
        "admission_result.html",
        page_title=t("verifier.admission.result_title"),
        outcome=outcome,
        share_url=share or None,
    )
