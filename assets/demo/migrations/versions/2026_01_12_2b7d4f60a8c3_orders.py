"""orders

Revision ID: 2b7d4f60a8c3
Revises: 1a0c3e5f7b21
Create Date: 2026-01-12 14:03:10.502217

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "2b7d4f60a8c3"
down_revision: Union[str, Sequence[str], None] = "1a0c3e5f7b21"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("total_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("orders")
