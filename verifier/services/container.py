"""All services of one verifier app, built once from its settings.

Tests and the app factory inject a clock and a fetcher here (the fetcher is the one
outbound door; tests hand in one with a recording transport), so nothing below reaches
for globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from credentials import FetchPolicy, Keystore, SafeFetcher
from servicekit.db import Database

from ..config import Settings
from .admissions import AdmissionService
from .challenges import ChallengeService
from .clock import Clock, system_clock
from .log import PurgeResult, VerificationLog, purge
from .requests import PresentationRequestService
from .shares import ShareVerifier
from .signing import VerifierIdentity
from .trust import TrustRegistryStore
from .vcapi import VcApi
from .verification import VerificationService


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    fetcher: SafeFetcher
    registry: TrustRegistryStore
    log: VerificationLog
    verification: VerificationService
    challenges: ChallengeService
    vcapi: VcApi
    requests: PresentationRequestService
    identity: VerifierIdentity
    shares: ShareVerifier
    admissions: AdmissionService

    def purge(self) -> PurgeResult:
        """Apply the retention settings now (queued log rows are written first); the counts
        removed per table.
        """
        self.log.flush()  # queued rows are written first, so that retention sees them
        return purge(
            self.db,
            now=self.clock(),
            log_retention_days=self.settings.log_retention_days,
            result_retention_hours=self.settings.result_retention_hours,
        )


def build_services(
    settings: Settings,
    db: Database,
    *,
    clock: Clock | None = None,
    fetcher: SafeFetcher | None = None,
    keystore: Keystore | None = None,
) -> Services:
    """Every verifier service over ``settings`` and ``db``; ``clock``, ``fetcher`` and
    ``keystore`` are for tests (without a keystore the KEK is read when first needed).
    """
    clock = clock or system_clock
    fetcher = fetcher or SafeFetcher(FetchPolicy(allow_insecure=settings.dev))
    registry_path = Path(settings.trust_registry) if settings.trust_registry else None
    registry = TrustRegistryStore(
        registry_path, check_seconds=settings.trust_registry_check_seconds
    )
    log = VerificationLog(db, keep_full=settings.keep_full_log, clock=clock)
    verification = VerificationService(
        registry=registry,
        log=log,
        clock=clock,
        allow_insecure=settings.dev,
        strict_trust=settings.strict_trust,
        clock_skew=settings.clock_skew,
        fetcher=fetcher,
        policies=settings.policies.split(","),
        page_policies=settings.page_policies.split(","),
    )
    challenges = ChallengeService(db, ttl=settings.challenge_ttl, clock=clock)
    vcapi = VcApi(verification, challenges, max_body=settings.max_body)
    stores: list[Keystore] = [keystore] if keystore else []

    def keystore_once() -> Keystore:
        # read the KEK only when the verifier first signs (VerifierIdentity locks around it)
        if not stores:
            stores.append(Keystore.from_environment(data_dir=settings.data_dir, dev=settings.dev))
        return stores[0]

    identity = VerifierIdentity(
        db, public_url=settings.public_url, keystore=keystore_once, clock=clock
    )
    requests = PresentationRequestService(
        db,
        verification,
        public_url=settings.public_url,
        default_ttl=settings.request_ttl,
        max_ttl=settings.max_request_ttl,
        max_body=settings.max_body,
        clock=clock,
        identity=identity,
        result_retention_hours=settings.result_retention_hours,
    )
    shares = ShareVerifier(verification, fetcher, max_bytes=settings.max_body)
    admissions = AdmissionService(vcapi, clock=clock)
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        fetcher=fetcher,
        registry=registry,
        log=log,
        verification=verification,
        challenges=challenges,
        vcapi=vcapi,
        requests=requests,
        identity=identity,
        shares=shares,
        admissions=admissions,
    )
