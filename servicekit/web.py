"""The pages' shared web layer: templates, language, CSRF, flash messages, static files.

The three services serve people as well as machines (a registrar, a learner on a phone,
an HR officer), and every page must get the same few things right. Writing them once here
means no service can forget one:

* **escaping** – one Jinja2 environment with autoescape always on (also for templates
  built from strings), so every value that comes from a credential is shown as text: a
  module called ``<script>`` is displayed, never run. Nothing here marks text as safe;
* **language** – Dutch (default, the demo is Dutch) and English from a small catalogue per
  language; the choice lives in a cookie shared by all services and a switch link;
* **CSRF** – a signed double-submit token: a random value with an HMAC over it and the
  caller's session cookie, kept in a cookie and repeated in a hidden field; every POST of
  a page form must carry both, equal and correctly signed. The HMAC key is per deployment
  (``MICROCRED_WEB_SECRET`` or a generated file in the data directory), so a token cannot
  be forged, and binding it to the session means one planted by a sibling host does not
  fit another user's session;
* **flash messages** – a signed cookie carrying message keys across the redirect that
  follows every form post;
* **static files** – the stylesheet and the few small scripts are served by each service
  itself (the CSP allows ``'self'`` only: no CDN, no inline script or style);
* **errors** – page routes answer with an HTML page, not problem JSON, when something goes
  wrong, through :class:`PageRoute`.

Cookies on ``localhost`` are shared by every port, and the demo runs three services on one
host, so every cookie name carries the service name (only the language choice is shared).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import mimetypes
import os
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import FormData

from credentials.microcredential import MicrocredentialView
from credentials.report import VerificationReport

from .errors import ServiceError, http_status
from .problems import ProblemError

log = logging.getLogger("microcred.web")

KIT_DIR = Path(__file__).resolve().parent
KIT_TEMPLATES = KIT_DIR / "templates"
KIT_STATIC = KIT_DIR / "static"

LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LANG_COOKIE = "mc_lang"
CSRF_FIELD = "csrf_token"
SECRET_ENV = "MICROCRED_WEB_SECRET"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STATIC_TYPES = {".css", ".js", ".png", ".svg", ".ico", ".woff2"}

Messages = Mapping[str, Mapping[str, str]]

# --------------------------------------------------------------------------- messages

#: What every service's pages say. Services add their own keys (``<service>.*``).
KIT_MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "skip": "Naar de inhoud",
        "lang.switch": "English",
        "lang.switch_label": "Switch to English",
        "nav.main": "Hoofdmenu",
        "footer.text": "microcred — microcredentials volgens de Europese aanbeveling",
        "error.title": "Er ging iets mis",
        "error.back": "Terug naar de startpagina",
        "error.csrf": (
            "Het formulier was verlopen of kwam niet van deze site. Laad de pagina opnieuw "
            "en probeer het nog eens."
        ),
        "error.not_found": "Deze pagina bestaat niet (meer).",
        "error.invalid_form": "Het formulier is niet volledig ingevuld: {detail}",
        "error.internal": "Er ging onverwacht iets mis. Probeer het later nog eens.",
        "error.problem": "{detail}",
        "error.login_required": "Log eerst in.",
        "flash.close": "Sluiten",
        "outcome.passed": "in orde",
        "outcome.failed": "afgekeurd",
        "outcome.warning": "let op",
        "outcome.skipped": "niet gecontroleerd",
        "check.structure": "Opbouw volgens de W3C-standaard",
        "check.context": "Betekenis van alle gegevens bekend",
        "check.proof": "Digitale handtekening",
        "check.proof_purpose": "Doel van de handtekening",
        "check.verification_method": "Sleutel hoort bij de ondertekenaar",
        "check.issuer": "Ondertekend door de uitgever zelf",
        "check.validity": "Geldigheidsperiode",
        "check.status": "Niet ingetrokken of geschorst",
        "check.status_revocation": "Niet ingetrokken",
        "check.status_suspension": "Niet geschorst",
        "check.trust": "Erkende onderwijsinstelling",
        "check.schema": "Volledig volgens het EU-microcredentialprofiel",
        "check.policy": "Beleid van deze controle",
        "check.format": "Soort credential",
        "check.related_resource": "Gekoppelde bestanden ongewijzigd",
        "check.badge_class": "Beschrijving van de badge",
        "check.hosting": "Bewaard op de server van de uitgever",
        "check.origin": "Staat waar de uitgever het toestaat",
        "check.recipient": "Ontvanger van de badge",
        "field.format": "Soort",
        "format.hosted": "gehost (niet ondertekend)",
        "format.signed": "ondertekend",
        "format.presentation": "presentatie",
        "format.unknown": "onbekend",
        "profile.genuine": "Echt en geldig",
        "profile.missing": "{n} van de {total} EU-elementen ontbreken",
        "profile.missing_one": "{n} van de {total} EU-elementen ontbreekt",
        "profile.incomplete": "niet volledig volgens het EU-microcredentialprofiel",
        "check.holder": "Gedeeld door de eigenaar",
        "check.holder_binding": "Op naam van wie het deelt",
        "check.challenge": "Antwoord op deze vraag",
        "check.domain": "Bestemd voor deze controle",
        "check.nonce": "Eenmalige code",
        "check.request": "Past bij het verzoek",
        "check.share_link": "Deellink opgehaald",
        "check.holder_proof": "Handtekening van de eigenaar",
        "check.credential_n": "Credential {n}: {label}",
        "checks.title": "Alle controles",
        "checks.expand": "Klik op een controle voor uitleg",
        "badge.verified": "Geverifieerd",
        "badge.revoked": "Ingetrokken",
        "badge.suspended": "Geschorst",
        "badge.expired": "Verlopen",
        "badge.unverified": "Niet geverifieerd",
        "badge.unknown": "Status onbekend",
        "badge.failed": "Afgekeurd",
        "badge.untrusted": "Instelling onbekend",
        "field.title": "Module",
        "field.institution": "Instelling",
        "field.country": "Land",
        "field.awarding_body_ids": "Registratienummers instelling",
        "field.issued": "Datum van uitgifte",
        "field.valid_until": "Geldig tot",
        "field.ects": "Studiepunten (ECTS)",
        "field.hours": "Studielast (uren)",
        "field.level": "Niveau",
        "field.eqf": "EQF-niveau {n}",
        "field.nlqf": "NLQF-niveau {n}",
        "field.qf_ehea": "QF-EHEA: {cycle}",
        "field.description": "Omschrijving",
        "field.learning_outcomes": "Leerresultaten",
        "field.criteria": "Wat je moest laten zien",
        "field.assessment": "Soort toetsing",
        "field.participation": "Vorm van deelname",
        "field.supervision": "Toezicht bij de toets",
        "field.identity_check": "Identiteit gecontroleerd bij de toets",
        "field.quality_assurance": "Kwaliteitszorg",
        "field.language": "Taal",
        "field.prerequisites": "Vooropleiding",
        "field.stackability": "Stapelbaar",
        "field.stackable_into": "Telt mee voor",
        "field.grade": "Resultaat",
        "field.holder": "Houder",
        "field.credential_id": "Kenmerk",
        "value.yes": "ja",
        "value.no": "nee",
        "value.not_stated": "niet vermeld",
        "participation.online": "online",
        "participation.onsite": "op locatie",
        "participation.blended": "gemengd (online en op locatie)",
        "participation.volunteering": "vrijwilligerswerk",
        "participation.work-experience": "werkervaring",
        "supervision.unsupervised": "zonder toezicht",
        "supervision.supervised-online": "met toezicht, online",
        "supervision.supervised-onsite": "met toezicht, op locatie",
        "stackability.stackable": "ja, telt mee voor een groter geheel",
        "stackability.standalone": "nee, op zichzelf staand",
        "progress.ects": "{done} van {total} ECTS",
        "reload_hint": "Ververs deze pagina om de nieuwe stand te zien.",
        "copy": "Kopieer",
        "copied": "Gekopieerd",
    },
    "en": {
        "skip": "Skip to content",
        "lang.switch": "Nederlands",
        "lang.switch_label": "Schakel naar Nederlands",
        "nav.main": "Main menu",
        "footer.text": "microcred — microcredentials following the European recommendation",
        "error.title": "Something went wrong",
        "error.back": "Back to the start page",
        "error.csrf": (
            "The form had expired or did not come from this site. Reload the page and try again."
        ),
        "error.not_found": "This page does not exist (any more).",
        "error.invalid_form": "The form is not complete: {detail}",
        "error.internal": "Something unexpected went wrong. Please try again later.",
        "error.problem": "{detail}",
        "error.login_required": "Please log in first.",
        "flash.close": "Close",
        "outcome.passed": "passed",
        "outcome.failed": "failed",
        "outcome.warning": "warning",
        "outcome.skipped": "not checked",
        "check.structure": "Structure follows the W3C standard",
        "check.context": "Meaning of every field is known",
        "check.proof": "Digital signature",
        "check.proof_purpose": "Purpose of the signature",
        "check.verification_method": "Key belongs to the signer",
        "check.issuer": "Signed by the issuer itself",
        "check.validity": "Validity period",
        "check.status": "Not revoked or suspended",
        "check.status_revocation": "Not revoked",
        "check.status_suspension": "Not suspended",
        "check.trust": "Recognised education institution",
        "check.schema": "Complete under the EU micro-credential profile",
        "check.policy": "Policy of this check",
        "check.format": "Kind of credential",
        "check.related_resource": "Linked files unchanged",
        "check.badge_class": "Description of the badge",
        "check.hosting": "Kept on the issuer's server",
        "check.origin": "Hosted where the issuer allows it",
        "check.recipient": "Recipient of the badge",
        "field.format": "Format",
        "format.hosted": "hosted (not signed)",
        "format.signed": "signed",
        "format.presentation": "presentation",
        "format.unknown": "unknown",
        "profile.genuine": "Genuine and valid",
        "profile.missing": "{n} of the {total} EU elements missing",
        "profile.missing_one": "{n} of the {total} EU elements missing",
        "profile.incomplete": "not complete under the EU micro-credential profile",
        "check.holder": "Shared by its owner",
        "check.holder_binding": "Issued to the person sharing it",
        "check.challenge": "Answers this request",
        "check.domain": "Meant for this check",
        "check.nonce": "Single-use code",
        "check.request": "Matches the request",
        "check.share_link": "Share link fetched",
        "check.holder_proof": "The owner's signature",
        "check.credential_n": "Credential {n}: {label}",
        "checks.title": "All checks",
        "checks.expand": "Open a check for the explanation",
        "badge.verified": "Verified",
        "badge.revoked": "Revoked",
        "badge.suspended": "Suspended",
        "badge.expired": "Expired",
        "badge.unverified": "Not verified",
        "badge.unknown": "Status unknown",
        "badge.failed": "Failed",
        "badge.untrusted": "Institution not recognised",
        "field.title": "Module",
        "field.institution": "Institution",
        "field.country": "Country",
        "field.awarding_body_ids": "Institution registration numbers",
        "field.issued": "Date of issue",
        "field.valid_until": "Valid until",
        "field.ects": "Credits (ECTS)",
        "field.hours": "Workload (hours)",
        "field.level": "Level",
        "field.eqf": "EQF level {n}",
        "field.nlqf": "NLQF level {n}",
        "field.qf_ehea": "QF-EHEA: {cycle}",
        "field.description": "Description",
        "field.learning_outcomes": "Learning outcomes",
        "field.criteria": "What had to be shown",
        "field.assessment": "Type of assessment",
        "field.participation": "Form of participation",
        "field.supervision": "Supervision during assessment",
        "field.identity_check": "Identity checked at assessment",
        "field.quality_assurance": "Quality assurance",
        "field.language": "Language",
        "field.prerequisites": "Prerequisites",
        "field.stackability": "Stackable",
        "field.stackable_into": "Counts towards",
        "field.grade": "Result",
        "field.holder": "Holder",
        "field.credential_id": "Identifier",
        "value.yes": "yes",
        "value.no": "no",
        "value.not_stated": "not stated",
        "participation.online": "online",
        "participation.onsite": "on site",
        "participation.blended": "blended (online and on site)",
        "participation.volunteering": "volunteering",
        "participation.work-experience": "work experience",
        "supervision.unsupervised": "unsupervised",
        "supervision.supervised-online": "supervised, online",
        "supervision.supervised-onsite": "supervised, on site",
        "stackability.stackable": "yes, counts towards a larger whole",
        "stackability.standalone": "no, stand-alone",
        "progress.ects": "{done} of {total} ECTS",
        "reload_hint": "Reload this page to see the latest state.",
        "copy": "Copy",
        "copied": "Copied",
    },
}


class Translator:
    """``t(key, **params)`` for one language, falling back to English, then to the key.

    The result is a plain string, not markup: Jinja escapes it like any other value, so a
    credential's text passed in as a parameter can never become HTML.
    """

    def __init__(self, catalogue: Messages, lang: str) -> None:
        self.catalogue = catalogue
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self.catalogue.get(self.lang, {}).get(key)
        if text is None:
            text = self.catalogue.get("en", {}).get(key, key)
        if params:
            try:
                return text.format(**params)
            except (KeyError, IndexError, ValueError):
                return text
        return text

    def has(self, key: str) -> bool:
        return key in self.catalogue.get(self.lang, {}) or key in self.catalogue.get("en", {})

    def plural(self, key: str, count: int, /, **params: Any) -> str:
        """``key.one`` for exactly one, ``key.other`` otherwise (Dutch and English agree
        on that rule); ``count`` is passed on as a parameter too."""
        form = "one" if count == 1 else "other"
        return self(f"{key}.{form}", count=count, **params)


def load_messages(directory: Path) -> dict[str, dict[str, str]]:
    """Read a message catalogue: one flat ``<lang>.json`` per language in ``directory``.

    Catalogues are data, not code, so translators can edit them and tests can compare the
    languages key by key; a key missing in one language is a test failure, not a fallback
    anybody sees.
    """
    catalogue: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        path = directory / f"{lang}.json"
        if path.is_file():
            catalogue[lang] = json.loads(path.read_text(encoding="utf-8"))
    return catalogue


def merge_messages(*catalogues: Messages) -> dict[str, dict[str, str]]:
    """Later catalogues extend (and may override) earlier ones, per language."""
    merged: dict[str, dict[str, str]] = {lang: {} for lang in LANGUAGES}
    for catalogue in catalogues:
        for lang, entries in catalogue.items():
            merged.setdefault(lang, {}).update(entries)
    return merged


# the kit's catalogue files (servicekit/messages/<lang>.json) join the table above
KIT_MESSAGES = merge_messages(KIT_MESSAGES, load_messages(KIT_DIR / "messages"))


# --------------------------------------------------------------------------- secrets


def _read_or_create_secret(path: Path) -> bytes:
    """A 32-byte key in ``path``, created once (mode 0600) and then reused.

    ``O_EXCL`` makes concurrent first starts (several workers) agree: the loser reads the
    winner's file instead of overwriting it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            data = path.read_bytes().strip()
            if data:
                return bytes.fromhex(data.decode())
            time.sleep(0.01)
        raise RuntimeError(f"the web secret file {path} is empty") from None
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key


