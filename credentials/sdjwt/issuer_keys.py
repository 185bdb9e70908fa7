"""An SD-JWT VC issuer's keys: from its JWT VC Issuer Metadata, an x5c chain, or its DID.

SD-JWT VC §5 lets the issuer's key be found three ways; ``IssuerKeys`` tries the one the
token's header points at, fetches through the verifier's safe fetcher, caches per issuer,
and refuses a key that does not match the ``iss``. ``credentials.sdjwt.vc`` verifies
the token with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from ..errors import InvalidProof, MicrocredError
from ..keys import Multikey
from . import jose

WELL_KNOWN = "/.well-known/jwt-vc-issuer"


def well_known_url(iss: str) -> str:
    """Where the JWT VC Issuer Metadata of ``iss`` lives (the well-known part goes first)."""
    parts = urlsplit(iss)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{WELL_KNOWN}{path}"


FetchJson = Callable[[str], Any]

FetchText = Callable[[str], str]


@dataclass
class IssuerKeys:
    """Finds the keys an SD-JWT VC's issuer signs with; see the module docstring."""

    fetch_json: FetchJson | None = None
    did_resolver: Any = None
    x5c_anchors: list[x509.Certificate] = field(default_factory=list)

    def keys_for(
        self, header: dict[str, Any], payload: dict[str, Any]
    ) -> tuple[list[Multikey], str]:
        """(candidate keys, how they were found); InvalidProof naming why none were."""
        iss = payload.get("iss")
        if not isinstance(iss, str) or not iss:
            raise InvalidProof("the SD-JWT VC has no iss", code="missing_iss")
        if "x5c" in header:
            return [self._x5c_key(header["x5c"], iss)], "x5c"
        kid = header.get("kid")
        if iss.startswith("did:"):
            return [self._did_key(iss, kid)], "did"
        return self._metadata_keys(iss, kid), "jwt-vc-issuer metadata"

    def _did_key(self, iss: str, kid: Any) -> Multikey:
        if self.did_resolver is None:
            raise InvalidProof("no DID resolver configured", code="key_unresolved")
        if not isinstance(kid, str) or not kid.startswith(iss):
            raise InvalidProof("kid must be a DID URL of the iss DID", code="key_unresolved")
        from ..jose import resolve_jwt_key

        try:
            return resolve_jwt_key(kid, self.did_resolver, "assertionMethod")
        except InvalidProof as exc:
            raise InvalidProof(
                f"the issuer key {kid} did not resolve: {exc.message}", code="key_unresolved"
            ) from None

    def _metadata_keys(self, iss: str, kid: Any) -> list[Multikey]:
        if not iss.startswith("https://") and not iss.startswith("http://"):
            raise InvalidProof("iss is neither an https URL nor a DID", code="key_unresolved")
        if self.fetch_json is None:
            raise InvalidProof("no fetcher for issuer metadata", code="key_unresolved")
        try:
            document = self.fetch_json(well_known_url(iss))
            if not isinstance(document, dict) or document.get("issuer") != iss:
                raise InvalidProof(
                    "the jwt-vc-issuer metadata names another issuer", code="issuer_mismatch"
                )
            jwks = document.get("jwks")
            if jwks is None and isinstance(document.get("jwks_uri"), str):
                jwks = self.fetch_json(document["jwks_uri"])
        except MicrocredError as exc:
            if isinstance(exc, InvalidProof):
                raise
            raise InvalidProof(
                f"issuer metadata unavailable: {exc}", code="key_unresolved"
            ) from None
        entries = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(entries, list):
            raise InvalidProof("the issuer metadata has no jwks", code="key_unresolved")
        chosen = [
            k for k in entries if isinstance(k, dict) and (kid is None or k.get("kid") == kid)
        ]
        keys = []
        for entry in chosen:
            try:
                keys.append(jose.key_from_jwk(entry))
            except MicrocredError:
                continue
        if not keys:
            raise InvalidProof(f"no issuer key {kid!r} in the jwks", code="key_unresolved")
        return keys

    def _x5c_key(self, chain: Any, iss: str) -> Multikey:
        if not self.x5c_anchors:
            raise InvalidProof(
                "x5c is not accepted: no trust anchors are configured", code="x5c_untrusted"
            )
        if not isinstance(chain, list) or not chain or not all(isinstance(c, str) for c in chain):
            raise InvalidProof("x5c must be a list of base64 certificates", code="x5c_invalid")
        import base64

        try:
            certs = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in chain[:5]]
        except ValueError:
            raise InvalidProof("x5c holds an unreadable certificate", code="x5c_invalid") from None
        now = datetime.now(UTC)
        for cert in certs:
            if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                raise InvalidProof("an x5c certificate is outside its validity", code="x5c_expired")
        for child, parent in itertools.pairwise(certs):
            _check_signed(child, parent)
        # trusted when a certificate of the chain is an anchor, or the top one is signed by one
        pinned = {a.fingerprint(_sha256()) for a in self.x5c_anchors}
        trusted = any(c.fingerprint(_sha256()) in pinned for c in certs)
        if not trusted:
            top = certs[-1]
            for anchor in self.x5c_anchors:
                if anchor.subject != top.issuer:
                    continue
                try:
                    _check_signed(top, anchor)
                except InvalidProof:
                    continue  # same name, another key: not this anchor
                trusted = True
                break
        if not trusted:
            raise InvalidProof(
                "the x5c chain does not lead to a trusted anchor", code="x5c_untrusted"
            )
        host = urlsplit(iss).hostname or ""
        try:
            san = certs[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = san.get_values_for_type(x509.DNSName) + san.get_values_for_type(
                x509.UniformResourceIdentifier
            )
        except x509.ExtensionNotFound:
            names = []
        if host not in names and iss not in names:
            raise InvalidProof("the x5c leaf does not name the iss host", code="x5c_iss_mismatch")
        public = certs[0].public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            return Multikey("Ed25519", public, None)
        if isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name in (
            "secp256r1",
            "secp384r1",
        ):
            return Multikey("P-256" if public.curve.name == "secp256r1" else "P-384", public, None)
        raise InvalidProof("the x5c leaf key type is not supported", code="x5c_invalid")


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _check_signed(child: x509.Certificate, parent: x509.Certificate) -> None:
    key = parent.public_key()
    algorithm = child.signature_hash_algorithm  # None only for EdDSA signatures
    try:
        if isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(
                child.signature,
                child.tbs_certificate_bytes,
                ec.ECDSA(algorithm),
            )
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes)
        elif isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(
                child.signature,
                child.tbs_certificate_bytes,
                padding.PKCS1v15(),
                algorithm,
            )
        else:
            raise InvalidProof("unsupported certificate key", code="x5c_invalid")
    except Exception as exc:
        if isinstance(exc, InvalidProof):
            raise
        raise InvalidProof(
            "an x5c certificate signature does not verify", code="x5c_invalid"
        ) from None
