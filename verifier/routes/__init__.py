"""HTTP routes: parse, call one service, answer. No decisions and no queries here."""

from __future__ import annotations

from fastapi import APIRouter

from . import admin, admissions, identity, registry, requests, shares, vcapi

ROUTERS: tuple[APIRouter, ...] = (
    vcapi.router,
    requests.router,
    shares.router,
    admissions.router,
    registry.router,
    admin.router,
    identity.router,
)
