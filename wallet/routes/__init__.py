"""Thin HTTP adapters: parse the request, call a service, return its answer.

No queries and no decisions here; the learner's pages (``pages.router``) call the same
services. ``ROUTERS`` are the API routers ``main.create_app`` includes, pages after them.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import accounts, credentials, data, learning_routes, recognition, requests, shares

ROUTERS: tuple[APIRouter, ...] = (
    accounts.router,
    credentials.router,
    learning_routes.router,
    shares.router,
    requests.router,
    data.router,
    recognition.router,  # issue 17
)
