"""recognition routes and cases (issue 17: asking an institution for recognition)

Revision ID: 0004_recognition
Revises: 0003_sdwallet
Create Date: 2026-12-04 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004_recognition"
down_revision: str | None = "0003_sdwallet"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STR = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "recognition_routes",
        sa.Column("route_row_id", _STR(length=36), nullable=False),
        sa.Column("learner_id", _STR(length=36), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("recognition_endpoint", sa.Text(), nullable=False),
        sa.Column("institution_name", sa.Text(), nullable=False),
        sa.Column("institution_id", sa.Text(), nullable=True),
        sa.Column("kind", _STR(length=20), nullable=False),
        sa.Column("award", sa.JSON(), nullable=False),
        sa.Column("fetched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["route_row_id"], ["learner_routes.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("route_row_id"),
    )
    op.create_index(
        "ix_recognition_routes_learner_id", "recognition_routes", ["learner_id"], unique=False
    )
    op.create_table(
        "recognition_cases",
        sa.Column("id", _STR(length=36), nullable=False),
        sa.Column("learner_id", _STR(length=36), nullable=False),
        sa.Column("route_row_id", _STR(length=36), nullable=True),
        sa.Column("route_name", sa.Text(), nullable=False),
        sa.Column("institution_name", sa.Text(), nullable=False),
        sa.Column("case_uri", sa.Text(), nullable=False),
        sa.Column("authorization_request", sa.Text(), nullable=False),
        sa.Column("response_uri", sa.Text(), nullable=False),
        sa.Column("state", _STR(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("credential_offer_uri", sa.Text(), nullable=True),
        sa.Column("credential_id", _STR(length=36), nullable=True),
        sa.Column("collect_error", _STR(length=100), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_recognition_cases_learner_id", "recognition_cases", ["learner_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_recognition_cases_learner_id", table_name="recognition_cases")
    op.drop_table("recognition_cases")
    op.drop_index("ix_recognition_routes_learner_id", table_name="recognition_routes")
    op.drop_table("recognition_routes")
