"""index orders by customer

Revision ID: 3c8e5a71b9d4
Revises: 2b7d4f60a8c3
Create Date: 2026-01-20 08:45:00.000000

"""
from typing import Sequence, Union

from alembic import op

revision: str = "3c8e5a71b9d4"
down_revision: Union[str, Sequence[str], None] = "2b7d4f60a8c3"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Written the quick way: a plain CREATE INDEX blocks writes to orders while it builds.
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_customer_id", table_name="orders")
