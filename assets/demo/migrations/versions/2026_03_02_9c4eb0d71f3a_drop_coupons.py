"""drop the unused coupons table

Revision ID: 9c4eb0d71f3a
Revises: 8b3dafc60e29
Create Date: 2026-03-02 15:10:45.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "9c4eb0d71f3a"
down_revision: Union[str, Sequence[str], None] = "8b3dafc60e29"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.drop_table("coupons")


def downgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("percent_off", sa.Integer(), nullable=False),
    )
