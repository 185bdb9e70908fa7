"""The verifier's pages: an employer or exam board checks a microcredential in a browser.

Four ways in, one way out. A credential is pasted or uploaded, a learner's share link is
pasted (``check``), a presentation request is shown as a QR for the learner's wallet
(``requests``), or an admission rule is evaluated (``admission``); each ends on a result page
that a non-technical reader understands at a glance, with every check one click away.

The pages call the very services the VC-API routes call; they only turn form fields into
the services' inputs and results into templates (``cards`` builds what a result shows).
Every word comes from the catalogues in ``verifier/messages``.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import admission, check, requests
from .kit import web

router: APIRouter = web.page_router()
router.include_router(check.router)
router.include_router(requests.router)
router.include_router(admission.router)

__all__ = ["router", "web"]
