"""topsearch: per-subject daily counts of facility pages opened from a search result (issue 15,
"top searched facilities"); no search terms, nothing about the visitor

Revision ID: 0026_topsearch_search_open_days
Revises: 0025_commend_public_notices
Create Date: 2026-12-04 23:55:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0026_topsearch_search_open_days'
down_revision = '0025_commend_public_notices'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('facility_search_open_days',
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.PrimaryKeyConstraint('subject_id', 'day')
    )


def downgrade() -> None:
    op.drop_table('facility_search_open_days')
