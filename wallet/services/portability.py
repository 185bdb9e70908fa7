"""The learner's data, portable: export everything, import it into a fresh account, delete.

The export is one JSON document (``format: microcred-wallet-export``, ``version: 1``) with
the credentials (each with its arrival report and status), the shares with their access
logs, the routes followed and the disclosures made — and no secret: not the holder key,
not password hashes, not share-link tokens (a link is a bearer capability; an export that
leaks must not open it).

Import goes into a *fresh* account only (no credentials, shares or routes yet), so it never
merges into or overwrites data. Every credential is verified again (an export file is just
a file; its stored reports are not trusted). Because the key is not exported, the new
account has a new DID: credentials bound to the exporting account's DID are kept with a
``bound_to_previous_did`` warning, and shares come back as history only (revoked, without
a link). Everything is imported in one transaction, or nothing.

The export is signed by the exporting account's holder key (a Data Integrity proof with a
JCS cryptosuite, ``proofPurpose`` authentication, ``domain`` ``EXPORT_DOMAIN``): that proof
is what lets an import claim the previous DID. Without it anyone could wrap another
learner's credential in a hand-made "export" naming that learner's DID and have the wallet
vouch for it (issue 14, item 3). So an import proves possession of the key of every DID it
claims; credentials bound to a DID it does not prove are stored as not bound to this wallet
(a failed ``holder`` check, ``previous_did_not_proven``) and never shown as verified.

Deleting an account deletes every row that names the learner.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from credentials import (
    Check,
    DidResolver,
    MicrocredError,
    Route,
    VerificationReport,
    is_sd_jwt_vc,
    sign,
    subject_ids,
    verify_proofs,
)
from servicekit.db import Database
from servicekit.errors import Conflict, Invalid
from servicekit.tokens import new_token, token_hash

from ..models import (
    AuthToken,
    Disclosure,
    Learner,
    LearnerRoute,
    RedeemedOffer,
    Share,
    ShareAccess,
    StoredCredential,
)
from . import key_backup
from .checking import CredentialChecker, is_unusable
from .clock import Clock, iso
from .keys import HolderKeys
from .requests import disclosure_dict
from .shares import access_dict
from .store import CredentialStore

FORMAT = "microcred-wallet-export"
VERSION = 1
MAX_ITEMS = 10_000
EXPORT_DOMAIN = "microcred-wallet-export"
"""The proof ``domain`` of an export: a presentation signature cannot pass for one."""
_JCS = {"Ed25519": "eddsa-jcs-2022", "P-256": "ecdsa-jcs-2019"}


class Portability:
    def __init__(
        self,
        db: Database,
        store: CredentialStore,
        checker: CredentialChecker,
        *,
        clock: Clock,
        keys: HolderKeys | None = None,
        resolver: DidResolver | None = None,
    ) -> None:
        self.keys = keys
        self.resolver = resolver or DidResolver()
        self.db = db
        self.store = store
        self.checker = checker
        self.clock = clock

    # -- export ------------------------------------------------------------------------

    def export(self, learner: Learner, passphrase: str | None = None) -> dict[str, Any]:
        """Everything the learner holds as one export bundle (credentials, shares, routes,
        with the learner's DID), the file ``restore`` takes back; with ``passphrase`` also
        the holder key, encrypted under it (``keyBackup``, see ``key_backup``), so an import
        elsewhere can present again. Raises ``Invalid`` (``weak_passphrase``)."""
        if passphrase is not None:
            key_backup.check_passphrase(passphrase)
        with self.db.session() as session:
            credentials = session.exec(
                _mine(StoredCredential, learner.id).order_by(col(StoredCredential.received_at))
            ).all()
            shares = session.exec(_mine(Share, learner.id).order_by(col(Share.created_at))).all()
            accesses = session.exec(
                _mine(ShareAccess, learner.id).order_by(col(ShareAccess.accessed_at))
            ).all()
            routes = session.exec(
                _mine(LearnerRoute, learner.id).order_by(col(LearnerRoute.added_at))
            ).all()
            disclosures = session.exec(
                _mine(Disclosure, learner.id).order_by(col(Disclosure.sent_at))
            ).all()
        by_share: dict[str, list[dict[str, Any]]] = {}
        for access in accesses:
            by_share.setdefault(access.share_id, []).append(access_dict(access))
        bundle = {
            "format": FORMAT,
            "version": VERSION,
            "exportedAt": iso(self.clock()),
            "learner": {
                "username": learner.username,
                "did": learner.did,
                "createdAt": iso(learner.created_at),
            },
            "credentials": [
                {
                    "id": c.id,
                    "credential": c.document,
                    "verified": c.verified,
                    "report": c.report,
                    "status": c.status,
                    "statusChecks": c.status_checks,
                    "statusCheckedAt": iso(c.status_checked_at),
                    "source": c.source,
                    "receivedAt": iso(c.received_at),
                }
                for c in credentials
            ],
            "shares": [
                {
                    "id": s.id,
                    "credentialIds": list(s.credential_ids),
                    "label": s.label,
                    "createdAt": iso(s.created_at),
                    "expiresAt": iso(s.expires_at),
                    "maxViews": s.max_views,
                    "views": s.views,
                    "revokedAt": iso(s.revoked_at),
                    "accesses": by_share.get(s.id, []),
                }
                for s in shares
            ],
            "routes": [
                {
                    "routeId": r.route_id,
                    "definition": r.definition,
                    "source": r.source,
                    "addedAt": iso(r.added_at),
                }
                for r in routes
            ],
            "disclosures": [disclosure_dict(d) for d in disclosures],
        }
        if passphrase is not None and self.keys is not None:
            bundle["keyBackup"] = key_backup.seal(self.keys.key_for(learner), passphrase)
        return self._signed(learner, bundle)

    def _signed(self, learner: Learner, bundle: dict[str, Any]) -> dict[str, Any]:
        """The export with a proof by the learner's holder key (see the module docstring)."""
        if self.keys is None:
            return bundle
        key = self.keys.key_for(learner)
        return sign(
            bundle,
            key,
            purpose="authentication",
            cryptosuite=_JCS.get(key.algorithm, "eddsa-jcs-2022"),
            domain=EXPORT_DOMAIN,
            created=self.clock(),
            strict=False,
        )

    def proven_dids(self, bundle: dict[str, Any]) -> set[str]:
        """DIDs whose key signed this export (signature and ``domain`` verified)."""
        if "proof" not in bundle:
            return set()
        _, keys = verify_proofs(
            bundle,
            resolver=self.resolver,
            purpose="authentication",
            domain=EXPORT_DOMAIN,
            now=self.clock(),
        )
        return {key.controller for key in keys}

    # -- import ------------------------------------------------------------------------

    def restore(
        self, learner: Learner, bundle: Any, passphrase: str | None = None
    ) -> dict[str, int]:
        """Import an export bundle into the learner's fresh account; counts per kind imported
        (plus ``keyRestored`` and ``keysMissing``).

        Every credential is verified again before anything is stored, all or nothing. With
        the export's key backup and its ``passphrase`` the account takes over the exported
        holder key (and DID), so its credentials stay bound to this wallet; without them the
        credentials come with a ``bound_to_previous_did`` warning (``keysMissing``).
        Raises ``Invalid`` (``invalid_export``) for a bundle that is not a wallet export or
        holds an unusable item, ``Invalid`` (``invalid_key_backup``,
        ``key_backup_passphrase_wrong``) for a backup that does not open, and ``Conflict``
        (``account_not_empty``) when the account already holds credentials, shares or routes.
        """
        items = _check_bundle(bundle)
        self._require_fresh(learner.id)
        restored_key = None
        if passphrase and "keyBackup" in bundle and self.keys is not None:
            restored_key = key_backup.open_backup(bundle["keyBackup"], passphrase)
            claimed_did = (
                bundle.get("learner", {}).get("did")
                if isinstance(bundle.get("learner"), dict)
                else None
            )
            if restored_key.controller != claimed_did:
                raise Invalid(
                    "invalid_key_backup", "the key backup is not the key of the exported account"
                )
            learner = learner.model_copy(update={"did": restored_key.controller})
        claimed = (
            bundle.get("learner", {}).get("did")
            if isinstance(bundle.get("learner"), dict)
            else None
        )
        proven = self.proven_dids(bundle)
        previous = claimed if isinstance(claimed, str) and claimed in proven else None
        now = self.clock()
        new_ids: dict[str, str] = {}
        rows: list[Any] = []
        seen: set[str] = set()
        for index, entry in enumerate(items["credentials"]):
            credential = entry.get("credential") if isinstance(entry, dict) else None
            sd_jwt = isinstance(credential, str) and is_sd_jwt_vc(credential)
            if not (isinstance(credential, dict) or (isinstance(credential, str) and sd_jwt)):
                raise Invalid("invalid_export", f"credentials[{index}].credential is missing")
            report = self.checker.verify(
                credential, learner.did, previous_dids=[previous] if previous else []
            )
            if previous is None and isinstance(claimed, str) and isinstance(credential, dict):
                report = _unproven(report, credential, claimed)
            if is_unusable(report):
                raise Invalid(
                    "invalid_export",
                    f"credentials[{index}] is not a usable credential: {report.failed[0].message}",
                    report=report.to_dict(),
                )
            row = self.store.new_row(learner, credential, report, "restore")
            if row.fingerprint in seen:
                continue
            seen.add(row.fingerprint)
            if isinstance(entry.get("id"), str):
                new_ids[entry["id"]] = row.id
            rows.append(row)
        for index, entry in enumerate(items["routes"]):
            definition = entry.get("definition") if isinstance(entry, dict) else None
            try:
                route = Route.from_dict(definition if isinstance(definition, dict) else {})
            except MicrocredError as exc:
                raise Invalid("invalid_export", f"routes[{index}]: {exc.message}") from None
            rows.append(
                LearnerRoute(
                    id=str(uuid.uuid4()),
                    learner_id=learner.id,
                    route_id=route.id,
                    definition=route.to_dict(),
                    source="restore",
                    added_at=now,
                )
            )
        shares = 0
        for index, entry in enumerate(items["shares"]):
            share, accesses = self._history(learner, entry, index, new_ids, now)
            rows.append(share)
            rows.extend(accesses)
            shares += 1
        with self.db.session() as session:
            if restored_key is not None and self.keys is not None:
                own = session.get(Learner, learner.id)
                if own is None:
                    raise Conflict("account_not_empty", "the account is gone")
                own.did = restored_key.controller
                own.wrapped_key = self.keys.wrap_secret(learner.id, restored_key)
                session.add(own)
            for row in rows:
                session.add(row)
                if isinstance(row, Share):
                    session.flush()
        credentials = [r for r in rows if isinstance(r, StoredCredential)]
        return {
            "credentials": len(credentials),
            "routes": sum(isinstance(r, LearnerRoute) for r in rows),
            "shares": shares,
            "keyRestored": int(restored_key is not None),
            "keysMissing": int(any(_needs_old_key(r.report) for r in credentials)),
        }

    def keys_missing(self, learner: Learner) -> bool:
        """Whether some of the learner's credentials are bound to a DID whose key this
        wallet does not hold (an import without the key backup): they cannot be presented."""
        with self.db.session() as session:
            reports = session.exec(
                select(StoredCredential.report).where(StoredCredential.learner_id == learner.id)
            ).all()
        return any(_needs_old_key(report) for report in reports)

    def _history(
        self, learner: Learner, entry: Any, index: int, new_ids: dict[str, str], now: datetime
    ) -> tuple[Share, list[ShareAccess]]:
        if not isinstance(entry, dict):
            raise Invalid("invalid_export", f"shares[{index}] must be an object")
        created = _time(entry.get("createdAt"), now)
        max_views, views = entry.get("maxViews"), entry.get("views")
        share = Share(
            id=str(uuid.uuid4()),
            learner_id=learner.id,
            token_hash=token_hash(new_token()),  # a link nobody knows: history only
            token_wrapped=None,
            challenge=new_token(nbytes=24),
            credential_ids=[
                new_ids.get(i, i) for i in entry.get("credentialIds") or [] if isinstance(i, str)
            ][:50],
            label=str(entry.get("label") or "")[:200] or None,
            created_at=created,
            expires_at=_time(entry.get("expiresAt"), created),
            max_views=max_views if isinstance(max_views, int) else None,
            views=views if isinstance(views, int) else 0,
            revoked_at=_time(entry.get("revokedAt"), now),
        )
        accesses = []
        for access in entry.get("accesses") or []:
            if not isinstance(access, dict):
                continue
            accesses.append(
                ShareAccess(
                    share_id=share.id,
                    learner_id=learner.id,
                    accessed_at=_time(access.get("at"), created),
                    outcome=str(access.get("outcome") or "served")[:20],
                    representation=str(access.get("representation") or "json")[:10],
                    verifier_checked=access.get("verifierChecked") is True,
                    client=str(access.get("client") or "unknown")[:40],
                    user_agent=str(access["userAgent"])[:200] if access.get("userAgent") else None,
                )
            )
        return share, accesses

    def _require_fresh(self, learner_id: str) -> None:
        with self.db.session() as session:
            for model in (StoredCredential, Share, LearnerRoute):
                if session.exec(_mine(model, learner_id).limit(1)).first() is not None:
                    raise Conflict(
                        "account_not_empty",
                        "an export can only be imported into a fresh account (this one "
                        "already holds credentials, shares or routes)",
                    )

    # -- delete ------------------------------------------------------------------------

    def delete_account(self, learner: Learner) -> None:
        """Delete the learner and every row that names them, children first."""
        with self.db.session() as session:
            for model in (
                ShareAccess,
                Share,
                Disclosure,
                LearnerRoute,
                StoredCredential,
                RedeemedOffer,
                AuthToken,
            ):
                session.execute(delete(model).where(col(model.learner_id) == learner.id))
            session.execute(delete(Learner).where(col(Learner.id) == learner.id))


_OLD_KEY_CODES = {"bound_to_previous_did", "previous_did_not_proven"}


def _needs_old_key(report: Any) -> bool:
    checks = report.get("checks", []) if isinstance(report, dict) else []
    return any(isinstance(c, dict) and c.get("code") in _OLD_KEY_CODES for c in checks)


def _mine(model: Any, learner_id: str) -> Any:
    return select(model).where(model.learner_id == learner_id)


def _check_bundle(bundle: Any) -> dict[str, list[Any]]:
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise Invalid("invalid_export", f"this is not a wallet export (expected format {FORMAT!r})")
    if bundle.get("version") != VERSION:
        raise Invalid("invalid_export", f"unsupported export version {bundle.get('version')!r}")
    out = {}
    for key in ("credentials", "shares", "routes"):
        value = bundle.get(key, [])
        if not isinstance(value, list) or len(value) > MAX_ITEMS:
            raise Invalid("invalid_export", f"{key} must be a list of at most {MAX_ITEMS}")
        out[key] = value
    return out


def _time(value: Any, default: datetime) -> datetime:
    from .clock import aware

    if isinstance(value, str):
        try:
            parsed = aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    return default


def _unproven(report: VerificationReport, credential: dict[str, Any], claimed: str) -> Any:
    """A credential bound to a DID the export claims but does not prove: not bound to this
    wallet, so a failed ``holder`` check (the report is then never ``verified``)."""
    if claimed not in subject_ids(credential) or is_unusable(report):
        return report
    check = Check.failed(
        "holder",
        "previous_did_not_proven",
        f"the export claims {claimed} but is not signed by its key, so this credential is "
        "not bound to your wallet and cannot be shown as verified",
    )
    checks = [c for c in report.checks if c.id != "holder"] + [check]
    return VerificationReport(
        checks=checks, summary=report.summary, format=report.format, profile=report.profile
    )
