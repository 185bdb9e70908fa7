"""Python side of ``interop/outside.mjs``: two verifier stacks that know nothing of microcred.

``dcc_*`` drives ``@digitalcredentials/verifier-core`` (Learner Credential Wallet,
VerifierPlus); ``db_*`` drives ``@digitalbazaar/vc`` with the stock
``@digitalbazaar/security-document-loader`` plus the Open Badges context package. Both load
only what their npm packages ship, so a credential that verifies here verifies for an
employer who installed the same packages. The process only reaches loopback; refused hosts
are reported by :meth:`OutsideStacks.refused`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from interop.reference import INTEROP_DIR, ReferenceImplementation

OUTSIDE_SCRIPT = INTEROP_DIR / "outside.mjs"

JSON = dict[str, Any]
Suite = Literal["eddsa-rdfc-2022", "Ed25519Signature2020"]


@dataclass
class DccResult:
    """verifier-core's answer, raw, with the views the tests need.

    verifier-core never says "verified": it returns a ``log`` of steps, or ``errors`` when
    the signature could not be checked at all (then there is no log).
    """

    raw: JSON
    steps: dict[str, JSON] = field(init=False)

    def __post_init__(self) -> None:
        self.steps = {entry["id"]: entry for entry in self.raw.get("log") or []}

    @property
    def errors(self) -> list[JSON]:
        return list(self.raw.get("errors") or [])

    @property
    def valid_signature(self) -> bool:
        return self.steps.get("valid_signature", {}).get("valid") is True

    def step(self, step_id: str) -> bool | None:
        """``valid`` of a step; None if the step is absent or ended in an error."""
        entry = self.steps.get(step_id)
        return None if entry is None or "error" in entry else entry.get("valid")

    def reason(self) -> str:
        """The first error as "name: message" (for assertion messages and xfail reasons)."""
        if self.errors:
            return "; ".join(f"{e.get('name')}: {e.get('message')}" for e in self.errors)
        failed = [e for e in self.steps.values() if e.get("valid") is not True]
        return "; ".join(f"{e['id']}: {e.get('error') or e.get('valid')}" for e in failed)


@dataclass
class DbResult:
    """``vc.verifyCredential`` (Digital Bazaar) → verified, error, and per-entry status."""

    verified: bool
    error: str | None
    status: list[JSON]

    def status_of(self, purpose: str) -> bool | None:
        """True when the ``purpose`` bit is clear, False when set, None if not checked."""
        for entry in self.status:
            if entry.get("statusPurpose") == purpose:
                return entry.get("verified") if entry.get("error") is None else None
        return None


class OutsideStacks(ReferenceImplementation):
    """One Node process running ``interop/outside.mjs`` (same protocol as ref.mjs)."""

    script = OUTSIDE_SCRIPT

    # ----------------------------------------------------------- DCC

    def dcc_verify(self, credential: JSON) -> DccResult:
        """``verifyCredential({credential, knownDIDRegistries: []})`` as LCW calls it."""
        return DccResult(self.call("dcc.verify", credential=credential))

    def dcc_verify_presentation(
        self, presentation: JSON, *, challenge: str | None = None, unsigned: bool = False
    ) -> JSON:
        """``verifyPresentation`` → ``{presentationResult, credentialResults}`` raw."""
        return self.call(
            "dcc.verify",
            presentation=presentation,
            challenge=challenge,
            unsignedPresentation=unsigned,
        )

    def dcc_sign(
        self,
        credential: JSON,
        key: JSON,
        suite: Suite = "eddsa-rdfc-2022",
        created: str | None = None,
    ) -> JSON:
        """Sign with DCC's issuing libraries (@digitalcredentials/vc + its suites)."""
        return self.call("dcc.sign", credential=credential, key=key, suite=suite, created=created)

    # ------------------------------------------------------- Digital Bazaar

    def db_verify(self, credential: JSON, *, check_status: bool = True) -> DbResult:
        """``vc.verifyCredential`` with the stock loader; status of every entry checked."""
        result = self.call("db.verify", credential=credential, checkStatus=check_status)
        status = (result.get("status") or {}).get("results") or []
        return DbResult(bool(result["verified"]), result["error"], status)

    def db_verify_presentation(
        self, presentation: JSON, *, challenge: str, domain: str | None = None
    ) -> JSON:
        return self.call(
            "db.verify", presentation=presentation, challenge=challenge, domain=domain
        )

    def db_generate_key(self, key_type: str = "ed25519", controller: str | None = None) -> JSON:
        """A did:key (or ``controller``) key with its secret: ``ed25519`` / ``p256``
        (Multikey) or ``ed25519-2020`` (Ed25519VerificationKey2020)."""
        return self.call("db.generateKey", type=key_type, controller=controller)

    def db_sign(self, credential: JSON, key: JSON, created: str | None = None) -> JSON:
        """``vc.issue``: the key type picks eddsa-rdfc-2022, ecdsa-rdfc-2019 or
        Ed25519Signature2020 (adds ``issuanceDate`` to a VCDM 1.1 credential)."""
        return self.call("db.sign", credential=credential, key=key, created=created)

    def db_present(
        self, key: JSON, *, challenge: str, credentials: list[JSON], domain: str | None = None
    ) -> JSON:
        return self.call(
            "db.present", key=key, challenge=challenge, credentials=credentials, domain=domain
        )

    # ----------------------------------------------------------- process

    def refused(self) -> list[str]:
        """Hosts the loopback guard refused since the last call."""
        return list(self.call("refused"))

    def reset(self) -> None:
        """Forget Digital Bazaar's cached DID documents."""
        self.call("reset")
