"""Settings from the environment: one loop, one naming rule ``MICROCRED_<SERVICE>_<FIELD>``
for every service, the old names still honoured with a deprecation warning (issue 15)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TypeVar

import pytest

from issuer.config import Settings as IssuerSettings
from servicekit.settings import DeprecatedSettingName, ServiceSettings
from verifier.config import Settings as VerifierSettings
from wallet.config import Settings as WalletSettings

S = TypeVar("S", bound=ServiceSettings)
SERVICES: list[type[ServiceSettings]] = [IssuerSettings, WalletSettings, VerifierSettings]
OLD_NAMES = (
    "DATABASE_URL",
    "MICROCRED_PORT",
    "MICROCRED_PUBLIC_URL",
    "MICROCRED_DEV",
    "MICROCRED_DATA_DIR",
    "MICROCRED_TRUST_REGISTRY",
    "MICROCRED_STRICT_TRUST",
    "MICROCRED_KEEP_FULL_LOG",
    "MICROCRED_REQUESTER_KEYS",
    "MICROCRED_LOG_RETENTION_DAYS",
    "MICROCRED_CLOCK_SKEW",
)


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("MICROCRED_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _quietly(cls: type[S]) -> S:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecatedSettingName)  # a new name never warns
        return cls()


@pytest.mark.parametrize("cls", SERVICES, ids=lambda c: c.service)
def test_every_field_of_every_service_reads_microcred_service_field(
    cls: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    prefix = f"MICROCRED_{cls.service.upper()}_"
    monkeypatch.setenv(prefix + "PUBLIC_URL", f"https://{cls.service}.example/")
    monkeypatch.setenv(prefix + "PORT", "9123")
    monkeypatch.setenv(prefix + "DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(prefix + "MAX_BODY", "4096")  # never read from the environment before
    settings = _quietly(cls)
    assert settings.public_url == f"https://{cls.service}.example"
    assert settings.port == 9123
    assert settings.data_dir == tmp_path / "data"
    assert settings.database_url.startswith("sqlite") and str(tmp_path / "data") in (
        settings.database_url
    )
    assert vars(settings)["max_body"] == 4096


def test_an_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MICROCRED_ISSUER_OFFER_TTL", "120")
    assert _quietly(IssuerSettings).offer_ttl == 120
    assert IssuerSettings(offer_ttl=60).offer_ttl == 60


def test_values_are_read_by_type(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MICROCRED_VERIFIER_STRICT_TRUST", "yes")
    monkeypatch.setenv("MICROCRED_VERIFIER_CLOCK_SKEW", "12.5")
    monkeypatch.setenv("MICROCRED_VERIFIER_TRUST_REGISTRY", str(tmp_path / "r.yaml"))
    monkeypatch.setenv("MICROCRED_VERIFIER_REQUESTER_KEYS", '{"ab12": "Acme BV"}')
    monkeypatch.setenv("MICROCRED_VERIFIER_PAGE_POLICIES", "")  # empty is a choice here
    verifier = _quietly(VerifierSettings)
    assert verifier.strict_trust is True
    assert verifier.clock_skew == 12.5
    assert verifier.trust_registry == tmp_path / "r.yaml"
    assert verifier.requester_keys == {"ab12": "Acme BV"}
    assert verifier.page_policies == ""
    monkeypatch.setenv("MICROCRED_WALLET_KNOWN_ISSUERS", "did:web:a.example, ,did:web:b.example")
    wallet = _quietly(WalletSettings)
    assert wallet.known_issuers == ["did:web:a.example", "did:web:b.example"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("MICROCRED_VERIFIER_STRICT_TRUST", "maybe"),
        ("MICROCRED_VERIFIER_LOG_RETENTION_DAYS", "ninety"),
        ("MICROCRED_VERIFIER_REQUESTER_KEYS", "[1, 2]"),
    ],
)
def test_an_unusable_value_names_its_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        VerifierSettings()


@pytest.mark.parametrize(
    ("old", "new", "value", "field", "expected"),
    [
        ("MICROCRED_PUBLIC_URL", "MICROCRED_VERIFIER_PUBLIC_URL", "https://v.example",
         "public_url", "https://v.example"),
        ("MICROCRED_DEV", "MICROCRED_VERIFIER_DEV", "1", "dev", True),
        ("MICROCRED_PORT", "MICROCRED_VERIFIER_PORT", "9001", "port", 9001),
        ("MICROCRED_TRUST_REGISTRY", "MICROCRED_VERIFIER_TRUST_REGISTRY", "/srv/r.json",
         "trust_registry", Path("/srv/r.json")),
        ("MICROCRED_STRICT_TRUST", "MICROCRED_VERIFIER_STRICT_TRUST", "1", "strict_trust", True),
        ("MICROCRED_LOG_RETENTION_DAYS", "MICROCRED_VERIFIER_LOG_RETENTION_DAYS", "7",
         "log_retention_days", 7),
        ("MICROCRED_CLOCK_SKEW", "MICROCRED_VERIFIER_CLOCK_SKEW", "30", "clock_skew", 30.0),
        ("MICROCRED_KEEP_FULL_LOG", "MICROCRED_VERIFIER_KEEP_FULL_LOG", "1", "keep_full_log",
         True),
        ("MICROCRED_REQUESTER_KEYS", "MICROCRED_VERIFIER_REQUESTER_KEYS", '{"x": "X"}',
         "requester_keys", {"x": "X"}),
    ],
)  # fmt: skip
def test_an_old_name_still_works_with_a_deprecation_warning(
    old: str, new: str, value: str, field: str, expected: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(old, value)
    with pytest.warns(DeprecatedSettingName, match=f"{old} is deprecated; set {new}"):
        settings = VerifierSettings()
    assert getattr(settings, field) == expected


def test_old_database_url_and_data_dir_work_for_every_service(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/shared.db")
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(tmp_path / "old"))
    for cls in SERVICES:
        with pytest.warns(DeprecatedSettingName) as caught:
            settings = cls()
        names = {str(w.message).split()[0] for w in caught}
        assert names == {"DATABASE_URL", "MICROCRED_DATA_DIR"}
        assert settings.database_url.endswith("shared.db")
        assert settings.data_dir == tmp_path / "old"


def test_a_new_name_wins_over_an_old_one_without_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MICROCRED_CLOCK_SKEW", "10")
    monkeypatch.setenv("MICROCRED_VERIFIER_CLOCK_SKEW", "20")
    assert _quietly(VerifierSettings).clock_skew == 20.0


def test_an_https_deployment_is_not_put_in_dev_mode_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MICROCRED_WALLET_PUBLIC_URL", "https://wallet.example")
    monkeypatch.setenv("MICROCRED_WALLET_DEV", "1")
    assert _quietly(WalletSettings).dev is False


@pytest.mark.parametrize("cls", SERVICES, ids=lambda c: c.service)
def test_settings_survive_the_trip_through_the_environment(
    cls: type[ServiceSettings], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """What ``microcred serve --workers N`` relies on: workers rebuild the same settings."""
    original = cls(public_url="https://x.example", data_dir=tmp_path, port=9999)
    for name, value in original.environment().items():
        assert name.startswith(f"MICROCRED_{cls.service.upper()}_")
        monkeypatch.setenv(name, value)
    assert _quietly(cls) == original
    assert not [old for old in OLD_NAMES if old in original.environment()]
