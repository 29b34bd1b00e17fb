"""initial schema: customers, products, coupons

Revision ID: 1a0c3e5f7b21
Revises:
Create Date: 2026-01-05 09:12:44.120311

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "1a0c3e5f7b21"
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
    )
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
    )
    op.create_table(
        "coupons",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("percent_off", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("coupons")
    op.drop_table("products")
    op.drop_table("customers")
