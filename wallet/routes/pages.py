"""The learner's wallet in a browser, made for a phone first.

Sign up or log in; receive a microcredential by pasting (or opening) an institution's offer
link or by importing a file; see every credential as a card with its institution, module,
ECTS, level and a plain verified / revoked / suspended badge; read all EU elements of one
in plain language; follow learning routes with progress bars; share credentials as a link
with a big QR code, see who looked and revoke the link; answer a verifier's request after
an explicit consent screen that shows exactly what will leave the wallet; export or delete
everything.

The pages are a second face of the same services the wallet's API uses
(``services.accounts``, ``store``, ``receive``, ``routes``, ``shares``, ``requests``,
``portability``): they parse forms, call one service, and render. The page session is
the wallet's own session token (``accounts.login(kind="session")``) in the cookie the API
also reads, so a learner logged in on a page is the same learner to the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from credentials.reading import read_credential
from servicekit.errors import ServiceError, http_status
from servicekit.ratelimit import client_key
from servicekit.web import (
    LoginRequired,
    NavItem,
    Translator,
    Web,
    format_date,
    format_number,
    microcredential_rows,
    report_view,
    safe_next,
)

from ..deps import SESSION_COOKIE
from ..models import Learner
from ..services import disclosing
from ..services.accounts import SESSION
from ..services.container import Services
from ..services.store import CredentialFilter

HERE = Path(__file__).resolve().parent.parent
SHARE_EXPIRY = (3600, 86_400, 7 * 86_400, 30 * 86_400, 365 * 86_400)

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "wallet.app_name": "microcred wallet",
        "wallet.nav.credentials": "Mijn credentials",
        "wallet.nav.receive": "Ontvangen",
        "wallet.nav.routes": "Leerroutes",
        "wallet.nav.shares": "Delen",
        "wallet.nav.present": "Verzoek beantwoorden",
        "wallet.nav.data": "Mijn gegevens",
        "logout": "Uitloggen",
        "wallet.start.title": "Jouw microcredentials, in jouw hand",
        "wallet.start.lead": (
            "Bewaar de microcredentials van al je opleidingen op één plek, zie hoe ver je "
            "bent met een leerroute en deel alleen wat jij wilt."
        ),
        "wallet.login.title": "Inloggen",
        "wallet.signup.title": "Account maken",
        "wallet.username": "Gebruikersnaam",
        "wallet.password": "Wachtwoord",
        "wallet.password_hint": "Minstens 10 tekens.",
        "wallet.login.submit": "Inloggen",
        "wallet.signup.submit": "Account maken",
        "wallet.login.failed": "De gebruikersnaam of het wachtwoord klopt niet.",
        "wallet.login.ok": "Welkom, {name}.",
        "wallet.signup.ok": (
            "Log nu in als {name} met het wachtwoord dat je koos. Lukt dat niet, dan was"
            " deze naam al bezet: maak een account met een andere naam."
        ),
        "wallet.logout.ok": "Je bent uitgelogd.",
        "wallet.credentials.title": "Mijn microcredentials",
        "wallet.credentials.none": (
            "Je hebt nog geen microcredentials. Ontvang er een van je instelling."
        ),
        "wallet.credentials.filter": "Filter",
        "wallet.credentials.institution": "Instelling",
        "wallet.credentials.module": "Module",
        "wallet.credentials.level": "EQF-niveau",
        "wallet.credentials.any": "alle",
        "wallet.credentials.apply": "Toon",
        "wallet.credentials.total": "{count} microcredentials, samen {ects} ECTS",
        "wallet.card.open": "Bekijk",
        "wallet.card.warning": "Let op: {message}",
        "wallet.detail.title": "Microcredential",
        "wallet.detail.elements": "Alle gegevens (Europese elementen)",
        "wallet.detail.checked": "Status gecontroleerd op {when}",
        "wallet.detail.recheck": "Controleer status opnieuw",
        "wallet.detail.share": "Deel deze",
        "wallet.detail.download": "Download (JSON)",
        "wallet.detail.delete": "Verwijder uit mijn wallet",
        "wallet.detail.delete_note": "Deellinks met deze credential worden ingetrokken.",
        "wallet.detail.deleted": "De credential is verwijderd.",
        "wallet.detail.arrival": "Controle bij ontvangst",
        "wallet.state.verified": "Geverifieerd",
        "wallet.state.revoked": "Ingetrokken",
        "wallet.state.suspended": "Geschorst",
        "wallet.state.unverified": "Niet geverifieerd",
        "wallet.pending": "Ontvangen, nog niet geverifieerd: {reason}",
        "wallet.pending_hint": (
            "De wallet bewaart deze credential en controleert hem opnieuw wanneer je hem "
            "bekijkt."
        ),
        "wallet.state.unknown": "Status onbekend",
        "wallet.receive.title": "Een microcredential ontvangen",
        "wallet.receive.offer_title": "Aanbod van je instelling",
        "wallet.receive.offer": "Plak de link of de code van het aanbod",
        "wallet.receive.offer_hint": (
            "Begint met openid-credential-offer:// of https://. Je instelling geeft je die als "
            "QR-code of link."
        ),
        "wallet.receive.from": "Aanbod van {host}",
        "wallet.receive.pin": "Pincode (als je instelling je er een gaf)",
        "wallet.receive.format": "Vorm van het bewijs",
        "wallet.format.sdjwt_hint": "SD-JWT VC: je kiest bij het delen welke gegevens meegaan",
        "wallet.format.sdjwt_note": "Dit bewijs is een SD-JWT VC. Je deelt het als een "
        "werkgever of instelling erom vraagt (een verzoek via OpenID4VP); je kiest dan zelf "
        "welke gegevens meegaan.",
        "wallet.receive.format_ob3": "Open Badges 3.0 (standaard)",
        "wallet.receive.format_sdjwt": "SD-JWT VC (voor Europese wallets; je kiest per "
        "gegeven wat je deelt)",
        "wallet.receive.keep": ("Toch bewaren als ‘niet geverifieerd’ als de controle mislukt"),
        "wallet.receive.submit": "Ontvangen",
        "wallet.receive.file_title": "Of importeer een bestand",
        "wallet.receive.file": "Credential-bestand (JSON)",
        "wallet.receive.file_submit": "Importeren",
        "wallet.receive.badge_title": "Of haal een Open Badge (2.0) op via de link",
        "wallet.receive.badge_url": "Link naar de badge (assertion-URL, bijv. van edubadges)",
        "wallet.receive.badge_submit": "Ophalen",
        "wallet.receive.no_file": "Kies een bestand.",
        "wallet.receive.ok": "Ontvangen: {title}.",
        "wallet.receive.failed": "Niet ontvangen: {detail}",
        "wallet.routes.title": "Mijn leerroutes",
        "wallet.routes.none": "Je volgt nog geen leerroute.",
        "wallet.routes.add": "Volg een leerroute",
        "wallet.routes.published": "Leerroute",
        "wallet.routes.add_submit": "Volgen",
        "wallet.routes.added": "Je volgt nu ‘{name}’.",
        "wallet.routes.removed": "Je volgt deze leerroute niet meer.",
        "wallet.routes.remove": "Niet meer volgen",
        "wallet.routes.none_published": "Er zijn geen gepubliceerde leerroutes.",
        "wallet.routes.complete": "Voltooid",
        "wallet.routes.open": "Bekijk voortgang",
        "wallet.routes.requirements": "Eisen",
        "wallet.routes.counted": "Telt mee",
        "wallet.routes.not_counted": "Telt niet mee",
        "wallet.routes.missing": "Wat je nog nodig hebt",
        "wallet.routes.requirements_done": "{done} van {total} eisen",
        "wallet.shares.title": "Delen",
        "wallet.shares.new": "Nieuwe deellink",
        "wallet.shares.pick": "Welke microcredentials deel je?",
        "wallet.shares.expires": "Geldig",
        "wallet.shares.expires_3600": "1 uur",
        "wallet.shares.expires_86400": "1 dag",
        "wallet.shares.expires_604800": "1 week",
        "wallet.shares.expires_2592000": "30 dagen",
        "wallet.shares.expires_31536000": "1 jaar",
        "wallet.shares.max_views": "Hoe vaak mag de link bekeken worden? (leeg: onbeperkt)",
        "wallet.shares.label": "Voor wie? (alleen voor jezelf)",
        "wallet.shares.submit": "Maak deellink",
        "wallet.shares.leave_out": "Wat gaat er mee? Wat je niet aanvinkt, blijft in je wallet:",
        "wallet.shares.none_picked": "Kies minstens één microcredential.",
        "wallet.shares.list": "Mijn deellinks",
        "wallet.shares.none": "Je hebt nog niets gedeeld.",
        "wallet.shares.state.active": "actief",
        "wallet.shares.state.revoked": "ingetrokken",
        "wallet.shares.state.expired": "verlopen",
        "wallet.shares.state.exhausted": "opgebruikt",
        "wallet.shares.views": "{views} keer bekeken",
        "wallet.shares.open": "Bekijk",
        "wallet.share.title": "Deellink",
        "wallet.share.lead": (
            "Laat deze QR-code scannen of stuur de link. Wie de link heeft, ziet de "
            "gekozen microcredentials, ondertekend met jouw sleutel."
        ),
        "wallet.share.qr_caption": "Deellink",
        "wallet.share.contains": "Wat je deelt",
        "wallet.share.accesses": "Wie heeft gekeken",
        "wallet.share.no_accesses": "Nog niemand.",
        "wallet.share.verifier": "gecontroleerd door een verifier",
        "wallet.share.person": "bekeken in een browser",
        "wallet.share.software": "opgehaald door software",
        "wallet.share.revoke": "Link intrekken",
        "wallet.share.revoked": "De deellink is ingetrokken.",
        "wallet.share.created": "De deellink is gemaakt.",
        "wallet.share.outcome.served": "getoond",
        "wallet.share.outcome.expired": "geweigerd: verlopen",
        "wallet.share.outcome.revoked": "geweigerd: ingetrokken",
        "wallet.share.outcome.exhausted": "geweigerd: opgebruikt",
        "wallet.disclosures.title": "Gedeeld op verzoek van verifiers",
        "wallet.disclosures.sent": "gedeeld",
        "wallet.disclosures.claims": "Persoonlijke gegevens meegegeven",
        "wallet.disclosures.no_claims": "geen (alleen de vaste gegevens van het bewijs)",
        "wallet.disclosures.declined": "geweigerd",
        "wallet.present.title": "Een verzoek beantwoorden",
        "wallet.present.request": "Plak de link of code van het verzoek",
        "wallet.present.request_hint": "Begint met openid4vp:// of https://.",
        "wallet.present.open": "Bekijk het verzoek",
        "wallet.consent.title": "Wil je dit delen?",
        "wallet.consent.sd_choose": "Kies welke persoonlijke gegevens meegaan",
        "wallet.consent.sd_asked": "gevraagd",
        "wallet.consent.sd_always": "Deze gegevens gaan altijd mee ({count})",
        "wallet.consent.sd_note": "Bij een SD-JWT VC gaan alleen de aangevinkte gegevens mee, "
        "plus de gegevens die altijd meegaan; je wallet ondertekent het antwoord voor deze "
        "ene vraag.",
        "sdclaim.learner.email": "E-mailadres",
        "sdclaim.learner.student_number": "Studentnummer",
        "sdclaim.learner.id": "Wallet-kenmerk (DID)",
        "sdclaim.learner.given_name": "Voornaam",
        "sdclaim.learner.family_name": "Achternaam",
        "sdclaim.result.grade": "Cijfer",
        "sdclaim.result.status": "Uitslag",
        "wallet.consent.who": "Wie vraagt het",
        "wallet.consent.where": "Het antwoord gaat naar",
        "wallet.consent.why": "Waarvoor",
        "wallet.consent.asks": "Gevraagd",
        "wallet.consent.choose": "Kies wat je deelt",
        "wallet.consent.no_match": "Je hebt niets dat hierbij past.",
        "wallet.consent.fields": "Precies deze gegevens gaan mee ({count})",
        "wallet.consent.holder": "Ook je wallet-kenmerk (DID) gaat mee: {did}",
        "wallet.consent.whole": (
            "Een microcredential gaat altijd in zijn geheel mee: de handtekening van de "
            "instelling geldt voor het hele document."
        ),
        "wallet.consent.agree": "Ik geef toestemming om dit te delen",
        "wallet.consent.share": "Delen",
        "wallet.consent.decline": "Weigeren",
        "wallet.consent.need": "Zet eerst het vinkje om toestemming te geven.",
        "wallet.consent.sent": "Gedeeld met {name}.",
        "wallet.consent.declined": "Je hebt het verzoek geweigerd; er is niets gedeeld.",
        "wallet.consent.unknown_verifier": "een onbekende verifier",
        "wallet.data.title": "Mijn gegevens",
        "wallet.data.lead": "Alles in deze wallet is van jou. Neem het mee of verwijder het.",
        "wallet.data.account": "Account",
        "wallet.data.did": "Jouw wallet-kenmerk (DID)",
        "wallet.data.export": "Alles exporteren (JSON)",
        "wallet.data.export_note": (
            "Je credentials, deellinks met wie er keek, leerroutes en wat je deelde. "
            "Zonder geheimen: geen sleutel, geen wachtwoord, geen werkende links."
        ),
        "wallet.data.import": "Importeren in dit (lege) account",
        "wallet.data.import_file": "Exportbestand",
        "wallet.data.import_submit": "Importeren",
        "wallet.data.imported": "Geïmporteerd: {credentials} credentials.",
        "wallet.data.delete": "Account en alle gegevens verwijderen",
        "wallet.data.delete_confirm": "Typ je gebruikersnaam ({name}) om te bevestigen",
        "wallet.data.delete_submit": "Definitief verwijderen",
        "wallet.data.delete_mismatch": "De gebruikersnaam klopt niet; er is niets verwijderd.",
        "wallet.data.deleted": "Je account en al je gegevens zijn verwijderd.",
    },
    "en": {
        "wallet.app_name": "microcred wallet",
        "wallet.nav.credentials": "My credentials",
        "wallet.nav.receive": "Receive",
        "wallet.nav.routes": "Learning routes",
        "wallet.nav.shares": "Share",
        "wallet.nav.present": "Answer a request",
        "wallet.nav.data": "My data",
        "logout": "Log out",
        "wallet.start.title": "Your microcredentials, in your hands",
        "wallet.start.lead": (
            "Keep the microcredentials of all your courses in one place, see how far along a "
            "learning route you are, and share only what you choose."
        ),
        "wallet.login.title": "Log in",
        "wallet.signup.title": "Create an account",
        "wallet.username": "User name",
        "wallet.password": "Password",
        "wallet.password_hint": "At least 10 characters.",
        "wallet.login.submit": "Log in",
        "wallet.signup.submit": "Create account",
        "wallet.login.failed": "The user name or password is wrong.",
        "wallet.login.ok": "Welcome, {name}.",
        "wallet.signup.ok": (
            "Now log in as {name} with the password you chose. If that fails, the name"
            " was already taken: create an account with another name."
        ),
        "wallet.logout.ok": "You are logged out.",
        "wallet.credentials.title": "My microcredentials",
        "wallet.credentials.none": (
            "You have no microcredentials yet. Receive one from your institution."
        ),
        "wallet.credentials.filter": "Filter",
        "wallet.credentials.institution": "Institution",
        "wallet.credentials.module": "Module",
        "wallet.credentials.level": "EQF level",
        "wallet.credentials.any": "any",
        "wallet.credentials.apply": "Show",
        "wallet.credentials.total": "{count} microcredentials, {ects} ECTS in all",
        "wallet.card.open": "View",
        "wallet.card.warning": "Note: {message}",
        "wallet.detail.title": "Microcredential",
        "wallet.detail.elements": "All details (European elements)",
        "wallet.detail.checked": "Status checked on {when}",
        "wallet.detail.recheck": "Check the status again",
        "wallet.detail.share": "Share this",
        "wallet.detail.download": "Download (JSON)",
        "wallet.detail.delete": "Delete from my wallet",
        "wallet.detail.delete_note": "Share links with this credential are revoked.",
        "wallet.detail.deleted": "The credential was deleted.",
        "wallet.detail.arrival": "Check on arrival",
        "wallet.state.verified": "Verified",
        "wallet.state.revoked": "Revoked",
        "wallet.state.suspended": "Suspended",
        "wallet.state.unverified": "Not verified",
        "wallet.pending": "Received, not yet verified: {reason}",
        "wallet.pending_hint": (
            "The wallet keeps this credential and checks it again when you view it."
        ),
        "wallet.state.unknown": "Status unknown",
        "wallet.receive.title": "Receive a microcredential",
        "wallet.receive.offer_title": "An offer from your institution",
        "wallet.receive.offer": "Paste the offer's link or code",
        "wallet.receive.offer_hint": (
            "Starts with openid-credential-offer:// or https://. Your institution gives it to "
            "you as a QR code or link."
        ),
        "wallet.receive.from": "Offer from {host}",
        "wallet.receive.pin": "PIN (if your institution gave you one)",
        "wallet.receive.format": "Form of the credential",
        "wallet.format.sdjwt_hint": "SD-JWT VC: when you share it you choose which items go",
        "wallet.format.sdjwt_note": "This credential is an SD-JWT VC. You share it when an "
        "employer or institution asks for it (a request over OpenID4VP); you then choose "
        "which items go.",
        "wallet.receive.format_ob3": "Open Badges 3.0 (default)",
        "wallet.receive.format_sdjwt": "SD-JWT VC (for European wallets; you choose each "
        "item you share)",
        "wallet.receive.keep": "Keep it as ‘not verified’ if the check fails",
        "wallet.receive.submit": "Receive",
        "wallet.receive.file_title": "Or import a file",
        "wallet.receive.file": "Credential file (JSON)",
        "wallet.receive.file_submit": "Import",
        "wallet.receive.badge_title": "Or fetch an Open Badge (2.0) by its link",
        "wallet.receive.badge_url": "Link to the badge (assertion URL, e.g. from edubadges)",
        "wallet.receive.badge_submit": "Fetch",
        "wallet.receive.no_file": "Choose a file.",
        "wallet.receive.ok": "Received: {title}.",
        "wallet.receive.failed": "Not received: {detail}",
        "wallet.routes.title": "My learning routes",
        "wallet.routes.none": "You do not follow a learning route yet.",
        "wallet.routes.add": "Follow a learning route",
        "wallet.routes.published": "Learning route",
        "wallet.routes.add_submit": "Follow",
        "wallet.routes.added": "You now follow ‘{name}’.",
        "wallet.routes.removed": "You no longer follow this learning route.",
        "wallet.routes.remove": "Stop following",
        "wallet.routes.none_published": "No learning routes are published.",
        "wallet.routes.complete": "Complete",
        "wallet.routes.open": "See progress",
        "wallet.routes.requirements": "Requirements",
        "wallet.routes.counted": "Counts",
        "wallet.routes.not_counted": "Does not count",
        "wallet.routes.missing": "What you still need",
        "wallet.routes.requirements_done": "{done} of {total} requirements",
        "wallet.shares.title": "Share",
        "wallet.shares.new": "New share link",
        "wallet.shares.pick": "Which microcredentials do you share?",
        "wallet.shares.expires": "Valid for",
        "wallet.shares.expires_3600": "1 hour",
        "wallet.shares.expires_86400": "1 day",
        "wallet.shares.expires_604800": "1 week",
        "wallet.shares.expires_2592000": "30 days",
        "wallet.shares.expires_31536000": "1 year",
        "wallet.shares.max_views": "How often may the link be viewed? (empty: no limit)",
        "wallet.shares.label": "For whom? (only for you)",
        "wallet.shares.submit": "Create share link",
        "wallet.shares.leave_out": "What goes along? What you do not tick stays in your wallet:",
        "wallet.shares.none_picked": "Pick at least one microcredential.",
        "wallet.shares.list": "My share links",
        "wallet.shares.none": "You have not shared anything yet.",
        "wallet.shares.state.active": "active",
        "wallet.shares.state.revoked": "revoked",
        "wallet.shares.state.expired": "expired",
        "wallet.shares.state.exhausted": "used up",
        "wallet.shares.views": "viewed {views} times",
        "wallet.shares.open": "View",
        "wallet.share.title": "Share link",
        "wallet.share.lead": (
            "Let someone scan this QR code or send the link. Whoever has the link sees the "
            "chosen microcredentials, signed with your key."
        ),
        "wallet.share.qr_caption": "Share link",
        "wallet.share.contains": "What you share",
        "wallet.share.accesses": "Who looked",
        "wallet.share.no_accesses": "Nobody yet.",
        "wallet.share.verifier": "checked by a verifier",
        "wallet.share.person": "viewed in a browser",
        "wallet.share.software": "fetched by software",
        "wallet.share.revoke": "Revoke link",
        "wallet.share.revoked": "The share link was revoked.",
        "wallet.share.created": "The share link was created.",
        "wallet.share.outcome.served": "shown",
        "wallet.share.outcome.expired": "refused: expired",
        "wallet.share.outcome.revoked": "refused: revoked",
        "wallet.share.outcome.exhausted": "refused: used up",
        "wallet.disclosures.title": "Shared at a verifier's request",
        "wallet.disclosures.sent": "shared",
        "wallet.disclosures.claims": "Personal details given",
        "wallet.disclosures.no_claims": "none (only the credential's fixed details)",
        "wallet.disclosures.declined": "declined",
        "wallet.present.title": "Answer a request",
        "wallet.present.request": "Paste the request's link or code",
        "wallet.present.request_hint": "Starts with openid4vp:// or https://.",
        "wallet.present.open": "View the request",
        "wallet.consent.title": "Do you want to share this?",
        "wallet.consent.sd_choose": "Choose which personal details go along",
        "wallet.consent.sd_asked": "asked for",
        "wallet.consent.sd_always": "These details always go along ({count})",
        "wallet.consent.sd_note": "With an SD-JWT VC only the ticked details go, plus the "
        "details that always go; your wallet signs the answer for this one request.",
        "sdclaim.learner.email": "E-mail address",
        "sdclaim.learner.student_number": "Student number",
        "sdclaim.learner.id": "Wallet identifier (DID)",
        "sdclaim.learner.given_name": "Given name",
        "sdclaim.learner.family_name": "Family name",
        "sdclaim.result.grade": "Grade",
        "sdclaim.result.status": "Result",
        "wallet.consent.who": "Who asks",
        "wallet.consent.where": "The answer goes to",
        "wallet.consent.why": "What for",
        "wallet.consent.asks": "Asked for",
        "wallet.consent.choose": "Choose what you share",
        "wallet.consent.no_match": "You have nothing that fits this.",
        "wallet.consent.fields": "Exactly these details go along ({count})",
        "wallet.consent.holder": "Your wallet identifier (DID) goes along too: {did}",
        "wallet.consent.whole": (
            "A microcredential is always shared whole: the institution's signature covers "
            "the whole document."
        ),
        "wallet.consent.agree": "I consent to sharing this",
        "wallet.consent.share": "Share",
        "wallet.consent.decline": "Decline",
        "wallet.consent.need": "Tick the box first to give your consent.",
        "wallet.consent.sent": "Shared with {name}.",
        "wallet.consent.declined": "You declined the request; nothing was shared.",
        "wallet.consent.unknown_verifier": "an unknown verifier",
        "wallet.data.title": "My data",
        "wallet.data.lead": "Everything in this wallet is yours. Take it with you or delete it.",
        "wallet.data.account": "Account",
        "wallet.data.did": "Your wallet identifier (DID)",
        "wallet.data.export": "Export everything (JSON)",
        "wallet.data.export_note": (
            "Your credentials, share links with who looked, learning routes and what you "
            "shared. No secrets: no key, no password, no working links."
        ),
        "wallet.data.import": "Import into this (empty) account",
        "wallet.data.import_file": "Export file",
        "wallet.data.import_submit": "Import",
        "wallet.data.imported": "Imported: {credentials} credentials.",
        "wallet.data.delete": "Delete the account and all data",
        "wallet.data.delete_confirm": "Type your user name ({name}) to confirm",
        "wallet.data.delete_submit": "Delete for good",
        "wallet.data.delete_mismatch": "The user name does not match; nothing was deleted.",
        "wallet.data.deleted": "Your account and all your data were deleted.",
    },
}

web = Web(
    "wallet",
    templates=HERE / "templates",
    messages=MESSAGES,
    session_cookie=SESSION_COOKIE,
    settings_of=lambda request: request.app.state.services.settings,
)
router = web.page_router()

NAV = [
    NavItem("wallet.nav.credentials", "/credentials"),
    NavItem("wallet.nav.receive", "/receive"),
    NavItem("wallet.nav.routes", "/routes"),
    NavItem("wallet.nav.shares", "/shares"),
    NavItem("wallet.nav.present", "/present"),
    NavItem("wallet.nav.data", "/data"),
]


# --------------------------------------------------------------------------- session


def _services(request: Request) -> Services:
    return request.app.state.services


def _learner(request: Request) -> Learner | None:
    token = request.cookies.get(SESSION_COOKIE)
    return _services(request).accounts.authenticate(token, SESSION) if token else None


def require_learner(request: Request) -> Learner:
    learner = _learner(request)
    if learner is None:
        raise LoginRequired("/", _path_with_query(request))
    return learner


LearnerPage = Annotated[Learner, Depends(require_learner)]


def _path_with_query(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _render(request: Request, learner: Learner | None, template: str, **context: Any) -> Any:
    return web.render(
        request,
        template,
        nav=NAV if learner else [],
        user_label=learner.username if learner else None,
        logout_path="/logout" if learner else None,
        learner=learner,
        **context,
    )


def _login_limit(request: Request) -> None:
    """The API's log-in rate limit, applied to the page forms as well."""
    from .accounts import _login_limit as api_login_limit

    api_login_limit(request)


