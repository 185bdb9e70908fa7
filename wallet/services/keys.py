"""The learner's holder key: did:key (Ed25519), created at registration, encrypted at rest.

Credentials are bound to this DID by the issuer (OpenID4VCI proof of possession) and every
presentation is signed with it, so it never leaves the wallet: it is wrapped with AES-GCM
under the key-encryption key, with the learner id as associated data so that a wrapped key
copied into another learner's row does not decrypt. An export never contains it.
"""

from __future__ import annotations

from credentials.keys import Multikey
from credentials.keystore import Keystore

from ..models import Learner


def _aad(learner_id: str) -> str:
    return f"microcred-wallet:holder-key:{learner_id}"


class HolderKeys:
    def __init__(self, keystore: Keystore) -> None:
        self.keystore = keystore

    def create(self, learner_id: str) -> tuple[str, str]:
        """A new Ed25519 key for ``learner_id``: (its did:key, the wrapped secret)."""
        key = Multikey.generate("Ed25519")
        return key.controller, self.keystore.wrap(key.secret_bytes(), _aad(learner_id))

    def key_for(self, learner: Learner) -> Multikey:
        """The learner's key pair, unwrapped for one signing operation."""
        secret = self.keystore.unwrap(learner.wrapped_key, _aad(learner.id))
        return Multikey.from_secret_bytes("Ed25519", secret)

    def wrap_token(self, token: str, owner: str) -> str:
        """Wrap a share token so only the wallet (for its owner) can show the link again."""
        return self.keystore.wrap(token.encode(), f"microcred-wallet:share:{owner}")

    def unwrap_token(self, wrapped: str, owner: str) -> str:
        return self.keystore.unwrap(wrapped, f"microcred-wallet:share:{owner}").decode()
