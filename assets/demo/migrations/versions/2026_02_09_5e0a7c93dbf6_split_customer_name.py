"""split customer name into given and family name

The old column is copied, then dropped: a downgrade can only rebuild it approximately.

Revision ID: 5e0a7c93dbf6
Revises: 4d9f6b82cae5
Create Date: 2026-02-09 16:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

revision: str = "5e0a7c93dbf6"
down_revision: Union[str, Sequence[str], None] = "4d9f6b82cae5"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("given_name", sa.String(100)))
    op.add_column("customers", sa.Column("family_name", sa.String(100)))
    op.execute(
        "UPDATE customers SET given_name = split_part(name, ' ', 1), "
        "family_name = nullif(substr(name, length(split_part(name, ' ', 1)) + 2), '')"
    )
    op.drop_column("customers", "name")


def downgrade() -> None:
    op.add_column("customers", sa.Column("name", sa.String(200)))
    op.execute("UPDATE customers SET name = concat_ws(' ', given_name, family_name)")
    op.alter_column("customers", "name", nullable=False)
    op.drop_column("customers", "family_name")
    op.drop_column("customers", "given_name")
