"""Active JSON-LD contexts for the fast canonicaliser: pyld's context processing, memoised.

An active context is processed by pyld itself (so its rules are pyld's), then wrapped once
(``_Ctx``) with what expansion needs per key (``_Prop``), cached by identity and bounded
for hostile input (``_MAX_CONTEXTS``, ``_MEMO_BUDGET``). ``credentials._fastrdf`` walks
documents with these.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from pyld import jsonld
from pyld.context_resolver import ContextResolver

import contexts

from .documents import DocumentLoader

# pyld's own test for "absolute IRI" (``_is_absolute_iri``), same pattern, same re.match
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")

_KEYWORDS = frozenset(jsonld.KEYWORDS)

# kinds of keys, after IRI expansion in the active context
_PROPERTY, _DROPPED, _ID, _TYPE, _VALUE, _LANGUAGE, _OTHER = range(7)

_KEYWORD_KINDS = {"@id": _ID, "@type": _TYPE, "@value": _VALUE, "@language": _LANGUAGE}

_PLAIN_CONTAINERS = frozenset({"@set", "@list", "@graph"})

# Memory bounds, for hostile input (a verifier sees anything): realistic credentials and
# presentations use ~40 active contexts (~15 KB each) and a few hundred memoised strings.
# Past the context cap new context combinations go to pyld; past the memo budget strings
# are still expanded, just not remembered.
_MAX_CONTEXTS = 1024

_MEMO_BUDGET = 100_000

_memo_used = 0

_MISSING = object()

_PROCESSOR = jsonld.JsonLdProcessor()

_lock = threading.RLock()


class Unsupported(Exception):
    """The document uses something the fast path does not reproduce; run pyld instead."""


class _Prop:
    """What pyld's expansion needs to know about one key in one active context."""

    __slots__ = (
        "direction",
        "iri",
        "is_graph",
        "is_list",
        "kind",
        "language",
        "other_container",
        "reverse",
        "scoped",
        "term",
        "type",
    )

    def __init__(self, ctx: _Ctx, key: str) -> None:
        raw = ctx.raw
        iri = _PROCESSOR._expand_iri(raw, key, vocab=True)
        self.iri = iri
        if iri is None:
            self.kind = _DROPPED
        elif iri in _KEYWORDS:
            self.kind = _KEYWORD_KINDS.get(iri, _OTHER)
        elif _ABSOLUTE_IRI.match(iri):
            # a blank-node predicate is dropped by toRdf, renamed by the node map: not ours
            self.kind = _OTHER if iri.startswith("_:") else _PROPERTY
        else:
            self.kind = _DROPPED
        self.term = "<" + iri + ">" if self.kind == _PROPERTY else ""
        get = jsonld.JsonLdProcessor.get_context_value
        self.type = get(raw, key, "@type")
        container = get(raw, key, "@container")
        containers = container if isinstance(container, list) else [container]
        containers = [c for c in containers if c is not None]
        self.is_list = "@list" in containers
        self.is_graph = "@graph" in containers
        self.other_container = any(c not in _PLAIN_CONTAINERS for c in containers)
        self.language = get(raw, key, "@language")
        self.direction = get(raw, key, "@direction")
        self.scoped = get(raw, key, "@context")
        mapping = raw["mappings"].get(key)
        self.reverse = bool(mapping and mapping.get("reverse"))


