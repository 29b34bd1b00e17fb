"""index orders by creation date, without blocking writes

Revision ID: c2f7be3a0426
Revises: 9c4eb0d71f3a
Create Date: 2026-03-09 07:55:00.000000

"""
from typing import Sequence, Union

from alembic import op

revision: str = "c2f7be3a0426"
down_revision: Union[str, Sequence[str], None] = "9c4eb0d71f3a"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.create_index(
            "ix_orders_created_at", "orders", ["created_at"], postgresql_concurrently=True
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(
            "ix_orders_created_at", table_name="orders", postgresql_concurrently=True
        )
