"""credit_records.public_summary: an optional text the public pages show instead of the content
(issue #12: a separate public summary at import, 湖南 第四条)

Revision ID: 0007_public_summary
Revises: 0006_case_documents
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_public_summary"
down_revision = "0006_case_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("credit_records") as batch:
        batch.add_column(sa.Column("public_summary", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("credit_records") as batch:
        batch.drop_column("public_summary")
