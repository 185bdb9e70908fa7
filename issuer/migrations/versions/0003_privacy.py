"""privacy: credential ids unique per institution (H-9f); learner refs sealed (H-9d)

Revision ID: 0003_privacy
Revises: 0002
Create Date: 2026-12-04 15:30:00.000000

``issued_credentials.credential_id`` was unique over all institutions, so issuing with an
id another institution had used answered 409: an oracle for that institution's ids. The
constraint becomes (institution, credential id) and the column keeps an ordinary index for
look-ups. Existing rows need no conversion: they are unique globally, so per institution
too. Downgrading fails if two institutions have meanwhile used the same id.

``issued_credentials`` gains ``learner_sealed``: the learner reference sealed under the KEK,
while ``learner_ref`` holds a keyed hash of it (``issuer/services/personal.py``). The
migration cannot convert existing rows (it has no KEK); they are read as they are (plain
``learner_ref``, found by the plain value) and converted by ``microcred issuer
rewrap-keys``, which the upgrade notes tell the operator to run.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_privacy"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD = "uq_issued_credentials_credential_id"
_NEW = "uq_issued_credentials_institution_id"
# SQLite reflects the unnamed constraint of 0001 without a name; the convention names it.
_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_name() -> str:
    # PostgreSQL named 0001's unnamed constraint itself: <table>_<column>_key.
    if op.get_bind().dialect.name == "postgresql":
        return "issued_credentials_credential_id_key"
    return _OLD


def upgrade() -> None:
    old = _old_name()
    with op.batch_alter_table(
        "issued_credentials", schema=None, naming_convention=_CONVENTION
    ) as batch_op:
        batch_op.drop_constraint(old, type_="unique")
        batch_op.create_unique_constraint(_NEW, ["institution_id", "credential_id"])
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_credential_id"), ["credential_id"], unique=False
        )
        batch_op.add_column(sa.Column("learner_sealed", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        "issued_credentials", schema=None, naming_convention=_CONVENTION
    ) as batch_op:
        batch_op.drop_column("learner_sealed")
        batch_op.drop_index(batch_op.f("ix_issued_credentials_credential_id"))
        batch_op.drop_constraint(_NEW, type_="unique")
        batch_op.create_unique_constraint(_old_name(), ["credential_id"])
