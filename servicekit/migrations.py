"""Alembic migrations per service, driven from code (no alembic.ini to keep in sync).

Each service keeps its revisions in ``<service>/migrations/versions`` and a two-line
``env.py`` that calls ``run_env``. Services refuse to start on an out-of-date schema and say
which command fixes it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine

from .db import make_engine, normalise_url


class SchemaOutOfDate(RuntimeError):
    pass


def alembic_config(service: str, url: str) -> Config:
    # where the service's package lies, without importing it (servicekit sits below the
    # services and must not import them)
    spec = importlib.util.find_spec(service)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"no service package {service!r}")
    location = Path(next(iter(spec.submodule_search_locations))).resolve() / "migrations"
    config = Config()
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def head_revision(service: str, url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(service, url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def ensure_current(service: str, url: str, engine: Engine | None = None) -> None:
    engine = engine or make_engine(url)
    current = current_revision(engine)
    head = head_revision(service, url)
    if current != head:
        raise SchemaOutOfDate(
            f"the {service} database schema is not up to date (at {current or 'empty'}, "
            f"need {head}); run: microcred migrate {service} --database-url '{url}'"
        )


def run_env(metadata: MetaData) -> None:
    """Body of each service's migrations/env.py."""
    from alembic import context

    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic configuration without sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable, metadata, url)
        return
    engine = make_engine(url)
    with engine.connect() as connection:
        _run(connection, metadata, url)
    engine.dispose()


def _run(connection: Connection, metadata: MetaData, url: str) -> None:
    from alembic import context

    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=url.startswith("sqlite"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