# --------------------------------------------------------------------------- start


@router.get("/")
def start(request: Request, next: str = "") -> Response:
    if _learner(request) is not None:
        return web.redirect(request, safe_next(next, "/credentials"))
    t = web.translator(request)
    return _render(request, None, "start.html", page_title=t("wallet.start.title"), next=next)


def _login_response(request: Request, learner_name: str, token: str, next: str, key: str):  # type: ignore[no-untyped-def]
    response = web.redirect(
        request, safe_next(next, "/credentials"), flash=("success", key), name=learner_name
    )
    web.set_cookie(
        request,
        response,
        SESSION_COOKIE,
        token,
        max_age=_services(request).settings.session_ttl,
    )
    return response


@router.post("/login", dependencies=[Depends(_login_limit)])
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    services = _services(request)
    t = web.translator(request)
    try:
        token, _ = services.accounts.login(username, password, SESSION, client_key(request))
    except ServiceError:
        return _render(
            request,
            None,
            "start.html",
            page_title=t("wallet.start.title"),
            next=next,
            login_error=t("wallet.login.failed"),
            username=username,
            status_code=401,
        )
    learner = services.accounts.authenticate(token, SESSION)
    assert learner is not None
    return _login_response(request, learner.username, token, next, "wallet.login.ok")


