"""Shared machinery of the security tests: the hypothesis profiles, the network guard,
signed sample worlds and the case counter behind docs/security.md's results table.

Why profiles and not ``settings.load_profile``: loading a profile changes hypothesis for the
whole test session, including other packages' property tests. These tests take their
settings from :func:`fuzz_settings` instead, so the CI profile (deterministic: derandomised,
no example database, bounded example counts) applies here and nowhere else. Set
``MICROCRED_FUZZ=deep`` for a long, randomised local run (20x the examples).
"""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from credentials.dids import DidResolver
from credentials.keys import Multikey
from credentials.microcredential import Learner
from credentials.profile import profile_checks, summarize
from credentials.proofs import sign
from credentials.status_list import status_entry
from credentials.verify import Verifier, create_presentation
from microcred.samples import HBO, sample_credential

# --------------------------------------------------------------------------- hypothesis

_COMMON = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}
settings.register_profile(
    "microcred-security-ci", derandomize=True, database=None, print_blob=True, **_COMMON
)
settings.register_profile("microcred-security-deep", derandomize=False, **_COMMON)

DEEP = os.environ.get("MICROCRED_FUZZ", "").lower() == "deep"


def fuzz_settings(max_examples: int) -> settings:
    """Settings for one property: the CI profile (deterministic) unless MICROCRED_FUZZ=deep."""
    if DEEP:
        return settings(
            settings.get_profile("microcred-security-deep"), max_examples=max_examples * 20
        )
    return settings(settings.get_profile("microcred-security-ci"), max_examples=max_examples)


# --------------------------------------------------------------------------- results


def record(test: str, cases: int, **extra: Any) -> None:
    """Append one result line for docs/security.md when MICROCRED_SECURITY_RESULTS names a file.

    A file, not pytest's terminal summary, because under xdist the counts live in workers.
    """
    target = os.environ.get("MICROCRED_SECURITY_RESULTS")
    if not target:
        return
    line = json.dumps({"test": test, "cases": cases, **extra}, sort_keys=True)
    with Path(target).open("a", encoding="utf-8") as out:
        out.write(line + "\n")


COUNTERS: list[Counter] = []


class Counter:
    """Counts hypothesis examples actually run (hypothesis does not report them).

    Every counter registers itself; the conftest writes the non-zero ones at the end of the
    session (of each xdist worker), which is where the counts are complete.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.n = 0
        self._lock = threading.Lock()
        COUNTERS.append(self)

    def __call__(self) -> None:
        with self._lock:
            self.n += 1


# --------------------------------------------------------------------------- network guard


@dataclass
class NetworkGuard:
    """Turns every attempt to resolve a name or open a connection into a recorded failure.

    Patched at the ``socket`` module, below httpx, urllib and pyld's own loader (which would
    use ``requests``), so nothing can reach the network around it.
    """

    attempts: list[str] = field(default_factory=list)
    allow: frozenset[str] = frozenset()
    """Hosts let through (the test PostgreSQL on loopback); everything else is refused."""

    @contextmanager
    def active(self) -> Iterator[NetworkGuard]:
        saved = (
            socket.getaddrinfo,
            socket.create_connection,
            socket.socket.connect,
            socket.socket.connect_ex,
        )

        names = ("getaddrinfo", "create_connection", "connect", "connect_ex")
        originals = dict(zip(names, saved, strict=True))

        def refuse(what: str) -> Any:
            def refused(*args: Any, **kwargs: Any) -> Any:
                shown = [a for a in args if not isinstance(a, socket.socket)][:1]
                target = shown[0] if shown else None
                host = target[0] if isinstance(target, tuple) and target else target
                if isinstance(host, str) and host in self.allow:
                    return originals[what](*args, **kwargs)
                self.attempts.append(f"{what}{tuple(shown)!r}")
                raise OSError(f"network access attempted during a security test: {what}")

            return refused

        socket.getaddrinfo = refuse("getaddrinfo")  # type: ignore[assignment]
        socket.create_connection = refuse("create_connection")  # type: ignore[assignment]
        socket.socket.connect = refuse("connect")  # type: ignore[method-assign]
        socket.socket.connect_ex = refuse("connect_ex")  # type: ignore[method-assign]
        try:
            yield self
        finally:
            (
                socket.getaddrinfo,
                socket.create_connection,
                socket.socket.connect,
                socket.socket.connect_ex,
            ) = saved


# --------------------------------------------------------------------------- sample world

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
"""Inside every sample's validity window; verification takes ``now=`` so no test sleeps."""

CHALLENGE = "c-4f1e9a2b7d3c"
DOMAIN = "https://wallet.example/s/8Yx2kQp"
STATUS_LIST = "https://hsrijnland.example/status/1"


def did_document(key: Multikey) -> dict[str, Any]:
    """The did:web document an institution publishes for ``key``."""
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": key.controller,
        "verificationMethod": [key.to_public_dict()],
        "assertionMethod": [key.id],
        "authentication": [key.id],
    }


@dataclass
class World:
    """One institution key, one holder key, a signed credential and a signed presentation."""

    algorithm: str
    issuer_key: Multikey
    holder_key: Multikey
    credential: dict[str, Any]
    presentation: dict[str, Any]

    def verifier(self) -> Verifier:
        """A verifier that knows the issuer's DID document and has no network at all."""
        resolver = DidResolver(overrides={HBO.id: did_document(self.issuer_key)})
        return Verifier(resolver=resolver, profile_checker=profile_checks, summarizer=summarize)


def unsigned_credential(holder: Multikey) -> dict[str, Any]:
    """The sample microcredential for ``holder`` with revocation and suspension entries,
    as the issuer service hands it to ``sign``."""
    credential = sample_credential(
        learner=Learner(did=holder.controller, identity="jan.jansen@example.nl", salt="a1b2c3d4"),
        valid_until=datetime(2030, 6, 30, 12, 0, tzinfo=UTC),
    )
    credential["credentialStatus"] = [
        status_entry(STATUS_LIST, 94567, "revocation"),
        status_entry(STATUS_LIST + "s", 23451, "suspension"),
    ]
    return credential


def make_world(algorithm: str, holder_algorithm: str = "ed25519") -> World:
    issuer_key = Multikey.generate(algorithm, controller=HBO.id)
    holder_key = Multikey.generate(holder_algorithm)
    credential = sign(unsigned_credential(holder_key), issuer_key, created="2025-06-30T12:00:00Z")
    presentation = create_presentation(
        [credential],
        holder_key,
        challenge=CHALLENGE,
        domain=DOMAIN,
        presentation_id="urn:uuid:2f0c5a70-8e0b-4f4e-9f57-8f1f7a1d9e10",
        created="2026-01-15T11:59:00Z",
    )
    return World(algorithm, issuer_key, holder_key, credential, presentation)
