"""The low-level pieces that read attacker-controlled text: multibase values, keys, DIDs,
compact JWS (OpenID4VCI key proofs), wrapped secrets, status lists and the answers of
status list servers. Each refuses with a ``MicrocredError`` and a code, and quickly.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials import multibase
from credentials.dids import DidResolver, did_key_document, did_web_url
from credentials.errors import (
    DidResolutionError,
    FetchError,
    InvalidProof,
    KeyFormatError,
    MicrocredError,
)
from credentials.fetch import FetchResponse, SafeFetcher
from credentials.jose import decode_unverified, sign_jwt, verify_jwt
from credentials.keys import Multikey
from credentials.keystore import Kek, Keystore, KeystoreError
from credentials.status import StatusListCache, check_status
from credentials.status_list import StatusList, status_list_credential
from tests.security.strategies import hostile_json, odd_text
from tests.security.support import (
    NOW,
    STATUS_LIST,
    Counter,
    NetworkGuard,
    World,
    fuzz_settings,
)

pytestmark = pytest.mark.usefixtures("no_network")

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
COUNTS: dict[str, Counter] = {}


def counted(name: str) -> Counter:
    return COUNTS.setdefault(name, Counter(name))


# --------------------------------------------------------------------------- multibase, keys


@fuzz_settings(max_examples=200)
@given(
    value=st.one_of(
        odd_text(80),
        st.text(alphabet=B58, max_size=120).map(lambda s: "z" + s),
        st.binary(max_size=80).map(lambda b: "u" + base64.urlsafe_b64encode(b).decode()),
        st.text(alphabet=B58 + "0OIl+/=-_", max_size=120).map(lambda s: "z" + s),
    )
)
def test_keys_from_text_refuse_clearly(value: str) -> None:
    counted("multibase and Multikey values")()
    for call in (
        multibase.decode,
        Multikey.from_public_multibase,
        lambda v: Multikey.from_dict({"secretKeyMultibase": v}),
        lambda v: Multikey.from_dict({"publicKeyMultibase": v, "controller": v}),
        lambda v: did_key_document("did:key:" + v),
        lambda v: DidResolver().resolve("did:key:" + v),
    ):
        try:
            call(value)
        except MicrocredError as exc:
            assert exc.code


@pytest.mark.parametrize("where", ["proofValue", "did:key"])
def test_a_megabyte_of_base58_is_refused_at_once(ed25519_world: World, where: str) -> None:
    """Base58 decoding is quadratic: a 1 MB proofValue or did:key used to cost minutes."""
    huge = "z" + "2" * 1_000_000
    started = time.process_time()
    with pytest.raises(KeyFormatError):
        multibase.decode(huge)
    document = json.loads(json.dumps(ed25519_world.credential))
    if where == "proofValue":
        document["proof"]["proofValue"] = huge
    else:
        document["proof"]["verificationMethod"] = f"did:key:{huge[:-1]}#x"
    report = ed25519_world.verifier().verify_credential(document, now=NOW)
    assert not report.verified
    assert time.process_time() - started < 2.0


@fuzz_settings(max_examples=150)
@given(
    did=st.one_of(
        odd_text(60).map(lambda s: "did:web:" + s),
        st.lists(odd_text(12), min_size=1, max_size=4).map(lambda p: "did:web:" + ":".join(p)),
        st.sampled_from(
            [
                "did:web:evil.example%2F@good.example",
                "did:web:evil.example%5C@good.example",
                "did:web:good.example%3A443%2F..%2Fadmin",
                "did:web:127.0.0.1%3A8001:institutions:x",
                "did:web:%5B::1%5D",
                "did:web:good.example#@evil.example",
                "did:web:good.example?x=@evil.example",
                "did:web:",
                "did:web::",
                "did:web:good.example:..:..:admin",
                "did:web:good.example:api%3Fecho=",
                "did:web:good.example:x%23",
                "did:web:good.example:a%2F..%2F..%2Fadmin",
                "did:web:good.example:",
                "did:web:[",
            ]
        ),
    )
)
def test_a_did_web_maps_to_its_own_host_or_is_refused(did: str) -> None:
    """The host of the did.json URL is the host the DID names: no injection via escapes."""
    counted("did:web identifiers")()
    try:
        url = did_web_url(did)
    except DidResolutionError:
        return
    host, *rest = did.removeprefix("did:web:").split(":")
    segments = [urllib.parse.unquote(p) for p in rest]
    expected = "/" + "/".join(segments) + "/did.json" if segments else "/.well-known/did.json"
    try:
        parsed = urllib.parse.urlsplit(url)
        exact = (parsed.scheme, parsed.netloc, parsed.path, parsed.query, parsed.fragment) == (
            "https",
            urllib.parse.unquote(host),
            expected,
            "",
            "",
        )
    except ValueError:  # "https://[/…"
        exact = False
    if exact:
        return
    # not a URL of the named host (control characters, brackets): the one outbound door
    # must refuse it before it resolves anything
    guard = NetworkGuard()
    with guard.active(), pytest.raises(FetchError) as refused:
        SafeFetcher().get(url)
    # (or, for a host no DNS name can have, one look-up of that very name, which fails)
    assert refused.value.code == "fetch_invalid_url" or [a.lower() for a in guard.attempts] == [
        f"getaddrinfo({parsed_host(url).lower()!r},)"
    ], (did, url, refused.value, guard.attempts)


def parsed_host(url: str) -> str:
    """The host httpx would look up for ``url`` (percent-encoded, lower case)."""
    import httpx

    return httpx.URL(url).raw_host.decode("ascii")


# --------------------------------------------------------------------------- JOSE


@pytest.fixture(scope="module")
def jwt_world() -> tuple[Multikey, DidResolver, str]:
    key = Multikey.generate("p256")
    token = sign_jwt({"typ": "openid4vci-proof+jwt"}, {"aud": "x", "nonce": "n"}, key)
    return key, DidResolver(), token


@fuzz_settings(max_examples=200)
@given(data=st.data())
def test_compact_jws_from_wallets_refuse_clearly(
    jwt_world: tuple[Multikey, DidResolver, str], data: st.DataObject
) -> None:
    counted("compact JWS key proofs")()
    key, resolver, token = jwt_world
    kind = data.draw(st.sampled_from(["random", "part", "header", "flip"]))
    if kind == "random":
        candidate = data.draw(odd_text(120))
    elif kind == "part":
        parts = token.split(".")
        index = data.draw(st.integers(min_value=0, max_value=2))
        parts[index] = data.draw(odd_text(60))
        candidate = ".".join(parts)
    elif kind == "header":
        header = data.draw(
            st.dictionaries(
                st.sampled_from(["alg", "kid", "jwk", "typ", "crit", "x5u", "jku"]),
                hostile_json(max_leaves=4),
                max_size=4,
            )
        )
        encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
        candidate = encoded + "." + token.split(".", 1)[1]
    else:
        position = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
        replacement = data.draw(st.sampled_from("ABCxyz019-_."))
        candidate = token[:position] + replacement + token[position + 1 :]
    try:
        decode_unverified(candidate)
        _, _, signer = verify_jwt(candidate, resolver)
    except MicrocredError as exc:
        assert exc.code
        return
    assert candidate == token or signer.public_key_multibase == key.public_key_multibase


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256K", None, ""])
def test_jws_algorithms_are_bound_to_the_key(
    jwt_world: tuple[Multikey, DidResolver, str], alg: str | None
) -> None:
    _, resolver, token = jwt_world
    header, claims = decode_unverified(token)
    header["alg"] = alg
    forged = ".".join(
        base64.urlsafe_b64encode(json.dumps(p).encode()).rstrip(b"=").decode()
        for p in (header, claims)
    )
    with pytest.raises(InvalidProof):
        verify_jwt(forged + "." + token.rsplit(".", 1)[1], resolver)
    with pytest.raises(InvalidProof):
        verify_jwt(forged + ".", resolver)


# --------------------------------------------------------------------------- keystore


@pytest.fixture(scope="module")
def keystore() -> Keystore:
    return Keystore([Kek.from_secret(bytes(range(32)), "k1")])


@fuzz_settings(max_examples=200)
@given(secret=st.binary(min_size=1, max_size=64), data=st.data())
def test_wrapped_secrets_are_tamper_evident(
    keystore: Keystore, secret: bytes, data: st.DataObject
) -> None:
    counted("wrapped secrets (tamper, owner swap, garbage)")()
    wrapped = keystore.wrap(secret, "institution:1")
    assert keystore.unwrap(wrapped, "institution:1") == secret
    # another owner's row
    with pytest.raises(KeystoreError):
        keystore.unwrap(wrapped, "institution:2")
    # any changed character of the body
    body_start = wrapped.rindex(".") + 1
    position = data.draw(st.integers(min_value=body_start, max_value=len(wrapped) - 1))
    replacement = data.draw(st.sampled_from("AQgw-_"))
    tampered = wrapped[:position] + replacement + wrapped[position + 1 :]
    if tampered != wrapped:
        # either refused, or the change only touched base64url padding bits
        with contextlib.suppress(KeystoreError):
            keystore.unwrap(tampered, "institution:1")
            assert _same_bits(tampered, wrapped)
    # garbage from a corrupted row or a hostile import: a KeystoreError, not a crash
    garbage = data.draw(
        st.one_of(
            odd_text(60),
            st.just("v1.k1."),
            st.just("v1.k1.AAAA"),
            st.just("v1.k1.!!!!"),
            st.just("v1.k1." + "A" * 17),
        )
    )
    with pytest.raises(KeystoreError):
        keystore.unwrap(garbage, "institution:1")


def _same_bits(a: str, b: str) -> bool:
    """base64url's last character carries padding bits: two spellings, one byte string."""

    def raw(text: str) -> bytes:
        body = text.rsplit(".", 1)[1]
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))

    return raw(a) == raw(b)


