"""RDFC-1.0 canonicalisation of JSON-LD documents through pyld, with term policing.

Canonicalisation is where meaning is fixed: a term no loaded context defines is either
silently dropped by JSON-LD (so it would be unsigned) or falls through to the VC 2.0
"issuer-dependent" ``@vocab`` (so its meaning is nobody's). Both are reported as
``UndefinedTermError`` naming the term; signing refuses them, verification fails on dropped
terms and warns on vague ones. pyld's own errors are translated here, once.
"""

from __future__ import annotations

import re
from typing import Any

from pyld import jsonld

from . import _fastrdf, _urdna
from .documents import DocumentLoader
from .errors import CanonicalizationError, DocumentLoaderError, MicrocredError, UndefinedTermError

ISSUER_DEPENDENT = "https://www.w3.org/ns/credentials/issuer-dependent#"
UNDEFINED_TERM = "https://www.w3.org/ns/credentials/undefined-term#"
# pyld resolves a relative IRI (an undefined type such as "NotAType") against this base;
# jsonld.js in safe mode refuses such a document, so for microcred it is an undefined term
RELATIVE_BASE = "http://example.org/base/"
_VAGUE_IRI = re.compile(
    r"<(?:"
    + "|".join(re.escape(iri) for iri in (ISSUER_DEPENDENT, UNDEFINED_TERM, RELATIVE_BASE))
    + r")([^>]*)>"
)

_default_loader = DocumentLoader()


class _DroppedTerms(list[str | None]):
    def __call__(self, term: str | None, *args: Any, **kwargs: Any) -> None:
        self.append(term)


_urdna.install()


def canonicalize(
    document: dict[str, Any], loader: DocumentLoader | None = None, *, strict: bool = True
) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``.

    With ``strict`` (the default) a dropped term or a term that only the issuer-dependent
    vocabulary catches raises ``UndefinedTermError``; without it only dropped terms do.
    """
    dropped = _DroppedTerms()
    try:
        nquads = _nquads(document, loader or _default_loader, dropped)
        # hashing needs UTF-8; a lone surrogate (a "\ud800" escape in JSON) has none
        nquads.encode("utf-8")
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from None
    except RecursionError:
        raise CanonicalizationError("the document is nested too deeply") from None
    except OverflowError:
        # pyld turns JSON numbers into floats on the way; a huge integer cannot be one
        raise CanonicalizationError(
            "a number in the document is too large", code="number_out_of_range"
        ) from None
    except UnicodeError:
        raise CanonicalizationError(
            "the document contains text that is not valid Unicode (a lone surrogate)",
            code="invalid_unicode",
        ) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        # pyld's own validation misses some hostile shapes (an empty "@context" string,
        # say) and fails inside with a plain Python error: that is invalid JSON-LD too
        raise CanonicalizationError(
            f"invalid JSON-LD: {type(exc).__name__}: {str(exc)[:200]}"
        ) from None
    if dropped:
        # pyld reports the *expanded* key: None for a key it ignores without a name to give
        # ("@foo", shaped like a keyword, or a term mapped to null) — as unsigned as any
        names = ", ".join(
            sorted(
                {
                    t if isinstance(t, str) else "(a key JSON-LD ignores: '@…' or null)"
                    for t in dropped
                }
            )
        )
        raise UndefinedTermError(f"terms not defined by any loaded context: {names}")
    if strict:
        vague = undefined_terms(nquads)
        if vague:
            raise UndefinedTermError(
                "terms not defined by any loaded context (they would only get the "
                f"issuer-dependent meaning): {', '.join(vague)}"
            )
    return nquads


def _nquads(document: dict[str, Any], loader: DocumentLoader, dropped: _DroppedTerms) -> str:
    # the fast path (credentials/_fastrdf.py) gives pyld's exact output for documents on the
    # shipped contexts; it returns None for anything else, and pyld does the work as before
    fast = _fastrdf.canonicalize(document, loader)
    if fast is not None:
        nquads, fast_dropped = fast
        dropped.extend(fast_dropped)
        return nquads
    processor = jsonld.JsonLdProcessor(on_property_dropped=dropped)
    # pyld keeps processed contexts in shared LRU caches that are not thread-safe; services
    # canonicalise from several threads at once, so the slow path takes the fast path's lock
    with _fastrdf._lock:
        try:
            return _normalize(processor, document, loader)
        except (KeyError, AttributeError):
            # a processed context that pyld's shared caches hold in a broken state has been
            # seen once under heavy test load; start from empty caches before calling the
            # document invalid (a genuinely invalid document fails the same way again)
            jsonld._resolved_context_cache.clear()
            jsonld._inverse_context_cache.clear()
            del dropped[:]
            return _normalize(jsonld.JsonLdProcessor(on_property_dropped=dropped), document, loader)


def _normalize(processor: Any, document: dict[str, Any], loader: DocumentLoader) -> str:
    return processor.normalize(
        document,
        {
            "algorithm": "URDNA2015",
            "format": "application/n-quads",
            "documentLoader": loader,
            "base": "",
        },
    )


def undefined_terms(nquads: str) -> list[str]:
    """Terms mapped only by the VC 2.0 issuer-dependent or undefined-term vocabularies."""
    return sorted(set(_VAGUE_IRI.findall(nquads)))


def _translate(exc: BaseException) -> MicrocredError:
    """Find the most telling cause in pyld's wrapped error chain."""
    seen: BaseException | None = exc
    messages = []
    while seen is not None:
        if isinstance(seen, MicrocredError):
            return seen
        details = getattr(seen, "details", None)
        if isinstance(details, dict):
            cause = details.get("cause")
            if isinstance(cause, MicrocredError):
                return cause
        messages.append(str(getattr(seen, "message", "") or seen).split("\n")[0])
        seen = seen.__cause__ or getattr(seen, "cause", None)
    text = "; ".join(m for m in messages if m)
    if "loading remote context failed" in text or "Dereferencing a URL" in text:
        return DocumentLoaderError(f"a context could not be loaded: {text}", code="unknown_context")
    return CanonicalizationError(f"invalid JSON-LD: {text}")
