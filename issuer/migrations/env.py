"""Alembic environment of the issuer: its own metadata only (see servicekit.migrations)."""

from issuer.models import IssuerModel
from servicekit.migrations import run_env

run_env(IssuerModel.metadata)