@router.post("/signup", dependencies=[Depends(_login_limit)])
def signup(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    services = _services(request)
    t = web.translator(request)
    try:
        learner = services.accounts.register(username, password)
    except ServiceError as exc:
        return _render(
            request,
            None,
            "start.html",
            page_title=t("wallet.start.title"),
            next=next,
            signup_error=exc.detail,
            new_username=username,
            status_code=400,
        )
    # Not logged in here: whether the name was free must not show (H-9e). The learner logs
    # in with the name just chosen; a taken name fails there like a wrong password.
    return _render(
        request,
        None,
        "start.html",
        page_title=t("wallet.start.title"),
        next=next,
        signup_done=t("wallet.signup.ok", name=learner.username),
        username=learner.username,
    )


@router.post("/logout")
def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        _services(request).accounts.logout(token)
    response = web.redirect(request, "/", flash=("info", "wallet.logout.ok"))
    web.delete_cookie(request, response, SESSION_COOKIE)
    return response


# --------------------------------------------------------------------------- credentials


def card_state(item: dict[str, Any]) -> str:
    """The badge of a stored credential: what the learner must know first."""
    status = item.get("status")
    if status in ("revoked", "suspended"):
        return str(status)
    if not item.get("verified"):
        return "unverified"
    if status in ("unknown", "invalid"):
        return "unknown"
    return "verified"


def _fresh(services: Services, learner: Learner, item: dict[str, Any]) -> dict[str, Any]:
    """The summary with its status re-checked when stale (the store's own cache rules)."""
    try:
        detail = services.store.detail(learner, item["id"])
    except ServiceError:
        return item
    return {k: v for k, v in detail.items() if k not in ("credential", "elements", "view")}


@router.get("/credentials")
def credentials(
    request: Request,
    learner: LearnerPage,
    institution: str = "",
    module: str = "",
    level: str = "",
) -> Response:
    services = _services(request)
    t = web.translator(request)
    filters = CredentialFilter(
        institution=institution.strip() or None,
        module=module.strip() or None,
        level=int(level) if level.isdigit() else None,
    )
    items = [_fresh(services, learner, i) for i in services.store.browse(learner.id, filters)]
    for item in items:
        item["state"] = card_state(item)
    routes = [services.routes.progress(learner, r["id"]) for r in services.routes.list(learner)]
    total = sum(i.get("ects") or 0 for i in items if i["state"] == "verified")
    return _render(
        request,
        learner,
        "credentials.html",
        page_title=t("wallet.credentials.title"),
        items=items,
        routes=[_route_bar(r, t) for r in routes],
        filters={"institution": institution, "module": module, "level": level},
        total=t("wallet.credentials.total", count=len(items), ects=format_number(total) or "0"),
    )


@router.get("/credentials/{credential_id}")
def credential_detail(
    request: Request, learner: LearnerPage, credential_id: str, recheck: int = 0
) -> Response:
    services = _services(request)
    t = web.translator(request)
    detail = services.store.detail(learner, credential_id, refresh=bool(recheck))
    view = read_credential(detail["credential"])
    state = card_state(detail)
    arrival = report_view(detail.get("report") or {}, t)
    status_checks = report_view({"verified": True, "checks": detail["statusCheck"]["checks"]}, t)
    return _render(
        request,
        learner,
        "credential.html",
        page_title=view.title or t("wallet.detail.title"),
        item=detail,
        state=state,
        rows=microcredential_rows(view, t),
        arrival=arrival,
        status_checks=status_checks,
        checked_at=format_date(detail["statusCheck"].get("checkedAt"), with_time=True),
    )


@router.get("/credentials/{credential_id}/download")
def credential_download(request: Request, learner: LearnerPage, credential_id: str) -> Response:
    detail = _services(request).store.detail(learner, credential_id)
    if isinstance(detail["credential"], str):  # an SD-JWT VC: its compact form, as issued
        return Response(
            detail["credential"],
            media_type="application/dc+sd-jwt",
            headers={
                "Content-Disposition": 'attachment; filename="microcredential.sd-jwt"',
                "Cache-Control": "no-store",
            },
        )
    body = json.dumps(detail["credential"], indent=2, ensure_ascii=False)
    return Response(
        body,
        media_type="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="microcredential.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/credentials/{credential_id}/delete")
def credential_delete(request: Request, learner: LearnerPage, credential_id: str) -> Response:
    _services(request).store.delete(learner.id, credential_id)
    return web.redirect(request, "/credentials", flash=("info", "wallet.detail.deleted"))


# --------------------------------------------------------------------------- receiving


def _offer_host(offer: str) -> str | None:
    from urllib.parse import parse_qs, urlsplit

    if offer.startswith("openid-credential-offer://"):
        query = parse_qs(urlsplit(offer).query)
        uri = (query.get("credential_offer_uri") or [""])[0]
        if uri:
            return urlsplit(uri).netloc or None
        try:
            data = json.loads((query.get("credential_offer") or ["{}"])[0])
            return urlsplit(str(data.get("credential_issuer", ""))).netloc or None
        except ValueError:
            return None
    return urlsplit(offer).netloc or None


def _receive_page(request: Request, learner: Learner, **context: Any) -> Response:
    t = web.translator(request)
    offer = context.pop("offer", request.query_params.get("offer", ""))
    return _render(
        request,
        learner,
        "receive.html",
        page_title=t("wallet.receive.title"),
        offer=offer,
        offer_host=_offer_host(offer) if offer else None,
        **context,
    )


@router.get("/receive")
def receive_form(request: Request, learner: LearnerPage) -> Response:
    """Paste an offer; an offer link opened on a phone arrives here as ``?offer=``."""
    return _receive_page(request, learner)


@router.post("/receive/offer")
def receive_offer(
    request: Request,
    learner: LearnerPage,
    offer: Annotated[str, Form()] = "",
    pin: Annotated[str, Form()] = "",
    keep: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "",
) -> Response:
    t = web.translator(request)
    try:
        received = _services(request).receive.receive_offer(
            learner,
            offer.strip(),
            tx_code=pin.strip() or None,
            keep_unverified=bool(keep),
            format=format.strip() or None,
        )
    except ServiceError as exc:
        return _receive_page(
            request,
            learner,
            offer=offer.strip(),
            error=t("wallet.receive.failed", detail=exc.detail),
            status_code=http_status(exc) if http_status(exc) < 500 else 502,
        )
    return _to_credential(request, received[0])


def _to_credential(request: Request, stored: dict[str, Any]) -> Response:
    """After an import: the stored credential's page, with the flash that names it."""
    return web.redirect(
        request,
        f"/credentials/{stored['id']}",
        flash=("success", "wallet.receive.ok"),
        title=stored.get("title") or "",
    )


@router.post("/receive/file")
def receive_file(
    request: Request,
    learner: LearnerPage,
    file: Annotated[UploadFile | None, File()] = None,
    keep: Annotated[str, Form()] = "",
) -> Response:
    services = _services(request)
    t = web.translator(request)
    raw = file.file.read(services.settings.max_body + 1) if file is not None else b""
    if not raw.strip():
        return _receive_page(request, learner, file_error=t("wallet.receive.no_file"),
                             status_code=400)  # fmt: skip
    try:
        stored = services.receive.import_credential(
            learner, raw.decode("utf-8", errors="replace"), keep_unverified=bool(keep)
        )
    except ServiceError as exc:
        return _receive_page(
            request,
            learner,
            file_error=t("wallet.receive.failed", detail=exc.detail),
            status_code=http_status(exc),
        )
    return _to_credential(request, stored)


@router.post("/receive/badge")
def receive_badge(
    request: Request,
    learner: LearnerPage,
    url: Annotated[str, Form()] = "",
    keep: Annotated[str, Form()] = "",
) -> Response:
    """An Open Badges 2.0 assertion by its URL, fetched through the wallet's safe fetcher."""
    t = web.translator(request)
    try:
        stored = _services(request).receive.import_url(
            learner, url.strip(), keep_unverified=bool(keep)
        )
    except ServiceError as exc:
        return _receive_page(
            request,
            learner,
            badge_url=url.strip(),
            badge_error=t("wallet.receive.failed", detail=exc.detail),
            status_code=http_status(exc),
        )
    return _to_credential(request, stored)


# --------------------------------------------------------------------------- routes


def _route_bar(route: dict[str, Any], t: Translator) -> dict[str, Any]:
    """A route summary with what its progress bar shows: ECTS when the route counts them,
    otherwise the share of requirements met."""
    required = route.get("ectsRequired")
    if required:
        value, maximum = min(route.get("ectsTotal") or 0, required), required
        text = t("progress.ects", done=format_number(route.get("ectsTotal") or 0),
                 total=format_number(required))  # fmt: skip
    else:
        requirements = route.get("requirements") or []
        value = sum(1 for r in requirements if r.get("met"))
        maximum = len(requirements) or 1
        text = t("wallet.routes.requirements_done", done=value, total=len(requirements))
    return {**route, "bar_value": value, "bar_max": maximum, "bar_text": text}


@router.get("/routes")
def routes_page(request: Request, learner: LearnerPage) -> Response:
    services = _services(request)
    t = web.translator(request)
    mine = [_route_bar(services.routes.progress(learner, r["id"]), t)
            for r in services.routes.list(learner)]  # fmt: skip
    followed = {r["routeId"] for r in mine}
    published = [r for r in services.routes.published() if r.get("id") not in followed]
    return _render(
        request,
        learner,
        "routes.html",
        page_title=t("wallet.routes.title"),
        routes=mine,
        published=published,
    )


@router.post("/routes")
def routes_add(
    request: Request, learner: LearnerPage, published: Annotated[str, Form()] = ""
) -> Response:
    added = _services(request).routes.add(learner, published_id=published)
    return web.redirect(
        request, f"/routes/{added['id']}", flash=("success", "wallet.routes.added"),
        name=added["name"],
    )  # fmt: skip


@router.get("/routes/{route_id}")
def route_detail(request: Request, learner: LearnerPage, route_id: str) -> Response:
    services = _services(request)
    t = web.translator(request)
    route = _route_bar(services.routes.progress(learner, route_id), t)
    return _render(
        request,
        learner,
        "route.html",
        page_title=route["name"],
        route=route,
        counted=[c for c in route["credentials"] if c.get("counts")],
        not_counted=[c for c in route["credentials"] if not c.get("counts")],
    )


@router.post("/routes/{route_id}/remove")
def route_remove(request: Request, learner: LearnerPage, route_id: str) -> Response:
    _services(request).routes.remove(learner, route_id)
    return web.redirect(request, "/routes", flash=("info", "wallet.routes.removed"))


# --------------------------------------------------------------------------- shares


def _shares_page(request: Request, learner: Learner, **context: Any) -> Response:
    services = _services(request)
    t = web.translator(request)
    items = services.store.browse(learner.id, CredentialFilter())
    documents = {row.id: row.document for row in services.store.rows(learner.id)}
    for item in items:
        item["state"] = card_state(item)
        # selective disclosure (issue 18): what the learner may leave out of this one
        item["disclosable"] = [
            {**f, "label": f["label_nl"] if t.lang == "nl" else f["label_en"]}
            for f in disclosing.fields_for(documents.get(item["id"], {}))
        ]
    titles = {i["id"]: i.get("title") for i in items}
    shares = services.shares.list(learner)
    for share in shares:
        share["titles"] = [titles.get(cid) or cid for cid in share["credentialIds"]]
    context.setdefault("picked", [request.query_params.get("credential", "")])
    context.setdefault("error", None)
    return _render(
        request,
        learner,
        "shares.html",
        page_title=t("wallet.shares.title"),
        items=items,
        shares=shares,
        disclosures=services.requests.disclosures(learner)[::-1],
        titles=titles,
        expiry_choices=SHARE_EXPIRY,
        **context,
    )


@router.get("/shares")
def shares_page(request: Request, learner: LearnerPage) -> Response:
    return _shares_page(request, learner)


@router.post("/shares")
async def share_create(request: Request, learner: LearnerPage) -> Response:
    t = web.translator(request)
    form = await request.form()
    picked = [v for v in form.getlist("credential") if isinstance(v, str) and v]
    label = str(form.get("label") or "")
    try:
        expires_in = int(str(form.get("expires_in") or 7 * 86_400))
    except ValueError:
        expires_in = 7 * 86_400
    raw_views = str(form.get("max_views") or "").strip()
    if not picked:
        return _shares_page(request, learner, error=t("wallet.shares.none_picked"),
                            picked=[], status_code=400)  # fmt: skip
    try:
        created = _services(request).shares.create(
            learner,
            picked,
            expires_in=expires_in if expires_in in SHARE_EXPIRY else 7 * 86_400,
            max_views=int(raw_views) if raw_views.isdigit() else None,
            label=label,
            disclose=_disclose_form(form, picked),
        )
    except ServiceError as exc:
        return _shares_page(request, learner, error=exc.detail, picked=picked,
                            status_code=http_status(exc))  # fmt: skip
    return web.redirect(
        request, f"/shares/{created['id']}", flash=("success", "wallet.share.created")
    )


def _disclose_form(form: Any, picked: list[str]) -> dict[str, list[str]] | None:
    """The ticked ``disclose:<credential id>`` boxes; the service keeps only selectively
    disclosable credentials and checks every name."""
    choice = {
        cid: [v for v in form.getlist(f"disclose:{cid}") if isinstance(v, str)]
        for cid in picked
        if f"disclose-offered:{cid}" in form
    }
    return choice or None


@router.get("/shares/{share_id}")
def share_detail(request: Request, learner: LearnerPage, share_id: str) -> Response:
    services = _services(request)
    t = web.translator(request)
    share = services.shares.get(learner, share_id, with_qr=True)
    titles = {i["id"]: i for i in services.store.browse(learner.id, CredentialFilter())}
    return _render(
        request,
        learner,
        "share.html",
        page_title=t("wallet.share.title"),
        share=share,
        contents=[titles.get(cid, {"id": cid, "title": cid}) for cid in share["credentialIds"]],
        accesses=services.shares.accesses(learner, share_id)[::-1],
    )


@router.post("/shares/{share_id}/revoke")
def share_revoke(request: Request, learner: LearnerPage, share_id: str) -> Response:
    _services(request).shares.revoke(learner, share_id)
    return web.redirect(request, f"/shares/{share_id}", flash=("info", "wallet.share.revoked"))


# --------------------------------------------------------------------------- requests


@router.get("/present")
def present(request: Request, learner: LearnerPage, request_uri: str = "") -> Response:
    """Paste a verifier's request; with ``?request_uri=`` show the consent screen."""
    t = web.translator(request)
    value = request_uri.strip() or request.query_params.get("request", "").strip()
    if not value:
        return _render(request, learner, "present.html", page_title=t("wallet.present.title"))
    try:
        preview = _services(request).requests.preview(learner, value)
    except ServiceError as exc:
        return _render(
            request,
            learner,
            "present.html",
            page_title=t("wallet.present.title"),
            value=value,
            error=exc.detail,
            status_code=http_status(exc) if http_status(exc) < 500 else 502,
        )
    return _consent(request, learner, value, preview)


def _consent(
    request: Request,
    learner: Learner,
    value: str,
    preview: dict[str, Any],
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    t = web.translator(request)
    for query in preview["queries"]:
        for match in query["matches"]:
            match["state"] = card_state(match)
    verifier = preview.get("verifier") or {}
    return _render(
        request,
        learner,
        "consent.html",
        page_title=t("wallet.consent.title"),
        value=value,
        preview=preview,
        verifier=verifier,
        verifier_name=verifier.get("name") or t("wallet.consent.unknown_verifier"),
        error=error,
        status_code=status_code,
    )


def _disclose(form: Any) -> dict[str, list[str]]:
    """The ticked SD-JWT VC claims: ``disclose`` values ``<wallet id>|<path>``; every SD-JWT
    VC on the page is named in ``sdjwt``, so one with nothing ticked sends no disclosure."""
    out: dict[str, list[str]] = {
        v: [] for v in form.getlist("sdjwt") if isinstance(v, str) and v
    }
    for value in form.getlist("disclose"):
        if isinstance(value, str) and "|" in value:
            row_id, path = value.split("|", 1)
            out.setdefault(row_id, []).append(path)
    return out


@router.post("/present/respond")
async def present_respond(request: Request, learner: LearnerPage) -> Response:
    services = _services(request)
    t = web.translator(request)
    form = await request.form()
    value = str(form.get("request") or "")
    if form.get("decision") == "decline":
        services.requests.decline(learner, value)
        return web.redirect(request, "/shares", flash=("info", "wallet.consent.declined"))
    picked = [v for v in form.getlist("credential") if isinstance(v, str) and v]
    consent = form.get("consent") == "yes"
    if not consent or not picked:
        preview = services.requests.preview(learner, value)
        return _consent(request, learner, value, preview, error=t("wallet.consent.need"),
                        status_code=400)  # fmt: skip
    try:
        # ecdsa-sd-2023 fields (issue 18) and SD-JWT VC claims (issue 19), per credential
        disclose = {**(_disclose_form(form, picked) or {}), **_disclose(form)}
        sent = services.requests.respond(learner, value, picked, consent, disclose or None)
    except ServiceError as exc:
        preview = services.requests.preview(learner, value)
        return _consent(request, learner, value, preview, error=exc.detail,
                        status_code=min(http_status(exc), 502))  # fmt: skip
    name = (sent.get("verifier") or {}).get("name") or t("wallet.consent.unknown_verifier")
    return web.redirect(request, "/shares", flash=("success", "wallet.consent.sent"), name=name)


# --------------------------------------------------------------------------- data


@router.get("/data")
def data_page(request: Request, learner: LearnerPage) -> Response:
    t = web.translator(request)
    return _render(request, learner, "data.html", page_title=t("wallet.data.title"), error=None)


@router.get("/data/export.json")
def data_export(request: Request, learner: LearnerPage) -> Response:
    bundle = _services(request).portability.export(learner)
    return Response(
        json.dumps(bundle, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="wallet-{quote(learner.username)}.json"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/data/import")
def data_import(
    request: Request, learner: LearnerPage, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    services = _services(request)
    t = web.translator(request)
    raw = file.file.read(services.settings.max_import_body + 1) if file is not None else b""
    try:
        bundle = json.loads(raw or b"null")
        counts = services.portability.restore(learner, bundle)
    except ValueError as exc:
        return _render(request, learner, "data.html", page_title=t("wallet.data.title"),
                       error=str(exc), status_code=400)  # fmt: skip
    except ServiceError as exc:
        return _render(request, learner, "data.html", page_title=t("wallet.data.title"),
                       error=exc.detail, status_code=http_status(exc))  # fmt: skip
    return web.redirect(
        request, "/credentials", flash=("success", "wallet.data.imported"),
        credentials=counts.get("credentials", 0),
    )  # fmt: skip


@router.post("/data/delete")
def data_delete(
    request: Request, learner: LearnerPage, confirm: Annotated[str, Form()] = ""
) -> Response:
    t = web.translator(request)
    if confirm.strip().lower() != learner.username:
        return _render(request, learner, "data.html", page_title=t("wallet.data.title"),
                       error=t("wallet.data.delete_mismatch"), status_code=400)  # fmt: skip
    _services(request).portability.delete_account(learner)
    response = web.redirect(request, "/", flash=("info", "wallet.data.deleted"))
    web.delete_cookie(request, response, SESSION_COOKIE)
    return response


__all__ = ["card_state", "router", "web"]
