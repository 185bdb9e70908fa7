"""Share links: an unguessable URL serving a presentation the learner's key signs.

A share names credentials, an expiry and optionally a maximum number of views. Its URL is
``{public_url}/s/{token}`` with a 256-bit token; the database keeps the token's SHA-256
(to find the share) and the token wrapped under the KEK (so the learner's own session can
show the link and QR again), never the token in the clear.

Each time the link is opened for a machine (``Accept: application/json``) the wallet signs
a fresh presentation with the holder key: ``proofPurpose`` authentication, ``domain`` =
the share URL, ``challenge`` = the share's own random value. A verifier checks the domain
against the URL it fetched, so the presentation cannot be replayed from another address.

People get a page, in two steps, so that link previews do not use up views (issue 16,
point 1; docs/wallet.md "The employer's landing page"): the link itself (``GET``/``HEAD``,
what chat apps, mail scanners and prefetchers fetch) only *peeks* (:meth:`ShareService.peek`):
it says whether the link still works and counts nothing, shows nothing of the learner.
The credentials are shown when the reader asks for them with the page's button (a plain
form ``POST``, :meth:`ShareService.open` with ``wants_json=False``): that is a view, and
the page verifies the very presentation a verifier would get, with the core's verifier.

Either way a view is counted (a conditional UPDATE, so the maximum holds across instances)
and logged: time, outcome, representation, and whether a verifier checked it (see
``classify``). An expired, revoked or used-up link answers 410 Gone, and that attempt is
logged too.

Every presentation is signed afresh on each fetch with a short proof lifetime (``expires`` =
now + ``proof_seconds``, 2 minutes by default): a presentation captured before the learner
revoked the link stops verifying within that lifetime (plus the verifier's clock-skew
tolerance), instead of verifying for ever (issue 14, item 6).

The page for people states a *current*, trust-aware verdict per credential, from the same
core checks a verifier runs: the status is re-checked at the issuer on every view (not the
list cache), and "verified" is said only when the issuer is one this wallet knows; a
self-signed credential from an unknown issuer, a revoked or suspended one, or one whose
status cannot be checked now says so instead.
"""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from credentials import STRICT_POLICIES as STRICT
from credentials import Check, VerificationReport, create_presentation
from servicekit.db import Database, rowcount
from servicekit.errors import Invalid, NotFound
from servicekit.qr import qr_png_data_uri, qr_svg
from servicekit.tokens import new_token, token_hash

from ..models import Learner, Share, ShareAccess
from . import disclosing
from .checking import CredentialChecker
from .clock import Clock, aware, iso
from .keys import HolderKeys
from .store import CredentialStore

MICROCRED_AGENT = "microcred/"
SERVED, EXPIRED, REVOKED, EXHAUSTED = "served", "expired", "revoked", "exhausted"
MAX_CREDENTIALS = 50
PROOF_SECONDS = 120
PAGE_POLICIES = tuple(sorted(p.value for p in STRICT))
"""The employer pages' policies (``credentials.policies.STRICT``: the holder must be the
credential's subject, no inline contexts), as the verifier's pages apply them by default."""


@dataclass(frozen=True)
class ShareAnswer:
    """What the public link answers: a presentation (JSON), the page data, or gone."""

    outcome: str
    url: str
    presentation: dict[str, Any] | None = None
    credentials: tuple[dict[str, Any], ...] = ()
    expires_at: str | None = None
    report: VerificationReport | None = None
    """For the page: the presentation's own report, as a verifier would make it."""
    credential_reports: tuple[VerificationReport, ...] = ()
    documents: tuple[dict[str, Any], ...] = ()
    """The credentials as shown (selective disclosure applied), one per report."""
    views_left: int | None = None
    """For a peek: how many more times the link may be opened (None: no limit)."""

    @property
    def gone(self) -> bool:
        return self.outcome != SERVED


def classify(user_agent: str, wants_json: bool) -> tuple[str, bool]:
    """(client, verifier_checked) for the access log.

    The microcred verifier fetches share links through ``SafeFetcher``, whose User-Agent
    starts with ``microcred/``: that is a verifier check for certain. Any other client that
    asks for JSON has retrieved the signed presentation, which is what a verifier needs, so
    it counts as a (third-party) verifier check too; a browser getting the page is a person
    looking, not a check.
    """
    if user_agent.startswith(MICROCRED_AGENT):
        return "microcred-verifier", True
    if wants_json:
        return "software", True
    return "browser", False


