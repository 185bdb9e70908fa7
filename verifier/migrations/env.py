"""Alembic environment of the verifier: its own tables only (see servicekit.migrations)."""

from servicekit.migrations import run_env
from verifier.models import VerifierModel

run_env(VerifierModel.metadata)
