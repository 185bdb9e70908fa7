"""the verifier's own signing key

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 14:30:00.000000

``verifier_keys`` holds the key that signs OpenID4VP request objects (RFC 9101) for the
verifier's ``decentralized_identifier:`` client identifier; the secret is wrapped under the
KEK. Additive only: a running older instance keeps working while this is applied.
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
    op.create_table(
        "verifier_keys",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("algorithm", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column(
            "public_key_multibase", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False
        ),
        sa.Column("wrapped_secret", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("generation"),
    )


def downgrade() -> None:
    op.drop_table("verifier_keys")