class _Ctx:
    """One pyld active context plus memo tables keyed by the strings looked up in it.

    Instances are interned by the identity of the pyld context dict (see ``_wrap``), and
    derived contexts are memoised on their parent, so a chain of scoped contexts is
    processed by pyld once per process rather than once per node.
    """

    __slots__ = (
        "_aliases",
        "_children",
        "_previous",
        "_props",
        "_scoped",
        "_vocab",
        "mappings",
        "raw",
    )

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.mappings = raw["mappings"]
        self._previous: _Ctx | object | None = _MISSING
        self._props: dict[str, _Prop] = {}
        self._vocab: dict[str, Any] = {}
        self._scoped: dict[str, Any] = {}
        self._children: dict[tuple[Any, ...], tuple[Any, _Ctx]] = {}
        self._aliases: frozenset[str] | None = None

    @property
    def previous(self) -> _Ctx | None:
        """The context a type-scoped context reverts to (pyld's ``previousContext``)."""
        found = self._previous
        if found is _MISSING:
            raw_previous = self.raw.get("previousContext")
            found = _wrap(raw_previous) if raw_previous else None
            self._previous = found
        # the cache slot also holds the _MISSING sentinel, so its type is wider than what
        # is returned once it is filled
        return found  # type: ignore[return-value]

    def prop(self, key: str) -> _Prop:
        found = self._props.get(key)
        if found is None:
            if not isinstance(key, str):
                raise Unsupported("non-string key")
            found = _Prop(self, key)
            _remember(self._props, key, found)
        return found

    def vocab_iri(self, value: str) -> Any:
        """pyld's expansion of a type (or ``@type: @vocab`` value): vocab, base ''."""
        found = self._vocab.get(value, _MISSING)
        if found is _MISSING:
            found = _PROCESSOR._expand_iri(self.raw, value, vocab=True, base="")
            _remember(self._vocab, value, found)
        return found

    def scoped_of(self, term: str) -> Any:
        """The type-scoped context of ``term`` (None if none, False for ``null``)."""
        found = self._scoped.get(term, _MISSING)
        if found is _MISSING:
            found = jsonld.JsonLdProcessor.get_context_value(self.raw, term, "@context")
            _remember(self._scoped, term, found)
        return found

    @property
    def type_aliases(self) -> frozenset[str]:
        """Every key that expands to ``@type`` here.

        Exact because contexts that could make a compact IRI or ``@vocab`` expand to a
        keyword (a prefix or vocabulary starting with ``@``) are refused.
        """
        found = self._aliases
        if found is None:
            vocab = self.raw.get("@vocab")
            if isinstance(vocab, str) and vocab.startswith("@"):
                raise Unsupported("@vocab starting with @")
            aliases = {"@type"}
            for term, mapping in self.mappings.items():
                if mapping is None:
                    continue
                iri = mapping.get("@id")
                if iri == "@type":
                    aliases.add(term)
                elif mapping.get("_prefix") and isinstance(iri, str) and iri.startswith("@"):
                    raise Unsupported("prefix mapped to a keyword")
            found = self._aliases = frozenset(aliases)
        return found

    def derive(self, local: Any, *, override: bool, propagate: bool) -> _Ctx:
        """pyld's ``_process_context(self, local, override_protected, propagate)``, memoised.

        The memo key holds the identity of ``local`` (scoped contexts are objects inside the
        parent's term definitions, so they live as long as the parent) and the entry keeps
        a reference to it, so an identity is never reused for another object.
        """
        key = (id(local), override, propagate)
        hit = self._children.get(key)
        if hit is not None and hit[0] is local:
            return hit[1]
        with _lock:
            raw = _PROCESSOR._process_context(
                self.raw,
                local,
                _processing_options(),
                override_protected=override,
                propagate=propagate,
            )
            child = _wrap(raw)
            self._children[key] = (local, child)
        return child

    def derive_urls(self, local: Any) -> _Ctx:
        """An embedded ``@context``: accepted only as shipped context URLs."""
        urls = (local,) if isinstance(local, str) else local
        if not isinstance(urls, list | tuple) or not urls:
            raise Unsupported("@context is not a URL or a list of URLs")
        key = ("urls", *urls)
        hit = self._children.get(key)
        if hit is not None:
            return hit[1]
        known = contexts.manifest()
        for url in urls:
            if not isinstance(url, str) or url not in known:
                raise Unsupported("@context entry is not a shipped context URL")
        with _lock:
            raw = _PROCESSOR._process_context(self.raw, list(urls), _processing_options())
            child = _wrap(raw)
            self._children[key] = (None, child)
        return child


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    global _memo_used
    if _memo_used < _MEMO_BUDGET:
        _memo_used += 1
        memo[key] = value


_REGISTRY: dict[int, _Ctx] = {}


def _wrap(raw: Any) -> _Ctx:
    """The interned ``_Ctx`` of a pyld context dict (the registry keeps ``raw`` alive)."""
    found = _REGISTRY.get(id(raw))
    if found is None or found.raw is not raw:
        with _lock:
            if len(_REGISTRY) >= _MAX_CONTEXTS:
                raise Unsupported("too many distinct active contexts")
            found = _REGISTRY[id(raw)] = _Ctx(raw)
    return found


def _processing_options() -> dict[str, Any]:
    """Options as pyld's normalize passes them to context processing (base '', 1.1).

    Only shipped context URLs ever reach this loader (``derive_urls`` checks), and the
    shipped documents do not reference other URLs, so a plain DocumentLoader serves all.
    """
    loader = DocumentLoader()
    return {
        "base": "",
        "processingMode": "json-ld-1.1",
        "documentLoader": loader,
        "contextResolver": ContextResolver(jsonld._resolved_context_cache, loader),
    }


_ROOT = _wrap(_PROCESSOR._get_initial_context({"processingMode": "json-ld-1.1"}))
