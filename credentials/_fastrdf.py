"""A fast, exact path from JSON-LD credentials to RDFC-1.0 canonical N-Quads.

Why this module exists
----------------------
Signing and verifying a Data Integrity proof canonicalises two documents (the credential
and the proof configuration). With pyld 3.3.0 almost all of that time goes into re-doing
work whose result never changes: every node object re-processes the type-scoped contexts of
VC 2.0 and OB 3.0.3 (each keyed by a JSON canonicalisation of the context dict), then
expansion, a node map and the RDF conversion each walk the document again. Credentials are
built from a handful of fixed, hash-pinned context documents (``contexts/MANIFEST.json``),
so all context processing can be done once per process.

How exactness is kept
---------------------
"Faster" must never mean "different": a hash over different N-Quads is a broken signature.

1. *Context processing is pyld's own.* Active contexts are produced by pyld's
   ``_process_context`` — the very function the slow path uses, with the same flags
   (``override_protected``, ``propagate``) at the same points — but once per
   (parent context, local context, flags) and memoised. Term lookups and IRI expansion of
   keys and types also call pyld (``_expand_iri``, ``get_context_value``) once per
   (context, string) and are memoised. ``@protected``, ``@propagate``, ``@vocab`` and
   every quirk of the shipped contexts (``"xsd:dateTime"`` with no ``xsd`` prefix, say)
   therefore come out exactly as pyld has them.
2. *Expansion, node map and toRdf are fused into one walk* that mirrors pyld 3.3.0's
   control flow (``_expand``, ``_expand_object``, ``_prepare_nested_context``,
   ``_expand_value``, ``_create_node_map``, ``_graph_to_rdf``, ``_object_to_rdf``,
   ``_list_to_rdf``), including which context each lookup is made in, the node-map
   duplicate rules (``compare_values``, so ``1`` and ``1.0`` merge but ``1`` and ``true``
   do not) and pyld's literal forms (canonical doubles, integers, ``@json`` via the same
   JCS function). It only covers what credentials use; anything else — an inline context
   object, a context URL outside the manifest, ``@reverse``, ``@nest``, ``@included``,
   ``@graph``/``@list``/``@set`` objects, index/id/type/language maps, ``@direction``,
   relative IRIs, blank-node types or predicates, non-finite numbers, documents nested
   more than :data:`MAX_DEPTH` levels — raises :class:`Unsupported`, and
   :func:`canonicalize` returns ``None`` so the caller runs the full pyld pipeline, which
   then produces its usual output or its usual error. When pyld would raise for a shape
   (colliding keywords, a non-string ``@id``, invalid value objects…) this module raises
   ``Unsupported`` too, so errors always come from pyld.
3. *RDFC-1.0* (https://www.w3.org/TR/rdf-canon/) is written here for the common case:
   first-degree hashes for every blank node; when they are all distinct (the normal case
   for credentials) canonical identifiers are issued in hash order directly. When two blank
   nodes share a first-degree hash (identical-looking sibling nodes) the dataset built here
   is handed to pyld's ``URDNA2015`` for the Hash N-Degree Quads part. Quads are serialised
   exactly as pyld serialises them (same escaping, same code point order), because the
   project's canonical form is pyld's.

The differential tests (``tests/credentials/test_canonical_differential.py``) compare this
path with pyld and with the Node reference implementation on generated credentials.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pyld import jsonld

from ._fastrdf_context import (
    _ABSOLUTE_IRI,
    _DROPPED,
    _ID,
    _KEYWORDS,
    _LANGUAGE,
    _MISSING,
    _PROPERTY,
    _ROOT,
    _TYPE,
    _VALUE,
    Unsupported,
    _Ctx,
    _Prop,
)
from ._fastrdf_context import _lock as _lock  # canonical and ecdsa_sd hold it around pyld
from ._fastrdf_nquads import (
    RDF_FIRST,
    RDF_JSON_LITERAL,
    RDF_NIL,
    RDF_REST,
    RDF_TYPE,
    _first_degree_hash,
    _flatten,
    _lexical,
    _line,
    _literal_text,
)
from ._urdna import BoundedURDNA2015
from .documents import DocumentLoader
from .errors import CanonicalizationError

__all__ = ["MAX_DEPTH", "STATS", "Unsupported", "canonicalize", "canonicalize_or_raise"]

#: Nesting depth (JSON objects) beyond which the fast path declines. Far beyond any real
#: credential, and well inside the depth at which pyld itself still works, so a document
#: that pyld refuses as "nested too deeply" is refused by pyld, not accepted here.
MAX_DEPTH = 48

#: Hits and fallbacks (with their reasons), for the bench and for tests that must know the
#: fast path really ran. Counting is best-effort under threads.
STATS: Counter[str] = Counter()


_NO_LITERAL_TYPE = (None, "@id", "@vocab", "@none")


# ------------------------------------------------------------------ active contexts


# ----------------------------------------------------------------------- literals


# ------------------------------------------------------------- expansion → quads


class _List:
    """An ``@list`` object's items (node terms, value tuples or nested ``_List``)."""

    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items


