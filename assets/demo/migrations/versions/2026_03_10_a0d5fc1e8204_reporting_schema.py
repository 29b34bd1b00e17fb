"""reporting schema

A separate branch owned by the analytics team; it reads orders, so it depends on them.

Revision ID: a0d5fc1e8204
Revises:
Create Date: 2026-03-10 12:00:00.000000

"""
from typing import Sequence, Union

from alembic import op

revision: str = "a0d5fc1e8204"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = ("reporting",)
depends_on: Union[str, Sequence[str], None] = "2b7d4f60a8c3"


def upgrade() -> None:
    op.execute("CREATE SCHEMA reporting")


def downgrade() -> None:
    op.execute("DROP SCHEMA reporting")
