"""orders.content_digest

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 18:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_digest", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("content_digest")
