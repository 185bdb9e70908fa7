"""Alembic environment of the wallet: the shared runner over the wallet's own metadata."""

from servicekit.migrations import run_env
from wallet.models import WalletModel

run_env(WalletModel.metadata)
