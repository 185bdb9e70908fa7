"""HTTP adapters: parse the request, call a service, shape the answer. No queries here."""

from __future__ import annotations

from fastapi import FastAPI

from . import admin, audit, batches, credentials, institutions, modules, offers, oid4vci, status


def include_all(app: FastAPI) -> None:
    for module in (
        institutions,
        admin,
        modules,
        credentials,
        batches,
        status,
        offers,
        oid4vci,
        audit,
    ):
        app.include_router(module.router)