class ShareService:
    def __init__(
        self,
        db: Database,
        store: CredentialStore,
        keys: HolderKeys,
        *,
        clock: Clock,
        public_url: str,
        default_seconds: int,
        max_seconds: int,
        max_views: int,
        checker: CredentialChecker | None = None,
        proof_seconds: int = PROOF_SECONDS,
    ) -> None:
        self.checker = checker
        self.proof_seconds = proof_seconds
        self.db = db
        self.store = store
        self.keys = keys
        self.clock = clock
        self.public_url = public_url.rstrip("/")
        self.default_seconds = default_seconds
        self.max_seconds = max_seconds
        self.max_views = max_views

    def url_for(self, token: str) -> str:
        """The public URL of a share link with ``token`` (the token is the capability)."""
        return f"{self.public_url}/s/{token}"

    # -- the learner's side ------------------------------------------------------------

    def create(
        self,
        learner: Learner,
        credential_ids: list[str],
        *,
        expires_in: int | None,
        max_views: int | None,
        label: str | None = None,
        disclose: dict[str, list[str]] | None = None,
    ) -> dict[str, Any]:
        """``disclose`` (credential id → field keys) is what the learner ticked for each
        selectively disclosable credential; what she did not tick is withheld."""
        if not credential_ids or len(credential_ids) > MAX_CREDENTIALS:
            raise Invalid(
                "invalid_share", f"credentialIds must name 1 to {MAX_CREDENTIALS} credentials"
            )
        if len(set(credential_ids)) != len(credential_ids):
            raise Invalid("invalid_share", "credentialIds must not repeat a credential")
        seconds = self.default_seconds if expires_in is None else expires_in
        if not 60 <= seconds <= self.max_seconds:
            raise Invalid(
                "invalid_expiry", f"expiresIn must be from 60 to {self.max_seconds} seconds"
            )
        if max_views is not None and not 1 <= max_views <= self.max_views:
            raise Invalid("invalid_max_views", f"maxViews must be from 1 to {self.max_views}")
        rows = self.store.rows(learner.id, credential_ids)  # 404 unless all are the learner's
        if any(isinstance(row.document, str) for row in rows):
            raise Invalid(
                "unsupported_format",
                "an SD-JWT VC is not shared by link: it goes to a verifier that asks for it "
                "(OpenID4VP), with the details you choose",
            )
        chosen = _disclosure_choice(rows, disclose)
        share_id = str(uuid.uuid4())
        token = new_token(nbytes=32)
        now = self.clock()
        share = Share(
            id=share_id,
            learner_id=learner.id,
            token_hash=token_hash(token),
            token_wrapped=self.keys.wrap_token(token, share_id),
            challenge=new_token(nbytes=24),
            credential_ids=list(credential_ids),
            label=(label or "").strip()[:200] or None,
            created_at=now,
            expires_at=now + timedelta(seconds=seconds),
            max_views=max_views,
            disclosure=chosen,
        )
        with self.db.session() as session:
            session.add(share)
        url = self.url_for(token)
        out = self._public(share, url)
        out.update({"qrPng": qr_png_data_uri(url), "qrSvg": qr_svg(url)})
        return out

    def list(self, learner: Learner) -> list[dict[str, Any]]:
        """The learner's share links, newest first, each with its number of accesses."""
        with self.db.session() as session:
            shares = session.exec(
                select(Share)
                .where(Share.learner_id == learner.id)
                .order_by(col(Share.created_at).desc(), col(Share.id))
            ).all()
            counts = self._access_counts(session, learner.id)
        out = []
        for share in shares:
            item = self._public(share, self._url_of(share))
            item["accessCount"] = counts.get(share.id, 0)
            out.append(item)
        return out

    def get(self, learner: Learner, share_id: str, *, with_qr: bool = False) -> dict[str, Any]:
        """One of the learner's share links (with its QR code while active, on request).

        Raises ``NotFound`` (``share_not_found``) for a share of no or another learner.
        """
        share = self._own(learner.id, share_id)
        url = self._url_of(share)
        out = self._public(share, url)
        if with_qr and url and out["state"] == "active":
            out.update({"qrPng": qr_png_data_uri(url), "qrSvg": qr_svg(url)})
        return out

    def revoke(self, learner: Learner, share_id: str) -> None:
        """Revoke the learner's share link (idempotent): the link answers 'gone' from now on.

        Raises ``NotFound`` (``share_not_found``) for a share of no or another learner.
        """
        with self.db.session() as session:
            share = session.get(Share, share_id) if len(share_id) <= 36 else None
            if share is None or share.learner_id != learner.id:
                raise NotFound("share_not_found", "no such share")
            if share.revoked_at is None:
                share.revoked_at = self.clock()
                session.add(share)

    def accesses(self, learner: Learner, share_id: str) -> builtins.list[dict[str, Any]]:
        """The access log of one of the learner's share links.

        Raises ``NotFound`` (``share_not_found``) for a share of no or another learner.
        """
        self._own(learner.id, share_id)
        with self.db.session() as session:
            rows = session.exec(
                select(ShareAccess)
                .where(ShareAccess.share_id == share_id)
                .where(ShareAccess.learner_id == learner.id)
                .order_by(col(ShareAccess.accessed_at), col(ShareAccess.id))
            ).all()
        share = self._own(learner.id, share_id)
        disclosed = share.disclosure or {}
        # the share log says which fields went to whom: each access got the share's choice
        return [{**access_dict(row), "disclosed": disclosed} for row in rows]

    # -- the public link ---------------------------------------------------------------

    def peek(self, token: str) -> ShareAnswer | None:
        """Whether the link works, without counting a view or logging an access: what a
        link preview, a mail scanner or a prefetch gets. None when no such share exists."""
        share = self._by_token(token)
        if share is None:
            return None
        state = _state(share, self.clock())
        left = None if share.max_views is None else max(0, share.max_views - share.views)
        return ShareAnswer(
            SERVED if state == "active" else state,
            self.url_for(token),
            expires_at=iso(share.expires_at),
            views_left=left,
        )

    def open(self, token: str, *, wants_json: bool, user_agent: str) -> ShareAnswer | None:
        """Serve the link (or say it is gone) and count the view; None when no such share
        exists (404). ``wants_json``: the signed presentation; otherwise the page's data:
        the same presentation, verified here with the core's verifier."""
        share = self._by_token(token)
        if share is None:
            return None
        url = self.url_for(token)
        now = self.clock()
        outcome = self._count_view(share, now)
        client, checked = classify(user_agent, wants_json)
        answer = ShareAnswer(outcome, url, expires_at=iso(share.expires_at))
        if outcome == SERVED:
            rows = self.store.rows(share.learner_id, share.credential_ids)
            choice = share.disclosure or {}
            originals = [_linked_document(row.document) for row in rows]
            documents = [
                disclosing.shown(original, choice.get(row.id, []))
                for original, row in zip(originals, rows, strict=True)
            ]
            with self.db.session() as session:
                learner = session.get(Learner, share.learner_id)
            assert learner is not None
            presentation = create_presentation(
                documents,
                self.keys.key_for(learner),
                challenge=share.challenge,
                domain=url,
                presentation_id=f"urn:uuid:{uuid.uuid4()}",
                created=now,
                expires=now + timedelta(seconds=self.proof_seconds),
            )
            if wants_json:
                answer = ShareAnswer(outcome, url, presentation, expires_at=answer.expires_at)
            else:
                report, reports = self._verify(presentation, share.challenge, url)
                items = tuple(
                    disclosing.summary(original, choice.get(row.id, []))
                    for original, row in zip(originals, rows, strict=True)
                )
                answer = ShareAnswer(
                    outcome,
                    url,
                    None,
                    items,
                    expires_at=answer.expires_at,
                    report=report,
                    credential_reports=tuple(reports),
                    documents=tuple(documents),
                )
        with self.db.session() as session:
            session.add(
                ShareAccess(
                    share_id=share.id,
                    learner_id=share.learner_id,
                    accessed_at=now,
                    outcome=outcome,
                    representation="json" if wants_json else "html",
                    verifier_checked=checked and outcome == SERVED,
                    client=client,
                    user_agent=user_agent[:200] or None,
                )
            )
        return answer

    def _verify(
        self, presentation: dict[str, Any], challenge: str, url: str
    ) -> tuple[VerificationReport, builtins.list[VerificationReport]]:
        """The checks a verifier makes on what this link serves, made here for the page:
        the holder's proof for this URL and challenge, then every credential (status fetched
        now, trust = this wallet's known issuers). Without a checker nothing is vouched for."""
        if self.checker is None:
            report = VerificationReport()
            report.add(Check.warning("trust", "unknown_issuer", "no verifier configured"))
            return report, []
        checker = self.checker
        # the status is asked of the issuer now, not of the list cache: a credential revoked
        # after the learner shared it must read as revoked on the next view
        fresh = replace(
            checker.verifier,
            status_checker=lambda credential, _now: checker.status(credential, fresh=True),
        )
        return fresh.verify_presentation(
            presentation,
            challenge=challenge,
            domain=url,
            now=self.clock(),
            policies=PAGE_POLICIES,  # what the verifier's pages apply, so the verdicts agree
        )

    def _by_token(self, token: str) -> Share | None:
        if not token or len(token) > 100:
            return None
        with self.db.session() as session:
            found: Share | None = session.exec(
                select(Share).where(Share.token_hash == token_hash(token))
            ).first()
        return found

    def _count_view(self, share: Share, now: Any) -> str:
        state = _state(share, now)
        if state != "active":
            return state
        statement = (
            update(Share)
            .where(col(Share.id) == share.id)
            .where(col(Share.revoked_at).is_(None))
            .where(col(Share.expires_at) > now)
            .where((col(Share.max_views).is_(None)) | (col(Share.views) < col(Share.max_views)))
            .values(views=col(Share.views) + 1)
        )
        with self.db.session() as session:
            won = rowcount(session.execute(statement)) == 1
            fresh = session.get(Share, share.id)
        if won:
            return SERVED
        return _state(fresh, now) if fresh is not None else REVOKED

    # -- helpers -----------------------------------------------------------------------

    def _own(self, learner_id: str, share_id: str) -> Share:
        with self.db.session() as session:
            share = session.get(Share, share_id) if len(share_id) <= 36 else None
        if share is None or share.learner_id != learner_id:
            raise NotFound("share_not_found", "no such share")
        return share

    def _url_of(self, share: Share) -> str | None:
        if share.token_wrapped is None:
            return None
        return self.url_for(self.keys.unwrap_token(share.token_wrapped, share.id))

    def _public(self, share: Share, url: str | None) -> dict[str, Any]:
        return {
            "id": share.id,
            "url": url,
            "credentialIds": list(share.credential_ids),
            "label": share.label,
            "createdAt": iso(share.created_at),
            "expiresAt": iso(share.expires_at),
            "maxViews": share.max_views,
            "views": share.views,
            "revokedAt": iso(share.revoked_at),
            "state": _state(share, self.clock()),
            "disclosure": share.disclosure or {},
        }

    @staticmethod
    def _access_counts(session: Any, learner_id: str) -> dict[str, int]:
        rows = session.exec(
            select(ShareAccess.share_id).where(ShareAccess.learner_id == learner_id)
        ).all()
        counts: dict[str, int] = {}
        for share_id in rows:
            counts[share_id] = counts.get(share_id, 0) + 1
        return counts


