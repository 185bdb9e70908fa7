"""Which credential format a document is, and whether microcred can verify it.

A verifier that meets a JWT-secured credential, an SD-JWT or a BBS proof must say so
("unsupported format: …") instead of reporting a forged signature: the credential may be
perfectly genuine, microcred just does not speak that format. So every document is named
first, and the name travels with the report (``report.format``, e.g.
``"VCDM 1.1 · Ed25519Signature2020"`` or ``"VC 2.0 · eddsa-rdfc-2022"``).

Detected families:

* ``vc2`` – VC Data Model 2.0 (first context ``https://www.w3.org/ns/credentials/v2``);
* ``vc11`` – VC Data Model 1.1 (first context ``https://www.w3.org/2018/credentials/v1``);
* ``ob2`` – Open Badges 2.0 assertions, hosted (JSON) or signed (a compact JWS whose payload
  is an assertion); verified by a handler registered here (see below);
* ``sdjwt`` – SD-JWT VC (``~``-separated disclosures, ``typ`` ``dc+sd-jwt`` or the former
  ``vc+sd-jwt``); verified by the handler ``credentials.sdjwt.vc`` registers (issue 19);
* ``unsupported`` – recognised but not verifiable here: JWT-secured VCs and VPs (a compact
  JWS with a ``vc``/``vp`` claim, ``application/vc+jwt``), ``EnvelopedVerifiableCredential``
  and ``EnvelopedVerifiablePresentation``, SD-JWTs that are not SD-JWT VCs (no ``dc+sd-jwt``
  / ``vc+sd-jwt`` ``typ``), the selective-disclosure cryptosuite ``bbs-2023``
  (``ecdsa-sd-2023`` is verified: credentials/ecdsa_sd.py), and ``JwtProof2020`` / BBS+
  2020 proofs;
* ``unknown`` – anything else; the data-model checks then say what is wrong with it.

Dispatch for other families: a module that can verify a family registers a handler with
:func:`register_handler` (``credentials.ob2`` registers ``"ob2"``). A handler has the
signature ``handler(document, *, verifier, now, check_status) -> VerificationReport``;
``verifier`` is the calling :class:`credentials.verify.Verifier` (its ``fetcher``,
``resolver``, ``status_checker`` and ``policies`` are the deployment's). Handlers are
loaded lazily (:data:`PLUGIN_MODULES`), so the core does not import them up front.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import importlib.util
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .cryptosuites import KNOWN_UNSUPPORTED_CRYPTOSUITES, KNOWN_UNSUPPORTED_PROOF_TYPES

__all__ = [
    "JWT_MEDIA_TYPES",
    "PLUGIN_MODULES",
    "Format",
    "detect_format",
    "format_of_media_type",
    "handler_for",
    "register_handler",
]

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VC_V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
OB_V2_CONTEXTS = ("https://w3id.org/openbadges/v2", "https://openbadgespec.org/v2/context.json")

UNSUPPORTED_CRYPTOSUITES = {
    "bbs-2023": "BBS selective disclosure (bbs-2023)",
}
UNSUPPORTED_PROOF_TYPES = {
    "JwtProof2020": "a JWT proof (JwtProof2020)",
    "BbsBlsSignature2020": "BBS+ (BbsBlsSignature2020)",
    "BbsBlsSignatureProof2020": "BBS+ derived proof (BbsBlsSignatureProof2020)",
}
JWT_MEDIA_TYPES = {
    "application/vc+jwt": "a JWT-secured credential (application/vc+jwt)",
    "application/vp+jwt": "a JWT-secured presentation (application/vp+jwt)",
    "application/vc+sd-jwt": "an SD-JWT credential (application/vc+sd-jwt)",
    "application/dc+sd-jwt": "an SD-JWT credential (application/dc+sd-jwt)",
    "application/vc+cose": "a COSE-secured credential (application/vc+cose)",
    "application/jwt": "a JWT (application/jwt)",
}
SD_JWT_VC_TYPS = ("dc+sd-jwt", "vc+sd-jwt")
"""``typ`` values of an SD-JWT VC (``vc+sd-jwt`` is the drafts' former name)."""
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_MAX_TOKEN = 1024 * 1024


@dataclass(frozen=True)
class Format:
    """What a document is: ``family`` (stable, for code), ``label`` (for people)."""

    family: str
    model: str
    securing: tuple[str, ...] = ()
    kind: str = "credential"
    reason: str = ""

    @property
    def supported(self) -> bool:
        return self.family != "unsupported"

    @property
    def label(self) -> str:
        """``"VCDM 1.1 · Ed25519Signature2020"``; ``"VC 2.0"`` when nothing secures it."""
        kind = " presentation" if self.kind == "presentation" else ""
        return " · ".join([self.model + kind, *self.securing])

    @property
    def message(self) -> str:
        """The refusal for an unsupported format, naming what was recognised."""
        return f"unsupported format: {self.reason or self.label}; microcred cannot verify it"


# --------------------------------------------------------------------------- detection


def detect_format(document: Any) -> Format:
    """Name the format of a parsed document (or of a raw string such as a compact JWT)."""
    if isinstance(document, str):
        return _string_format(document.strip())
    if not isinstance(document, dict):
        return Format("unknown", "unknown")
    types = _strings(document.get("type"))
    if "EnvelopedVerifiableCredential" in types or "EnvelopedVerifiablePresentation" in types:
        media = _data_url_media_type(document.get("id"))
        what = "presentation" if "EnvelopedVerifiablePresentation" in types else "credential"
        return Format(
            "unsupported",
            f"enveloped {what}",
            kind="presentation" if what == "presentation" else "credential",
            reason=f"an enveloped {what}"
            + (f" ({media})" if media else "")
            + " secured outside the document (JOSE/COSE/SD-JWT)",
        )
    if isinstance(document.get("vc"), dict) or isinstance(document.get("vp"), dict):
        claim = "vc" if isinstance(document.get("vc"), dict) else "vp"
        return Format(
            "unsupported",
            "JWT-secured VC",
            kind="presentation" if claim == "vp" else "credential",
            reason=f"decoded JWT claims with a '{claim}' claim (a JWT-secured VC)",
        )
    if _is_ob2(document, types):
        return Format("ob2", "Open Badges 2.0", ("hosted",), kind="assertion")
    contexts = document.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    kind = "presentation" if "VerifiablePresentation" in types else "credential"
    securing = _securing(document.get("proof"))
    unsupported = [_unsupported_proof(p) for p in _proofs(document.get("proof"))]
    if unsupported and all(unsupported):
        return Format(
            "unsupported",
            _model(first),
            tuple(securing),
            kind=kind,
            reason=", ".join(dict.fromkeys(r for r in unsupported if r)),
        )
    if first == VC_V2_CONTEXT:
        return Format("vc2", "VC 2.0", tuple(securing), kind=kind)
    if first == VC_V1_CONTEXT:
        return Format("vc11", "VCDM 1.1", tuple(securing), kind=kind)
    return Format("unknown", _model(first), tuple(securing), kind=kind)


def format_of_media_type(media_type: str | None) -> Format | None:
    """The unsupported format a request's ``Content-Type`` announces, if it announces one."""
    if not media_type:
        return None
    base = media_type.split(";", 1)[0].strip().lower()
    if base in JWT_MEDIA_TYPES:
        return Format("unsupported", base, reason=JWT_MEDIA_TYPES[base])
    return None


def _model(first: Any) -> str:
    if first == VC_V2_CONTEXT:
        return "VC 2.0"
    if first == VC_V1_CONTEXT:
        return "VCDM 1.1"
    return "unknown"


def _string_format(text: str) -> Format:
    if not text:
        return Format("unknown", "unknown")
    if "~" in text and _JWS.match(text.split("~", 1)[0]):
        header, _ = _jws_parts(text.split("~", 1)[0])
        typ = str((header or {}).get("typ", "")).lower()
        if typ.removeprefix("application/") in SD_JWT_VC_TYPS:
            alg = str((header or {}).get("alg", ""))[:20]
            return Format("sdjwt", "SD-JWT VC", (alg,) if alg else ())
        return Format("unsupported", "SD-JWT", reason="an SD-JWT (selective disclosure JWT)")
    if len(text) <= _MAX_TOKEN and _JWS.match(text):
        header, claims = _jws_parts(text)
        if claims is not None and _is_ob2(claims, _strings(claims.get("type"))):
            return Format("ob2", "Open Badges 2.0", ("signed",), kind="assertion")
        typ = str((header or {}).get("typ", "")) if header else ""
        if claims is not None and isinstance(claims.get("vp"), dict):
            return Format(
                "unsupported",
                "JWT-secured VC",
                kind="presentation",
                reason="a JWT-secured presentation (compact JWS with a 'vp' claim)",
            )
        if claims is not None and isinstance(claims.get("vc"), dict):
            return Format(
                "unsupported",
                "JWT-secured VC",
                reason="a JWT-secured credential (compact JWS with a 'vc' claim)",
            )
        if "sd+jwt" in typ.lower() or (claims is not None and "_sd_alg" in claims):
            return Format("unsupported", "SD-JWT", reason="an SD-JWT (selective disclosure JWT)")
        if claims is not None and (
            "vc+jwt" in typ.lower() or claims.get("@context") or "credentialSubject" in claims
        ):
            return Format(
                "unsupported", "JWT-secured VC", reason="a JWT-secured credential (vc+jwt)"
            )
        return Format("unsupported", "JWT", reason="a compact JWS / JWT")
    return Format("unknown", "unknown")


def _jws_parts(token: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    parts = token.split(".")

    def part(text: str) -> dict[str, Any] | None:
        try:
            value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
            return None
        return value if isinstance(value, dict) else None

    return part(parts[0]), part(parts[1])


def _data_url_media_type(value: Any) -> str:
    if isinstance(value, str) and value.startswith("data:"):
        return value[5:].split(",", 1)[0].split(";", 1)[0]
    return ""


def _is_ob2(document: dict[str, Any], types: list[str]) -> bool:
    contexts = document.get("@context")
    listed = contexts if isinstance(contexts, list) else [contexts]
    if any(c.rstrip("/") in OB_V2_CONTEXTS for c in listed if isinstance(c, str)):
        return "Assertion" in types or "badge" in document
    # 0.5/1.0-era and context-less hosted assertions still carry badge + recipient + verify
    return (
        VC_V2_CONTEXT not in listed
        and VC_V1_CONTEXT not in listed
        and "badge" in document
        and "recipient" in document
        and ("verify" in document or "verification" in document)
    )


def _proofs(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [p for p in items if isinstance(p, dict)]


def _securing(value: Any) -> list[str]:
    names: list[str] = []
    for proof in _proofs(value):
        suite = proof.get("cryptosuite")
        kind = proof.get("type")
        if kind == "DataIntegrityProof" and isinstance(suite, str) and suite:
            names.append(suite[:60])
        elif isinstance(kind, str) and kind:
            names.append(kind[:60])
    return list(dict.fromkeys(names))


def _unsupported_proof(proof: dict[str, Any]) -> str:
    """What an unsupported proof is ("" for one microcred verifies or does not know)."""
    suite = proof.get("cryptosuite")
    kind = proof.get("type")
    if not isinstance(suite, str):
        suite = ""  # any JSON value may stand here ([], {}): only names are looked up
    if suite in UNSUPPORTED_CRYPTOSUITES:
        return UNSUPPORTED_CRYPTOSUITES[suite]
    if kind == "DataIntegrityProof" and suite in KNOWN_UNSUPPORTED_CRYPTOSUITES:
        return f"the {suite} cryptosuite"
    if isinstance(kind, str) and kind in UNSUPPORTED_PROOF_TYPES:
        return UNSUPPORTED_PROOF_TYPES[kind]
    if isinstance(kind, str) and kind in KNOWN_UNSUPPORTED_PROOF_TYPES:
        return f"{kind} proofs"
    return ""


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [t for t in items if isinstance(t, str)]


# --------------------------------------------------------------------------- dispatch

Handler = Callable[..., Any]
"""``handler(document, *, verifier, now, check_status) -> VerificationReport``."""

PLUGIN_MODULES: dict[str, str] = {"ob2": "credentials.ob2", "sdjwt": "credentials.sdjwt.vc"}
"""Family -> module that registers its handler when imported (loaded on first need)."""

_HANDLERS: dict[str, Handler] = {}


def register_handler(family: str, handler: Handler) -> None:
    """Make ``handler`` verify documents of ``family`` (a module calls this on import)."""
    _HANDLERS[family] = handler


def handler_for(family: str) -> Handler | None:
    """The registered handler for ``family``, importing its plugin module on first use."""
    if family not in _HANDLERS and family in PLUGIN_MODULES:
        module = PLUGIN_MODULES[family]
        if importlib.util.find_spec(module) is not None:
            importlib.import_module(module)
    return _HANDLERS.get(family)
