"""The trust registry: a known institution is shown by its registry name, an unknown one is a
warning (a failure under the strict policy), and the file is reloadable."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from credentials.errors import MalformedInput
from credentials.keys import Multikey
from credentials.verify import create_presentation
from tests.verifier.support import microcredential, write_registry
from verifier.cli import app as cli
from verifier.services.trust import TrustRegistry, load_registry, parse_registry, trust_check

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
ADMIN = {"authorization": "Bearer s3cret-admin-token"}


def entry(key: Multikey, name: str = "Hogeschool Rijnland", **extra: Any) -> dict[str, Any]:
    return {"did": key.controller, "name": name, "country": "NL", "accreditation": "NVAO", **extra}


def trust(body: dict[str, Any]) -> dict[str, str]:
    return next(c for c in body["checks"] if c["id"] == "trust")


def verify(client: Any, credential: dict[str, Any]) -> Any:
    return client.post("/credentials/verify", json={"verifiableCredential": credential})


@pytest.fixture
def registry_file(tmp_path: Path, issuer: Multikey) -> Path:
    return write_registry(tmp_path / "registry.yaml", [entry(issuer)])


def test_a_known_institution_is_named_as_the_registry_names_it(
    make_client: Any, registry_file: Path, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(trust_registry=registry_file)
    credential = microcredential(issuer, holder, name="HS Rijnland (self-described)")
    response = verify(client, credential)
    assert response.status_code == 200
    body = response.json()
    assert trust(body)["outcome"] == "passed" and trust(body)["code"] == "trusted"
    assert trust(body)["message"] == "issued by Hogeschool Rijnland (NL), accredited: NVAO"
    summary = body["summary"]
    assert summary["issuerName"] == "Hogeschool Rijnland"
    assert summary["issuerNameSource"] == "trust registry"
    assert summary["issuerNameInCredential"] == "HS Rijnland (self-described)"
    assert summary["trusted"] is True
    assert summary["issuerCountry"] == "NL" and summary["accreditation"] == ["NVAO"]


def test_an_unknown_institution_is_a_warning_by_default(
    make_client: Any, registry_file: Path, holder: Multikey
) -> None:
    client = make_client(trust_registry=registry_file)
    stranger = Multikey.generate()
    response = verify(client, microcredential(stranger, holder, name="Diploma Mill Ltd"))
    assert response.status_code == 200
    body = response.json()
    assert (trust(body)["outcome"], trust(body)["code"]) == ("warning", "untrusted_issuer")
    assert body["warnings"] == [trust(body)]
    assert body["summary"]["trusted"] is False
    assert body["summary"]["issuerName"] == "Diploma Mill Ltd"
    assert body["summary"]["issuerNameSource"].startswith("credential")


def test_an_unknown_institution_fails_under_the_strict_policy(
    make_client: Any, registry_file: Path, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(trust_registry=registry_file, strict_trust=True)
    assert verify(client, microcredential(issuer, holder)).status_code == 200
    response = verify(client, microcredential(Multikey.generate(), holder))
    assert response.status_code == 400
    body = response.json()
    assert {c["id"]: c["code"] for c in body["errors"]} == {"policy": "policy_untrusted_issuer"}
    assert (trust(body)["outcome"], trust(body)["code"]) == ("warning", "untrusted_issuer")
    assert "trusted-issuers-only" in body["errors"][0]["message"]


def test_no_registry_means_every_issuer_is_unknown(
    client: Any, issuer: Multikey, holder: Multikey
) -> None:
    body = verify(client, microcredential(issuer, holder)).json()
    assert trust(body)["code"] == "untrusted_issuer"


def test_accreditation_must_cover_the_issue_date(
    make_client: Any, tmp_path: Path, issuer: Multikey, holder: Multikey
) -> None:
    path = write_registry(tmp_path / "r.json", [entry(issuer, valid_from="2026-01-01")])
    client = make_client(trust_registry=path)
    body = verify(client, microcredential(issuer, holder)).json()  # issued 2025-06-30
    assert (trust(body)["outcome"], trust(body)["code"]) == ("warning", "accreditation_not_valid")
    strict = make_client(trust_registry=path, strict_trust=True)
    assert verify(strict, microcredential(issuer, holder)).status_code == 400


def test_accreditation_ending_after_issuance_does_not_devalue_the_credential(
    make_client: Any, tmp_path: Path, issuer: Multikey, holder: Multikey
) -> None:
    path = write_registry(tmp_path / "r.yaml", [entry(issuer, valid_until="2025-12-31")])
    body = verify(make_client(trust_registry=path), microcredential(issuer, holder)).json()
    assert trust(body)["outcome"] == "passed"


def test_trust_is_reported_per_credential_in_a_presentation(
    make_client: Any, registry_file: Path, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(trust_registry=registry_file)
    stranger = Multikey.generate()
    vp = create_presentation(
        [microcredential(issuer, holder), microcredential(stranger, holder)], holder, challenge="c"
    )
    body = client.post(
        "/presentations/verify", json={"verifiablePresentation": vp, "options": {"challenge": "c"}}
    ).json()
    assert {c["id"]: c["code"] for c in body["warnings"]} == {
        "credential[1].trust": "untrusted_issuer"
    }
    names = [c["issuerName"] for c in body["summary"]["credentials"]]
    assert names == ["Hogeschool Rijnland", "Hogeschool Rijnland"]  # the stranger claims it too
    assert [c["trusted"] for c in body["summary"]["credentials"]] == [True, False]


def test_the_registry_is_listed_publicly(
    make_client: Any, registry_file: Path, issuer: Multikey
) -> None:
    body = make_client(trust_registry=registry_file).get("/trust-registry").json()
    assert body["name"] == "test registry"
    assert body["institutions"][0]["did"] == issuer.controller
    assert body["institutions"][0]["accreditation"] == ["NVAO"]
    assert body["last_error"] is None


# --------------------------------------------------------------------------- reloading


def test_reload_through_the_admin_endpoint(
    make_client: Any, tmp_path: Path, issuer: Multikey, holder: Multikey
) -> None:
    path = write_registry(tmp_path / "r.yaml", [])
    client = make_client(
        trust_registry=path, admin_token="s3cret-admin-token", trust_registry_check_seconds=3600
    )
    assert (
        trust(verify(client, microcredential(issuer, holder)).json())["code"] == "untrusted_issuer"
    )
    write_registry(path, [entry(issuer, name="Hogeschool Rijnland (renamed)")])
    assert client.post("/admin/trust-registry/reload").status_code == 401
    wrong = client.post("/admin/trust-registry/reload", headers={"authorization": "Bearer no"})
    assert wrong.status_code == 401
    reloaded = client.post("/admin/trust-registry/reload", headers=ADMIN)
    assert reloaded.status_code == 200 and reloaded.json()["institutions"] == 1
    body = verify(client, microcredential(issuer, holder)).json()
    assert body["summary"]["issuerName"] == "Hogeschool Rijnland (renamed)"


def test_admin_endpoints_are_off_without_an_admin_token(client: Any) -> None:
    response = client.post("/admin/trust-registry/reload", headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (403, "admin_disabled")


def test_a_broken_file_is_refused_on_reload_and_the_old_registry_stays(
    make_client: Any, registry_file: Path, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(trust_registry=registry_file, admin_token="s3cret-admin-token")
    registry_file.write_text("institutions: [{did: did:web:x.example}]\n")  # no name
    response = client.post("/admin/trust-registry/reload", headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_trust_registry")
    assert "name must be a non-empty string" in response.json()["detail"]
    assert trust(verify(client, microcredential(issuer, holder)).json())["outcome"] == "passed"


def test_the_file_is_reloaded_when_it_changes(
    make_client: Any, registry_file: Path, issuer: Multikey, holder: Multikey
) -> None:
    client = make_client(trust_registry=registry_file, trust_registry_check_seconds=0)
    assert verify(client, microcredential(issuer, holder)).json()["summary"]["trusted"]
    write_registry(registry_file, [])
    stat = registry_file.stat()
    os.utime(registry_file, (stat.st_atime, stat.st_mtime + 10))
    body = verify(client, microcredential(issuer, holder)).json()
    assert trust(body)["code"] == "untrusted_issuer"
    # a broken edit is not picked up: the last good registry stays, the error is visible
    registry_file.write_text("{ not yaml: [")
    os.utime(registry_file, (stat.st_atime, stat.st_mtime + 20))
    listed = client.get("/trust-registry").json()
    assert listed["institutions"] == [] and "not valid YAML" in listed["last_error"]


# --------------------------------------------------------------------------- the file format


def test_the_example_registries_parse() -> None:
    yaml_registry = load_registry(EXAMPLES / "trust-registry.yaml")
    assert len(yaml_registry.institutions) == 4
    delta = yaml_registry.lookup("did:web:unidelta.example")
    assert delta is not None and delta.accreditation == ("NVAO", "erkende instelling")
    assert delta.valid_until == datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC)
    json_registry = load_registry(EXAMPLES / "trust-registry.json")
    assert json_registry.lookup("did:web:hsrijnland.example") is not None


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("a string", "must be a mapping"),
        ({"institutions": {}}, "must be a list"),
        ({"institutions": [], "extra": 1}, "unknown top-level keys: extra"),
        (
            {"institutions": [{"did": "did:web:a", "name": "A", "nmae": "typo"}]},
            "unknown keys nmae",
        ),
        ({"institutions": [{"did": "https://a.example", "name": "A"}]}, "did must be a DID"),
        ({"institutions": [{"did": "did:web:a", "name": ""}]}, "name must be"),
        (
            {"institutions": [{"did": "did:web:a", "name": "A", "accreditation": 5}]},
            "accreditation",
        ),
        ({"institutions": [{"did": "did:web:a", "name": "A", "valid_from": "soon"}]}, "ISO 8601"),
        (
            {
                "institutions": [
                    {
                        "did": "did:web:a",
                        "name": "A",
                        "valid_from": "2025-01-02",
                        "valid_until": "2025-01-01",
                    }
                ]
            },
            "before valid_from",
        ),
        (
            {
                "institutions": [
                    {"did": "did:web:a", "name": "A"},
                    {"did": "did:web:a", "name": "B"},
                ]
            },
            "duplicate DID",
        ),
        ({"institutions": [{"did": "did:web:a", "name": "A", "url": "ftp://a"}]}, "url must be"),
    ],
)
def test_mistakes_in_the_file_are_named(data: Any, fragment: str) -> None:
    with pytest.raises(MalformedInput, match=fragment) as info:
        parse_registry(data)
    assert info.value.code == "invalid_trust_registry"


def test_a_bare_list_is_a_registry() -> None:
    registry = parse_registry([{"did": "did:web:a.example", "name": "A", "country": "nl"}])
    assert registry.lookup("did:web:a.example").country == "NL"  # type: ignore[union-attr]


def test_the_check_outside_http() -> None:
    registry = TrustRegistry()
    unknown = trust_check(registry, None, None, strict=False)
    assert unknown.outcome == "warning" and "(none)" in unknown.message


def test_cli_check_registry(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["check-registry", str(EXAMPLES / "trust-registry.yaml")])
    assert ok.exit_code == 0 and "4 institutions" in ok.output
    assert "Universiteit Delta (NL), accredited: NVAO, erkende instelling" in ok.output
    broken = tmp_path / "broken.json"
    broken.write_text('{"institutions": [{"did": "did:web:a"}]}')
    refused = runner.invoke(cli, ["check-registry", str(broken)])
    assert refused.exit_code == 2
    missing = runner.invoke(cli, ["check-registry", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 2
