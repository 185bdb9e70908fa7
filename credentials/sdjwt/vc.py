"""SD-JWT VC (draft-ietf-oauth-sd-jwt-vc) for microcredentials: build, describe, verify.

**One source, two formats.** :func:`claims_from_credential` reads the OB 3.0 credential the
issuer has just built from the module data (``credentials.microcredential``) and writes the
same EU elements as SD-JWT VC claims, so the two formats cannot drift apart; the table is
docs/sd-jwt-vc-mapping.md. The module's facts are always disclosed (a verifier needs them to
judge the credential), the learner's identity and result are selectively disclosable.

**vct.** One per module type (``<issuer>/vct/<type>``, e.g. ``…/vct/microcredential``), each
with a type-metadata document (:func:`type_metadata`: nl/en display names, claim metadata
with ``sd`` rules) served at the ``vct`` URL.

**Issuer keys.** :class:`IssuerKeys` resolves the key of an SD-JWT VC, in this order:
``x5c`` in the header (only when the verifier has trust anchors configured; the leaf must
chain to one and name the ``iss`` host), a DID ``iss`` with a DID URL ``kid`` (microcred's
did:web institutions), else the JWT VC Issuer Metadata at
``<origin>/.well-known/jwt-vc-issuer<path>`` (``issuer`` must equal ``iss``; ``jwks`` or
``jwks_uri``). Which issuers are trusted stays the verifier registry's decision.

**Verification** returns a :class:`~credentials.report.VerificationReport` with the checks
``format``, ``disclosures``, ``proof``, ``vct``, ``validity``, ``key_binding``, ``status`` and
``trust``; each failure carries the code naming the reason.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from ..dids import did_web_from_url
from ..errors import InvalidProof, MalformedInput, MicrocredError
from ..keys import Multikey
from ..microcredential import read_microcredential
from ..report import Check, VerificationReport
from . import core, jose
from .status import (
    INVALID,
    MEDIA_TYPE,
    STATUS_NAMES,
    SUSPENDED,
    StatusListTokenError,
    read_status_list_token,
)

FORMAT = "dc+sd-jwt"
MEDIA_TYPES = ("application/dc+sd-jwt", "application/vc+sd-jwt")
TYPS = ("dc+sd-jwt", "vc+sd-jwt")
WELL_KNOWN = "/.well-known/jwt-vc-issuer"
MODULE_TYPES = ("microcredential",)
EQF_VOCABULARY = "http://data.europa.eu/snb/eqf/"
"""EU Vocabularies' EQF level authority table (European Learning Model): ``…/eqf/6``."""

#: claims a holder may leave out; everything else is always disclosed
SELECTIVE: dict[str, Any] = {
    "_sd": ["learner", "result"],
    "learner": {"_sd": ["id", "email", "given_name", "family_name", "identifier"]},
    "result": {"_sd": ["grade", "status"]},
}


def vct_for(issuer_base: str, module_type: str = "microcredential") -> str:
    """The ``vct`` of a module type published by an issuer (an https URL)."""
    return f"{issuer_base.rstrip('/')}/vct/{module_type}"


# ---------------------------------------------------------------- claims from the OB 3.0 data


def _drop_empty(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if v not in (None, "", [], {}, ())}


