"""The verifier's identity: a did:web, its DID document, and the key that signs requests.

Why a DID: OpenID4VP 1.0 (§5.9) lets a verifier be identified by a
``decentralized_identifier:<DID>`` client identifier, and then the request object MUST be
a JWT signed by a key in that DID's document, named by ``kid`` = a DID URL. That is the
client identifier prefix other wallets can check without a PKI or a federation: the
OpenWallet Foundation's ``@openid4vc/openid4vp`` resolves the DID and verifies the JWT,
and so does microcred's own wallet. ``redirect_uri:`` stays for requests by value (it
cannot be signed); ``x509_san_dns:`` would need a certificate chain the verifier does not
have.

The DID is ``did:web`` of the public URL, so the document is served by the verifier itself
(``/.well-known/did.json``, or ``<path>/did.json`` behind a path). The key is created on
first use and stored wrapped under the KEK (``credentials.keystore``), as issuers' keys are;
the KEK is read only when the key is first needed, so a verifier that never signs a
request does not need one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from credentials import (
    DID_CONTEXT,
    MULTIKEY_CONTEXT,
    Keystore,
    KeystoreError,
    Multikey,
    did_web_from_url,
    sign_request_object,
)
from servicekit.db import Database
from servicekit.errors import Busy

from ..models import VerifierKey
from .clock import Clock, utc

GENERATION = 1
ALGORITHM = "Ed25519"


def _aad(did: str, generation: int) -> str:
    return f"microcred/verifier-key\x00{did}\x00{generation}"


class VerifierIdentity:
    """The verifier's did:web and signing key; thread-safe, the key loaded once."""

    def __init__(
        self,
        db: Database,
        *,
        public_url: str,
        keystore: Callable[[], Keystore],
        clock: Clock,
    ) -> None:
        self.db = db
        self.did = did_web_from_url(public_url)
        self.client_id = f"decentralized_identifier:{self.did}"
        self._keystore = keystore
        self._clock = clock
        self._key: Multikey | None = None
        self._lock = threading.Lock()

    @property
    def key_id(self) -> str:
        return f"{self.did}#key-{GENERATION}"

    def key(self) -> Multikey:
        """The signing key, created and stored (wrapped) the first time it is needed."""
        with self._lock:
            if self._key is None:
                self._key = self._load_or_create()
            return self._key

    def _store(self) -> Keystore:
        try:
            return self._keystore()
        except (KeystoreError, OSError, ValueError) as exc:
            raise Busy(
                "verifier_key_unavailable",
                f"the verifier cannot sign request objects: {exc}",
            ) from None

    def _load_or_create(self) -> Multikey:
        with self.db.session() as session:
            row = session.get(VerifierKey, GENERATION)
        if row is None:
            fresh = Multikey.generate(ALGORITHM)
            candidate = VerifierKey(
                generation=GENERATION,
                algorithm=ALGORITHM,
                public_key_multibase=fresh.public_key_multibase,
                wrapped_secret=self._store().wrap(fresh.secret_bytes(), _aad(self.did, GENERATION)),
                created_at=utc(self._clock()),
            )
            try:
                with self.db.session() as session:
                    session.add(candidate)
            except IntegrityError:
                pass  # another instance stored its key first: use that one
            with self.db.session() as session:
                row = session.get(VerifierKey, GENERATION)
            assert row is not None
        store = self._store()
        aad = _aad(self.did, row.generation)
        try:
            secret = store.unwrap(row.wrapped_secret, aad)
        except KeystoreError as exc:
            raise Busy(
                "verifier_key_unavailable", f"the verifier's key cannot be used: {exc}"
            ) from None
        if store.needs_rewrap(row.wrapped_secret):
            # KEK rotation (docs/deployment.md): re-wrap under the current KEK on first use,
            # so that the old KEK can be dropped once every service has started with the new
            with self.db.session() as session:
                stored = session.get(VerifierKey, row.generation)
                if stored is not None and stored.wrapped_secret == row.wrapped_secret:
                    stored.wrapped_secret = store.wrap(secret, aad)
        key = Multikey.from_secret_bytes(row.algorithm, secret, controller=self.did, id=self.key_id)
        if key.public_key_multibase != row.public_key_multibase:
            raise Busy("verifier_key_unavailable", "the stored verifier key is inconsistent")
        return key

    def did_document(self) -> dict[str, Any]:
        """The did:web document wallets resolve to check a signed request object."""
        method = self.key().to_public_dict()
        return {
            "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
            "id": self.did,
            "verificationMethod": [method],
            "authentication": [method["id"]],
            "assertionMethod": [method["id"]],
        }

    def sign_request_object(self, claims: dict[str, Any]) -> str:
        """A JAR request object (RFC 9101): ``typ`` ``oauth-authz-req+jwt``, ``kid`` a DID URL."""
        return sign_request_object(claims, self.key())
