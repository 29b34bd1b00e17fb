"""merge customer and catalogue branches

Revision ID: 8b3dafc60e29
Revises: 5e0a7c93dbf6, 7a2c9eb5fd18
Create Date: 2026-02-20 09:00:00.000000

"""
from typing import Sequence, Union

revision: str = "8b3dafc60e29"
down_revision: Union[str, Sequence[str], None] = ("5e0a7c93dbf6", "7a2c9eb5fd18")
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
