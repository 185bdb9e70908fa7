"""Helpers for the issuer tests: settings and apps, institutions, samples, assertions.

The fixtures are in ``conftest.py``; these helpers are importable from anywhere (the
interop tests build an issuer with ``build_app``, without this directory's fixtures).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from credentials.keystore import Kek, Keystore
from credentials.microcredential import Learner
from credentials.setup import default_verifier
from credentials.verify import Verifier
from issuer.config import Settings
from issuer.main import create_app
from issuer.models import IssuerModel
from issuer.services import institutions
from microcred.samples import HBO, sample_credential
from microcred.samples import module_spec as module_spec  # shared with bench/
from servicekit.migrations import upgrade


class Clock:
    """A clock tests move by hand (never sleep)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Institution:
    slug: str
    did: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def path(self, suffix: str = "") -> str:
        return f"/institutions/{self.slug}{suffix}"


def issuer_settings(database_url: str, port: int, data_dir: Path) -> Settings:
    """Settings for an issuer that a live server on ``port`` would serve."""
    return Settings(
        database_url=database_url,
        public_url=f"http://127.0.0.1:{port}",
        port=port,
        dev=True,
        data_dir=data_dir,
        batch_workers=0,
        admin_token="operator-secret",
    )


def build_app(database_url: str, port: int, data_dir: Path) -> Any:
    """A migrated issuer app with a random KEK (for tests outside this directory)."""
    upgrade("issuer", database_url)
    keystore = Keystore([Kek.from_secret(secrets.token_bytes(32))])
    return create_app(issuer_settings(database_url, port, data_dir), keystore=keystore)


def make_institution(app: Any, slug: str = "hsr", **kwargs: Any) -> Institution:
    kwargs.setdefault("name", "Hogeschool Rijnland")
    kwargs.setdefault("region", "Zuid-Holland")
    kwargs.setdefault("identifiers", {"BRIN": "99HR"})
    created = institutions.create(app.state.issuer, slug=slug, **kwargs)
    return Institution(slug=slug, did=created.did, token=created.token)


def unsigned_badge(
    issuer: str | dict[str, Any] | None,
    holder: str = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
) -> dict[str, Any]:
    """A complete microcredential as a student information system would send it (no id)."""
    credential = sample_credential(
        issuer=replace(HBO, id=issuer if isinstance(issuer, str) else "did:web:placeholder"),
        learner=Learner(did=holder, identity="jan@example.nl"),
    )
    del credential["id"]
    if issuer is None:
        del credential["issuer"]
    elif isinstance(issuer, dict):
        credential["issuer"] = issuer
    return credential


def snapshot(app: Any) -> dict[str, int]:
    """Row counts of every issuer table: "nothing changed" is this staying equal."""
    ctx = app.state.issuer
    counts = {}
    with ctx.db.engine.connect() as connection:
        for table in IssuerModel.metadata.sorted_tables:
            counts[table.name] = connection.execute(
                select(func.count()).select_from(table)
            ).scalar_one()
    return counts


def verifier() -> Verifier:
    """The project's default verifier, allowed to fetch did:web and status lists over http
    from loopback (the live test server); a fresh status cache each time."""
    return default_verifier(allow_insecure=True)


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem answer with ``code``; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert body["status"] == status and body["title"] and body["type"].endswith(code)
    return body
