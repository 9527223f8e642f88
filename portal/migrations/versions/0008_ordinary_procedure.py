"""credit_records.ordinary_procedure: whether a penalty used the ordinary procedure (湖南 第十四条)

Revision ID: 0008_ordinary_procedure
Revises: 0007_public_summary
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_ordinary_procedure"
down_revision = "0007_public_summary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL for existing rows: the procedure was never recorded, and such penalties keep counting
    # as 失信 (portal.domain.record_rules.counts_as_dishonesty).
    with op.batch_alter_table("credit_records") as batch:
        batch.add_column(sa.Column("ordinary_procedure", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credit_records") as batch:
        batch.drop_column("ordinary_procedure")
