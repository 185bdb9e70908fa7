"""``@context`` tricks: remote contexts, ``@import``, protected redefinitions, ``@vocab``
injection, scoped redefinitions, ``@base``, ``@propagate``, relative IRIs.

Three angles: an attacker rewriting the context of a *signed* document (must be refused, or
leave the signed meaning byte-identical); a *malicious issuer* signing a credential whose
context makes JSON readers see something other than what is signed (refused under the
``no-inline-contexts`` policy; conforming without it, but then reported with an
``inline_context`` warning — docs/design.md "Inline contexts"); and the loader itself,
which must refuse every context that is not shipped without ever opening a connection —
also with the production verifier, whose ``SafeFetcher`` *could* reach the network.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credentials.canonical import canonicalize
from credentials.documents import DocumentLoader
from credentials.errors import DocumentLoaderError, MicrocredError
from credentials.policies import Policy
from credentials.proofs import sign
from credentials.setup import default_verifier
from microcred.samples import HBO
from tests.security.hostile_contexts import REFUSED_BY_CONTEXT_CHECK, TRICKS
from tests.security.mutations import same_meaning
from tests.security.strategies import hostile_json, odd_text
from tests.security.support import (
    CHALLENGE,
    DOMAIN,
    NOW,
    Counter,
    World,
    did_document,
    fuzz_settings,
    unsigned_credential,
)

pytestmark = pytest.mark.usefixtures("no_network")

TRICK_IDS = [label for label, _ in TRICKS]
BY_LABEL = dict(TRICKS)


def _failed(report: Any) -> set[str]:
    return {c.id.split(".")[-1] for c in report.failed}


@pytest.mark.parametrize("label", TRICK_IDS)
def test_a_context_trick_on_a_signed_credential_is_refused_or_harmless(
    world: World, label: str
) -> None:
    document = BY_LABEL[label](world.credential)
    verifier = world.verifier()
    report = verifier.verify_credential(document, now=NOW)
    if report.verified:
        assert same_meaning(document, world.credential, verifier.loader), report.to_dict()
    if label in REFUSED_BY_CONTEXT_CHECK:
        assert not report.verified
        assert _failed(report) & {"context", "structure"}, report.to_dict()
        failed = report.outcome_of("context")
        assert failed is None or failed.code in {
            "unknown_context",
            "document_not_allowed",
            "inline_context",
            "jsonld_error",
        }


@pytest.mark.parametrize("label", TRICK_IDS)
def test_a_context_trick_on_a_signed_presentation_is_refused_or_harmless(
    world: World, label: str
) -> None:
    document = BY_LABEL[label](world.presentation)
    verifier = world.verifier()
    report, _ = verifier.verify_presentation(document, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    if report.verified:
        assert same_meaning(document, world.presentation, verifier.loader), report.to_dict()
    if label in REFUSED_BY_CONTEXT_CHECK and document != world.presentation:
        assert not report.verified


def _has_inline_context(value: Any) -> bool:
    if isinstance(value, dict):
        contexts = value.get("@context")
        items = contexts if isinstance(contexts, list) else [contexts]
        return any(isinstance(i, dict) for i in items) or any(
            _has_inline_context(v) for v in value.values()
        )
    return isinstance(value, list) and any(_has_inline_context(v) for v in value)


def _visible(value: Any) -> Any:
    """The JSON a reader looks at: everything but the contexts."""
    if isinstance(value, dict):
        return {k: _visible(v) for k, v in value.items() if k != "@context"}
    if isinstance(value, list):
        return [_visible(v) for v in value]
    return value


@pytest.mark.parametrize("label", TRICK_IDS)
def test_a_malicious_issuer_cannot_sign_a_meaning_the_json_does_not_show(
    ed25519_world: World, label: str
) -> None:
    """T-CTX-3. The issuer signs with a tool that allows inline contexts (VCDM 2.0 does).
    Under the ``no-inline-contexts`` policy every such credential is refused as that policy,
    and what verifies shows its meaning in its JSON. Without the policy an inline context
    is conforming and may verify, but never silently: the report warns ``inline_context``."""
    world = ed25519_world
    honest = unsigned_credential(world.holder_key)
    strict = world.verifier()
    strict.policies = frozenset({Policy.NO_INLINE_CONTEXTS})
    honest_meaning = canonicalize(honest, strict.loader)
    tricked = BY_LABEL[label](copy.deepcopy(honest))
    try:
        signed = sign(tricked, world.issuer_key, created="2025-06-30T12:00:00Z", strict=False)
    except MicrocredError:
        return  # not even a permissive signer could sign it (unknown context, bad JSON-LD)
    inline = _has_inline_context(tricked)
    default = world.verifier().verify_credential(signed, now=NOW)
    if inline and default.verified:
        assert ("warning", "inline_context") in {(c.outcome, c.code) for c in default.checks}
    report = strict.verify_credential(signed, now=NOW)
    if inline:
        assert not report.verified
        failed = {(c.id, c.code) for c in report.failed}
        assert ("policy", "policy_inline_context") in failed or _failed(report) == {"structure"}
        return
    if not report.verified:
        return
    meaning = canonicalize(
        {k: v for k, v in signed.items() if k != "proof"}, strict.loader, strict=False
    )
    if _visible(tricked) == _visible(honest):
        assert meaning == honest_meaning, "same JSON, different signed meaning, verified"
    else:
        # a visible change is fine only when every term is defined by the shipped contexts
        shipped_only = {k: v for k, v in signed.items() if k != "proof"}
        shipped_only["@context"] = honest["@context"]
        try:
            canonicalize(shipped_only, strict.loader)
        except MicrocredError as exc:
            pytest.fail(f"verified, but only the inline context defines a term: {exc}")


def test_the_strict_policy_refuses_an_inline_context_on_a_signed_presentation(
    world: World,
) -> None:
    document = BY_LABEL["@vocab appended"](world.presentation)
    verifier = world.verifier()
    verifier.policies = frozenset({Policy.NO_INLINE_CONTEXTS})
    report, _ = verifier.verify_presentation(document, challenge=CHALLENGE, domain=DOMAIN, now=NOW)
    assert [(c.id, c.code) for c in report.failed] == [("policy", "policy_inline_context")]


def test_a_production_verifier_never_fetches_a_context(
    ed25519_world: World, no_network: Any
) -> None:
    """With a real SafeFetcher behind the resolver the network *is* reachable in principle:
    no context trick may use it (status is not checked here; that is a fetch by design)."""
    world = ed25519_world
    verifier = default_verifier()
    verifier.resolver.overrides[HBO.id] = did_document(world.issuer_key)
    for label, trick in TRICKS:
        report = verifier.verify_credential(trick(world.credential), now=NOW, check_status=False)
        assert not no_network.attempts, label
        assert label not in REFUSED_BY_CONTEXT_CHECK or not report.verified


def test_the_guard_sees_what_the_safe_fetcher_would_do(ed25519_world: World) -> None:
    """The guard is not vacuous: an unknown did:web issuer makes the production verifier
    try to resolve a host, and the guard records it."""
    from tests.security.support import NetworkGuard

    document = copy.deepcopy(ed25519_world.credential)
    document["issuer"]["id"] = "did:web:unknown-institution.example"
    document["proof"]["verificationMethod"] = "did:web:unknown-institution.example#key-1"
    guard = NetworkGuard()
    with guard.active():
        report = default_verifier().verify_credential(document, now=NOW, check_status=False)
    assert not report.verified
    assert guard.attempts and "unknown-institution.example" in guard.attempts[0]


URLS = Counter("random context URLs")


@fuzz_settings(max_examples=150)
@given(
    url=st.one_of(
        odd_text(60),
        st.builds(
            lambda scheme, rest: f"{scheme}{rest}",
            st.sampled_from(
                [
                    "https://",
                    "http://",
                    "file://",
                    "ftp://",
                    "data:",
                    "did:web:",
                    "did:key:",
                    "urn:",
                    "//",
                    "",
                    "jar:",
                    "gopher://",
                    "https://www.w3.org/ns/credentials/",
                ]
            ),
            odd_text(40),
        ),
    )
)
def test_the_loader_refuses_every_url_it_does_not_ship(url: str) -> None:
    URLS()
    loader = DocumentLoader()
    if DocumentLoader.is_known_context(url):
        assert loader.load(url)
        return
    with pytest.raises(DocumentLoaderError):
        loader.load(url)


INLINE = Counter("random inline contexts")


@fuzz_settings(max_examples=150)
@given(
    context=st.dictionaries(
        st.sampled_from(
            [
                "@vocab",
                "@base",
                "@language",
                "@direction",
                "@version",
                "@protected",
                "@propagate",
                "@import",
                "name",
                "ects",
                "achievement",
                "Achievement",
                "type",
                "id",
                "@type",
                "evil",
            ]
        ),
        hostile_json(max_leaves=8),
        max_size=4,
    ),
    position=st.integers(min_value=1, max_value=3),
)
def test_random_inline_contexts_never_crash_verification(
    ed25519_world: World, context: dict[str, Any], position: int
) -> None:
    INLINE()
    document = copy.deepcopy(ed25519_world.credential)
    document["@context"].insert(position, context)
    verifier = ed25519_world.verifier()
    report = verifier.verify_credential(document, now=NOW)
    if report.verified:
        assert same_meaning(document, ed25519_world.credential, verifier.loader)
