"""subjects.public_changed_at and the global version's time: a subject page's "数据更新时间" is
its own data's last change (a change scoped to it, or one not scoped to any subject), not the
last change anywhere, so a page kept across another subject's change is still right

Revision ID: 0027_feedfix_subject_changed_at
Revises: 0026_topsearch_search_open_days
"""
import sqlalchemy as sa
from alembic import op

revision = "0027_feedfix_subject_changed_at"
down_revision = "0026_topsearch_search_open_days"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(sa.Column("public_changed_at", sa.DateTime(), nullable=True))
    # The scoped changes made before now left no time: every page keeps the time it showed until
    # now (the last change anywhere) until its own data or the global version changes.
    op.execute("INSERT INTO portal_state (key, value) SELECT 'public_version_global_at', value "
               "FROM portal_state WHERE key = 'public_version_at'")


def downgrade() -> None:
    op.execute("DELETE FROM portal_state WHERE key = 'public_version_global_at'")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_column("public_changed_at")
