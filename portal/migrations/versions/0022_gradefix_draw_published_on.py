"""draw_items.published_on: the day an inspection result was published (一公开), so a result
published after the draw's deadline stays marked as late (issue 16 双随机、一公开)

Revision ID: 0022_gradefix_draw_published_on
Revises: 0021_lists_supervision
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_gradefix_draw_published_on"
down_revision = "0021_lists_supervision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("draw_items") as batch:
        batch.add_column(sa.Column("published_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("draw_items") as batch:
        batch.drop_column("published_on")
