"""daily sales view

Revision ID: b1e6ad2f9315
Revises: a0d5fc1e8204
Create Date: 2026-03-16 17:25:00.000000

"""
from typing import Sequence, Union

from alembic import op

revision: str = "b1e6ad2f9315"
down_revision: Union[str, Sequence[str], None] = "a0d5fc1e8204"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.execute(
        """
        CREATE VIEW reporting.daily_sales AS
        SELECT date_trunc('day', created_at) AS day, count(*) AS orders, sum(total_cents) AS cents
        FROM public.orders
        GROUP BY 1
        """
    )


def downgrade() -> None:
    op.execute("DROP VIEW reporting.daily_sales")
