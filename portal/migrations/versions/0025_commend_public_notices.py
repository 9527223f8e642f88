"""commend: public notices of commendation and typical cases with their links, and the subjects a
notify contact asked to be told about (issue 16)

Revision ID: 0025_commend_public_notices
Revises: 0024_api_clients (rechained after merging main)
Create Date: 2026-12-04 23:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0025_commend_public_notices'
down_revision = '0024_api_clients'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('public_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('region_code', sa.String(length=6), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('published_by', sa.String(length=120), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_by', sa.String(length=120), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdraw_reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number')
    )
    op.create_index(op.f('ix_public_notices_state'), 'public_notices', ['state'], unique=False)
    op.create_table('public_notice_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=10), nullable=False),
    sa.Column('ref', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['notice_id'], ['public_notices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('notice_id', 'target', 'ref', name='uq_public_notice_links')
    )
    op.create_index(op.f('ix_public_notice_links_notice_id'), 'public_notice_links', ['notice_id'], unique=False)
    op.create_table('notify_contact_subjects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['notify_contacts.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('contact_id', 'subject_id', name='uq_notify_contact_subjects')
    )
    op.create_index(op.f('ix_notify_contact_subjects_contact_id'), 'notify_contact_subjects', ['contact_id'], unique=False)
    op.create_index(op.f('ix_notify_contact_subjects_subject_id'), 'notify_contact_subjects', ['subject_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notify_contact_subjects_subject_id'), table_name='notify_contact_subjects')
    op.drop_index(op.f('ix_notify_contact_subjects_contact_id'), table_name='notify_contact_subjects')
    op.drop_table('notify_contact_subjects')
    op.drop_index(op.f('ix_public_notice_links_notice_id'), table_name='public_notice_links')
    op.drop_table('public_notice_links')
    op.drop_index(op.f('ix_public_notices_state'), table_name='public_notices')
    op.drop_table('public_notices')
