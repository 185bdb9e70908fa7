"""verification log rows written exactly once

Revision ID: 0003_log_row_key
Revises: 0002
Create Date: 2026-12-04 17:40:00.000000

Each log row gets a random ``row_key`` when it is queued; the writer inserts with "on
conflict do nothing" on it. A batch whose commit reached the database while the
connection broke (the writer cannot tell) is retried without writing its rows twice.
Nullable: rows written before this revision have none. Additive only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_log_row_key"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("verification_log") as batch:
        batch.add_column(
            sa.Column("row_key", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
        batch.create_index("ix_verification_log_row_key", ["row_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("verification_log") as batch:
        batch.drop_index("ix_verification_log_row_key")
        batch.drop_column("row_key")
