"""Content negotiation: what an ``Accept`` header asks for, read one way everywhere.

The services answer some paths in several forms (a status list as ``application/vc`` or
JWT, a share link as HTML or JSON, a presentation request as a JWT or JSON, an error as a
page or a problem); each used to parse ``Accept`` with its own loop. :func:`accept_weights`
is the one parser; each caller keeps its own rule for what wins.
"""

from __future__ import annotations


def accept_weights(accept: str | None) -> dict[str, float]:
    """Each media type named in ``accept`` (lower-case) with its best weight.

    A weight that is missing is 1; one that does not parse is 0 (refused), and weights are
    clamped to 0…1, as RFC 9110 §12.4.2 allows no others.
    """
    weights: dict[str, float] = {}
    for part in (accept or "").split(","):
        media, *parameters = (piece.strip() for piece in part.split(";"))
        if not media:
            continue
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = max(0.0, min(1.0, float(value)))
                except ValueError:
                    weight = 0.0
        media = media.lower()
        weights[media] = max(weight, weights.get(media, 0.0))
    return weights


def best_weight(weights: dict[str, float], kinds: tuple[str, ...] | frozenset[str]) -> float:
    """The highest weight among ``kinds`` (0 when none is named)."""
    return max((weights.get(kind, 0.0) for kind in kinds), default=0.0)


__all__ = ["accept_weights", "best_weight"]
