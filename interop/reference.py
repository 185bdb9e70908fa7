"""Python side of the interop harness: drives the Digital Bazaar reference
implementation (``interop/ref.mjs``) from the test-suite and the benchmarks.

Why a long-running process: starting Node and importing the JSON-LD stack
costs a few hundred milliseconds, far more than one signature, so one process
serves many requests over JSON lines (one request line in, one reply line
out; see the header of ``interop/ref.mjs``).

Why an independent implementation at all: a credential that only our own
code can verify proves little; interop tests sign here and verify there, and
the other way round, with the same offline contexts (``contexts/``).
"""

from __future__ import annotations

import collections
import itertools
import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[1]
INTEROP_DIR = REPO_ROOT / "interop"
REF_SCRIPT = INTEROP_DIR / "ref.mjs"
NODE_MODULES = INTEROP_DIR / "node_modules"

KeyType = Literal["ed25519", "p256", "p384"]
BenchKind = Literal["sign", "verify", "sdSign", "sdDerive"]
JSON = dict[str, Any]


class ReferenceImplementationError(RuntimeError):
    """The reference implementation refused a request (``{"ok": false}``).

    Raised for operations that fail as a whole (bad key, undefined JSON-LD
    term in safe mode, unknown URL ...). A credential that merely does not
    verify is not an error: ``verify`` returns ``(False, reason)``.
    """


class ReferenceProcessError(ReferenceImplementationError):
    """The Node process died, hung or spoke something other than the protocol.

    Carries the tail of Node's stderr, because that is where the reason is.
    The next call starts a fresh process.
    """


def node_executable() -> str | None:
    """Path of ``node`` (``$MICROCRED_NODE`` overrides), or None if missing."""
    return shutil.which(os.environ.get("MICROCRED_NODE") or "node")


def available() -> bool:
    """True if the harness can run: node is on PATH and the pinned npm
    packages are installed (``interop/node_modules``, see ensure_installed)."""
    return (
        node_executable() is not None
        and REF_SCRIPT.is_file()
        and (NODE_MODULES / "@digitalbazaar" / "vc").is_dir()
    )


def ensure_installed() -> None:
    """Install the pinned reference packages if ``interop/node_modules`` is
    missing, with ``npm ci`` so the versions are exactly the lock file's.

    Raises ReferenceImplementationError if npm is missing or the install
    fails (e.g. offline); does nothing if the packages are already there.
    """
    if NODE_MODULES.is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ReferenceImplementationError("npm not found; cannot install interop/node_modules")
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=INTEROP_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise ReferenceImplementationError(
            f"npm ci in {INTEROP_DIR} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
        )


