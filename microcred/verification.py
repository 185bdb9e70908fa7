"""The CLI's verifier: the core's defaults with an optional dev-mode fetch policy."""

from __future__ import annotations

from credentials.setup import default_verifier
from credentials.verify import Verifier


def build_verifier(*, dev: bool = False) -> Verifier:
    return default_verifier(allow_insecure=dev)
