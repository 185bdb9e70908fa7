"""The shared app shell: problem details, body limits, security headers, rate limits."""

from __future__ import annotations

from fastapi import Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel

from servicekit.app import create_app
from servicekit.problems import ProblemError
from servicekit.ratelimit import RateLimiter, limit


class Body(BaseModel):
    name: str
    ects: float


def make_client() -> TestClient:
    app = create_app("test", max_body=1000, body_limits={"/upload": 5000})
    limiter = RateLimiter(clock=lambda: 1_000_000.0)  # counts, not speed

    @app.post("/items")
    def items(body: Body) -> dict:
        return {"ok": body.name}

    @app.post("/upload")
    def upload(body: dict) -> dict:
        return {"size": len(str(body))}

    @app.get("/teapot")
    def teapot() -> None:
        raise ProblemError(418, "teapot", "short and stout")

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("secret internals")

    @app.get("/limited", dependencies=[Depends(limit(limiter, "t", 2, 60))])
    def limited() -> dict:
        return {}

    return TestClient(app, raise_server_exceptions=False)


def test_validation_errors_are_problem_details_naming_the_field() -> None:
    response = make_client().post("/items", json={"name": "x", "ects": "lots"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["field"] == "ects"


def test_malformed_json_is_a_4xx_problem() -> None:
    response = make_client().post(
        "/items", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["status"] == 422


def test_body_limits_default_and_per_route() -> None:
    client = make_client()
    big = {"name": "x" * 2000, "ects": 1}
    response = client.post("/items", json=big)
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert client.post("/upload", json={"a": "x" * 2000}).status_code == 200
    assert client.post("/upload", json={"a": "x" * 6000}).status_code == 413


def test_body_limit_without_content_length() -> None:
    client = make_client()

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 500

    response = client.post("/items", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_problem_error_and_unexpected_errors() -> None:
    client = make_client()
    teapot = client.get("/teapot").json()
    assert teapot == {
        "type": "https://w3id.org/microcred/problems#teapot",
        "title": "Error",
        "status": 418,
        "detail": "short and stout",
        "code": "teapot",
    }
    crash = client.get("/crash")
    assert crash.status_code == 500
    assert "secret internals" not in crash.text


def test_unknown_route_is_a_404_problem() -> None:
    response = make_client().get("/nowhere")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_security_headers() -> None:
    headers = make_client().get("/healthz").headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


def test_rate_limit_answers_429_with_retry_after() -> None:
    client = make_client()
    assert client.get("/limited").status_code == 200
    assert client.get("/limited").status_code == 200
    response = client.get("/limited")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
