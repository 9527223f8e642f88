"""case documents (PDFs with verification), requests for more material, the applicant's identity

Revision ID: 0006_case_documents
Revises: 0005_cases
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_case_documents"
down_revision = "0005_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("record_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("applicant_via", sa.String(length=20), nullable=False, server_default=""))
        batch.add_column(sa.Column("applicant_acr", sa.String(length=100), nullable=False, server_default=""))
        batch.add_column(sa.Column("materials_requested_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("materials_request", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=12), nullable=False, server_default="filing"))
    op.create_table('case_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_no', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('issued_by', sa.String(length=120), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('verify_token', sa.String(length=32), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_documents_case_id_cases')),
    sa.ForeignKeyConstraint(['event_id'], ['case_events.id'], name=op.f('fk_case_documents_event_id_case_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_documents')),
    sa.UniqueConstraint('doc_no', name=op.f('uq_case_documents_doc_no'))
    )
    op.create_index(op.f('ix_case_documents_case_id'), 'case_documents', ['case_id'], unique=False)
    op.create_index('ix_case_documents_case_kind_event', 'case_documents', ['case_id', 'kind', 'event_id'],
                    unique=True)


def downgrade() -> None:
    op.drop_index('ix_case_documents_case_kind_event', table_name='case_documents')
    op.drop_index(op.f('ix_case_documents_case_id'), table_name='case_documents')
    op.drop_table('case_documents')
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("stage")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("materials_request")
        batch.drop_column("materials_requested_on")
        batch.drop_column("applicant_acr")
        batch.drop_column("applicant_via")
        batch.drop_column("record_id")
