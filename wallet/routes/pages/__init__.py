"""The learner's wallet in a browser, made for a phone first.

Sign up or log in; receive a microcredential by pasting, scanning or opening an
institution's offer link (and see what it brings before accepting) or by importing a file;
see every credential as a card with its institution, module, ECTS, level and a plain
verified / revoked / suspended badge that refreshes by itself; read all EU elements of one
in plain language, print it or download it as PDF; follow learning routes with progress
bars; share credentials as a link with a big QR code, see who looked and revoke the link;
answer a verifier's request after an explicit consent screen that shows who asks, the
actual requirement and exactly what will leave the wallet; export (with an encrypted key
backup) or delete everything. Destructive actions ask for confirmation first.

The pages are a second face of the same services the wallet's API uses: they parse forms,
call one service, and render. The page session is the wallet's own session token
(``accounts.login(kind="session")``) in the cookie the API also reads, so a learner logged
in on a page is the same learner to the API.

One module per area; every word on the pages comes from ``wallet/messages/<lang>.json``.
"""

from __future__ import annotations

# the modules declare their routes on the shared router when imported
from . import account, credentials, data, learning, presenting, printing, receiving, sharing
from ._kit import card_state, router, web

__all__ = [
    "account",
    "card_state",
    "credentials",
    "data",
    "learning",
    "presenting",
    "printing",
    "receiving",
    "router",
    "sharing",
    "web",
]
