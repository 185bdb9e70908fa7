"""The issuer's SD-JWT VC side (issue 19): one credential, two formats.

An offer is collected as the OB 3.0 credential (``MicroCredential_ldp_vc``) or as an SD-JWT
VC (``MicroCredential_dc_sd_jwt``), whichever configuration the wallet asks for. Either way
the OB 3.0 credential is composed, signed and recorded exactly as before (so the registrar
sees one credential, with its status slot, revoke and suspend); for ``dc+sd-jwt`` the wallet
receives the SD-JWT VC derived from it (``credentials.sdjwt.vc.claims_from_credential``),
bound to the key of its proof (``cnf.jwk``), with ``jti`` = the OB credential id.

Status: the SD-JWT VC points at the Token Status List of the same status slot
(``…/status/<list>/token``): a 2-bit list computed from the slot's revocation and
suspension bitstrings and signed with the institution's key, so the same revoke and
suspend actions change both formats at once and no second bookkeeping can drift.

Keys: ``iss`` is the credential issuer URL; the JWT VC Issuer Metadata at
``/.well-known/jwt-vc-issuer/institutions/<slug>`` lists the institution's current key with
``kid`` = its did:web verification method, the same key the DID document publishes.
"""

from __future__ import annotations

import threading
from typing import Any
from weakref import WeakKeyDictionary

from credentials import TOKEN_STATUS_INVALID as INVALID
from credentials import TOKEN_STATUS_SUSPENDED as SUSPENDED
from credentials import (
    MicrocredError,
    Multikey,
    StatusList,
    TokenStatusList,
    decode_unverified,
    resolve_jwt_key,
)
from credentials import sdjwt_jose as jose
from credentials import sdjwt_vc as vc
from credentials import sign_token_status_list as sign_status_list
from credentials import token_status_reference as status_reference
from servicekit.errors import Invalid, NotFound

from ..models import Institution, StatusBitstring
from ..models import StatusList as StatusListRow
from . import audit, keys, urls
from .context import IssuerContext

CONFIGURATION_ID = "MicroCredential_dc_sd_jwt"
FORMAT = vc.FORMAT
MODULE_TYPE = "microcredential"


def issuer_url(ctx: IssuerContext, institution: Institution) -> str:
    """The ``iss`` of the institution's SD-JWT VCs (its credential issuer identifier)."""
    return urls.institution_base(ctx.settings.public_url, institution.slug)


def vct(ctx: IssuerContext, institution: Institution) -> str:
    """The ``vct`` of the institution's micro-credential SD-JWT VCs."""
    return vc.vct_for(issuer_url(ctx, institution), MODULE_TYPE)


def token_list_url(ctx: IssuerContext, institution: Institution, list_id: str) -> str:
    """Where the Token Status List ``list_id`` is published."""
    return f"{issuer_url(ctx, institution)}/status/{list_id}/token"


def configuration(ctx: IssuerContext, institution: Institution, algorithm: str) -> dict[str, Any]:
    """The ``dc+sd-jwt`` entry of ``credential_configurations_supported``."""
    display = [
        {"name": "Microcredential", "locale": "en"},
        {"name": "Microcredential", "locale": "nl"},
    ]
    return {
        "format": FORMAT,
        "vct": vct(ctx, institution),
        "cryptographic_binding_methods_supported": ["jwk"],
        "credential_signing_alg_values_supported": [jose.ALGORITHMS[algorithm]],
        "proof_types_supported": {
            "jwt": {"proof_signing_alg_values_supported": ["EdDSA", "ES256"]}
        },
        "display": display,
        "credential_metadata": {
            "display": display,
            "claims": [
                {"path": ["title"]},
                {"path": ["ects"]},
                {"path": ["eqf_level"]},
                {"path": ["awarding_body", "name"]},
                {"path": ["learner"]},
                {"path": ["result"]},
            ],
        },
    }


def jwt_vc_issuer_metadata(ctx: IssuerContext, institution: Institution) -> dict[str, Any]:
    """Every key the DID document lists as an assertion method (current and retired, not
    compromised), so SD-JWT VCs signed before a key rotation keep verifying and those
    signed with a compromised key stop, exactly as for the OB 3.0 credentials."""
    with ctx.db.session() as session:
        document = keys.did_document(ctx, session, institution)
    usable = set(document["assertionMethod"])
    listed = [
        (vm["id"], Multikey.from_public_multibase(vm["publicKeyMultibase"]))
        for vm in document["verificationMethod"]
        if vm["id"] in usable
    ]
    return vc.issuer_metadata(issuer_url(ctx, institution), listed)


def type_metadata(ctx: IssuerContext, institution: Institution, module_type: str) -> dict[str, Any]:
    """The SD-JWT VC type metadata of ``module_type`` (what ``vct`` resolves to).

    Raises ``NotFound`` (``unknown_vct``) for a type this issuer does not issue.
    """
    if module_type not in vc.MODULE_TYPES:
        raise NotFound("unknown_vct", f"no credential type {module_type}")
    return vc.type_metadata(vc.vct_for(issuer_url(ctx, institution), module_type), module_type)