def test_rewrap_moves_every_secret_to_the_new_kek(keystore: Keystore) -> None:
    old = keystore.wrap(b"s" * 32, "owner")
    rotated = Keystore([Kek.from_secret(bytes(32), "k2"), *keystore.keks.values()])
    assert rotated.needs_rewrap(old)
    new = rotated.rewrap(old, "owner")
    assert not rotated.needs_rewrap(new) and rotated.unwrap(new, "owner") == b"s" * 32
    with pytest.raises(KeystoreError):
        Keystore([Kek.from_secret(bytes(32), "k2")]).unwrap(old, "owner")


# --------------------------------------------------------------------------- status lists


class ScriptedFetcher:
    """Answers every status list URL with one hostile response (no network)."""

    def __init__(self, document: Any, headers: dict[str, str]) -> None:
        self.content = json.dumps(document, allow_nan=True).encode("utf-8", "surrogatepass")
        self.headers = headers

    def get_json(self, url: str, *, accept: str = "") -> tuple[Any, FetchResponse]:
        response = FetchResponse(url, 200, self.headers, self.content)
        return response.json(), response


def _list_document(draw: st.DrawFn, issuer: str) -> Any:
    base = status_list_credential(
        STATUS_LIST, issuer, "revocation", StatusList().encode(), valid_from=NOW
    )
    choice = draw(st.sampled_from(["hostile", "field", "subject"]))
    if choice == "hostile":
        return draw(hostile_json())
    target = base if choice == "field" else base["credentialSubject"]
    key = draw(
        st.sampled_from(
            [
                "type",
                "issuer",
                "validFrom",
                "validUntil",
                "statusPurpose",
                "encodedList",
                "ttl",
                "credentialSubject",
                "id",
            ]
        )
    )
    target[key] = draw(hostile_json(max_leaves=6))
    return base