# An expanded item is a node term (str "<iri>" or int blank node), a value
# ``(compare key, literal text)`` tuple, or a ``_List``.


class _Builder:
    """One document's walk: emits quads ``(s, p, o, g)`` as pyld's node map would hold them.

    Terms are N-Quads text ("<iri>", '"lit"^^<dt>') or ints (blank nodes); ``g`` is None
    for the default graph. ``seen`` implements the node map's no-duplicates rule, keyed
    like ``compare_values``: graph, subject, property, then the node id or the value
    object's (type, language, value) with booleans kept apart from numbers.
    """

    __slots__ = ("dropped", "json_seen", "labels", "literals", "next_bnode", "quads", "seen")

    def __init__(self) -> None:
        self.quads: list[tuple[Any, str, Any, Any]] = []
        self.seen: set[tuple[Any, ...]] = set()
        self.json_seen: set[tuple[Any, ...]] = set()
        self.labels: dict[str, int] = {}
        self.literals: dict[str, tuple[str, str, str | None]] = {}
        self.next_bnode = 0
        self.dropped: list[Any] = []

    def bnode(self) -> int:
        self.next_bnode += 1
        return self.next_bnode

    def emit(self, s: Any, pkey: str, p: str, o: Any, okey: Any, g: Any) -> None:
        key = (g, s, pkey, okey)
        if key not in self.seen:
            self.seen.add(key)
            self.quads.append((s, p, o, g))

    # node and value objects ---------------------------------------------------------

    def dict_(self, ctx: _Ctx, key: str | None, element: dict[str, Any], g: Any, depth: int) -> Any:
        """pyld ``_expand`` for an object, then ``_expand_object`` and the node map."""
        if depth > MAX_DEPTH:
            raise Unsupported("nested too deeply for the fast path")
        # property-scoped context of the active property, looked up before reverting
        scoped = ctx.prop(key).scoped if key is not None else None
        active = ctx
        previous = ctx.previous
        if previous is not None:
            # a type-scoped context does not apply to a new node object (but does to a
            # value object or a lone node reference) — pyld's must_revert test
            revert = True
            if len(element) <= 2 and "@context" not in element:
                for k in sorted(element):
                    kind = ctx.prop(k).kind
                    if kind == _VALUE:
                        revert = False
                        break
                    if kind == _ID and len(element) == 1:
                        revert = False
                        break
            if revert:
                active = previous
        if scoped is not None:
            active = active.derive(scoped, override=True, propagate=True)
        local = element.get("@context", _MISSING)
        if local is not _MISSING:
            active = active.derive_urls(local)
        type_ctx = active
        # type-scoped contexts, in pyld's order: keys sorted, each key re-tested in the
        # context as it evolves, each key's type values sorted
        done: str | None = None
        while True:
            candidates: frozenset[str] | set[str] = active.type_aliases.intersection(element)
            if done is not None:
                candidates = {k for k in candidates if k > done}
            if not candidates:
                break
            done = min(candidates)
            raw_types = element[done]
            listed = raw_types if isinstance(raw_types, list) else [raw_types]
            for name in sorted(t for t in listed if isinstance(t, str)):
                type_scoped = type_ctx.scoped_of(name)
                if type_scoped is not None and type_scoped is not False:
                    active = active.derive(type_scoped, override=False, propagate=False)

        node_id: Any = _MISSING
        types: list[Any] = []
        props: list[tuple[str, Any, _Prop]] = []
        value: Any = _MISSING
        language: Any = _MISSING
        for k, v in element.items():
            if k == "@context":
                continue
            p = active.prop(k)
            kind = p.kind
            if kind == _PROPERTY:
                props.append((k, v, p))
            elif kind == _DROPPED:
                self.dropped.append(p.iri)
            elif kind == _TYPE:
                types.append(v)
            elif kind == _ID:
                if node_id is not _MISSING:
                    raise Unsupported("colliding @id keys")
                node_id = v
            elif kind == _VALUE:
                if value is not _MISSING:
                    raise Unsupported("colliding @value keys")
                value = v
            elif kind == _LANGUAGE:
                if language is not _MISSING:
                    raise Unsupported("colliding @language keys")
                language = v
            else:
                raise Unsupported(f"keyword {p.iri}")

        if value is not _MISSING or language is not _MISSING:
            return self.value_object(
                active, type_ctx, value, language, types, node_id, props, depth
            )

        if node_id is _MISSING:
            subject: Any = self.bnode()
        elif isinstance(node_id, str):
            subject = self.node_id(active, node_id)
        else:
            raise Unsupported("@id is not a string")
        for entry in types:
            names = [entry] if isinstance(entry, str) else entry
            if not isinstance(names, list):
                raise Unsupported("@type is not a string or a list")
            for name in names:
                if not isinstance(name, str):
                    raise Unsupported("@type entry is not a string")
                iri = type_ctx.vocab_iri(name)
                if not isinstance(iri, str) or not _ABSOLUTE_IRI.match(iri) or iri[:2] == "_:":
                    raise Unsupported("type is not an absolute IRI")
                term = "<" + iri + ">"
                self.emit(subject, "@type", RDF_TYPE, term, term, g)
        for k, v, p in props:
            self.property(active, subject, k, v, p, g, depth)
        return subject

    def value_object(
        self,
        active: _Ctx,
        type_ctx: _Ctx,
        value: Any,
        language: Any,
        types: list[Any],
        node_id: Any,
        props: list[Any],
        depth: int,
    ) -> tuple[Any, str]:
        """A ``{"@value": …}`` object in the shapes pyld accepts without complaint."""
        if depth <= 1:
            raise Unsupported("top-level value object")
        if props or node_id is not _MISSING or value is _MISSING or len(types) > 1:
            raise Unsupported("not a plain value object")
        if value is None or value.__class__ not in (str, int, float, bool):
            raise Unsupported("@value is not a string, number or boolean")
        datatype = None
        if types:
            if language is not _MISSING or not isinstance(types[0], str):
                raise Unsupported("typed value object shape")
            if active.prop(types[0]).iri == "@json":
                raise Unsupported("@json value object")
            datatype = type_ctx.vocab_iri(types[0])
            if (
                not isinstance(datatype, str)
                or not _ABSOLUTE_IRI.match(datatype)
                or datatype[:2] == "_:"
            ):
                raise Unsupported("value object @type")
        lang = None
        if language is not _MISSING:
            if not isinstance(language, str) or not isinstance(value, str):
                raise Unsupported("language-tagged value shape")
            lang = language.lower()
        return self.literal(value, datatype, lang)

    def literal(self, value: Any, datatype: str | None, language: str | None) -> tuple[Any, str]:
        lexical, dt = _lexical(value, datatype, language)
        text = _literal_text(lexical, dt, language)
        self.literals[text] = (lexical, dt, language)
        # compare_values: same @type, @language and @value; True never equals 1
        key = (datatype, language, (value,) if value.__class__ is bool else value)
        return key, text

    def node_id(self, ctx: _Ctx, value: str) -> Any:
        """pyld's document-relative ``_expand_iri`` for an ``@id`` (base ''), absolute
        results only: pyld resolves relative ones against http://example.org/base/."""
        colon = value.find(":")
        if colon <= 0:
            raise Unsupported("relative IRI")
        if colon == 1 and value[0] == "_":
            label = self.labels.get(value)
            if label is None:
                label = self.labels[value] = self.bnode()
            return label
        suffix = value[colon + 1 :]
        iri = value
        if not suffix.startswith("//"):
            mapping = ctx.mappings.get(value[:colon])
            if mapping and mapping["_prefix"]:
                iri = mapping["@id"] + suffix
        if not isinstance(iri, str) or not _ABSOLUTE_IRI.match(iri) or iri[:2] == "_:":
            raise Unsupported("IRI is not absolute")
        return "<" + iri + ">"

    # properties ---------------------------------------------------------------------

    def property(
        self, active: _Ctx, subject: Any, key: str, value: Any, p: _Prop, g: Any, depth: int
    ) -> None:
        """One regular key of a node object (pyld ``_expand_object``'s general branch)."""
        term_ctx = active
        tp = p
        if p.scoped is not None:
            term_ctx = active.derive(p.scoped, override=True, propagate=True)
            # pyld expands the value in term_ctx, where the key may mean something else or
            # nothing (VP's verifiableCredential has "@context": null): containers and
            # @json come from ``p`` (the node's context), value coercion from ``tp``
            tp = term_ctx.prop(key)
            if tp.iri in _KEYWORDS:
                raise Unsupported("a scoped context makes its own term a keyword")
        if p.other_container:
            raise Unsupported("index, id, type or language container")
        if tp.reverse:
            raise Unsupported("reverse property")
        if p.type == "@json":
            if p.is_list or p.is_graph:
                raise Unsupported("@json in a container")
            slot = (g, subject, p.term)
            if slot in self.json_seen:
                raise Unsupported("two @json values for one property")
            self.json_seen.add(slot)
            lexical = jsonld.canonicalize(value).decode("utf-8")
            text = _literal_text(lexical, RDF_JSON_LITERAL, None)
            self.literals[text] = (lexical, RDF_JSON_LITERAL, None)
            self.emit(subject, p.term, p.term, text, ("@json", text), g)
            return
        if p.is_graph:
            if p.is_list:
                raise Unsupported("@graph @list container")
            for element in _flatten(value):
                graph = self.bnode()
                if self.expand(term_ctx, key, tp, element, graph, False, depth) is not None:
                    self.emit(subject, p.term, p.term, graph, graph, g)
            return
        expanded = self.expand(term_ctx, key, tp, value, g, False, depth)
        if expanded is None:
            return
        if p.is_list:
            if expanded.__class__ is not _List:
                expanded = _List(expanded if expanded.__class__ is list else [expanded])
            # lists are never merged by the node map
            self.quads.append((subject, p.term, self.rdf_list(expanded, g), g))
            return
        if expanded.__class__ is list:
            for item in expanded:
                self.attach(subject, p, item, g)
        else:
            self.attach(subject, p, expanded, g)

    def attach(self, subject: Any, p: _Prop, item: Any, g: Any) -> None:
        if item.__class__ is tuple:
            self.emit(subject, p.term, p.term, item[1], item[0], g)
        elif item.__class__ is _List:
            raise Unsupported("list outside a list container")
        else:
            self.emit(subject, p.term, p.term, item, item, g)

    def expand(
        self,
        ctx: _Ctx,
        key: str,
        tp: _Prop,
        value: Any,
        g: Any,
        inside_list: bool,
        depth: int,
    ) -> Any:
        """pyld ``_expand`` for a property value: an item, a list of items or None."""
        cls = value.__class__
        if cls is dict:
            return self.dict_(ctx, key, value, g, depth + 1)
        if cls is list:
            in_list = inside_list or tp.is_list
            out: list[Any] = []
            for element in value:
                item = self.expand(ctx, key, tp, element, g, in_list, depth)
                if in_list and item.__class__ is list:
                    item = _List(item)
                if item is None:
                    continue
                if item.__class__ is list:
                    out.extend(item)
                else:
                    out.append(item)
            return out
        if value is None:
            return None
        if cls is str or cls is int or cls is float or cls is bool:
            return self.scalar(ctx, tp, value)
        raise Unsupported(f"not a JSON value: {cls.__name__}")

    def scalar(self, ctx: _Ctx, tp: _Prop, value: Any) -> Any:
        """pyld ``_expand_value`` then the node map's view of it."""
        coercion = tp.type
        if value.__class__ is str:
            if coercion == "@id":
                return self.node_id(ctx, value)
            if coercion == "@vocab":
                iri = ctx.vocab_iri(value)
                if not isinstance(iri, str) or not _ABSOLUTE_IRI.match(iri) or iri[:2] == "_:":
                    raise Unsupported("@vocab value is not an absolute IRI")
                return "<" + iri + ">"
        if coercion not in _NO_LITERAL_TYPE:
            return self.literal(value, coercion, None)
        language = None
        if value.__class__ is str:
            language = tp.language
            if tp.direction is not None:
                raise Unsupported("@direction")
        return self.literal(value, None, language)

    def rdf_list(self, items: _List, g: Any) -> Any:
        """pyld ``_list_to_rdf``: rdf:first/rest chain of fresh blank nodes, or rdf:nil."""
        entries = items.items
        if not entries:
            return RDF_NIL
        head = current = self.bnode()
        last = len(entries) - 1
        for index, item in enumerate(entries):
            if item.__class__ is tuple:
                obj = item[1]
            elif item.__class__ is _List:
                obj = self.rdf_list(item, g)
            else:
                obj = item
            self.quads.append((current, RDF_FIRST, obj, g))
            following = RDF_NIL if index == last else self.bnode()
            self.quads.append((current, RDF_REST, following, g))
            current = following
        return head

    # canonicalisation ---------------------------------------------------------------

    def canonical(self) -> str:
        """RDFC-1.0 over the emitted quads (pyld's serialisation and sort order)."""
        quads = self.quads
        related: dict[int, list[tuple[Any, str, Any, Any]]] = {}
        for quad in quads:
            s, _, o, g = quad
            # one entry per occurrence, as pyld and rdf-canonize build the map
            if s.__class__ is int:
                related.setdefault(s, []).append(quad)
            if o.__class__ is int:
                related.setdefault(o, []).append(quad)
            if g.__class__ is int:
                related.setdefault(g, []).append(quad)
        if not related:
            return "".join(sorted(_line(s, p, o, g) for s, p, o, g in quads))
        by_hash: dict[str, int] = {}
        for node, node_quads in related.items():
            digest = _first_degree_hash(node, node_quads)
            if digest in by_hash:
                STATS["n_degree"] += 1
                return self.canonical_by_pyld()
            by_hash[digest] = node
        labels = {by_hash[h]: f"_:c14n{i}" for i, h in enumerate(sorted(by_hash))}
        lines = []
        for s, p, o, g in quads:
            if s.__class__ is int:
                s = labels[s]
            if o.__class__ is int:
                o = labels[o]
            if g is None:
                lines.append(f"{s} {p} {o} .\n")
            else:
                lines.append(f"{s} {p} {o} {labels[g] if g.__class__ is int else g} .\n")
        lines.sort()
        return "".join(lines)

    def canonical_by_pyld(self) -> str:
        """Hash N-Degree Quads needed: give this dataset to pyld's URDNA2015."""
        dataset: dict[str, list[dict[str, Any]]] = {}
        for s, p, o, g in self.quads:
            name = "@default" if g is None else f"_:b{g}"
            dataset.setdefault(name, []).append(
                {
                    "subject": self.term_dict(s),
                    "predicate": {"type": "IRI", "value": p[1:-1]},
                    "object": self.term_dict(o),
                }
            )
        return BoundedURDNA2015().main(dataset, {"format": "application/n-quads"})

    def term_dict(self, term: Any) -> dict[str, Any]:
        if term.__class__ is int:
            return {"type": "blank node", "value": f"_:b{term}"}
        if term[0] == "<":
            return {"type": "IRI", "value": term[1:-1]}
        lexical, datatype, language = self.literals[term]
        out = {"type": "literal", "value": lexical, "datatype": datatype}
        if language is not None:
            out["language"] = language
        return out


