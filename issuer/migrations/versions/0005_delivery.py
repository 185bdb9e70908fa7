"""delivery: cohort deliveries (one offer per learner, mailed) and module badge images

Revision ID: 0005_delivery
Revises: 0004_recognition
Create Date: 2026-12-04 17:20:00.000000

``deliveries`` records, per row of a cohort upload, the OpenID4VCI offer made for that
learner and what became of the e-mail (sent, not sent and why, opened, cancelled).
``module_images`` holds a module's badge image, re-encoded on upload, one per module.
``issued_credentials.learner_alt_ref`` is the keyed hash of the e-mail address next to a
student number, so the issued list finds a credential by either; rows issued before stay
findable by their ``learner_ref`` only. New tables and a nullable column: upgrading
converts nothing, downgrading drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005_delivery"
down_revision: str | None = "0004_recognition"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("institution_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cohort_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("mailed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("mail_error", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("opened_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["institution_id"], ["institutions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        for column in ("cohort_id", "created_at", "institution_id", "module_id", "offer_id"):
            batch_op.create_index(batch_op.f(f"ix_deliveries_{column}"), [column], unique=False)

    op.create_table(
        "module_images",
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["module_id"], ["modules.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("module_id"),
    )

    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "learner_alt_ref", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True
            )
        )
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_learner_alt_ref"), ["learner_alt_ref"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credentials_learner_alt_ref"))
        batch_op.drop_column("learner_alt_ref")
    op.drop_table("module_images")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        for column in ("offer_id", "module_id", "institution_id", "created_at", "cohort_id"):
            batch_op.drop_index(batch_op.f(f"ix_deliveries_{column}"))
    op.drop_table("deliveries")
