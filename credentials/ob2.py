"""Open Badges 2.0 assertions (edubadges, Badgr, Canvas Credentials): verify and read.

OB 2.0 is not a Verifiable Credential: an ``Assertion`` names a ``BadgeClass`` which names
an ``Issuer`` profile, usually each by URL. Two ways of checking one exist, and this module
does both, returning the same :class:`~credentials.report.VerificationReport` as the VC path
(outcomes are data, never exceptions):

* **hosted** (``verification.type: "hosted"``/``"HostedBadge"``): the assertion is fetched
  again at its ``id`` and must be the same as the one presented; its BadgeClass and Issuer
  are fetched and must link up; the assertion (and a fetched BadgeClass) must lie on an
  origin the issuer allows (``verification.allowedOrigins`` / ``startsWith`` of the
  issuer's profile, by default the issuer's own origin). Nothing is signed: a hosted
  assertion is exactly as trustworthy as the server that hosts it, and the report says so;
* **signed** (``verification.type: "signed"``/``"SignedBadge"``): a compact JWS (RS256 or
  ES256) over the assertion, made with the ``CryptographicKey`` named in
  ``verification.creator``; the key's ``owner`` must be the issuer and the issuer must list
  it in ``publicKey``.

Both check ``revoked``, ``expires`` and the issuer's ``revocationList``. Every URL goes
through the project's :class:`~credentials.fetch.SafeFetcher`, so an assertion cannot make
a verifier or wallet fetch a private address, follow a redirect loop or read 20 MB.

Reading (:func:`read_ob2`) flattens a *resolved* assertion (BadgeClass and Issuer embedded,
as :func:`verify_ob2` returns it) into the same ``MicrocredentialView`` the route rules use,
with ECTS, EQF level, study load and language taken from edubadges' BadgeClass extensions
(``extensions:ECTSExtension`` ``ECTS``, ``extensions:EQFExtension`` ``EQF``,
``extensions:StudyLoadExtension`` ``StudyLoad`` in hours, ``extensions:LanguageExtension``
``Language``, ``extensions:LearningOutcomeExtension`` ``LearningOutcome``).

A signed assertion is kept as a JSON object too: the resolved assertion plus the compact
JWS under ``"jws"``, so a wallet can store it, show it and hand it to a verifier again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from .errors import FetchError, MicrocredError
from .fetch import FetchHTTPError, SafeFetcher
from .ob2_reading import (
    ACCEPT,
    FORMAT_HOSTED,
    FORMAT_SIGNED,
    JWS_KEY,
    OB2_CONTEXT,
    _b64url,
    _date,
    _jws_payload,
    _types,
    is_ob2,
    is_ob2_assertion,
    read_ob2,
    recipient_identities,
    verification_type,
)
from .ob2_signing import (
    _signature_valid,
    sign_ob2,
)
from .profile import summary_of
from .report import Check, VerificationReport

HOSTED_TRUST = (
    "hosted Open Badges 2.0: nothing is signed, so this assertion is only as trustworthy as "
    "the server that hosts it ({host}); whoever controls that server can change or forge it"
)

TrustChecker = Callable[[str], Check]


class Ob2Error(MicrocredError):
    """A reason an OB 2.0 assertion cannot be verified (turned into a failed check)."""

    code = "ob2_invalid"

    def __init__(self, message: str, *, code: str, check_id: str) -> None:
        super().__init__(message, code=code)
        self.check_id = check_id


# --------------------------------------------------------------------------- detection


# --------------------------------------------------------------------------- verification


@dataclass
class Ob2Result:
    """The report, and the assertion with BadgeClass and Issuer embedded as verified."""

    report: VerificationReport
    resolved: dict[str, Any] | None = None
    kind: str | None = None


@dataclass
class _Context:
    fetcher: SafeFetcher | None
    now: datetime
    skew: timedelta
    report: VerificationReport


def verify_ob2(
    document: Any,
    *,
    fetcher: SafeFetcher | None,
    now: datetime | None = None,
    clock_skew: timedelta = timedelta(minutes=5),
    trust_checker: TrustChecker | None = None,
    check_status: bool = True,
) -> Ob2Result:
    """Verify an OB 2.0 assertion (object or compact JWS); never raises for bad input."""
    now = now or datetime.now(UTC)
    ctx = _Context(fetcher, now, clock_skew, VerificationReport())
    report = ctx.report
    jws: str | None = None
    if isinstance(document, str):
        jws = document.strip()
        presented = _jws_payload(jws)
    elif isinstance(document, Mapping):
        presented = {k: v for k, v in document.items() if k != JWS_KEY}
        if isinstance(document.get(JWS_KEY), str):
            jws = document[JWS_KEY].strip()
    else:
        presented = None
    if presented is None or not is_ob2_assertion(presented):
        report.add(Check.failed("structure", "ob2_invalid", "not an Open Badges 2.0 assertion"))
        return Ob2Result(report)
    kind = verification_type(presented)
    if kind is None:
        report.add(
            Check.failed(
                "structure",
                "ob2_invalid",
                "Open Badges 2.0 assertion without a verification type (hosted or signed)",
            )
        )
        return Ob2Result(report)
    label = FORMAT_HOSTED if kind == "hosted" else FORMAT_SIGNED
    problem = _structure_problem(presented)
    if problem:
        report.add(Check.failed("structure", "ob2_invalid", f"{label}: {problem}"))
        return Ob2Result(report, kind=kind)
    report.add(Check.passed("structure", f"format: {label}", code="ob2_" + kind))
    report.summary = {"format": label}
    resolved: dict[str, Any] | None
    try:
        if kind == "hosted":
            resolved = _verify_hosted(ctx, presented)
        else:
            resolved = _verify_signed(ctx, presented, jws)
    except Ob2Error as exc:
        report.add(Check.failed(exc.check_id, exc.code, exc.message))
        return Ob2Result(report, kind=kind)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        # a linked document of an unexpected shape (an id that is no URL, a list for an
        # object): the assertion cannot be checked, which is a finding, not a crash
        report.add(
            Check.failed("proof", "ob2_invalid", f"a linked document is malformed: {exc!r}"[:300])
        )
        return Ob2Result(report, kind=kind)
    if resolved is None:
        return Ob2Result(report, kind=kind)
    issuer = resolved["badge"]["issuer"]
    if check_status:
        _status(ctx, resolved, issuer)
    else:
        report.add(Check.skipped("status", "status was not checked"))
    _validity(ctx, resolved)
    report.add(_recipient_check(resolved))
    if trust_checker is not None:
        report.add(trust_checker(issuer.get("id", "")))
    if jws is not None and kind == "signed":
        resolved = {**resolved, JWS_KEY: jws}
    view = read_ob2(resolved)
    report.summary = {"format": label, **summary_of(view)}
    return Ob2Result(report, resolved, kind)


def verify_with(
    verifier: Any, document: Any, *, now: datetime | None = None, check_status: bool = True
) -> Ob2Result:
    """:func:`verify_ob2` under a :class:`~credentials.verify.Verifier`'s configuration: its
    outbound fetcher (``verifier.fetcher``, else its DID resolver's), clock skew and trust
    checker. Wallet and verifier services call this to get the resolved assertion too."""
    fetcher = getattr(verifier, "fetcher", None)
    if fetcher is None:
        fetcher = getattr(getattr(verifier, "resolver", None), "fetcher", None)
        # the resolver's copy refuses cross-host redirects (right for did:web only)
        fetcher = fetcher.with_policy(allow_cross_host_redirects=True) if fetcher else None
    result = verify_ob2(
        document,
        fetcher=fetcher,
        now=now,
        clock_skew=getattr(verifier, "clock_skew", timedelta(minutes=5)),
        trust_checker=getattr(verifier, "trust_checker", None),
        check_status=check_status,
    )
    if hasattr(result.report, "format"):  # the core's report names the format it met
        result.report.format = result.report.summary.get("format")
    return result


def handle(
    document: Any, *, verifier: Any, now: datetime, check_status: bool = True
) -> VerificationReport:
    """The ``credentials.formats`` handler for the ``ob2`` family (where that exists)."""
    return verify_with(verifier, document, now=now, check_status=check_status).report


def _fail(check_id: str, code: str, message: str) -> Ob2Error:
    return Ob2Error(message, code=code, check_id=check_id)


def _structure_problem(assertion: Mapping[str, Any]) -> str | None:
    for key in ("id", "recipient", "badge", "issuedOn"):
        if key not in assertion:
            return f"the assertion has no {key}"
    if not isinstance(assertion["id"], str):
        return "the assertion id must be a string"
    if not isinstance(assertion["badge"], str | Mapping):
        return "badge must be a URL or a BadgeClass object"
    recipient = assertion["recipient"]
    if not isinstance(recipient, Mapping) or not isinstance(recipient.get("identity"), str):
        return "recipient must be an IdentityObject with an identity"
    if _date(assertion["issuedOn"]) is None:
        return "issuedOn is not a date"
    if "expires" in assertion and _date(assertion["expires"]) is None:
        return "expires is not a date"
    return None


def _fetch_json(ctx: _Context, url: str, what: str, check_id: str) -> dict[str, Any]:
    if ctx.fetcher is None:
        raise _fail(check_id, "fetch_unavailable", f"cannot fetch the {what}: no fetcher")
    try:
        data, _ = ctx.fetcher.get_json(url, accept=ACCEPT)
    except FetchHTTPError as exc:
        if exc.status == 410 and what == "hosted assertion":
            message = f"the {what} at {url} is gone (HTTP 410): revoked by the issuer"
            raise _fail("status", "revoked", message) from None
        raise _fail(check_id, exc.code, f"cannot fetch the {what}: {exc.message}") from None
    except FetchError as exc:
        raise _fail(check_id, exc.code, f"cannot fetch the {what}: {exc.message}") from None
    if not isinstance(data, dict):
        raise _fail(check_id, "ob2_invalid", f"the {what} at {url} is not a JSON object")
    return data


def _object(
    ctx: _Context, value: Any, what: str, types: set[str], check_id: str
) -> tuple[dict[str, Any], bool]:
    """The linked object (fetched when given by URL) and whether it was fetched."""
    if isinstance(value, Mapping):
        node, fetched = dict(value), False
    elif isinstance(value, str):
        node, fetched = _fetch_json(ctx, value, what, check_id), True
        if node.get("id") != value:
            raise _fail(
                check_id,
                "ob2_link_mismatch",
                f"the {what} fetched from {value} names itself {node.get('id')!r}",
            )
    else:
        raise _fail(check_id, "ob2_invalid", f"the {what} is neither a URL nor an object")
    if not _types(node.get("type")) & types:
        raise _fail(check_id, "ob2_invalid", f"the {what} is not of type {' or '.join(types)}")
    return node, fetched


def _resolve(ctx: _Context, assertion: Mapping[str, Any]) -> dict[str, Any]:
    """The assertion with its BadgeClass and Issuer embedded; they must link up."""
    badge, badge_fetched = _object(
        ctx, assertion["badge"], "BadgeClass", {"BadgeClass"}, "badge_class"
    )
    ctx.report.add(
        Check.passed(
            "badge_class",
            f"BadgeClass {badge.get('name') or badge.get('id')}"
            + (" fetched from its id" if badge_fetched else " embedded in the hosted assertion"),
        )
    )
    issuer, _ = _object(ctx, badge.get("issuer"), "Issuer profile", {"Issuer", "Profile"}, "issuer")
    if not isinstance(issuer.get("id"), str):
        raise _fail("issuer", "ob2_invalid", "the Issuer profile has no id")
    resolved = dict(assertion)
    resolved["badge"] = {**badge, "issuer": issuer}
    resolved["_badgeFetched"] = badge_fetched
    return resolved


def _normalised(assertion: Mapping[str, Any]) -> dict[str, Any]:
    """An assertion with its links reduced to ids, for comparing copies."""
    out = {k: v for k, v in assertion.items() if k not in (JWS_KEY, "_badgeFetched")}
    badge = out.get("badge")
    if isinstance(badge, Mapping):
        out["badge"] = badge.get("id")
    return out


def _badge_matches(presented: Mapping[str, Any], authoritative: Mapping[str, Any]) -> bool:
    """An embedded BadgeClass in the presented copy must say what the issuer's says."""
    badge = presented.get("badge")
    if not isinstance(badge, Mapping):
        return True

    def flat(node: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(node)
        if isinstance(out.get("issuer"), Mapping):
            out["issuer"] = out["issuer"].get("id")
        return out

    return flat(badge) == flat(authoritative)


# -- hosted


def _verify_hosted(ctx: _Context, presented: dict[str, Any]) -> dict[str, Any]:
    url = presented["id"]
    hosted = _fetch_json(ctx, url, "hosted assertion", "proof")
    if not is_ob2_assertion(hosted) or hosted.get("id") != url:
        raise _fail(
            "proof",
            "ob2_hosted_mismatch",
            f"the document at {url} is not this assertion (it names {hosted.get('id')!r})",
        )
    differing = sorted(
        key
        for key in set(_normalised(presented)) | set(_normalised(hosted))
        if _normalised(presented).get(key) != _normalised(hosted).get(key)
    )
    if differing:
        raise _fail(
            "proof",
            "ob2_hosted_mismatch",
            "the assertion differs from the one its host serves (tampered or changed): "
            + ", ".join(differing),
        )
    resolved = _resolve(ctx, hosted)
    badge, issuer = resolved["badge"], resolved["badge"]["issuer"]
    if not _badge_matches(presented, badge):
        raise _fail(
            "proof",
            "ob2_hosted_mismatch",
            "the embedded BadgeClass differs from the one the issuer serves (tampered)",
        )
    _check_origins(ctx, url, badge, issuer, resolved.pop("_badgeFetched"))
    ctx.report.add(
        Check.passed(
            "proof",
            f"hosted verification: the assertion served at {url} matches the one presented",
            code="ob2_hosted",
        )
    )
    ctx.report.add(
        Check.warning("hosting", "ob2_hosted_trust", HOSTED_TRUST.format(host=_netloc(url)))
    )
    ctx.report.add(
        Check.passed(
            "issuer",
            f"BadgeClass {badge.get('id')} is issued by {issuer.get('name') or ''} "
            f"({issuer['id']})".replace("by  (", "by ("),
        )
    )
    return resolved


def _netloc(url: str) -> str:
    return urlsplit(url).netloc.lower()


def _strings(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, str) and item]


def _check_origins(
    ctx: _Context,
    assertion_url: str,
    badge: Mapping[str, Any],
    issuer: Mapping[str, Any],
    badge_fetched: bool,
) -> None:
    """OB 2.0 hosted verification: ids must lie where the issuer's profile allows."""
    policy = issuer.get("verification")
    policy = policy if isinstance(policy, Mapping) else {}
    starts = _strings(policy.get("startsWith"))
    origins = [o.lower() for o in _strings(policy.get("allowedOrigins"))]
    if not starts and not origins:
        origins = [_netloc(issuer["id"])]  # the default: the issuer's own origin

    def allowed(url: str) -> bool:
        if starts and not any(url.startswith(prefix) for prefix in starts):
            return False
        if origins:
            parts = urlsplit(url)
            return parts.netloc.lower() in origins or (parts.hostname or "") in origins
        return True

    rule = "startsWith " + ", ".join(starts) if starts else "allowedOrigins " + ", ".join(origins)
    targets = [("assertion", assertion_url)]
    if badge_fetched and isinstance(badge.get("id"), str):
        targets.append(("BadgeClass", badge["id"]))
    for what, url in targets:
        if not allowed(url):
            raise _fail(
                "origin",
                "ob2_origin_not_allowed",
                f"the {what} {url} lies outside the origins its issuer allows ({rule})",
            )
    ctx.report.add(Check.passed("origin", f"hosted where the issuer allows ({rule})"))


# -- signed


def _verify_signed(
    ctx: _Context, presented: dict[str, Any], jws: str | None
) -> dict[str, Any] | None:
    if jws is None:
        raise _fail(
            "proof",
            "ob2_signature_missing",
            "a signed Open Badges 2.0 assertion was presented without its JWS",
        )
    if jws.count(".") != 2:
        raise _fail("proof", "invalid_jwt", "the signature is not a compact JWS")
    header_b64, payload_b64, signature_b64 = jws.split(".")
    try:
        header = json.loads(_b64url(header_b64))
        payload = json.loads(_b64url(payload_b64))
        signature = _b64url(signature_b64)
    except (ValueError, TypeError):
        raise _fail("proof", "invalid_jwt", "the JWS is not valid base64url JSON") from None
    if not isinstance(header, dict) or _normalised(payload) != _normalised(presented):
        raise _fail("proof", "ob2_signature_mismatch", "the assertion differs from the signed one")
    alg = header.get("alg")
    if alg not in ("RS256", "ES256"):
        raise _fail("proof", "unsupported_algorithm", f"JWS algorithm {alg!r} is not supported")
    verification = presented.get("verification") or presented.get("verify") or {}
    creator = verification.get("creator") if isinstance(verification, Mapping) else None
    if not isinstance(creator, str):
        raise _fail("proof", "ob2_invalid", "a signed assertion must name its key (creator)")
    key_doc = _fetch_json(ctx, creator, "signing key", "proof")
    pem = key_doc.get("publicKeyPem")
    if key_doc.get("id") != creator or not isinstance(pem, str):
        raise _fail(
            "proof", "ob2_invalid", f"{creator} is not a CryptographicKey with a publicKeyPem"
        )
    signing_input = f"{header_b64}.{payload_b64}".encode()
    if not _signature_valid(pem, alg, signature, signing_input):
        raise _fail("proof", "invalid_signature", "the JWS signature does not verify")
    ctx.report.add(Check.passed("proof", f"{alg} signature made with {creator}", code="ob2_signed"))
    resolved = _resolve(ctx, presented)
    resolved.pop("_badgeFetched")
    badge, issuer = resolved["badge"], resolved["badge"]["issuer"]
    keys = issuer.get("publicKey")
    listed = {
        k if isinstance(k, str) else k.get("id")
        for k in (keys if isinstance(keys, list) else [keys])
        if isinstance(k, str | Mapping)
    }
    if key_doc.get("owner") != issuer["id"] or creator not in listed:
        raise _fail(
            "issuer",
            "ob2_key_not_issuers",
            f"the key {creator} is not a key of the issuer {issuer['id']} (its owner and the "
            "issuer's publicKey must name each other)",
        )
    ctx.report.add(
        Check.passed(
            "issuer",
            f"signed with a key of {issuer.get('name') or issuer['id']}, "
            f"issuer of the BadgeClass {badge.get('id')}",
        )
    )
    return resolved


# -- status, validity, recipient


def _status(ctx: _Context, assertion: Mapping[str, Any], issuer: Mapping[str, Any]) -> None:
    if assertion.get("revoked") is True:
        reason = assertion.get("revocationReason")
        ctx.report.add(
            Check.failed(
                "status", "revoked", "revoked by the issuer" + (f": {reason}" if reason else "")
            )
        )
        return
    url = issuer.get("revocationList")
    if not isinstance(url, str):
        ctx.report.add(
            Check.passed("status", "not revoked (the issuer publishes no revocation list)")
        )
        return
    try:
        listing = _fetch_json(ctx, url, "revocation list", "status")
    except Ob2Error as exc:
        ctx.report.add(Check.warning("status", "status_unknown", exc.message))
        return
    entries = listing.get("revokedAssertions")
    if not _types(listing.get("type")) & {"RevocationList"} or not isinstance(entries, list):
        ctx.report.add(Check.warning("status", "status_unknown", f"{url} is not a RevocationList"))
        return
    for entry in entries:
        entry_id = entry.get("id") if isinstance(entry, Mapping) else entry
        uid = entry.get("uid") if isinstance(entry, Mapping) else None
        if entry_id == assertion.get("id") or (uid and uid == assertion.get("uid")):
            reason = entry.get("revocationReason") if isinstance(entry, Mapping) else None
            ctx.report.add(
                Check.failed(
                    "status",
                    "revoked",
                    "revoked in the issuer's revocation list" + (f": {reason}" if reason else ""),
                )
            )
            return
    ctx.report.add(Check.passed("status", "not in the issuer's revocation list"))


def _validity(ctx: _Context, assertion: Mapping[str, Any]) -> None:
    issued = _date(assertion.get("issuedOn"))
    expires = _date(assertion.get("expires"))
    if issued is not None and issued > ctx.now + ctx.skew:
        ctx.report.add(
            Check.failed("validity", "not_yet_valid", f"issued in the future ({issued})")
        )
    elif expires is not None and expires < ctx.now - ctx.skew:
        ctx.report.add(Check.failed("validity", "expired", f"expired at {assertion['expires']}"))
    else:
        ctx.report.add(Check.passed("validity", "within its validity period"))


def _recipient_check(assertion: Mapping[str, Any]) -> Check:
    recipient = assertion.get("recipient") or {}
    kind = recipient.get("type", "email")
    if recipient.get("hashed") is True:
        return Check.passed(
            "recipient",
            f"issued to a hashed {kind} identity; a verifier who knows it can check it",
        )
    return Check.passed("recipient", f"issued to the {kind} {recipient.get('identity')}")


# --------------------------------------------------------------------------- reading


try:  # the core's format dispatch (credentials/formats.py), where this checkout has it
    from .formats import register_handler  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - older core: Verifier.verify_credential calls us
    pass
else:
    register_handler("ob2", handle)


__all__ = [
    "FORMAT_HOSTED",
    "FORMAT_SIGNED",
    "JWS_KEY",
    "OB2_CONTEXT",
    "Ob2Result",
    "handle",
    "is_ob2",
    "is_ob2_assertion",
    "read_ob2",
    "recipient_identities",
    "sign_ob2",
    "verification_type",
    "verify_ob2",
    "verify_with",
]
