"""loyalty points for customers

Revision ID: 4d9f6b82cae5
Revises: 3c8e5a71b9d4
Create Date: 2026-02-02 11:30:12.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "4d9f6b82cae5"
down_revision: Union[str, Sequence[str], None] = "3c8e5a71b9d4"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("loyalty_points", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("customers", "loyalty_points")