# -------------------------------------------------------------------------- entry


def _loader_is_plain(loader: Any) -> bool:
    """Shipped context URLs resolve to the shipped files only through DocumentLoader's own
    ``load``; a subclass that changes that is not trusted with the fast path."""
    cls = type(loader)
    return (
        isinstance(loader, DocumentLoader)
        and cls.load is DocumentLoader.load
        and cls.__call__ is DocumentLoader.__call__
    )


def canonicalize_or_raise(
    document: Any, loader: DocumentLoader | None = None
) -> tuple[str, list[Any]]:
    """Canonical N-Quads of ``document`` and the keys pyld would report as dropped.

    Raises :class:`Unsupported` when the fast path does not apply (tests use this to be
    sure the fast path is what they compare); any other exception is a bug or an input
    pyld rejects too.
    """
    if loader is not None and not _loader_is_plain(loader):
        raise Unsupported("custom document loader")
    if not isinstance(document, dict):
        raise Unsupported("document is not a JSON object")
    builder = _Builder()
    builder.dict_(_ROOT, None, document, None, 1)
    return builder.canonical(), builder.dropped


def canonicalize(
    document: Any, loader: DocumentLoader | None = None
) -> tuple[str, list[Any]] | None:
    """Like :func:`canonicalize_or_raise`, but ``None`` whenever pyld should do the work.

    Any exception counts as "pyld should do the work": the slow path then either succeeds
    (a gap here) or raises the error users have always seen.
    """
    try:
        result = canonicalize_or_raise(document, loader)
    except Unsupported as exc:
        STATS["fallback"] += 1
        STATS[f"fallback: {exc}"] += 1
        return None
    except CanonicalizationError as exc:
        if exc.code == "too_complex":
            raise  # the slow path would only spend the same work budget again
        STATS["fallback"] += 1
        STATS[f"fallback: {type(exc).__name__}"] += 1
        return None
    except Exception as exc:  # the slow path reports the real error
        STATS["fallback"] += 1
        STATS[f"fallback: {type(exc).__name__}"] += 1
        return None
    STATS["fast"] += 1
    return result
