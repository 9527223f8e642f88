"""reports.public_version + reports.pdf: public credit reports of organisations, one per public
data version and day (services.public_report)

Revision ID: 0015_public_reports
Revises: 0014_case_lookup_code, 0004_authz (the reports table's branch: a merge point, so that
the database's heads and the code's agree, as /readyz checks)
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_public_reports"
down_revision = ("0014_case_lookup_code", "0004_authz")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("public_version", sa.String(length=48), nullable=True))
        batch.add_column(sa.Column("pdf", sa.LargeBinary(), nullable=True))
        batch.create_index("ix_reports_subject_public_version", ["subject_id", "public_version"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_index("ix_reports_subject_public_version")
        batch.drop_column("pdf")
        batch.drop_column("public_version")
