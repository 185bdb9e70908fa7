"""credential replacement after a key compromise

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00.000000

``issued_credentials`` gains ``replaced_by`` (the re-issued credential) and
``replacement_offer_id`` (the OpenID4VCI offer a wallet collects the replacement through),
and an index on ``key_generation`` so that "everything key N signed" is not a table scan.
Additive only: a running older instance keeps working while this is applied.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("replaced_by", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "replacement_offer_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_replaced_by"), ["replaced_by"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_key_generation"), ["key_generation"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credentials_key_generation"))
        batch_op.drop_index(batch_op.f("ix_issued_credentials_replaced_by"))
        batch_op.drop_column("replacement_offer_id")
        batch_op.drop_column("replaced_by")
