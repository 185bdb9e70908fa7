"""All services of one wallet app, built once from its settings.

Tests and the app factory inject a clock, a fetcher (the one outbound door; tests hand in
one with a mock or loopback transport) and a keystore here, so nothing below reaches for
globals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from credentials import FetchPolicy, Keystore, SafeFetcher
from servicekit.db import Database

from ..config import Settings
from .accounts import AccountService
from .checking import CredentialChecker, KnownIssuers
from .clock import Clock, system_clock
from .keys import HolderKeys
from .openid4vci import Openid4vciClient
from .portability import Portability
from .progress import RouteService
from .receiving import ReceiveService
from .recognition import RecognitionService
from .requests import RequestService
from .shares import ShareService
from .store import CredentialStore


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    fetcher: SafeFetcher
    keys: HolderKeys
    known: KnownIssuers
    checker: CredentialChecker
    accounts: AccountService
    store: CredentialStore
    receive: ReceiveService
    routes: RouteService
    shares: ShareService
    requests: RequestService
    portability: Portability
    recognition: RecognitionService


def build_services(
    settings: Settings,
    db: Database,
    *,
    clock: Clock | None = None,
    fetcher: SafeFetcher | None = None,
    keystore: Keystore | None = None,
) -> Services:
    clock = clock or system_clock
    fetcher = fetcher or SafeFetcher(FetchPolicy(allow_insecure=settings.dev))
    keystore = keystore or Keystore.from_environment(data_dir=settings.data_dir, dev=settings.dev)
    keys = HolderKeys(keystore)
    path = Path(settings.known_issuers_file) if settings.known_issuers_file else None
    known = KnownIssuers.load(path, settings.known_issuers)
    checker = CredentialChecker(
        known=known,
        fetcher=fetcher,
        allow_insecure=settings.dev,
        status_ttl=settings.status_recheck_seconds,
        clock=clock,
    )
    accounts = AccountService(
        db,
        keys,
        clock=clock,
        min_password_length=settings.min_password_length,
        token_ttl=settings.token_ttl,
        session_ttl=settings.session_ttl,
        time_cost=settings.password_time_cost,
        memory_kib=settings.password_memory_kib,
        max_concurrent_hashes=settings.max_concurrent_hashes,
    )
    store = CredentialStore(
        db, checker, clock=clock, recheck_seconds=settings.status_recheck_seconds
    )
    client = Openid4vciClient(fetcher, allow_insecure=settings.dev)
    receive = ReceiveService(db, store, checker, client, keys, clock=clock)
    routes = RouteService(db, store, known, clock=clock)
    requests = RequestService(
        db, store, keys, checker, fetcher, clock=clock, allow_insecure=settings.dev
    )
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        fetcher=fetcher,
        keys=keys,
        known=known,
        checker=checker,
        accounts=accounts,
        store=store,
        receive=receive,
        routes=routes,
        shares=ShareService(
            db,
            store,
            keys,
            clock=clock,
            public_url=settings.public_url,
            default_seconds=settings.default_share_seconds,
            max_seconds=settings.max_share_seconds,
            max_views=settings.max_share_views,
            checker=checker,
        ),
        requests=requests,
        portability=Portability(
            db, store, checker, clock=clock, keys=keys, resolver=checker.verifier.resolver
        ),
        recognition=RecognitionService(
            db, routes, store, requests, receive, fetcher, clock=clock, allow_insecure=settings.dev
        ),
    )