def holder_jwk(ctx: IssuerContext, proof_jwt: str) -> dict[str, str]:
    """The public JWK of the (already verified) key proof's key, for ``cnf``."""
    header, _ = decode_unverified(proof_jwt)
    if isinstance(header.get("jwk"), dict):
        return jose.jwk_of(jose.key_from_jwk(header["jwk"]))
    try:
        key = resolve_jwt_key(header.get("kid"), ctx.holder_resolver, "authentication")
        return jose.jwk_of(key)
    except MicrocredError as exc:  # verified a moment ago; only a vanished did:web gets here
        raise Invalid("invalid_proof", exc.message) from None


def issue(
    ctx: IssuerContext,
    institution: Institution,
    credential: dict[str, Any],
    proof_jwt: str,
    learner: dict[str, Any],
) -> str:
    """The SD-JWT VC of an issued (signed, recorded) OB 3.0 credential."""
    learner_claims = {k: learner[k] for k in ("email", "student_number") if learner.get(k)}
    claims = vc.claims_from_credential(
        credential,
        issuer_url=issuer_url(ctx, institution),
        vct=vct(ctx, institution),
        learner=learner_claims,
    )
    status = None
    for entry in _entries(credential.get("credentialStatus")):
        if entry.get("statusPurpose") == "revocation":
            list_id = str(entry.get("statusListCredential", "")).rstrip("/").split("/")[-2]
            status = status_reference(
                token_list_url(ctx, institution, list_id), int(entry["statusListIndex"])
            )
    with ctx.db.session() as session:
        key, generation = keys.signer(ctx, session, institution)
    kid = urls.verification_method(ctx.settings.public_url, institution.slug, generation)
    token = vc.issue_sd_jwt_vc(
        claims, key, holder_jwk=holder_jwk(ctx, proof_jwt), status=status, kid=kid
    )
    # the registrar's trail: one credential (credential.issue), delivered in this format too
    with ctx.db.session() as session:
        audit.record(
            session,
            institution.id,
            "wallet",
            "credential.deliver_sd_jwt",
            ctx.now(),
            credential_id=credential.get("id"),
            details={"format": FORMAT, "vct": claims["vct"], "status": status},
        )
    return token


def _entries(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [i for i in items if isinstance(i, dict)]


def token_status_list(ctx: IssuerContext, institution: Institution, list_id: str) -> str:
    """The signed Token Status List of one status slot list (revoked 1, suspended 2).

    Signed once and served again while nothing it says has changed: the cache entry is
    keyed by both bitstrings and the signing key's generation, so a revoke, suspend or key
    rotation is in the very next answer; otherwise a token is re-signed once half its
    ``ttl`` (``status_max_age``) has passed, so a reader always gets at least half of it."""
    with ctx.db.session() as session:
        owner = session.get(StatusListRow, list_id)
        if owner is None or owner.institution_id != institution.id:
            raise NotFound("unknown_status_list", f"no status list {list_id}")
        revoked = session.get(StatusBitstring, (list_id, "revocation"))
        suspended = session.get(StatusBitstring, (list_id, "suspension"))
        key, generation = keys.signer(ctx, session, institution)
    assert revoked is not None and suspended is not None
    now = int(ctx.now().timestamp())
    ttl = ctx.settings.status_max_age
    content = (revoked.encoded_list, suspended.encoded_list, generation)
    cache = _signed_lists(ctx)
    with _cache_lock:
        hit = cache.get(list_id)
    if hit is not None and hit[0] == content and 0 <= now - hit[2] < ttl // 2:
        return hit[1]
    revocation_bits = StatusList.decode(revoked.encoded_list)
    suspension_bits = StatusList.decode(suspended.encoded_list)
    tokens = TokenStatusList(bits=2, size=len(revocation_bits))
    for index in suspension_bits.set_indexes():
        tokens.set(index, SUSPENDED)
    for index in revocation_bits.set_indexes():
        tokens.set(index, INVALID)  # revoked wins over suspended
    token = sign_status_list(
        tokens,
        token_list_url(ctx, institution, list_id),
        key,
        issuer=issuer_url(ctx, institution),
        kid=urls.verification_method(ctx.settings.public_url, institution.slug, generation),
        ttl=ttl,
        now=now,
    )
    with _cache_lock:
        cache[list_id] = (content, token, now)
    return token


_cache_lock = threading.Lock()
_signed: WeakKeyDictionary[IssuerContext, dict[str, tuple[tuple[str, str, int], str, int]]] = (
    WeakKeyDictionary()
)


def _signed_lists(ctx: IssuerContext) -> dict[str, tuple[tuple[str, str, int], str, int]]:
    """This issuer's signed Token Status Lists: list id -> (what it says, token, signed at)."""
    with _cache_lock:
        return _signed.setdefault(ctx, {})


def signing_keys(ctx: IssuerContext, institution: Institution) -> list[Multikey]:
    """The keys a relying party may find in the issuer metadata's ``jwks`` (the current one).

    Raises ``Conflict`` (``no_signing_key``) or ``Busy`` (``signing_key_unavailable``).
    """
    with ctx.db.session() as session:
        key, _ = keys.signer(ctx, session, institution)
    return [key]
