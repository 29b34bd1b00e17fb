"""product categories

Revision ID: 6f1b8da4ec07
Revises: 3c8e5a71b9d4
Create Date: 2026-02-10 10:05:31.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "6f1b8da4ec07"
down_revision: Union[str, Sequence[str], None] = "3c8e5a71b9d4"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
    )
    op.add_column("products", sa.Column("category_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_products_category", "products", "categories", ["category_id"], ["id"]
    )


def downgrade() -> None:
    op.drop_constraint("fk_products_category", "products", type_="foreignkey")
    op.drop_column("products", "category_id")
    op.drop_table("categories")
