"""The CLI's verifier: the core's defaults with an optional dev-mode fetch policy."""

from __future__ import annotations

from credentials import Verifier, default_verifier


def build_verifier(*, dev: bool = False) -> Verifier:
    return default_verifier(allow_insecure=dev)
