"""Receiving credentials: redeem an OpenID4VCI offer, or import a credential file.

Whatever the way in, a credential is verified on arrival (``checking``) and the report is
stored with it. The rules, in order:

1. a document that is not a usable credential (not VCDM 2.0, an unknown JSON-LD context,
   not JSON) is refused — nothing is stored, whatever the learner asks;
2. a credential from an offer that is bound to another holder's DID is refused: the issuer
   was asked for a credential for *this* wallet's key, so anything else is an error;
3. a credential from an offer is never thrown away once the issuer has handed it over (the
   issuer cannot hand it over twice): one that fails a check is stored as "received, not
   yet verified" with the report saying why, and verified again when it is viewed
   (``CredentialStore.detail``) — after a key rotation that is usually a moment later. The
   issuer is told whether the wallet kept it (OpenID4VCI notification), so its offer state
   says what the learner holds. An *imported* file that fails a check is refused with the
   report (the learner still has the file), unless the learner explicitly keeps it
   (``keep_unverified``);
4. warnings (unknown issuer, status unknown, incomplete profile) are stored and shown.

An offer is single-use: its (hashed) code is recorded once redeemed, so a replay is refused
before the issuer is even contacted. All credentials of one offer are stored, or none.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.exc import IntegrityError

from credentials import (
    OB2_ACCEPT,
    FetchError,
    FetchHTTPError,
    MicrocredError,
    VerificationReport,
    detect_format,
    is_ob2,
    is_ob2_assertion,
    parse_json,
    subject_ids,
)
from servicekit.db import Database
from servicekit.errors import Conflict, Invalid, ServiceError, Upstream

from ..models import Learner, RedeemedOffer
from . import sdjwt
from .checking import CredentialChecker, is_unusable
from .clock import Clock
from .keys import HolderKeys
from .openid4vci import (
    CredentialOffer,
    IssuerMetadata,
    OfferError,
    Openid4vciClient,
    credential_from,
    notification_id,
    read_offer,
)
from .store import CredentialStore, summary

LDP_VC = "ldp_vc"
SD_JWT = sdjwt.FORMAT


class ReceiveService:
    def __init__(
        self,
        db: Database,
        store: CredentialStore,
        checker: CredentialChecker,
        client: Openid4vciClient,
        keys: HolderKeys,
        *,
        clock: Clock,
    ) -> None:
        self.db = db
        self.store = store
        self.checker = checker
        self.client = client
        self.keys = keys
        self.clock = clock

    # -- offers ------------------------------------------------------------------------

    def preview_offer(self, value: Any) -> dict[str, Any]:
        """What an offer will bring, before anything is redeemed: the issuer (its metadata's
        name), the offer's ``credential_preview`` (module, ECTS, level) when it has one, the
        offered formats and whether a PIN is needed. The code is not used, so the learner can
        still decline; whether the credential really says this is checked when it arrives."""
        try:
            offer = read_offer(value, self.client.fetcher)
            self.client.check_offer_urls(offer)
            metadata = self.client.issuer_metadata(offer.credential_issuer)
        except OfferError as exc:
            raise _problem(exc) from None
        with self.db.session() as session:
            used = session.get(RedeemedOffer, _offer_hash(offer)) is not None
        formats = []
        for cid in offer.configuration_ids:
            config = metadata.configurations.get(cid)
            fmt = config.get("format") if isinstance(config, dict) else None
            if isinstance(fmt, str) and fmt not in formats:
                formats.append(fmt)
        return {
            "issuer": offer.credential_issuer,
            "issuerName": metadata.display_name,
            "details": offer.preview,
            "formats": formats,
            "txCode": offer.tx_code.to_dict() if offer.tx_code else None,
            "alreadyUsed": used,
        }

    def receive_offer(
        self,
        learner: Learner,
        value: Any,
        *,
        tx_code: str | None,
        keep_unverified: bool,
        format: str | None = None,
    ) -> list[dict[str, Any]]:
        """Redeem an offer. ``format`` ``dc+sd-jwt`` asks for the SD-JWT VC configuration of
        an offer listing both (issue 19); an offer with only ``dc+sd-jwt`` is collected as
        that; otherwise the OB 3.0 (ldp_vc) configurations are taken, as before."""
        if format not in (None, "", LDP_VC, SD_JWT):
            raise Invalid("invalid_format", "format must be ldp_vc or dc+sd-jwt")
        try:
            offer = read_offer(value, self.client.fetcher)
            self.client.check_offer_urls(offer)
        except OfferError as exc:
            raise _problem(exc) from None
        offer_hash = _offer_hash(offer)
        with self.db.session() as session:
            if session.get(RedeemedOffer, offer_hash) is not None:
                raise Conflict(
                    "offer_already_used",
                    "this offer has already been redeemed; an offer can be used only once "
                    "(ask the institution for a new one if you need it again)",
                )
        _check_tx_code(offer, tx_code)
        try:
            metadata = self.client.issuer_metadata(offer.credential_issuer)
            sd_jwt = _sd_jwt_configuration(offer, metadata, format)
            if sd_jwt is not None:
                return self._receive_sd_jwt(learner, offer, offer_hash, metadata, sd_jwt, tx_code)
            wanted = _check_configurations(offer, metadata)
            token_endpoint = self.client.token_endpoint(offer, metadata)
            access_token = self.client.redeem(offer, token_endpoint, tx_code)
            self._remember(learner, offer, offer_hash)
            key = self.keys.key_for(learner)
            responses = [
                self.client.credential_response(metadata, access_token, cid, key) for cid in wanted
            ]
        except OfferError as exc:
            raise _problem(exc) from None
        received = [(credential_from(data), notification_id(data)) for data in responses]
        rows = []
        try:
            for credential, _ in received:
                if learner.did not in subject_ids(credential):
                    bound = ", ".join(subject_ids(credential)) or "no DID at all"
                    raise Invalid(
                        "credential_bound_to_another_holder",
                        f"the issuer sent a credential bound to {bound}, not to your wallet "
                        f"({learner.did}); it was not stored",
                    )
                # Given to this wallet by its issuer: never thrown away. One that fails a
                # check (e.g. signed with a key this wallet's cached DID document does not
                # know yet) is kept as "received, not yet verified" and checked again later.
                report = self._checked(learner, credential, keep_unverified=True)
                rows.append(self.store.new_row(learner, credential, report, "offer"))
            saved = self.store.save(rows)
        except ServiceError as exc:
            self._notify(metadata, access_token, received, "credential_failure", exc.detail)
            raise
        self._notify(metadata, access_token, received, "credential_accepted", None)
        return [_received(row) for row in saved]

    def _receive_sd_jwt(
        self,
        learner: Learner,
        offer: CredentialOffer,
        offer_hash: str,
        metadata: IssuerMetadata,
        configuration_id: str,
        tx_code: str | None,
    ) -> list[dict[str, Any]]:
        """Collect the SD-JWT VC with the learner's holder key and store it (``dc+sd-jwt``).

        The same rules as for OB 3.0: bound to another key is refused, a credential the
        issuer handed over is kept even when a check fails ("received, not yet verified")."""
        token_endpoint = self.client.token_endpoint(offer, metadata)
        access_token = self.client.redeem(offer, token_endpoint, tx_code)
        self._remember(learner, offer, offer_hash)
        key = self.keys.key_for(learner)
        token, data = sdjwt.request_credential(
            self.client, metadata, access_token, configuration_id, key
        )
        received: list[tuple[dict[str, Any], str | None]] = [({}, notification_id(data))]
        try:
            if not sdjwt.bound_to(token, key):
                raise Invalid(
                    "credential_bound_to_another_holder",
                    "the issuer sent an SD-JWT VC bound to another key (cnf), not to your "
                    "wallet's key; it was not stored",
                )
            report = self.checker.verify(token, learner.did)
            if is_unusable(report) or any(c.id == "format" for c in report.failed):
                raise Invalid("unsupported_format", "the issuer sent no readable SD-JWT VC")
            saved = self.store.save([self.store.new_row(learner, token, report, "offer")])
        except ServiceError as exc:
            self._notify(metadata, access_token, received, "credential_failure", exc.detail)
            raise
        self._notify(metadata, access_token, received, "credential_accepted", None)
        return [_received(row) for row in saved]

    def _notify(
        self,
        metadata: IssuerMetadata,
        access_token: str,
        received: list[tuple[dict[str, Any], str | None]],
        event: str,
        description: str | None,
    ) -> None:
        """Tell the issuer whether this wallet holds what it sent (its offer state)."""
        for _, notification in received:
            if notification is not None:
                self.client.notify(metadata, access_token, notification, event, description)

    def _remember(self, learner: Learner, offer: CredentialOffer, offer_hash: str) -> None:
        """Record the redeemed code (right after the issuer accepted it)."""
        try:
            with self.db.session() as session:
                session.add(
                    RedeemedOffer(
                        offer_hash=offer_hash,
                        learner_id=learner.id,
                        credential_issuer=offer.credential_issuer,
                        redeemed_at=self.clock(),
                    )
                )
        except IntegrityError:
            raise Conflict("offer_already_used", "this offer has already been redeemed") from None

    # -- files -------------------------------------------------------------------------

    def import_url(self, learner: Learner, url: Any, *, keep_unverified: bool) -> dict[str, Any]:
        """Import an Open Badges 2.0 assertion by its URL (the hosted assertion's id).

        The URL is fetched through the wallet's safe fetcher, so in production a private,
        loopback or link-local address is refused before anything is sent."""
        if not isinstance(url, str) or not url.strip():
            raise Invalid("invalid_url", "url must be the assertion's URL")
        try:
            document, _ = self.checker.fetcher.get_json(url.strip(), accept=OB2_ACCEPT)
        except FetchError as exc:
            extra: dict[str, Any] = (
                {"httpStatus": exc.status} if isinstance(exc, FetchHTTPError) else {}
            )
            raise Invalid(
                exc.code, f"the badge could not be fetched: {exc.message}", **extra
            ) from None
        if not is_ob2_assertion(document):
            raise Invalid("not_a_credential", f"{url} does not serve an Open Badges 2.0 assertion")
        return self.import_credential(learner, document, keep_unverified=keep_unverified)

    def import_credential(
        self, learner: Learner, value: Any, *, keep_unverified: bool
    ) -> dict[str, Any]:
        """Verify and store a credential the learner uploads (JSON, or a signed OB 2.0
        assertion); its summary with the verification report.

        Raises ``Invalid`` (``not_a_credential``, ``unsupported_format``,
        ``unusable_credential``, ``credential_not_verified`` unless ``keep_unverified``);
        nothing is stored then.
        """
        _refuse_unsupported_format(value)
        if isinstance(value, str) and is_ob2(value):  # a signed OB 2.0 assertion (JWS)
            return self._import_ob2(learner, value, keep_unverified)
        if isinstance(value, str):
            try:
                value = parse_json(value.encode("utf-8"))
            except MicrocredError as exc:
                raise Invalid(
                    "not_a_credential", f"the file is not a credential: {exc.message}"
                ) from None
        if not isinstance(value, dict):
            raise Invalid("not_a_credential", "credential must be a JSON object")
        types = value.get("type")
        if "VerifiablePresentation" in (types if isinstance(types, list) else [types]):
            raise Invalid(
                "not_a_credential",
                "this is a presentation, not a credential; import the credentials it contains",
            )
        if is_ob2(value):
            return self._import_ob2(learner, value, keep_unverified)
        report = self._checked(learner, value, keep_unverified)
        (row,) = self.store.save([self.store.new_row(learner, value, report, "import")])
        return _received(row)

    def _import_ob2(self, learner: Learner, value: Any, keep_unverified: bool) -> dict[str, Any]:
        """Store the assertion as verified (BadgeClass and Issuer embedded), or as given."""
        report, resolved = self.checker.verify_ob2(value)
        self._judge(report, keep_unverified)
        document = resolved if resolved is not None else value
        if not isinstance(document, dict):
            raise Invalid("not_a_credential", "the signed badge could not be read")
        (row,) = self.store.save([self.store.new_row(learner, document, report, "import")])
        return _received(row)

    # -- shared ------------------------------------------------------------------------

    def _checked(
        self, learner: Learner, credential: dict[str, Any], keep_unverified: bool
    ) -> VerificationReport:
        report = self.checker.verify(credential, learner.did)
        self._judge(report, keep_unverified)
        return report

    @staticmethod
    def _judge(report: VerificationReport, keep_unverified: bool) -> None:
        if is_unusable(report):
            first = report.failed[0]
            raise Invalid(
                "unusable_credential",
                f"this is not a credential the wallet can read: {first.message}",
                report=report.to_dict(),
            )
        if not report.verified and not keep_unverified:
            reasons = "; ".join(c.message for c in report.failed) or "no valid proof"
            raise Invalid(
                "credential_not_verified",
                f"the credential did not pass verification and was not stored: {reasons} "
                "(you can keep it marked as unverified with keepUnverified)",
                report=report.to_dict(),
            )


def _received(row: Any) -> dict[str, Any]:
    out = summary(row)
    out["report"] = row.report
    return out


def _problem(exc: OfferError) -> ServiceError:
    extra: dict[str, Any] = {"issuerError": exc.issuer_error} if exc.issuer_error else {}
    if exc.reason:
        extra["reason"] = exc.reason
    return exc.kind(exc.code, exc.message, **extra)


def _offer_hash(offer: CredentialOffer) -> str:
    material = f"{offer.credential_issuer}\n{offer.pre_authorized_code}"
    return hashlib.sha256(material.encode()).hexdigest()


def _check_tx_code(offer: CredentialOffer, tx_code: str | None) -> None:
    wanted = offer.tx_code
    if wanted is None:
        return
    if not tx_code:
        raise Invalid(
            "tx_code_required",
            "this offer needs a transaction code (PIN) that the institution sent you separately"
            + (f": {wanted.description}" if wanted.description else ""),
            txCode=wanted.to_dict(),
        )
    if len(tx_code) > 100 or (wanted.input_mode == "numeric" and not tx_code.isdigit()):
        raise Invalid("invalid_tx_code", "the transaction code must be digits")
    if wanted.length is not None and len(tx_code) != wanted.length:
        raise Invalid("invalid_tx_code", f"the transaction code has {wanted.length} characters")


def _sd_jwt_configuration(
    offer: CredentialOffer, metadata: IssuerMetadata, wanted: str | None
) -> str | None:
    """The ``dc+sd-jwt`` configuration to collect: when the learner asked for that format, or
    when the offer has no ldp_vc configuration but an SD-JWT VC one. None: the ldp_vc path."""
    formats = {
        cid: (metadata.configurations.get(cid) or {}).get("format")
        for cid in offer.configuration_ids
        if isinstance(metadata.configurations.get(cid) or {}, dict)
    }
    sd = [cid for cid, fmt in formats.items() if fmt == SD_JWT]
    if wanted == SD_JWT:
        if not sd:
            raise OfferError(
                "this offer has no SD-JWT VC (dc+sd-jwt) configuration; collect it as "
                "Open Badges 3.0",
                code="format_not_offered",
            )
        return sd[0]
    if sd and not any(fmt == LDP_VC for fmt in formats.values()):
        return sd[0]
    return None


def _check_configurations(offer: CredentialOffer, metadata: IssuerMetadata) -> tuple[str, ...]:
    """The configurations to collect. An offer may list one credential in several formats
    (microcred's issuer lists ldp_vc and dc+sd-jwt, issue 19): the ldp_vc ones are taken
    and the alternatives this wallet cannot hold are left alone; an offer with no ldp_vc
    configuration at all is refused as meant for another kind of wallet."""
    ldp = tuple(
        cid
        for cid in offer.configuration_ids
        if isinstance(metadata.configurations.get(cid), dict)
        and metadata.configurations[cid].get("format") == LDP_VC
    )
    wanted = ldp or offer.configuration_ids
    for cid in wanted:
        config = metadata.configurations.get(cid)
        if not isinstance(config, dict):
            raise OfferError(
                f"the issuer does not describe the offered credential {cid!r}",
                code="unknown_credential_configuration",
                kind=Upstream,
            )
        fmt = config.get("format")
        if fmt != LDP_VC:
            raise OfferError(
                f"the offer is for another kind of wallet: {cid!r} is issued as {fmt!r}, and "
                "this wallet holds W3C credentials with Data Integrity proofs (ldp_vc) only",
                code="unsupported_credential_format",
            )
        methods = config.get("cryptographic_binding_methods_supported")
        if (
            isinstance(methods, list)
            and methods
            and "did:key" not in methods
            and "did" not in methods
        ):
            raise OfferError(
                f"the issuer binds {cid!r} to {', '.join(map(str, methods))}; this wallet "
                "holds did:key credentials",
                code="unsupported_binding",
            )
        proofs = config.get("proof_types_supported")
        if isinstance(proofs, dict) and proofs and "jwt" not in proofs:
            raise OfferError(
                f"the issuer accepts no jwt key proof for {cid!r}",
                code="unsupported_proof_type",
            )
    return wanted


__all__ = ["ReceiveService"]


def _refuse_unsupported_format(value: Any) -> None:
    """A recognised format the wallet cannot verify (a JWT-secured VC, SD-JWT, BBS) is
    refused as that, with the code ``unsupported_format`` — never as a bad signature."""
    found = detect_format(value.strip() if isinstance(value, str) else value)
    if not found.supported:
        raise Invalid("unsupported_format", found.message, format=found.label)
