"""``@context`` tricks an attacker can play on a credential, as document transformations.

Each trick rewrites the ``@context`` of a document (and sometimes a value that the trick
needs). Applied to a *signed* document, the verifier must refuse it or the signed meaning
must be untouched. Applied *before signing* (a malicious issuer), a trick that makes JSON
readers see one thing while the signature covers another must be refused somewhere.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from contexts import CREDENTIALS_V2, MICROCRED_V1, OB_V3P0

Trick = Callable[[dict[str, Any]], dict[str, Any]]

EVIL = "https://evil.example/vocab#"
OB_VOCAB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"


def _with_context(build: Callable[[list[Any]], Any]) -> Trick:
    def trick(document: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(document)
        out["@context"] = build(list(document["@context"]))
        return out

    return trick


def _appended(*items: Any) -> Trick:
    return _with_context(lambda ctx: [*ctx, *copy.deepcopy(items)])


def _inserted(position: int, *items: Any) -> Trick:
    return _with_context(lambda ctx: [*ctx[:position], *copy.deepcopy(items), *ctx[position:]])


def _nested_scopes(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"leaf": EVIL + "leaf"}
    for level in range(depth):
        inner = {f"s{level}": {"@id": f"{EVIL}s{level}", "@context": inner}}
    return inner


def _relative_id_with_base(document: dict[str, Any]) -> dict[str, Any]:
    """The same IRI written relative to an injected @base: same meaning, other JSON."""
    out = copy.deepcopy(document)
    out["@context"] = [*out["@context"], {"@base": "https://hsrijnland.example/"}]
    subject = out.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    if isinstance(achievement, dict) and isinstance(achievement.get("id"), str):
        achievement["id"] = achievement["id"].removeprefix("https://hsrijnland.example/")
    return out


def _vocab_and_new_term(document: dict[str, Any]) -> dict[str, Any]:
    """@vocab lets an added term survive canonicalisation: it then changes the meaning."""
    out = copy.deepcopy(document)
    out["@context"] = [*out["@context"], {"@vocab": "https://w3id.org/microcred/vocab#"}]
    subject = out.get("credentialSubject")
    target = subject.get("achievement", subject) if isinstance(subject, dict) else out
    target["ectsTotal"] = 60
    return out


TRICKS: list[tuple[str, Trick]] = [
    # remote and odd context references: never fetched, always "unknown_context"
    ("append remote https context", _appended("https://evil.example/context.jsonld")),
    ("append remote http context", _appended("http://evil.example/context.jsonld")),
    ("append metadata-service context", _appended("http://169.254.169.254/latest/meta-data/")),
    ("append loopback context", _appended("http://127.0.0.1:8001/context.jsonld")),
    ("append file context", _appended("file:///etc/passwd")),
    ("append data: context", _appended("data:application/ld+json,%7B%7D")),
    ("append relative context", _appended("context.jsonld")),
    ("append scheme-relative context", _appended("//evil.example/context.jsonld")),
    ("append did context", _appended("did:web:evil.example")),
    ("append very long context URL", _appended("https://evil.example/" + "a" * 100_000)),
    (
        "OB 3.0.2 instead of 3.0.3",
        _with_context(
            lambda ctx: [c if c != OB_V3P0 else OB_V3P0.replace("3.0.3", "3.0.2") for c in ctx]
        ),
    ),
    ("@import remote", _appended({"@version": 1.1, "@import": "https://evil.example/c.jsonld"})),
    (
        "@import shipped examples",
        _appended({"@version": 1.1, "@import": "https://www.w3.org/ns/credentials/examples/v2"}),
    ),
    # the order of contexts and what is in the list
    ("swap OB and microcred", _with_context(lambda ctx: [ctx[0], *ctx[1:][::-1]])),
    ("v2 not first", _with_context(lambda ctx: [*ctx[1:], ctx[0]])),
    ("context as a string", _with_context(lambda ctx: ctx[0])),
    ("context as an object", _with_context(lambda ctx: {"@vocab": EVIL})),
    ("null in the middle", _inserted(1, None)),
    ("null at the end (reset)", _appended(None)),
    ("nested array", _with_context(lambda ctx: [ctx[0], ctx[1:]])),
    ("empty object", _appended({})),
    ("v2 twice", _appended(CREDENTIALS_V2)),
    # inline contexts: injection and redefinition
    ("@vocab appended", _appended({"@vocab": EVIL})),
    ("@vocab before the OB context", _inserted(1, {"@vocab": EVIL})),
    ("@vocab plus a new term", _vocab_and_new_term),
    ("@base appended", _appended({"@base": "https://evil.example/"})),
    ("@base plus relative id", _relative_id_with_base),
    ("@propagate false", _appended({"@version": 1.1, "@propagate": False})),
    ("@language default", _appended({"@language": "en"})),
    ("@direction default", _appended({"@version": 1.1, "@direction": "rtl"})),
    ("@version 1.0", _appended({"@version": 1.0})),
    ("@protected false", _appended({"@protected": False})),
    ("redefine protected name", _appended({"name": EVIL + "name"})),
    (
        "redefine protected name, unprotected",
        _appended({"@protected": False, "name": {"@id": EVIL + "name"}}),
    ),
    ("redefine name before the OB context", _inserted(1, {"name": EVIL + "name"})),
    (
        "redefine ects datatype",
        _appended(
            {"ects": {"@id": "https://w3id.org/microcred/vocab#ects", "@type": "xsd:string"}}
        ),
    ),
    (
        "redefine microcred term before its context",
        _inserted(2, {"ects": {"@id": EVIL + "ects"}, "workloadHours": {"@id": EVIL + "hours"}}),
    ),
    (
        "type-scoped redefinition",
        _appended(
            {"Achievement": {"@id": OB_VOCAB + "Achievement", "@context": {"name": EVIL + "name"}}}
        ),
    ),
    (
        "property-scoped redefinition",
        _appended(
            {"achievement": {"@id": OB_VOCAB + "achievement", "@context": {"name": EVIL + "name"}}}
        ),
    ),
    (
        "new type with a scoped @vocab",
        _appended({"EvilType": {"@id": EVIL + "EvilType", "@context": {"@vocab": EVIL}}}),
    ),
    ("term mapped to null", _appended({"name": None})),
    ("keyword alias for @id", _appended({"ident": "@id"})),
    ("keyword redefinition", _appended({"@id": EVIL + "id"})),
    ("deeply nested scoped contexts", _appended(_nested_scopes(60))),
    ("ten thousand terms", _appended({f"t{i}": f"{EVIL}t{i}" for i in range(10_000)})),
    (
        "microcred context dropped, @vocab to its vocabulary",
        _with_context(
            lambda ctx: (
                [c for c in ctx if c != MICROCRED_V1]
                + [{"@vocab": "https://w3id.org/microcred/vocab#"}]
            )
        ),
    ),
]
"""(label, trick) pairs; every one is tried on credentials and presentations."""

REFUSED_BY_CONTEXT_CHECK = {
    "append remote https context",
    "append remote http context",
    "append metadata-service context",
    "append loopback context",
    "append file context",
    "append data: context",
    "append relative context",
    "append scheme-relative context",
    "append did context",
    "append very long context URL",
    "@import remote",
}
# "OB 3.0.2 instead of 3.0.3" is no longer refused by the context check as such: OB 3.0.2 is
# a shipped context (issue 13, credentials in circulation use it). The swap must still be
# refused (terms 3.0.2 lacks are undefined) or leave the signed meaning identical.
"""Tricks that must fail specifically the ``context`` check (or ``structure`` before it)."""
