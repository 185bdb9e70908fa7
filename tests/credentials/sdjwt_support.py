"""An in-process SD-JWT VC issuer for the core, tamper and interop tests.

It publishes what a real issuer publishes (JWT VC issuer metadata, a signed Token Status
List) as plain dicts/strings that the verifier's fetch callables read, so the tests run the
real key resolution and status path without a network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from credentials.errors import FetchError
from credentials.keys import Multikey
from credentials.sdjwt import jose, vc
from credentials.sdjwt.status import TokenStatusList, sign_status_list, status_reference
from microcred.samples import sample_credential

ISS = "https://issuer.example.nl/hbo"
STATUS_URI = "https://issuer.example.nl/hbo/status/token-list/1"
AUDIENCE = "https://verifier.example.nl"


@dataclass
class SdJwtIssuer:
    algorithm: str = "P-256"
    iss: str = ISS
    status_uri: str = STATUS_URI
    key: Multikey = field(init=False)
    kid: str = "key-1"
    statuses: TokenStatusList = field(default_factory=lambda: TokenStatusList(size=1024))
    documents: dict[str, Any] = field(default_factory=dict)
    next_index: int = 0

    def __post_init__(self) -> None:
        self.key = Multikey.generate(self.algorithm)  # type: ignore[arg-type]
        self.publish()

    @property
    def vct(self) -> str:
        return vc.vct_for(self.iss)

    def publish(self) -> None:
        self.documents[vc.well_known_url(self.iss)] = vc.issuer_metadata(
            self.iss, [(self.kid, self.key)]
        )
        self.documents[self.status_uri] = sign_status_list(
            self.statuses, self.status_uri, self.key, issuer=self.iss, kid=self.kid
        )

    def fetch_json(self, url: str) -> Any:
        if url not in self.documents:
            raise FetchError(f"404 {url}", code="fetch_failed")
        return self.documents[url]

    def fetch_text(self, url: str) -> str:
        return str(self.fetch_json(url))

    def claims(self, **kwargs: Any) -> dict[str, Any]:
        return vc.claims_from_credential(
            sample_credential(**kwargs),
            issuer_url=self.iss,
            vct=self.vct,
            learner={
                "email": "jan.jansen@example.nl",
                "given_name": "Jan",
                "family_name": "Jansen",
            },
        )

    def issue(self, holder: Multikey, **kwargs: Any) -> tuple[str, int]:
        index = self.next_index
        self.next_index += 1
        token = vc.issue_sd_jwt_vc(
            self.claims(**kwargs),
            self.key,
            holder_jwk=jose.jwk_of(holder),
            status=status_reference(self.status_uri, index),
            kid=self.kid,
        )
        return token, index

    def set_status(self, index: int, value: int) -> None:
        self.statuses.set(index, value)
        self.publish()

    def verifier(self, **kwargs: Any) -> vc.SdJwtVcVerifier:
        return vc.SdJwtVcVerifier(
            keys=vc.IssuerKeys(fetch_json=self.fetch_json),
            fetch_status=self.fetch_text,
            known_vcts=[self.vct],
            **kwargs,
        )
