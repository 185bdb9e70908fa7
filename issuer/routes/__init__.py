"""HTTP adapters: parse the request, call a service, shape the answer. No queries here."""

from __future__ import annotations

from fastapi import FastAPI

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


def include_all(app: FastAPI) -> None:
    for module in (
        institutions,
        admin,
        modules,
        credentials,
        batches,
        sdjwt,  # before status: …/status/<list>/token is not a purpose
        status,
        offers,
        oid4vci,
        audit,
        recognition,  # issue 17
        recognition_pages,  # issue 17: the exam board's console pages
    ):
        app.include_router(module.router)
