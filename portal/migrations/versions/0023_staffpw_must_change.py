"""Staff accounts whose password someone else set (an administrator's reset, the generated first
password) must choose their own before anything else (issue 14)

Revision ID: 0023_staffpw_must_change
Revises: 0022_gradefix_draw_published_on
"""
import sqlalchemy as sa
from alembic import op

revision = "0023_staffpw_must_change"
down_revision = "0022_gradefix_draw_published_on"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("must_change_password")
