"""W-12 at the level of the real services: every form a page posts to refuses a request
without a valid CSRF token, and the pages' cookies carry HttpOnly, SameSite and Secure.

``tests/browser/test_web_layer.py`` proves the mechanism on a toy app; this module walks
all POST page routes of the three real apps, so a route added without the page router's
CSRF dependency fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tests.security.services import Deployment, deployment
from tests.security.support import NetworkGuard

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
SERVICES = ("issuer", "wallet", "verifier")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    guard = NetworkGuard(allow=LOOPBACK)
    with guard.active(), deployment(tmp_path_factory.mktemp("forms")) as services:
        yield services


def _routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, through included routers (FastAPI wraps them)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield prefix + route.path, route
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _routes(included.routes, prefix + (getattr(context, "prefix", "") or ""))


def _form_routes(app: Any) -> list[str]:
    return sorted(
        path
        for path, route in _routes(app.routes)
        if "POST" in route.methods and ".routes.pages" in route.endpoint.__module__
    )


def _concrete(path: str, deployed: Deployment) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: deployed.institution if m[0] == "{slug}" else "x", path)


@pytest.mark.parametrize("service", SERVICES)
def test_every_form_refuses_a_post_without_a_valid_csrf_token(
    deployed: Deployment, service: str
) -> None:
    client = deployed.client(service)
    forms = _form_routes(client.app)
    assert len(forms) >= 3, forms  # the walk really found the pages' forms
    client.get("/")  # a page visit sets the CSRF cookie, as a browser's would
    for path in forms:
        for data, headers in (
            ({"anything": "1"}, {}),
            ({"csrf_token": "A" * 22 + ".forged"}, {}),
            ({}, {"sec-fetch-site": "cross-site"}),
        ):
            answer = client.post(
                _concrete(path, deployed), data=data, headers=headers, follow_redirects=False
            )
            assert answer.status_code in (400, 403), (path, answer.status_code, data, headers)
            assert "text/html" in answer.headers["content-type"], path


@pytest.mark.parametrize("service", SERVICES)
def test_page_cookies_are_httponly_samesite_and_secure(deployed: Deployment, service: str) -> None:
    """Behind an https public URL (as deployed here), every cookie a page sets is out of
    scripts' reach, not sent on cross-site sub-requests, and never sent over plain http."""
    served = deployed.client(service)
    pages = [
        path
        for path, route in _routes(served.app.routes)
        if "GET" in route.methods
        and "{" not in path
        and ".routes.pages" in route.endpoint.__module__
    ]
    cookies: list[str] = []
    for path in pages:
        fresh = TestClient(served.app, base_url=str(served.base_url))
        answer = fresh.get(path, follow_redirects=True)
        for response in [*answer.history, answer]:
            cookies += response.headers.get_list("set-cookie")
    assert cookies, f"no page of {pages} set a cookie (the CSRF cookie at least)"
    for cookie in cookies:
        flags = cookie.lower()
        assert "httponly" in flags and "samesite=" in flags and "secure" in flags, cookie
