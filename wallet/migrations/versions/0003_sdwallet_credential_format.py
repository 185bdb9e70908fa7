"""credential format column, disclosed SD-JWT claims (SD-JWT VC in the wallet, issue 19)

Revision ID: 0003_sdwallet
Revises: 0002_sdcore
Create Date: 2026-12-04 15:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003_sdwallet"
down_revision: str | None = "0002_sdcore"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(
            sa.Column(
                "format",
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default="ldp_vc",
            )
        )
    with op.batch_alter_table("disclosures") as batch:
        batch.add_column(sa.Column("disclosed", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosures") as batch:
        batch.drop_column("disclosed")
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("format")
