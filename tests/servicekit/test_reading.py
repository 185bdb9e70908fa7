"""Reading a request: one bearer parser, one JSON-body reader, one form reader for the
three services (issue 15: three, three and four copies before)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from servicekit.app import create_app
from servicekit.reading import bool_field, form_fields, json_body, request_bearer
from servicekit.tokens import bearer_token


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("BEARER abc", "abc"),
        ("Bearer ", None),
        ("Basic abc", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def _app() -> FastAPI:
    app = create_app("reading test")

    @app.post("/any")
    async def any_json(request: Request) -> dict[str, Any]:
        return {"value": await json_body(request, max_bytes=100)}

    @app.post("/typed")
    async def typed(request: Request) -> dict[str, Any]:
        return {"value": await json_body(request, require_json_type=True)}

    @app.post("/object")
    async def obj(request: Request) -> dict[str, Any]:
        data = await json_body(request, want_object=True)
        return {"flag": bool_field(data, "flag")}

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        return {"fields": await form_fields(request), "token": request_bearer(request)}

    return app


@pytest.fixture
def client() -> TestClient:
    return TestClient(_app())


def _code(answer: Any) -> tuple[int, str]:
    return answer.status_code, answer.json().get("code")


def test_json_bodies(client: TestClient) -> None:
    assert client.post("/any", content=b"[1, 2]").json() == {"value": [1, 2]}
    assert _code(client.post("/any", content=b"{oops")) == (400, "invalid_json")
    assert _code(client.post("/any", content=b'{"a": 1, "a": 2}')) == (400, "duplicate_key")
    assert _code(client.post("/any", content=b"NaN")) == (400, "invalid_json")
    assert client.post("/any", content=b"[" + b"1," * 60 + b"1]").status_code == 400  # size
    typed = client.post("/typed", content=b"{}", headers={"content-type": "text/plain"})
    assert _code(typed) == (415, "unsupported_media_type")
    as_json = {"content-type": "application/ld+json; charset=utf-8"}
    assert client.post("/typed", content=b"{}", headers=as_json).json() == {"value": {}}


def test_objects_and_flags(client: TestClient) -> None:
    assert client.post("/object", json={"flag": True}).json() == {"flag": True}
    assert client.post("/object", json={}).json() == {"flag": False}
    assert _code(client.post("/object", content=b"")) == (400, "invalid_json")
    assert _code(client.post("/object", json=[1])) == (400, "invalid_json")
    assert _code(client.post("/object", json={"flag": "yes"})) == (400, "validation_error")


def test_form_fields_are_the_text_fields(client: TestClient) -> None:
    answer = client.post(
        "/form",
        data={"a": "1", "b": "2"},
        files={"upload": ("x.txt", b"file content", "text/plain")},
        headers={"Authorization": "Bearer tok"},
    )
    assert answer.json() == {"fields": {"a": "1", "b": "2"}, "token": "tok"}
