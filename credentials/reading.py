"""One reader for every credential format microcred accepts.

Routes, admission rules and the wallet's pages work on a ``MicrocredentialView``. The VC
formats are read by ``read_microcredential`` (credentials/microcredential.py); Open Badges
2.0 assertions are not VCs and are read by ``read_ob2`` (credentials/ob2.py). Callers that
may hold either use :func:`read_credential`, so a route can count an OB 2.0 badge next to
OB 3.0 credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .microcredential import MicrocredentialView, read_microcredential
from .ob2 import is_ob2, read_ob2


def read_credential(document: Mapping[str, Any] | str) -> MicrocredentialView:
    """Flatten ``document`` whatever its format; tolerant of missing fields, like its readers.

    A compact SD-JWT VC (``dc+sd-jwt``, as the wallet stores it) is read from its disclosed
    claims by ``credentials.sdjwt.reading`` (imported here lazily: it pulls in JOSE)."""
    if isinstance(document, str) and "~" in document:
        from .sdjwt.reading import is_sd_jwt_vc, read_sd_jwt_vc

        if is_sd_jwt_vc(document):
            return read_sd_jwt_vc(document)
    # the readers take the JSON shapes they check themselves (is_ob2 accepts anything;
    # read_microcredential refuses a non-object with MalformedInput)
    if is_ob2(document):
        return read_ob2(document)  # type: ignore[arg-type]
    return read_microcredential(document)  # type: ignore[arg-type]


__all__ = ["read_credential"]
