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

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..dids import did_web_from_url
from ..errors import InvalidProof, MalformedInput, MicrocredError
from ..keys import Multikey
from ..microcredential import read_microcredential
from ..report import Check, VerificationReport
from . import core, jose
from .issuer_keys import WELL_KNOWN as WELL_KNOWN
from .issuer_keys import FetchJson, FetchText, IssuerKeys
from .issuer_keys import well_known_url as well_known_url
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


# ---------------------------------------------------------------- issuer key resolution


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