def _linked_document(document: dict[str, Any] | str) -> dict[str, Any]:
    """A shared credential's JSON document: a link is never made for a string format
    (SD-JWT VC), see :meth:`ShareService.create`."""
    if isinstance(document, str):
        raise TypeError("a share link holds a credential stored as a string")
    return document


def _state(share: Share, now: Any) -> str:
    """active, revoked, expired or exhausted (used up)."""
    if share.revoked_at is not None:
        return REVOKED
    expires = aware(share.expires_at)
    if expires is not None and expires <= now:
        return EXPIRED
    if share.max_views is not None and share.views >= share.max_views:
        return EXHAUSTED
    return "active"


def access_dict(row: ShareAccess) -> dict[str, Any]:
    return {
        "at": iso(row.accessed_at),
        "outcome": row.outcome,
        "representation": row.representation,
        "verifierChecked": row.verifier_checked,
        "client": row.client,
        "userAgent": row.user_agent,
    }


def _disclosure_choice(
    rows: list[Any], disclose: dict[str, list[str]] | None
) -> dict[str, list[str]] | None:
    """The learner's ticks per selectively disclosable credential (issue 18); a credential
    with another proof is shared whole and may not be named."""
    disclose = disclose or {}
    by_id = {row.id: row for row in rows}
    stray = [cid for cid in disclose if cid not in by_id]
    if stray:
        raise Invalid("invalid_disclosure", "disclose names credentials not in the share")
    chosen: dict[str, list[str]] = {}
    for row in rows:
        if disclosing.fields_for(row.document):
            chosen[row.id] = disclosing.validated(row.document, disclose.get(row.id))
        elif row.id in disclose:
            raise Invalid(
                "not_selectively_disclosable",
                "this credential's proof cannot leave fields out: it is shared whole",
            )
    return chosen or None
