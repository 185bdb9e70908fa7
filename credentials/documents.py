"""The JSON-LD document loader: the only door through which pyld sees documents.

It serves the static contexts shipped in ``contexts/`` and DID documents through a
resolver. Any other URL is refused with an error naming it: a credential can never make
microcred fetch a context from the network, whatever it puts in ``@context``.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

import contexts

from .errors import DocumentLoaderError


class DidDocumentSource(Protocol):
    """Anything that turns a DID (without fragment) into its DID document."""

    def resolve(self, did: str) -> dict[str, Any]: ...


class DocumentLoader:
    """A pyld-compatible loader: ``loader(url, options) -> RemoteDocument``.

    Context documents are handed to pyld as the same frozen objects each time, so pyld's
    resolved-context cache (keyed by URL) is hit on every call after the first.
    """

    def __init__(
        self,
        did_resolver: DidDocumentSource | None = None,
        *,
        extra_contexts: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.did_resolver = did_resolver
        # contexts a caller vouches for beyond the shipped set (tests, pinned extensions)
        self.extra_contexts = dict(extra_contexts or {})

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        document = self.load(url)
        remote: dict[str, Any] = {"contextUrl": None, "documentUrl": url, "document": document}
        if url in contexts.manifest():
            # pyld keeps resolved contexts across calls only for documents tagged "static"
            remote["tag"] = "static"
        return remote

    def load(self, url: str) -> dict[str, Any]:
        """The JSON-LD document for ``url``: a bundled context, an extra context, or (with a
        resolver) a DID document or one of its verification methods.

        Never fetches a context from the network: anything else is ``DocumentLoaderError``
        with code ``unknown_context`` (or ``document_not_allowed``).
        """
        if not isinstance(url, str):
            raise DocumentLoaderError("a context reference must be a URL string")
        try:
            return contexts.load(url)
        except KeyError:
            pass
        if url in self.extra_contexts:
            return self.extra_contexts[url]
        if url.startswith("did:"):
            if self.did_resolver is None:
                raise DocumentLoaderError(f"DID documents are not loaded here: {url}")
            did = url.split("#", 1)[0]
            document = self.did_resolver.resolve(did)
            if "#" in url:
                return _fragment(document, url)
            return copy.deepcopy(document)
        raise DocumentLoaderError(
            f"context not available offline: {url} (microcred never fetches contexts "
            "from the network; only the contexts listed in contexts/MANIFEST.json are accepted)",
            code="unknown_context",
        )

    @staticmethod
    def is_known_context(url: str) -> bool:
        """Whether ``url`` is one of the contexts bundled with microcred."""
        return url in contexts.manifest()


def _fragment(document: dict[str, Any], url: str) -> dict[str, Any]:
    """The verification method ``url`` inside a DID document, with the document's context."""
    for key in ("verificationMethod", "assertionMethod", "authentication"):
        for entry in document.get(key, []) or []:
            if isinstance(entry, dict) and _absolute(entry.get("id", ""), document) == url:
                found = copy.deepcopy(entry)
                found.setdefault("@context", document.get("@context"))
                return found
    raise DocumentLoaderError(f"verification method not found: {url}", code="unknown_vm")


def _absolute(ref: str, document: dict[str, Any]) -> str:
    return document.get("id", "") + ref if ref.startswith("#") else ref


def refuse_inline_contexts(document: Any) -> None:
    """Raise ``DocumentLoaderError`` (``inline_context``) if any ``@context`` holds an object.

    An inline context is a definition the issuer writes for the occasion: ``@vocab`` gives
    meaning to terms no published context defines, ``@language`` re-tags every literal,
    a scoped redefinition changes what a familiar field means, and none of it shows in the
    fields a reader looks at. Only shipped (reviewed, pinned) contexts say what signed data
    means, so microcred neither signs nor accepts a document that carries its own. VCDM 2.0
    allows inline contexts; refusing them is this project's policy (docs/security.md,
    T-CTX-3).
    """
    path = _first_inline_context(document)
    if path is not None:
        raise DocumentLoaderError(
            f"{path}: an inline @context object is not accepted; use published contexts only",
            code="inline_context",
        )


def _first_inline_context(node: Any) -> str | None:
    """The path of an inline context, if any. This runs on every credential a verifier
    sees, so the walk builds a path string only on the way back from a find."""
    if isinstance(node, dict):
        for key, item in node.items():
            if key == "@context" and any(
                isinstance(entry, dict) for entry in (item if isinstance(item, list) else [item])
            ):
                return "$.@context"
            if isinstance(item, dict | list):
                found = _first_inline_context(item)
                if found is not None:
                    return "$." + key + found[1:]
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, dict | list):
                found = _first_inline_context(item)
                if found is not None:
                    return f"$[{index}]" + found[1:]
    return None