def _number(value: float | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def claims_from_credential(
    credential: dict[str, Any],
    *,
    issuer_url: str,
    vct: str,
    learner: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The SD-JWT VC claims (before ``cnf``/``status``/disclosure) of an OB 3.0 credential.

    ``learner`` adds identity claims the OB credential only carries hashed (``email``,
    ``given_name``, ``family_name``); they are selectively disclosable (:data:`SELECTIVE`).
    """
    view = read_microcredential(credential)
    stamp = view.valid_from or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": issuer_url,
        "iat": int(stamp.timestamp()),
        "nbf": int(stamp.timestamp()),
        "vct": vct,
        "jti": view.credential_id,
        "title": view.title,
        "description": view.description,
        "achievement_id": view.achievement_id,
        "achievement_type": view.achievement_type,
        "awarding_body": _drop_empty(
            {
                "id": view.issuer_id,
                "name": view.issuer_name,
                "url": view.issuer_url,
                "country_code": view.country_code,
                "country": view.country,
                "region": view.region,
                "identifiers": dict(view.issuer_identifiers),
            }
        ),
        "date_of_issuing": (view.awarded_date or stamp).date().isoformat(),
        "learning_outcomes": list(view.learning_outcomes),
        "criteria": view.criteria,
        "ects": _number(view.ects),
        "workload_hours": _number(view.hours),
        "eqf_level": view.eqf_level,
        "eqf_level_uri": f"{EQF_VOCABULARY}{view.eqf_level}" if view.eqf_level else None,
        "nlqf_level": view.nlqf_level,
        "qf_ehea_cycle": view.qf_ehea_cycle,
        "assessment_type": view.assessment_type,
        "supervision": view.supervision,
        "identity_check": view.identity_check,
        "participation_form": view.participation_form,
        "quality_assurance": _drop_empty(
            {"name": view.quality_assurance, "url": view.quality_assurance_url}
        ),
        "language": view.language,
        "prerequisites": list(view.prerequisites),
        "stackability": view.stackability,
        "stackable_into": list(view.stackable_into),
    }
    if view.valid_until:
        claims["exp"] = int(view.valid_until.timestamp())
    person = _drop_empty(
        {
            "id": view.holder,
            "identifier": [dict(i) for i in view.holder_identities] or None,
            **(learner or {}),
        }
    )
    if person:
        claims["learner"] = person
    result = _drop_empty({"grade": view.grade, "status": view.result_status})
    if result:
        claims["result"] = result
    return _drop_empty(claims)


def issue_sd_jwt_vc(
    claims: dict[str, Any],
    key: Multikey,
    *,
    holder_jwk: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    kid: str | None = None,
    x5c: list[str] | None = None,
    frame: dict[str, Any] | None = None,
) -> str:
    """The issued SD-JWT VC (compact, ending in ``~``)."""
    payload = dict(claims)
    if holder_jwk:
        payload["cnf"] = {"jwk": {k: v for k, v in holder_jwk.items() if k != "d"}}
    if status:
        payload["status"] = status
    header: dict[str, Any] = {}
    if kid:
        header["kid"] = kid
    if x5c:
        header["x5c"] = x5c
    chosen = selective_frame(claims) if frame is None else frame
    return core.issue(payload, chosen, key, header=header).serialize()


def selective_frame(claims: dict[str, Any]) -> dict[str, Any]:
    """:data:`SELECTIVE`, with every member the learner and result objects have (so an
    identity claim added later, e.g. a student number, is never disclosed by default)."""
    frame: dict[str, Any] = {"_sd": list(SELECTIVE["_sd"])}
    for name in ("learner", "result"):
        members = claims.get(name)
        listed = list(SELECTIVE[name]["_sd"])
        if isinstance(members, dict):
            listed += [k for k in members if k not in listed]
        frame[name] = {"_sd": listed}
    return frame


# ---------------------------------------------------------------- metadata documents

_LABELS: list[tuple[list[Any], str, str]] = [
    (["title"], "Titel", "Title"),
    (["description"], "Beschrijving", "Description"),
    (["awarding_body", "name"], "Uitgevende instelling", "Awarding body"),
    (["awarding_body", "country_code"], "Land", "Country"),
    (["date_of_issuing"], "Datum van uitgifte", "Date of issuing"),
    (["learning_outcomes"], "Leerresultaten", "Learning outcomes"),
    (["ects"], "Studiepunten (ECTS)", "Credits (ECTS)"),
    (["workload_hours"], "Studielast (uren)", "Notional workload (hours)"),
    (["eqf_level"], "EQF-niveau", "EQF level"),
    (["nlqf_level"], "NLQF-niveau", "NLQF level"),
    (["assessment_type"], "Toetsvorm", "Type of assessment"),
    (["participation_form"], "Vorm van deelname", "Form of participation"),
    (["quality_assurance", "name"], "Kwaliteitsborging", "Quality assurance"),
    (["learner"], "Lerende", "Learner"),
    (["learner", "email"], "E-mailadres", "E-mail address"),
    (["learner", "given_name"], "Voornaam", "Given name"),
    (["learner", "family_name"], "Achternaam", "Family name"),
    (["result"], "Resultaat", "Result"),
    (["result", "grade"], "Cijfer", "Grade"),
]
_ALWAYS_SD = {("learner",), ("result",)}
_MODULE_NAMES = {"microcredential": ("Microcredential", "Microcredential")}


def type_metadata(vct: str, module_type: str = "microcredential") -> dict[str, Any]:
    """The SD-JWT VC Type Metadata document of a ``vct``: names in nl/en, claim metadata."""
    nl, en = _MODULE_NAMES.get(module_type, (module_type, module_type))
    claims = []
    for path, label_nl, label_en in _LABELS:
        sd = "always" if tuple(path) in _ALWAYS_SD or path[0] in ("learner", "result") else "never"
        claims.append(
            {
                "path": path,
                "display": [
                    {"lang": "nl", "locale": "nl", "label": label_nl},
                    {"lang": "en", "locale": "en", "label": label_en},
                ],
                "sd": sd,
            }
        )
    return {
        "vct": vct,
        "name": f"{en} (EU micro-credential)",
        "description": "An EU micro-credential (Council Recommendation 2022/C 243/02), "
        "the same achievement as microcred's Open Badges 3.0 credential.",
        "display": [
            {
                "lang": "nl",
                "locale": "nl",
                "name": nl,
                "description": "Microcredential volgens de EU-aanbeveling",
            },
            {
                "lang": "en",
                "locale": "en",
                "name": en,
                "description": "Micro-credential under the EU Recommendation",
            },
        ],
        "claims": claims,
    }


def issuer_metadata(issuer_url: str, keys: Iterable[tuple[str, Multikey]]) -> dict[str, Any]:
    """The JWT VC Issuer Metadata document (``/.well-known/jwt-vc-issuer``)."""
    return {
        "issuer": issuer_url,
        "jwks": {"keys": [{**jose.jwk_of(key), "kid": kid} for kid, key in keys]},
    }


def well_known_url(iss: str) -> str:
    """Where the JWT VC Issuer Metadata of ``iss`` lives (the well-known part goes first)."""
    parts = urlsplit(iss)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


# ---------------------------------------------------------------- issuer key resolution

FetchJson = Callable[[str], Any]
FetchText = Callable[[str], str]


@dataclass
class IssuerKeys:
    """Finds the keys an SD-JWT VC's issuer signs with; see the module docstring."""

    fetch_json: FetchJson | None = None
    did_resolver: Any = None
    x5c_anchors: list[x509.Certificate] = field(default_factory=list)

    def keys_for(
        self, header: dict[str, Any], payload: dict[str, Any]
    ) -> tuple[list[Multikey], str]:
        """(candidate keys, how they were found); InvalidProof naming why none were."""
        iss = payload.get("iss")
        if not isinstance(iss, str) or not iss:
            raise InvalidProof("the SD-JWT VC has no iss", code="missing_iss")
        if "x5c" in header:
            return [self._x5c_key(header["x5c"], iss)], "x5c"
        kid = header.get("kid")
        if iss.startswith("did:"):
            return [self._did_key(iss, kid)], "did"
        return self._metadata_keys(iss, kid), "jwt-vc-issuer metadata"

    def _did_key(self, iss: str, kid: Any) -> Multikey:
        if self.did_resolver is None:
            raise InvalidProof("no DID resolver configured", code="key_unresolved")
        if not isinstance(kid, str) or not kid.startswith(iss):
            raise InvalidProof("kid must be a DID URL of the iss DID", code="key_unresolved")
        from ..jose import _did_key

        try:
            return _did_key(kid, self.did_resolver, "assertionMethod")
        except InvalidProof as exc:
            raise InvalidProof(
                f"the issuer key {kid} did not resolve: {exc.message}", code="key_unresolved"
            ) from None

    def _metadata_keys(self, iss: str, kid: Any) -> list[Multikey]:
        if not iss.startswith("https://") and not iss.startswith("http://"):
            raise InvalidProof("iss is neither an https URL nor a DID", code="key_unresolved")
        if self.fetch_json is None:
            raise InvalidProof("no fetcher for issuer metadata", code="key_unresolved")
        try:
            document = self.fetch_json(well_known_url(iss))
            if not isinstance(document, dict) or document.get("issuer") != iss:
                raise InvalidProof(
                    "the jwt-vc-issuer metadata names another issuer", code="issuer_mismatch"
                )
            jwks = document.get("jwks")
            if jwks is None and isinstance(document.get("jwks_uri"), str):
                jwks = self.fetch_json(document["jwks_uri"])
        except MicrocredError as exc:
            if isinstance(exc, InvalidProof):
                raise
            raise InvalidProof(
                f"issuer metadata unavailable: {exc}", code="key_unresolved"
            ) from None
        entries = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(entries, list):
            raise InvalidProof("the issuer metadata has no jwks", code="key_unresolved")
        chosen = [
            k for k in entries if isinstance(k, dict) and (kid is None or k.get("kid") == kid)
        ]
        keys = []
        for entry in chosen:
            try:
                keys.append(jose.key_from_jwk(entry))
            except MicrocredError:
                continue
        if not keys:
            raise InvalidProof(f"no issuer key {kid!r} in the jwks", code="key_unresolved")
        return keys

    def _x5c_key(self, chain: Any, iss: str) -> Multikey:
        if not self.x5c_anchors:
            raise InvalidProof(
                "x5c is not accepted: no trust anchors are configured", code="x5c_untrusted"
            )
        if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
            raise InvalidProof("x5c must be a list of base64 certificates", code="x5c_invalid")
        import base64

        try:
            certs = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in chain[:5]]
        except ValueError:
            raise InvalidProof("x5c holds an unreadable certificate", code="x5c_invalid") from None
        now = datetime.now(UTC)
        for cert in certs:
            if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                raise InvalidProof("an x5c certificate is outside its validity", code="x5c_expired")
        for child, parent in itertools.pairwise(certs):
            _check_signed(child, parent)
        # trusted when a certificate of the chain is an anchor, or the top one is signed by one
        pinned = {a.fingerprint(_sha256()) for a in self.x5c_anchors}
        trusted = any(c.fingerprint(_sha256()) in pinned for c in certs)
        if not trusted:
            top = certs[-1]
            for anchor in self.x5c_anchors:
                if anchor.subject != top.issuer:
                    continue
                try:
                    _check_signed(top, anchor)
                except InvalidProof:
                    continue  # same name, another key: not this anchor
                trusted = True
                break
        if not trusted:
            raise InvalidProof(
                "the x5c chain does not lead to a trusted anchor", code="x5c_untrusted"
            )
        host = urlsplit(iss).hostname or ""
        try:
            san = certs[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = san.get_values_for_type(x509.DNSName) + san.get_values_for_type(
                x509.UniformResourceIdentifier
            )
        except x509.ExtensionNotFound:
            names = []
        if host not in names and iss not in names:
            raise InvalidProof("the x5c leaf does not name the iss host", code="x5c_iss_mismatch")
        public = certs[0].public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            return Multikey("Ed25519", public, None)
        if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in (
            "secp256r1",
            "secp384r1",
        ):
            return Multikey("P-256" if public.curve.name == "secp256r1" else "P-384", public, None)
        raise InvalidProof("the x5c leaf key type is not supported", code="x5c_invalid")


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _check_signed(child: x509.Certificate, parent: x509.Certificate) -> None:
    key = parent.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(
                child.signature,
                child.tbs_certificate_bytes,
                ec.ECDSA(child.signature_hash_algorithm),
            )
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(
                child.signature,
                child.tbs_certificate_bytes,
                padding.PKCS1v15(),
                child.signature_hash_algorithm,
            )
        else:
            raise InvalidProof("unsupported certificate key", code="x5c_invalid")
    except Exception as exc:
        if isinstance(exc, InvalidProof):
            raise
        raise InvalidProof(
            "an x5c certificate signature does not verify", code="x5c_invalid"
        ) from None


# ---------------------------------------------------------------- verification


@dataclass
class SdJwtVcVerifier:
    """Verifies SD-JWT VC presentations; every outcome is a check in the report."""

    keys: IssuerKeys = field(default_factory=IssuerKeys)
    fetch_status: FetchText | None = None
    known_vcts: Iterable[str] | None = None
    """vct values this verifier accepts (None: any); others fail with ``unknown_vct``."""
    trust_checker: Callable[[str], Check] | None = None
    max_kb_age: int = 300
    skew: int = 60

    def verify(
        self,
        text: str,
        *,
        audience: str | None = None,
        nonce: str | None = None,
        require_key_binding: bool = True,
        check_status: bool = True,
        now: int | None = None,
    ) -> VerificationReport:
        """The verification report for one SD-JWT VC presentation (``text`` is the compact
        form, ``<jwt>~<disclosure>~...~<kb-jwt>``); never raises for bad input.

        The key-binding JWT must name ``audience`` and ``nonce`` when they are given, and be
        present unless ``require_key_binding`` is False; ``now`` is a Unix time for tests.
        """
        moment = int(time.time()) if now is None else now
        report = VerificationReport(format="SD-JWT VC (dc+sd-jwt)")
        try:
            sd_jwt = core.SdJwt.parse(text)
            header, payload = sd_jwt.header, sd_jwt.payload
        except (core.SdJwtError, MalformedInput) as exc:
            report.add(Check.failed("format", exc.code or "invalid_sd_jwt", exc.message))
            return report
        report.format = f"SD-JWT VC · {header.get('alg', '?')}"
        if header.get("typ") not in TYPS:
            report.add(
                Check.failed("format", "invalid_typ", f"typ {header.get('typ')!r} is not dc+sd-jwt")
            )
            return report
        report.add(Check.passed("format", "an SD-JWT VC (dc+sd-jwt)"))
        # signature first: nothing in an unsigned payload is worth reading
        try:
            keys, how = self.keys.keys_for(header, payload)
            for key in keys:
                try:
                    jose.verify(sd_jwt.issuer_jwt, key)
                    break
                except InvalidProof:
                    continue
            else:
                raise InvalidProof("the issuer signature does not verify", code="invalid_signature")
            report.add(Check.passed("proof", f"signed by the issuer's key ({how})"))
        except InvalidProof as exc:
            report.add(Check.failed("proof", exc.code or "invalid_signature", exc.message))
            return report
        try:
            claims = core.reconstruct(sd_jwt)
            report.add(
                Check.passed(
                    "disclosures",
                    f"{len(sd_jwt.disclosures)} disclosure(s) match the signed digests",
                )
            )
        except core.SdJwtError as exc:
            report.add(Check.failed("disclosures", exc.code or "invalid_disclosure", exc.message))
            # go on with the signed, always-disclosed claims (vct, status, key binding), so
            # the report names every reason and the KB-JWT still tells whose answer this is
            claims = {k: v for k, v in payload.items() if k not in ("_sd", "_sd_alg")}
        vct = claims.get("vct")
        known = None if self.known_vcts is None else set(self.known_vcts)
        if not isinstance(vct, str):
            report.add(Check.failed("vct", "missing_vct", "the credential has no vct"))
        elif known is not None and vct not in known:
            report.add(
                Check.failed("vct", "unknown_vct", f"vct {vct} is not a type this verifier accepts")
            )
        else:
            report.add(Check.passed("vct", f"type {vct}"))
        report.add(_validity(claims, moment, self.skew))
        if sd_jwt.kb_jwt or require_key_binding:
            try:
                core.check_key_binding(
                    sd_jwt,
                    audience=audience,
                    nonce=nonce,
                    now=moment,
                    max_age=self.max_kb_age,
                    skew=self.skew,
                )
                report.add(Check.passed("key_binding", "the holder's key signed this presentation"))
            except core.SdJwtError as exc:
                report.add(Check.failed("key_binding", exc.code or "kb_invalid", exc.message))
        else:
            report.add(Check.skipped("key_binding", "no key binding presented or required"))
        if check_status:
            report.add(self._status(claims, keys, moment))
        else:
            report.add(Check.skipped("status", "status was not checked"))
        if self.trust_checker is not None:
            report.add(self.trust_checker(issuer_identity(str(claims.get("iss") or ""))))
        report.summary = summary(claims)
        report.summary["issuer"] = issuer_identity(str(claims.get("iss") or ""))
        return report

    def _status_keys(self, token: str, claims: dict[str, Any]) -> list[Multikey]:
        """The keys the status list token's own header names, for the credential's issuer."""
        try:
            header, _ = jose.decode(token.strip())
            found, _ = self.keys.keys_for(header, {"iss": claims.get("iss")})
        except (MalformedInput, InvalidProof):
            return []
        return found

    def _status(self, claims: dict[str, Any], keys: list[Multikey], moment: int) -> Check:
        status = claims.get("status")
        ref = status.get("status_list") if isinstance(status, dict) else None
        if ref is None:
            return Check.skipped("status", "the credential has no status list entry")
        if (
            not isinstance(ref, dict)
            or not isinstance(ref.get("uri"), str)
            or not isinstance(ref.get("idx"), int)
        ):
            return Check.failed("status", "status_invalid", "status.status_list needs idx and uri")
        if self.fetch_status is None:
            return Check.warning("status", "status_unknown", "no status fetcher configured")
        try:
            token = self.fetch_status(ref["uri"])
            # the list may be signed by a newer key of the same issuer (after a rotation)
            signers = [*keys, *self._status_keys(token, claims)]
            value = read_status_list_token(token, ref["uri"], signers, now=moment).get(ref["idx"])
        except (StatusListTokenError, IndexError) as exc:
            code = getattr(exc, "code", None) or "status_invalid"
            return Check.failed("status", code, str(exc))
        except MicrocredError as exc:
            return Check.warning("status", "status_unknown", f"status list unavailable: {exc}")
        if value == INVALID:
            return Check.failed("status", "revoked", "the credential has been revoked")
        if value == SUSPENDED:
            return Check.failed("status", "suspended", "the credential is suspended")
        if value != 0:
            return Check.failed(
                "status", "status_" + STATUS_NAMES.get(value, str(value)), f"status value {value}"
            )
        return Check.passed("status", "valid in the issuer's token status list")


def issuer_identity(iss: str) -> str:
    """The identity the trust registry knows an SD-JWT VC issuer by.

    microcred's registry lists institutions by DID. An https ``iss`` is taken as the did:web
    of the same URL (``https://host/institutions/x`` → ``did:web:host:institutions:x``),
    which is exactly the DID microcred's issuer publishes for that credential issuer; the
    ``awarding_body.id`` claim is never used for trust, since any key holder could write it.
    """
    if iss.startswith(("https://", "http://")):
        return did_web_from_url(iss)
    return iss


def _validity(claims: dict[str, Any], moment: int, skew: int) -> Check:
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if isinstance(exp, int | float) and exp + skew < moment:
        return Check.failed("validity", "expired", "the credential has expired")
    if isinstance(nbf, int | float) and nbf - skew > moment:
        return Check.failed("validity", "not_yet_valid", "the credential is not valid yet")
    return Check.passed("validity", "within its validity period")


def summary(claims: dict[str, Any]) -> dict[str, Any]:
    """What the report and the employer view show: the same keys as the OB 3.0 summary
    (``credentials.profile.summarize``), plus the format, ``vct`` and the disclosed claims."""
    body = {k: v for k, v in claims.items() if k not in ("cnf", "_sd_alg")}
    awarding = claims.get("awarding_body")
    awarding = awarding if isinstance(awarding, dict) else {}
    learner = claims.get("learner")
    learner = learner if isinstance(learner, dict) else {}
    result = claims.get("result")
    result = result if isinstance(result, dict) else {}
    return {
        "issuer": awarding.get("id") or claims.get("iss"),
        "issuerName": awarding.get("name"),
        "module": claims.get("title"),
        "ects": claims.get("ects"),
        "hours": claims.get("workload_hours"),
        "eqfLevel": claims.get("eqf_level"),
        "nlqfLevel": claims.get("nlqf_level"),
        "awarded": claims.get("date_of_issuing"),
        "holder": learner.get("id"),
        "grade": result.get("grade"),
        "format": FORMAT,
        "title": claims.get("title"),
        "vct": claims.get("vct"),
        "credential_id": claims.get("jti"),
        "claims": body,
    }


# ---------------------------------------------------------------- credentials.formats handler


def fetchers(fetcher: Any, missing: str) -> tuple[FetchJson, FetchText]:
    """The JSON (issuer metadata, JWKS) and status-list readers of an SD-JWT VC check, both
    through the safe outbound ``fetcher``; without one each fails as ``fetch_unavailable``
    with the message ``missing`` (a check error, never a request made some other way)."""

    def fetch_json(url: str) -> Any:
        if fetcher is None:
            raise MicrocredError(missing, code="fetch_unavailable")
        return fetcher.get_json(url)[0]

    def fetch_text(url: str) -> str:
        if fetcher is None:
            raise MicrocredError(missing, code="fetch_unavailable")
        return fetcher.get(url, accept=MEDIA_TYPE).text

    return fetch_json, fetch_text


def _handler(
    document: Any, *, verifier: Any, now: datetime, check_status: bool
) -> VerificationReport:
    """Verify an SD-JWT VC met by :class:`credentials.verify.Verifier` (no request context:
    a KB-JWT, when present, is checked for signature, ``sd_hash`` and freshness only)."""
    fetch_json, fetch_text = fetchers(getattr(verifier, "fetcher", None), "no fetcher")
    sd = SdJwtVcVerifier(
        keys=IssuerKeys(
            fetch_json=fetch_json,
            did_resolver=getattr(verifier, "resolver", None),
            x5c_anchors=list(getattr(verifier, "x5c_anchors", ()) or ()),
        ),
        fetch_status=fetch_text,
        trust_checker=getattr(verifier, "trust_checker", None),
    )
    return sd.verify(
        document, require_key_binding=False, check_status=check_status, now=int(now.timestamp())
    )


def _register() -> None:
    from ..formats import register_handler

    register_handler("sdjwt", _handler)


_register()
