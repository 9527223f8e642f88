"""cases.lookup_code_hash: the public progress look-up (修复进度查询) by case number + the code
printed on the applicant's receipt; only the code's hash is stored

Revision ID: 0014_case_lookup_code
Revises: 0013_import_staging
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_case_lookup_code"
down_revision = "0013_import_staging"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("lookup_code_hash", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("lookup_code_hash")