HEADER_VALUES = st.one_of(
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=30),
    st.sampled_from(
        [
            "max-age=-1",
            "max-age=99999999999999999999",
            "no-store",
            "max-age=²",
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "²",
            "٣",
            "1e9",
            "",
        ]
    ),
)


@fuzz_settings(max_examples=200)
@given(
    data=st.data(),
    headers=st.dictionaries(
        st.sampled_from(["cache-control", "age", "expires", "date", "etag"]), HEADER_VALUES
    ),
    trusted=st.booleans(),
)
def test_hostile_status_list_servers_never_make_a_credential_look_revoked(
    ed25519_world: World, data: st.DataObject, headers: dict[str, str], trusted: bool
) -> None:
    """Whatever a status list URL answers, checking never raises, and an untrusted list
    (its proof does not verify) never reads as "revoked" or "suspended"."""
    counted("hostile status list answers")()
    issuer = ed25519_world.credential["issuer"]["id"]
    fetcher = ScriptedFetcher(_list_document(data.draw, issuer), headers)
    cache = StatusListCache(now=lambda: datetime(2026, 1, 15, tzinfo=UTC))
    try:
        checks = check_status(
            ed25519_world.credential,
            fetcher=fetcher,  # type: ignore[arg-type]
            cache=cache,
            verify_list_credential=lambda doc: (trusted, "" if trusted else "no proof"),
            now=NOW,
        )
    except MicrocredError as exc:
        assert exc.code
        return
    assert checks and all(c.id == "status" for c in checks)
    if not trusted:
        assert not {c.code for c in checks} & {"revoked", "suspended"}
