"""The providers' workspace: record drafts awaiting 审核, uploaded files awaiting confirmation,
the channel of a providing unit and of a record (海南 第二十二条)

Revision ID: 0018_provider_workspace
Revises: 0017_grading_cycle
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_provider_workspace"
down_revision = "0017_grading_cycle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("authority", sa.String(length=120), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("payload_cipher", sa.Text(), nullable=False),
        sa.Column("drafted_by", sa.String(length=80), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_note", sa.String(length=300), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_record_drafts_authority_state", "record_drafts", ["authority", "state"])
    op.create_table(
        "provider_uploads",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=80), nullable=False),
        sa.Column("authority", sa.String(length=120), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("confirmed_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("credit_records") as batch:
        batch.add_column(sa.Column("source_channel", sa.String(length=20), nullable=False, server_default=""))
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("channel", sa.String(length=20), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("channel")
    with op.batch_alter_table("credit_records") as batch:
        batch.drop_column("source_channel")
    op.drop_table("provider_uploads")
    op.drop_index("ix_record_drafts_authority_state", table_name="record_drafts")
    op.drop_table("record_drafts")
