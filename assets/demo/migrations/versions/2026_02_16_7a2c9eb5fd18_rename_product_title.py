"""rename products.title to products.name

Revision ID: 7a2c9eb5fd18
Revises: 6f1b8da4ec07
Create Date: 2026-02-16 13:44:02.000000

"""
from typing import Sequence, Union

from alembic import op

revision: str = "7a2c9eb5fd18"
down_revision: Union[str, Sequence[str], None] = "6f1b8da4ec07"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.alter_column("products", "title", new_column_name="name")


def downgrade() -> None:
    op.alter_column("products", "name", new_column_name="title")
