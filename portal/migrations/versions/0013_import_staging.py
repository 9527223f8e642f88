"""import staging table: a long import commits in batches and publishes in one short transaction

Revision ID: 0013_import_staging
Revises: 0012_draw_inspections
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_import_staging"
down_revision = "0012_draw_inspections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_staging',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.String(length=32), nullable=False),
    sa.Column('row_no', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_staging'))
    )
    op.create_index('ix_import_staging_import', 'import_staging', ['import_id', 'kind', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_import_staging_import', table_name='import_staging')
    op.drop_table('import_staging')
