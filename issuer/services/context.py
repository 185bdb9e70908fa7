"""The issuer's runtime: settings, database, key store, clock and the signing pool.

One ``IssuerContext`` per process (the app keeps it in ``app.state``; the CLI builds its
own). It holds nothing that matters for correctness across instances — only caches of
decrypted signing keys (keyed by institution and key generation, so a rotation by another
instance is seen at the next issuance) and, lazily, the process pool that signs batches.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from multiprocessing.context import BaseContext

from credentials import DidResolver, FetchPolicy, Keystore, Multikey, SafeFetcher
from servicekit.db import Database

from ..config import Settings
from .clock import Clock, system_clock

SIGNING_MODULE = "issuer.services.compose"
"""What batch worker processes run (``compose.sign_jobs``); preloaded by the forkserver."""


class IssuerContext:
    def __init__(
        self,
        settings: Settings,
        *,
        keystore: Keystore | None = None,
        clock: Clock | None = None,
        database: Database | None = None,
        holder_resolver: DidResolver | None = None,
    ) -> None:
        self.settings = settings
        self.db = database or Database(settings.database_url)
        # No KEK, no service: failing at start beats failing at the first signature.
        self.keystore = keystore or Keystore.from_environment(
            data_dir=settings.data_dir, dev=settings.dev
        )
        self.clock: Clock = clock or system_clock
        # Wallet keys in OpenID4VCI proofs: did:key offline, did:web over the safe fetcher.
        self.holder_resolver = holder_resolver or DidResolver(
            SafeFetcher(FetchPolicy(allow_insecure=settings.dev))
        )
        self._keys: dict[tuple[str, int], Multikey] = {}
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def now(self) -> datetime:
        return self.clock()

    # -- decrypted signing keys -----------------------------------------------------------

    def cached_key(self, institution_id: str, generation: int) -> Multikey | None:
        with self._lock:
            return self._keys.get((institution_id, generation))

    def cache_key(self, institution_id: str, generation: int, key: Multikey) -> None:
        with self._lock:
            self._keys[(institution_id, generation)] = key

    def forget_keys(self, institution_id: str) -> None:
        with self._lock:
            for entry in [k for k in self._keys if k[0] == institution_id]:
                del self._keys[entry]

    # -- the batch signing pool -----------------------------------------------------------

    def signing_pool(self) -> ProcessPoolExecutor | None:
        """Worker processes for batch signing (None: sign in this process).

        Never plain ``fork``: the server process has threads (uvicorn, the database pool)
        and forking those is how locks end up held forever in the child. ``forkserver``
        (where available) forks workers from a clean single-threaded process that has
        the signing code preloaded, which starts them much faster than ``spawn``.
        """
        workers = self.settings.workers
        if workers <= 0:
            return None
        with self._lock:
            if self._pool is None:
                context: BaseContext
                if "forkserver" in multiprocessing.get_all_start_methods():
                    forkserver = multiprocessing.get_context("forkserver")
                    forkserver.set_forkserver_preload([SIGNING_MODULE])
                    context = forkserver
                else:
                    context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
            return self._pool

    def discard_pool(self) -> None:
        """Forget a broken pool (its workers are gone); the next batch starts a new one."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            self._keys.clear()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        self.db.dispose()
