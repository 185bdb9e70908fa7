"""The three services have one shape (issue 15, build 3), and their OpenAPI documents say
what comes back.

One shape: the service container on ``app.state.services``, one dependency alias
``ServicesDep`` in ``<service>/deps.py``, the API routers in a ``ROUTERS`` tuple in
``<service>/routes/__init__.py``, the API models in ``<service>/schemas.py``.
"""

from __future__ import annotations

import importlib
import secrets
from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.params import Depends
from starlette.requests import Request

from credentials.keystore import Kek, Keystore
from servicekit.migrations import upgrade

SERVICES = ("issuer", "wallet", "verifier")
PUBLIC_URL = "http://127.0.0.1:8000"


def build(service: str, tmp_path: Path) -> FastAPI:
    """The service's app on a fresh SQLite database (the document does not depend on it)."""
    url = f"sqlite:///{tmp_path / service}.db"
    upgrade(service, url)
    config = importlib.import_module(f"{service}.config")
    main = importlib.import_module(f"{service}.main")
    extra: dict[str, Any] = {"batch_workers": 0, "dev": True} if service == "issuer" else {}
    settings = config.Settings(database_url=url, public_url=PUBLIC_URL, data_dir=tmp_path, **extra)
    keystore = Keystore([Kek.from_secret(secrets.token_bytes(32), "test")])
    return main.create_app(settings, keystore=keystore)


def undocumented_answers(document: dict[str, Any]) -> list[str]:
    """The 2xx answers of ``document`` that do not say what comes back: a JSON media type
    with an empty schema, or no content at all (other than 204 No Content)."""
    found = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                where = f"{method.upper()} {path} {status}"
                content = response.get("content") or {}
                if not content and status != "204":
                    found.append(f"{where}: no content described")
                for media, body in content.items():
                    is_json = media == "application/json" or media.endswith("+json")
                    if is_json and not (body or {}).get("schema"):
                        found.append(f"{where}: {media} without a schema")
    return found


def is_included(app: FastAPI, router: APIRouter) -> bool:
    """Whether ``router`` is mounted on ``app``: by reference (FastAPI keeps the included
    router since 0.16x) or, in older versions, by its routes' paths and methods."""
    if any(getattr(route, "original_router", None) is router for route in app.routes):
        return True
    mounted = {
        (route.path, frozenset(getattr(route, "methods", None) or ()))
        for route in app.routes
        if hasattr(route, "path")
    }
    return all(
        (route.path, frozenset(getattr(route, "methods", None) or ())) in mounted
        for route in router.routes
    )


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, FastAPI]:
    return {s: build(s, tmp_path_factory.mktemp(s)) for s in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_every_api_answer_says_what_comes_back(apps: dict[str, FastAPI], service: str) -> None:
    document = apps[service].openapi()
    assert len(document["paths"]) > 10
    assert undocumented_answers(document) == []


def test_the_check_sees_an_undocumented_answer() -> None:
    document = {
        "paths": {
            "/a": {
                "get": {"responses": {"200": {"content": {"application/json": {"schema": {}}}}}}
            },
            "/b": {"post": {"responses": {"201": {"description": "created"}}}},
            "/c": {"post": {"responses": {"204": {"description": "done"}}}},
            "/d": {"get": {"responses": {"200": {"content": {"image/png": {}}}}}},
        }
    }
    assert undocumented_answers(document) == [
        "GET /a 200: application/json without a schema",
        "POST /b 201: no content described",
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_one_shape(apps: dict[str, FastAPI], service: str) -> None:
    app = apps[service]
    routes = importlib.import_module(f"{service}.routes")
    deps = importlib.import_module(f"{service}.deps")
    schemas = importlib.import_module(f"{service}.schemas")
    assert schemas.__doc__

    # the API routers, all of them mounted
    assert isinstance(routes.ROUTERS, tuple) and routes.ROUTERS
    assert all(isinstance(router, APIRouter) for router in routes.ROUTERS)
    for router in routes.ROUTERS:
        assert is_included(app, router)

    # the container on app.state.services, reached through the one alias
    container = app.state.services
    _, marker = get_args(deps.ServicesDep)
    assert isinstance(marker, Depends) and marker.dependency is deps.get_services
    request = Request({"type": "http", "app": app, "headers": [], "method": "GET"})
    answer = deps.get_services(request)
    if hasattr(answer, "__await__"):
        answer.close()  # the verifier's is async; services_of is the same look-up
        answer = deps.services_of(request)
    assert answer is container
