"""shares and disclosures: which selectively disclosable fields went along (issue 18)

Revision ID: 0002_sdcore
Revises: 0001
Create Date: 2026-12-04 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_sdcore"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shares") as batch:
        batch.add_column(sa.Column("disclosure", sa.JSON(), nullable=True))
    with op.batch_alter_table("disclosures") as batch:
        batch.add_column(sa.Column("fields", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosures") as batch:
        batch.drop_column("fields")
    with op.batch_alter_table("shares") as batch:
        batch.drop_column("disclosure")
