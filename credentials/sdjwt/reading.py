"""Reading an SD-JWT VC as the same flat view an OB 3.0 credential gives.

The wallet's list and detail pages, route progress (``credentials.rules``) and the share
log all work on a :class:`~credentials.microcredential.MicrocredentialView`. An SD-JWT VC
is made *from* the OB 3.0 credential (``vc.claims_from_credential``), so reading its
claims back into the view shows the employer the same module, institution, ECTS, level and
date, whichever format the learner holds. Tolerant like ``read_microcredential``: it reads
what is disclosed and leaves the rest empty; it checks nothing (that is ``vc.verify``).
"""

from __future__ import annotations

from typing import Any

from ..dates import read_date, read_timestamp
from ..errors import MalformedInput
from ..microcredential import MicrocredentialView
from . import core
from .vc import TYPS, issuer_identity


def is_sd_jwt_vc(value: Any) -> bool:
    """True for a compact SD-JWT whose issuer JWT has ``typ`` dc+sd-jwt (or vc+sd-jwt)."""
    if not isinstance(value, str) or "~" not in value:
        return False
    try:
        return core.SdJwt.parse(value.strip()).header.get("typ") in TYPS
    except (core.SdJwtError, MalformedInput):
        return False


def sd_jwt_claims(token: str) -> dict[str, Any]:
    """The claims with every disclosure in ``token`` applied (the signed ones if a
    disclosure does not fit)."""
    sd_jwt = core.SdJwt.parse(token.strip())
    try:
        return core.reconstruct(sd_jwt)
    except core.SdJwtError:
        return {k: v for k, v in sd_jwt.payload.items() if k not in ("_sd", "_sd_alg")}


def read_sd_jwt_vc(token: str) -> MicrocredentialView:
    """The flat view of an SD-JWT VC (raises :class:`MalformedInput` when not an SD-JWT)."""
    return view_from_claims(sd_jwt_claims(token))


def view_from_claims(claims: dict[str, Any]) -> MicrocredentialView:
    body = _map(claims.get("awarding_body"))
    learner = _map(claims.get("learner"))
    result = _map(claims.get("result"))
    quality = _map(claims.get("quality_assurance"))
    identifiers = _map(body.get("identifiers"))
    issued = read_date(claims.get("date_of_issuing")) or read_timestamp(claims.get("iat"))
    return MicrocredentialView(
        credential_id=_text(claims.get("jti")),
        types=("SD-JWT VC", _text(claims.get("vct")) or ""),
        # the signer (iss, as the DID the registry knows), never awarding_body.id: routes
        # and trust decide on this, and anyone with a key could write awarding_body
        issuer_id=issuer_identity(iss) if (iss := _text(claims.get("iss"))) else None,
        issuer_name=_text(body.get("name")),
        issuer_url=_text(body.get("url")),
        country=_text(body.get("country")),
        country_code=_text(body.get("country_code")),
        region=_text(body.get("region")),
        issuer_identifiers={str(k): str(v) for k, v in identifiers.items()},
        achievement_id=_text(claims.get("achievement_id")),
        achievement_type=_text(claims.get("achievement_type")),
        title=_text(claims.get("title")),
        description=_text(claims.get("description")),
        criteria=_text(claims.get("criteria")),
        learning_outcomes=_texts(claims.get("learning_outcomes")),
        ects=_float(claims.get("ects")),
        hours=_float(claims.get("workload_hours")),
        eqf_level=_int(claims.get("eqf_level")),
        nlqf_level=_int(claims.get("nlqf_level")),
        qf_ehea_cycle=_text(claims.get("qf_ehea_cycle")),
        assessment_type=_text(claims.get("assessment_type")),
        participation_form=_text(claims.get("participation_form")),
        supervision=_text(claims.get("supervision")),
        identity_check=v if isinstance(v := claims.get("identity_check"), bool) else None,
        quality_assurance=_text(quality.get("name")),
        quality_assurance_url=_text(quality.get("url")),
        language=_text(claims.get("language")),
        prerequisites=_texts(claims.get("prerequisites")),
        stackability=_text(claims.get("stackability")),
        stackable_into=_texts(claims.get("stackable_into")),
        awarded_date=issued,
        valid_from=read_timestamp(claims.get("nbf")) or issued,
        valid_until=read_timestamp(claims.get("exp")),
        holder=_text(learner.get("id")),
        holder_identities=tuple(i for i in learner.get("identifier") or () if isinstance(i, dict)),
        grade=_text(result.get("grade")),
        result_status=_text(result.get("status")),
    )


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, str | int | float) and str(value) else None


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _float(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


__all__ = ["is_sd_jwt_vc", "read_sd_jwt_vc", "sd_jwt_claims", "view_from_claims"]