class ReferenceImplementation:
    """One Node process running ``interop/ref.mjs``, started on first use.

    Calls are serialised (one request in flight), which matches the
    protocol: replies come back in request order. Use as a context manager or
    call close(); a process left open is killed when the interpreter exits
    because its stdin closes.
    """

    script: Path = REF_SCRIPT
    """The harness this class drives (subclasses drive other ``interop/*.mjs``)."""

    def __init__(
        self,
        *,
        node: str | None = None,
        timeout: float = 120.0,
        env: dict[str, str] | None = None,
    ) -> None:
        """``timeout`` bounds each call (seconds); a hung Node is killed. ``env`` adds
        environment variables for the Node process (e.g. ``NODE_EXTRA_CA_CERTS``)."""
        self._node = node
        self._timeout = timeout
        self._env = env
        self._proc: subprocess.Popen[str] | None = None
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=60)
        self._stderr_reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> ReferenceImplementation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> subprocess.Popen[str]:
        node = self._node or node_executable()
        if node is None:
            raise ReferenceProcessError("node not found on PATH")
        if not NODE_MODULES.is_dir():
            raise ReferenceProcessError(
                f"{NODE_MODULES} missing; run ensure_installed() (npm ci in interop/)"
            )
        try:
            proc = subprocess.Popen(
                [node, str(self.script)],
                cwd=INTEROP_DIR,
                env={**os.environ, **self._env} if self._env else None,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                bufsize=1,
            )
        except OSError as exc:
            raise ReferenceProcessError(f"could not start {node} {self.script}: {exc}") from exc
        # Fresh queue per process, so a late line from a dead one is never
        # taken as the reply to a new request.
        self._replies = queue.Queue()
        self._stderr.clear()
        # Reader threads: stdout for replies (so a read can time out), stderr
        # drained continuously (a full pipe would block Node) and kept for
        # error messages.
        threading.Thread(
            target=_read_replies, args=(proc.stdout, self._replies), daemon=True
        ).start()
        self._stderr_reader = threading.Thread(
            target=_drain, args=(proc.stderr, self._stderr), daemon=True
        )
        self._stderr_reader.start()
        self._proc = proc
        return proc

    def close(self) -> None:
        """Stop the Node process (closing stdin lets it exit cleanly)."""
        with self._lock:
            self._stop()

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.close()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()

    def _died(self, proc: subprocess.Popen[str], what: str) -> ReferenceProcessError:
        try:
            code: int | None = proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        self._proc = None
        if self._stderr_reader is not None:
            self._stderr_reader.join(timeout=1)  # collect Node's last words
        stderr = "".join(self._stderr).strip() or "(no stderr)"
        return ReferenceProcessError(
            f"reference implementation (node {self.script.name}) {what}; "
            f"exit code {code}; stderr:\n{stderr}"
        )

    # ------------------------------------------------------------- protocol

    def call(self, op: str, **fields: Any) -> Any:
        """Send one request and return its ``result``.

        Fields whose value is None are left out, so optional protocol fields
        take their defaults on the Node side. Raises
        ReferenceImplementationError for ``{"ok": false}`` replies and
        ReferenceProcessError if the process is dead or hangs.
        """
        request = {"op": op, **{k: v for k, v in fields.items() if v is not None}}
        with self._lock:
            proc = self._proc if self._proc and self._proc.poll() is None else None
            if proc is None:
                if self._proc is not None:
                    raise self._died(self._proc, "had exited before the request")
                proc = self._start()
            request["id"] = request_id = next(self._ids)
            assert proc.stdin is not None
            try:
                proc.stdin.write(json.dumps(request) + "\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                raise self._died(proc, f"could not take the request ({exc})") from exc
            try:
                line = self._replies.get(timeout=self._timeout)
            except queue.Empty:
                proc.kill()
                raise self._died(proc, f"did not answer {op!r} within {self._timeout}s") from None
            if line is None:
                raise self._died(proc, f"exited while handling {op!r}")
            try:
                reply = json.loads(line)
            except json.JSONDecodeError:
                proc.kill()
                raise self._died(proc, f"wrote a non-JSON line: {line[:200]!r}") from None
            if not isinstance(reply, dict) or reply.get("id") != request_id:
                proc.kill()
                raise self._died(proc, f"answered {line[:200]!r} to request {request_id}")
        if not reply.get("ok"):
            raise ReferenceImplementationError(f"{op}: {reply.get('error')}")
        return reply.get("result")

    # ----------------------------------------------------------- operations

    def info(self) -> JSON:
        """Node version, reference package versions and the loadable
        contexts; worth recording next to benchmark numbers."""
        return self.call("info")

    def generate_key(self, key_type: KeyType, controller: str | None = None) -> JSON:
        """Fresh Multikey (with ``secretKeyMultibase``) generated by the
        reference libraries: Ed25519 (signs eddsa-rdfc-2022) or P-256 (signs
        ecdsa-rdfc-2019). Without ``controller`` it is a did:key key."""
        return self.call("generateKey", type=key_type, controller=controller)

    def sign(
        self,
        credential: JSON,
        key: JSON,
        created: str | None = None,
        *,
        suite: str | None = None,
    ) -> JSON:
        """Issue ``credential`` with ``key`` (Multikey JSON incl.
        ``secretKeyMultibase``), purpose assertionMethod; the key type picks
        the cryptosuite unless ``suite`` names one (``eddsa-jcs-2022``,
        ``ecdsa-jcs-2019``, ``Ed25519Signature2020``, or an rdfc suite).
        ``created`` fixes ``proof.created`` (Ed25519 output is then
        deterministic)."""
        return self.call("sign", credential=credential, key=key, created=created, suite=suite)

    def verify(
        self,
        credential: JSON,
        *,
        check_issuer: bool = True,
        documents: dict[str, JSON] | None = None,
        now: str | None = None,
    ) -> tuple[bool, str | None]:
        """Verify with ``vc.verifyCredential`` → ``(verified, error)``.

        ``check_issuer=False`` only checks that the key is an assertionMethod
        of its controller; by default vc.js also requires the issuer to BE
        that controller (the W3C cryptosuite vectors fail that on purpose:
        https issuer, did:key proof). ``documents`` (url → JSON) serves
        controller documents for non-DID verification methods; ``now``
        overrides the clock for validFrom/validUntil. Status is not checked.
        """
        result = self.call(
            "verify",
            credential=credential,
            checkIssuer=check_issuer,
            documents=documents,
            now=now,
        )
        return bool(result["verified"]), result["error"]

    def present(
        self,
        holder_key: JSON,
        *,
        challenge: str,
        domain: str | None = None,
        credentials: list[JSON] | None = None,
        presentation: JSON | None = None,
        created: str | None = None,
    ) -> JSON:
        """Sign a presentation (purpose authentication, with ``challenge``
        and ``domain``). Pass a ready ``presentation`` or ``credentials`` to
        wrap in a VCDM 2.0 one whose holder is the key's controller."""
        return self.call(
            "present",
            holderKey=holder_key,
            challenge=challenge,
            domain=domain,
            credentials=credentials,
            presentation=presentation,
            created=created,
        )

    def verify_presentation(
        self,
        presentation: JSON,
        *,
        challenge: str,
        domain: str | None = None,
        check_issuer: bool = True,
        documents: dict[str, JSON] | None = None,
        now: str | None = None,
    ) -> tuple[bool, str | None]:
        """Verify a presentation proof and every embedded credential with
        ``vc.verify`` → ``(verified, error)``; the error names the failing
        part ("presentation: ..." / "credential N: ...")."""
        result = self.call(
            "verifyPresentation",
            presentation=presentation,
            challenge=challenge,
            domain=domain,
            checkIssuer=check_issuer,
            documents=documents,
            now=now,
        )
        return bool(result["verified"]), result["error"]

    def canonize(
        self, document: JSON, *, safe: bool = True, documents: dict[str, JSON] | None = None
    ) -> str:
        """RDFC-1.0 canonical N-Quads exactly as the cryptosuites hash them
        (safe mode, so undefined terms raise instead of vanishing)."""
        return self.call("canonize", document=document, safe=safe, documents=documents)

    def sd_sign(
        self,
        credential: JSON,
        key: JSON,
        mandatory_pointers: list[str],
        created: str | None = None,
    ) -> JSON:
        """An ecdsa-sd-2023 base proof by the reference over ``mandatory_pointers``."""
        return self.call(
            "sdSign",
            credential=credential,
            key=key,
            created=created,
            mandatoryPointers=mandatory_pointers,
        )

    def sd_derive(self, credential: JSON, selective_pointers: list[str]) -> JSON:
        """The reference's reveal document (derived proof) over ``selective_pointers``."""
        return self.call("sdDerive", credential=credential, selectivePointers=selective_pointers)

    def bench(
        self,
        kind: BenchKind,
        credentials: list[JSON],
        key: JSON | None = None,
        *,
        created: str | None = None,
        check_issuer: bool = True,
        mandatory_pointers: list[str] | None = None,
        selective_pointers: list[str] | None = None,
    ) -> tuple[int, float]:
        """Sign (needs ``key``) or verify (pre-signed) all ``credentials``
        one after another inside Node → ``(count, seconds)``. Timed with
        process.hrtime around the loop only, so process start and JSON
        transfer are excluded; a verify failure raises. The first call in a
        process includes JIT/context warm-up: run a small batch first."""
        result = self.call(
            "bench",
            kind=kind,
            credentials=credentials,
            key=key,
            created=created,
            checkIssuer=check_issuer,
            mandatoryPointers=mandatory_pointers or [],
            selectivePointers=selective_pointers or [],
        )
        return int(result["count"]), float(result["seconds"])


def _read_replies(stream: Any, replies: queue.Queue[str | None]) -> None:
    """Queue each stdout line; None marks end of stream (process gone)."""
    try:
        for line in stream:
            replies.put(line)
    except (OSError, ValueError):
        pass
    finally:
        replies.put(None)


def _drain(stream: Any, tail: collections.deque[str]) -> None:
    """Keep reading stderr (a full pipe would block Node), keep the tail."""
    try:
        for line in stream:
            tail.append(line)
    except (OSError, ValueError):
        pass
