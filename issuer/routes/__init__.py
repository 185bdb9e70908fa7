"""HTTP adapters: parse the request, call a service, shape the answer. No queries here.

``ROUTERS`` are the API routers in the order ``main.create_app`` includes them; the
console pages (``pages.router``) come after them, with their own error handling.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import (
    admin,
    audit,
    batches,
    credentials,
    institutions,
    modules,
    offers,
    oid4vci,
    recognition,
    recognition_pages,
    sdjwt,
    status,
)

ROUTERS: tuple[APIRouter, ...] = (
    institutions.router,
    admin.router,
    modules.router,
    credentials.router,
    batches.router,
    sdjwt.router,  # before status: …/status/<list>/token is not a purpose
    status.router,
    offers.router,
    oid4vci.router,
    audit.router,
    recognition.router,  # issue 17
    recognition_pages.router,  # issue 17: the exam board's console pages
)