def deployment_secret(service: str, data_dir: Path | str | None) -> bytes:
    """The per-deployment HMAC key for CSRF tokens and flash cookies.

    ``MICROCRED_WEB_SECRET`` wins (what several instances behind a proxy must share);
    otherwise a file ``web-secret-<service>`` in the data directory, generated on first use.
    Each service has its own, so one service's cookie means nothing to another.
    """
    configured = os.environ.get(SECRET_ENV, "").strip()
    if configured:
        return hashlib.sha256(f"{service}\x00{configured}".encode()).digest()
    directory = Path(data_dir) if data_dir else Path.cwd() / ".microcred"
    return _read_or_create_secret(directory / f"web-secret-{service}")


def _sign(secret: bytes, *parts: str) -> str:
    mac = hmac.new(secret, "\x00".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


# --------------------------------------------------------------------------- errors


class PageError(Exception):
    """An error a page answers with an HTML page; ``key`` is a message catalogue key."""

    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


class LoginRequired(Exception):
    """Raised by a page dependency when the visitor must log in first (a redirect)."""

    def __init__(self, login_path: str, next_path: str = "") -> None:
        super().__init__(login_path)
        self.login_path = login_path
        self.next_path = next_path


# --------------------------------------------------------------------------- flash


@dataclass(frozen=True)
class Flash:
    level: str  # "success", "error", "info"
    key: str
    params: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- the web


@dataclass(frozen=True)
class NavItem:
    key: str
    href: str


class Web:
    """One service's page toolkit; build one per service at import time of its pages.

    ``settings_of`` finds the service's settings for a request (for the data directory that
    holds the deployment secret, and whether cookies must be ``Secure``); the default reads
    ``request.app.state.settings``. ``session_cookie`` names the cookie that identifies a
    logged-in user (the CSRF token is bound to it).
    """

    def __init__(
        self,
        service: str,
        *,
        templates: Path | None = None,
        static: Path | None = None,
        messages: Messages | None = None,
        session_cookie: str | None = None,
        settings_of: Callable[[Request], Any] | None = None,
    ) -> None:
        self.service = service
        self.static_dir = static
        self.messages = merge_messages(KIT_MESSAGES, messages or {})
        self.session_cookie = session_cookie
        self.csrf_cookie = f"mc_{service}_csrf"
        self.flash_cookie = f"mc_{service}_flash"
        self._settings_of = settings_of or (lambda request: request.app.state.settings)
        self._secrets: dict[str, bytes] = {}
        loaders = [FileSystemLoader(str(templates))] if templates else []
        loaders.append(FileSystemLoader(str(KIT_TEMPLATES)))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,  # everything, including templates made from strings
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["date"] = format_date
        self.env.filters["number"] = format_number
        self.env.globals["static"] = self.static_url
        self._static_versions: dict[str, str] = {}
        self.router = self._build_router()

    # -- configuration ----------------------------------------------------------------------

    def settings(self, request: Request) -> Any:
        return self._settings_of(request)

    def secret(self, request: Request) -> bytes:
        try:
            data_dir = getattr(self.settings(request), "data_dir", None)
        except AttributeError:
            data_dir = None
        cache_key = f"{data_dir}|{os.environ.get(SECRET_ENV, '')}"
        if cache_key not in self._secrets:
            self._secrets[cache_key] = deployment_secret(self.service, data_dir)
        return self._secrets[cache_key]

    def secure_cookies(self, request: Request) -> bool:
        try:
            return bool(getattr(self.settings(request), "is_https", False))
        except AttributeError:
            return request.url.scheme == "https"

    def language(self, request: Request) -> str:
        lang = request.cookies.get(LANG_COOKIE, "")
        return lang if lang in LANGUAGES else DEFAULT_LANGUAGE

    def translator(self, request: Request) -> Translator:
        return Translator(self.messages, self.language(request))

    def set_cookie(
        self,
        request: Request,
        response: Response,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        httponly: bool = True,
        path: str = "/",
    ) -> None:
        """Cookies the pages set: HttpOnly, SameSite=Lax, Secure when served over https."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            httponly=httponly,
            samesite="lax",
            secure=self.secure_cookies(request),
        )

    def delete_cookie(self, request: Request, response: Response, name: str) -> None:
        """Expire a cookie with the flags it was set with: a deletion without them would be
        the one cookie header on the site that scripts could read or plain http carry."""
        response.delete_cookie(
            name, path="/", httponly=True, samesite="lax", secure=self.secure_cookies(request)
        )

    # -- CSRF -------------------------------------------------------------------------------

    def _binding(self, request: Request) -> str:
        if not self.session_cookie:
            return ""
        session = request.cookies.get(self.session_cookie, "")
        return hashlib.sha256(session.encode()).hexdigest() if session else ""

    def _csrf_valid(self, request: Request, token: str | None) -> bool:
        if not token or "." not in token:
            return False
        nonce, signature = token.rsplit(".", 1)
        if len(nonce) < 16:
            return False
        expected = _sign(self.secret(request), "csrf", self._binding(request), nonce)
        return hmac.compare_digest(expected, signature)

    def csrf_token(self, request: Request) -> tuple[str, bool]:
        """The token for this visitor's forms, and whether it is new (cookie to set)."""
        cached = getattr(request.state, "mc_csrf_token", None)
        if cached:
            return cached, False
        current = request.cookies.get(self.csrf_cookie)
        if current and self._csrf_valid(request, current):
            return current, False
        nonce = secrets.token_urlsafe(24)
        token = f"{nonce}.{_sign(self.secret(request), 'csrf', self._binding(request), nonce)}"
        request.state.mc_csrf_token = token
        return token, True

    async def csrf_protect(self, request: Request) -> None:
        """Router dependency: every unsafe request must carry a valid double-submit token.

        Browsers also say where a request came from (``Sec-Fetch-Site``); a cross-site form
        post is refused on that alone, before the token is even looked at.
        """
        if request.method not in UNSAFE_METHODS:
            return
        if request.headers.get("sec-fetch-site", "") == "cross-site":
            raise PageError(403, "error.csrf")
        try:
            form: FormData = await request.form()
        except Exception:  # an unparsable body is no form of ours
            raise PageError(400, "error.csrf") from None
        field_value = form.get(CSRF_FIELD)
        cookie_value = request.cookies.get(self.csrf_cookie)
        if (
            not isinstance(field_value, str)
            or not cookie_value
            or not hmac.compare_digest(field_value.encode(), cookie_value.encode())
            or not self._csrf_valid(request, cookie_value)
        ):
            raise PageError(403, "error.csrf")

    # -- sealed cookies ---------------------------------------------------------------------

    def seal(self, request: Request, purpose: str, value: str, ttl: int) -> str:
        """``value`` encrypted and authenticated (AES-GCM) with an expiry, for a cookie.

        For page sessions of services that have no session table of their own: a stolen
        cookie is useless after ``ttl`` seconds and does not reveal what it carries.
        """
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = hmac.new(self.secret(request), f"seal:{purpose}".encode(), "sha256").digest()
        nonce = secrets.token_bytes(12)
        payload = json.dumps({"v": value, "exp": int(time.time()) + ttl}).encode()
        sealed = AESGCM(key).encrypt(nonce, payload, purpose.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def unseal(self, request: Request, purpose: str, token: str | None) -> str | None:
        """The value of a cookie from :meth:`seal`; None when forged, altered or expired."""
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if not token or len(token) > 4096:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            key = hmac.new(self.secret(request), f"seal:{purpose}".encode(), "sha256").digest()
            payload = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], purpose.encode()))
        except (ValueError, InvalidTag, TypeError):
            return None
        if not isinstance(payload, dict) or int(payload.get("exp", 0)) < time.time():
            return None
        value = payload.get("v")
        return value if isinstance(value, str) else None

    # -- flash ------------------------------------------------------------------------------

    def flash(
        self, request: Request, response: Response, level: str, key: str, **params: Any
    ) -> None:
        """Add a message to show on the next page this visitor sees."""
        pending = list(getattr(request.state, "mc_flash_pending", []))
        pending.append(Flash(level, key, {k: str(v) for k, v in params.items()}))
        request.state.mc_flash_pending = pending
        payload = json.dumps([[f.level, f.key, f.params] for f in pending[-5:]]).encode()
        data = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        signature = _sign(self.secret(request), "flash", data)
        self.set_cookie(request, response, self.flash_cookie, f"{data}.{signature}", max_age=300)

    def _take_flashes(self, request: Request) -> list[Flash]:
        raw = request.cookies.get(self.flash_cookie)
        if not raw or "." not in raw:
            return []
        data, signature = raw.rsplit(".", 1)
        if not hmac.compare_digest(_sign(self.secret(request), "flash", data), signature):
            return []
        try:
            items = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
            return [
                Flash(str(level), str(key), {str(k): str(v) for k, v in dict(params).items()})
                for level, key, params in items
            ]
        except (ValueError, TypeError):
            return []

    # -- responses --------------------------------------------------------------------------

    def render(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """Render a page with the standard context; sets the CSRF cookie when it is new."""
        t = self.translator(request)
        token, new_token = self.csrf_token(request)
        flashes = self._take_flashes(request)
        full = {
            "request": request,
            "t": t,
            "lang": t.lang,
            "other_lang": "en" if t.lang == "nl" else "nl",
            "csrf_field": CSRF_FIELD,
            "csrf_token": token,
            "flashes": flashes,
            "service": self.service,
            "current_path": _current_path(request),
            "nav": [],
            "user_label": None,
            "logout_path": None,
            "logout_key": "logout",
            "page_title": "",
            "app_name": t(f"{self.service}.app_name"),
        }
        full.update(context)
        full["active_nav"] = active_nav(full["nav"], request.url.path)
        body = self.env.get_template(template).render(full)
        response = HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
        response.headers["Cache-Control"] = "no-store"
        if new_token:
            self.set_cookie(request, response, self.csrf_cookie, token)
        if flashes:
            self.delete_cookie(request, response, self.flash_cookie)
        return response

    def redirect(
        self,
        request: Request,
        url: str,
        *,
        flash: tuple[str, str] | None = None,
        **params: Any,
    ) -> RedirectResponse:
        """303 See Other (the answer to a form post), optionally with a flash message."""
        response = RedirectResponse(url, status_code=303)
        if flash is not None:
            self.flash(request, response, flash[0], flash[1], **params)
        return response

    def error_page(
        self,
        request: Request,
        status: int,
        key: str,
        *,
        headers: Mapping[str, str] | None = None,
        **params: Any,
    ) -> HTMLResponse:
        t = self.translator(request)
        return self.render(
            request,
            "error.html",
            status_code=status,
            headers=headers,
            page_title=t("error.title"),
            message=t(key, **params),
            status=status,
        )

    # -- static files -----------------------------------------------------------------------

    def static_url(self, name: str) -> str:
        """``/static/<service>/<name>`` with a content hash, so caches never serve stale JS."""
        version = self._static_versions.get(name)
        if version is None:
            path = self._static_path(name)
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path else "0"
            self._static_versions[name] = version
        return f"/static/{self.service}/{name}?v={version}"

    def _static_path(self, name: str) -> Path | None:
        if Path(name).suffix not in _STATIC_TYPES or "\\" in name:
            return None
        for base in (self.static_dir, KIT_STATIC):
            if base is None:
                continue
            candidate = (base / name).resolve()
            if candidate.is_relative_to(base.resolve()) and candidate.is_file():
                return candidate
        return None

    def _build_router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.get(f"/static/{self.service}/{{name:path}}")
        def static(name: str) -> Response:
            path = self._static_path(name)
            if path is None:
                return Response("not found", status_code=404, media_type="text/plain")
            media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".js":
                media_type = "text/javascript"
            return FileResponse(
                path,
                media_type=media_type,
                headers={"Cache-Control": "public, max-age=86400"},
            )

        @router.get("/lang/{code}")
        def switch_language(request: Request, code: str, next: str = "/") -> Response:
            """A plain link switches the language (a preference, so no CSRF concern)."""
            response = RedirectResponse(safe_next(next), status_code=303)
            if code in LANGUAGES:
                self.set_cookie(
                    request, response, LANG_COOKIE, code, max_age=365 * 86400, httponly=False
                )
            return response

        return router

    # -- routes -----------------------------------------------------------------------------

    def route_class(self) -> type[APIRoute]:
        """An ``APIRoute`` whose errors become HTML pages instead of problem JSON."""
        web = self

        class PageRoute(APIRoute):
            def get_route_handler(self):  # type: ignore[no-untyped-def]
                handler = super().get_route_handler()

                async def page_handler(request: Request) -> Response:
                    try:
                        return await handler(request)
                    except PageError as exc:
                        return web.error_page(request, exc.status, exc.key, **exc.params)
                    except ProblemError as exc:
                        # a service refused: its own words, on a page, same status
                        headers = {
                            k: v for k, v in exc.headers.items() if k.lower() == "retry-after"
                        }
                        return web.error_page(
                            request, exc.status, "error.problem", headers=headers, detail=exc.detail
                        )
                    except ServiceError as exc:
                        headers = {
                            k: v for k, v in exc.headers.items() if k.lower() == "retry-after"
                        }
                        return web.error_page(
                            request,
                            http_status(exc),
                            "error.problem",
                            headers=headers,
                            detail=exc.detail,
                        )
                    except LoginRequired as exc:
                        target = exc.login_path
                        if exc.next_path:
                            from urllib.parse import quote

                            target += "?next=" + quote(exc.next_path, safe="/")
                        return web.redirect(request, target, flash=("info", "error.login_required"))
                    except RequestValidationError as exc:
                        detail = ", ".join(
                            str(error.get("loc", ["?"])[-1]) for error in exc.errors()
                        )
                        return web.error_page(request, 400, "error.invalid_form", detail=detail)

                return page_handler

        return PageRoute

    def page_router(self) -> APIRouter:
        """The router a service's pages are declared on: HTML errors, CSRF on every post,
        and the static files and language switch included."""
        from fastapi import Depends

        router = APIRouter(
            include_in_schema=False,
            route_class=self.route_class(),
            dependencies=[Depends(self.csrf_protect)],
        )
        router.include_router(self.router)
        return router


# --------------------------------------------------------------------------- helpers


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after a form; anything else (other hosts, ``//x``) is refused."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ch in target for ch in "\r\n"):
        return default
    return target


def active_nav(nav: Sequence[NavItem], path: str) -> str | None:
    """The menu entry for ``path``: the longest ``href`` that is ``path`` or a parent of it."""
    best: str | None = None
    for item in nav:
        href = item.href.rstrip("/") or "/"
        inside = path == href or (href != "/" and path.startswith(href + "/"))
        if inside and (best is None or len(href) > len(best)):
            best = item.href
    return best


def _current_path(request: Request) -> str:
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


def format_date(value: Any, with_time: bool = False) -> str:
    """Dates as Dutch and English readers both read them: 2026-11-28 (ISO, unambiguous)."""
    if value is None or value == "":
        return ""
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC)
        return moment.strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")
    return str(value)


def format_number(value: Any) -> str:
    """5.0 → "5", 2.5 → "2.5": ECTS as people write them."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:g}"
    return str(value)


# --------------------------------------------------------------------------- reports


@dataclass(frozen=True)
class CheckRow:
    id: str
    label: str
    outcome: str
    outcome_label: str
    code: str
    message: str


@dataclass(frozen=True)
class ReportView:
    """A verification report as a page shows it: one verdict, then every check."""

    verified: bool
    state: str  # see report_state
    checks: tuple[CheckRow, ...]
    summary: dict[str, Any]
    profile: dict[str, Any] | None = None
    """The EU profile result (``credentials.profile``); shown next to the verdict."""
    format: str | None = None
    """The format the report met, as the core names it ("VCDM 1.1 · Ed25519Signature2020")."""
    format_label: str | None = None
    """The same in the page's language ("Open Badges 2.0 · gehost (niet ondertekend)")."""

    @property
    def failed(self) -> tuple[CheckRow, ...]:
        return tuple(c for c in self.checks if c.outcome == "failed")

    @property
    def warnings(self) -> tuple[CheckRow, ...]:
        return tuple(c for c in self.checks if c.outcome == "warning")


def _check_label(check_id: str, t: Translator, message: str = "") -> str:
    base = check_id
    if check_id.startswith("credential[") and "]." in check_id:
        index, _, rest = check_id[len("credential[") :].partition("].")
        inner = _check_label(rest, t, message)
        try:
            number = int(index) + 1
        except ValueError:
            number = index  # type: ignore[assignment]
        return t("check.credential_n", n=number, label=inner)
    if base == "status":
        # a credential has a revocation and a suspension entry: say which one this is
        lowered = message.lower()
        if "revo" in lowered:
            base = "status_revocation"
        elif "suspen" in lowered:
            base = "status_suspension"
    key = f"check.{base}"
    return t(key) if t.has(key) else check_id


def format_text(label: str | None, t: Translator) -> str | None:
    """A report's format line in the page's language.

    Model and proof names ("VCDM 1.1", "Ed25519Signature2020") are proper names and stay as
    they are; the few words in the line ("hosted", "signed", "presentation") are translated,
    so a Dutch page never shows an English fragment or a raw code.
    """
    if not label:
        return None
    parts = []
    for part in label.split(" · "):
        head, _, last = part.rpartition(" ")
        if t.has(f"format.{part}"):
            parts.append(t(f"format.{part}"))
        elif head and t.has(f"format.{last}"):
            parts.append(f"{head} {t(f'format.{last}')}")
        else:
            parts.append(part)
    return " · ".join(parts)


def report_view(report: VerificationReport | Mapping[str, Any], t: Translator) -> ReportView:
    """Turn a report (object or its dict form) into rows a template can show as-is.

    The state picks the badge: a revoked or suspended status wins over other failures,
    because "ingetrokken" is what an employer must read, not "signature check failed".
    """
    if isinstance(report, VerificationReport):
        raw_checks: Iterable[Mapping[str, Any]] = [c.to_dict() for c in report.checks]
        verified = report.verified
        summary = dict(report.summary or {})
        profile = report.profile
        fmt = report.format
    else:
        raw_checks = [c for c in report.get("checks", []) if isinstance(c, Mapping)]
        verified = bool(report.get("verified"))
        summary = dict(report.get("summary") or {})
        found = report.get("profile")
        profile = dict(found) if isinstance(found, Mapping) else None
        fmt = report.get("format") if isinstance(report.get("format"), str) else None
    rows = tuple(
        CheckRow(
            id=str(c.get("id", "")),
            label=_check_label(str(c.get("id", "")), t, str(c.get("message", ""))),
            outcome=str(c.get("outcome", "")),
            outcome_label=t(f"outcome.{c.get('outcome', '')}"),
            code=str(c.get("code", "")),
            message=str(c.get("message", "")),
        )
        for c in raw_checks
    )
    return ReportView(verified=verified, state=report_state(verified, rows), checks=rows,
                      summary=summary, profile=profile, format=fmt,
                      format_label=format_text(fmt, t))  # fmt: skip


def report_state(verified: bool, checks: Sequence[CheckRow] | Sequence[Mapping[str, Any]]) -> str:
    """One word for the badge: verified, untrusted, unknown, revoked, suspended, expired or
    failed.

    A revoked, suspended or expired credential says so before anything else, because that
    is what an employer must read, not "a check failed". A credential that verified but
    whose status could not be fetched, or whose issuer is not in the trust registry, is
    not shown as plainly green: both are reasons to look closer.
    """
    rows: list[tuple[str, str, str]] = []
    for check in checks:
        if isinstance(check, CheckRow):
            rows.append((check.id, check.outcome, check.code))
        else:
            rows.append(
                (
                    str(check.get("id", "")),
                    str(check.get("outcome", "")),
                    str(check.get("code", "")),
                )
            )
    failed_codes = {code for _, outcome, code in rows if outcome == "failed"}
    for state in ("revoked", "suspended", "expired"):
        if state in failed_codes:
            return state
    if not verified:
        return "failed"
    if any(code == "status_unknown" for _, outcome, code in rows if outcome == "warning"):
        return "unknown"
    if any(
        (cid == "trust" or cid.endswith(".trust")) and outcome == "warning"
        for cid, outcome, _ in rows
    ):
        return "untrusted"
    return "verified"


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class FieldRow:
    label: str
    value: str
    items: tuple[str, ...] = ()
    href: str | None = None


def _http_link(url: str | None) -> str | None:
    """Only http(s) links become ``href`` values; ``javascript:`` and friends stay text."""
    if url and (url.startswith("https://") or url.startswith("http://")):
        return url
    return None


def _plain(prefix: str, value: str | None, t: Translator) -> str:
    if value is None:
        return t("value.not_stated")
    key = f"{prefix}.{value}"
    return t(key) if t.has(key) else value


def level_text(view: MicrocredentialView, t: Translator) -> str:
    parts = []
    if view.eqf_level is not None:
        parts.append(t("field.eqf", n=view.eqf_level))
    if view.nlqf_level is not None:
        parts.append(t("field.nlqf", n=view.nlqf_level))
    if view.qf_ehea_cycle:
        parts.append(t("field.qf_ehea", cycle=view.qf_ehea_cycle))
    return ", ".join(parts) if parts else t("value.not_stated")


def microcredential_rows(
    view: MicrocredentialView, t: Translator, *, institution_name: str | None = None
) -> list[FieldRow]:
    """Every EU micro-credential element of a credential, in plain language, in EU order.

    ``institution_name`` is the name from a trust registry when the caller has one: the
    name a credential gives itself is what a forger would fake first.
    """
    not_stated = t("value.not_stated")
    name = institution_name or view.issuer_name or view.issuer_id or not_stated
    country = ", ".join(p for p in (view.country or view.country_code, view.region) if p)
    rows = [
        FieldRow(t("field.title"), view.title or not_stated),
        FieldRow(t("field.institution"), name, href=_http_link(view.issuer_url)),
        FieldRow(t("field.country"), country or not_stated),
    ]
    if view.issuer_identifiers:
        rows.append(
            FieldRow(
                t("field.awarding_body_ids"),
                ", ".join(f"{k}: {v}" for k, v in view.issuer_identifiers.items()),
            )
        )
    rows.append(FieldRow(t("field.issued"), format_date(view.issued) or not_stated))
    if view.valid_until:
        rows.append(FieldRow(t("field.valid_until"), format_date(view.valid_until)))
    rows.append(FieldRow(t("field.description"), view.description or not_stated))
    if view.learning_outcomes:
        rows.append(FieldRow(t("field.learning_outcomes"), "", items=view.learning_outcomes))
    elif view.criteria:
        rows.append(FieldRow(t("field.criteria"), view.criteria))
    rows.append(FieldRow(t("field.ects"), format_number(view.ects) or not_stated))
    if view.hours is not None:
        rows.append(FieldRow(t("field.hours"), format_number(view.hours)))
    rows.append(FieldRow(t("field.level"), level_text(view, t)))
    rows.append(FieldRow(t("field.assessment"), view.assessment_type or not_stated))
    rows.append(
        FieldRow(t("field.participation"), _plain("participation", view.participation_form, t))
    )
    if view.supervision:
        rows.append(FieldRow(t("field.supervision"), _plain("supervision", view.supervision, t)))
    if view.identity_check is not None:
        rows.append(
            FieldRow(
                t("field.identity_check"), t("value.yes") if view.identity_check else t("value.no")
            )
        )
    rows.append(
        FieldRow(
            t("field.quality_assurance"),
            view.quality_assurance or not_stated,
            href=_http_link(view.quality_assurance_url),
        )
    )
    if view.language:
        rows.append(FieldRow(t("field.language"), view.language))
    if view.prerequisites:
        rows.append(FieldRow(t("field.prerequisites"), "", items=view.prerequisites))
    if view.stackability:
        rows.append(FieldRow(t("field.stackability"), _plain("stackability", view.stackability, t)))
    if view.stackable_into:
        rows.append(FieldRow(t("field.stackable_into"), "", items=view.stackable_into))
    if view.grade:
        rows.append(FieldRow(t("field.grade"), view.grade))
    if view.credential_id:
        rows.append(FieldRow(t("field.credential_id"), view.credential_id))
    return rows


__all__ = [
    "CSRF_FIELD",
    "DEFAULT_LANGUAGE",
    "KIT_MESSAGES",
    "LANGUAGES",
    "LANG_COOKIE",
    "CheckRow",
    "FieldRow",
    "Flash",
    "LoginRequired",
    "NavItem",
    "PageError",
    "ReportView",
    "Translator",
    "Web",
    "deployment_secret",
    "format_date",
    "format_number",
    "format_text",
    "level_text",
    "load_messages",
    "merge_messages",
    "microcredential_rows",
    "report_state",
    "report_view",
    "safe_next",
]
