"""Each service's checked-in migrations build exactly the schema its models declare, and a
service refuses to start on a database that is not migrated."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from servicekit.db import make_engine
from servicekit.migrations import SchemaOutOfDate, ensure_current, upgrade

SERVICES = ["issuer", "wallet", "verifier"]


def _metadata(service: str):  # type: ignore[no-untyped-def]
    models = importlib.import_module(f"{service}.models")
    bases = [
        value
        for value in vars(models).values()
        if isinstance(value, type)
        and hasattr(value, "metadata")
        and value.__name__.endswith("Model")
        and value.__module__ == models.__name__
    ]
    assert bases, f"{service}.models has no <Name>Model base with its own registry"
    return bases[0].metadata


@pytest.mark.parametrize("service", SERVICES)
def test_models_and_migrations_agree(service: str, database_url: str) -> None:
    upgrade(service, database_url)
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, _metadata(service))
    engine.dispose()
    assert diff == [], f"{service}: models and migrations differ: {diff}"


@pytest.mark.parametrize("service", SERVICES)
def test_unmigrated_database_is_refused_with_the_command_to_run(
    service: str, database_url: str
) -> None:
    with pytest.raises(SchemaOutOfDate) as info:
        ensure_current(service, database_url)
    assert f"microcred migrate {service}" in str(info.value)
    upgrade(service, database_url)
    ensure_current(service, database_url)
