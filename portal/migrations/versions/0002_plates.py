"""QR identity plates and their daily scan counts

Revision ID: 0002_plates
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_plates"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "plates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plate_no", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=24), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=20), nullable=False),
        sa.Column("revoked_note", sa.String(length=200), nullable=False),
        sa.Column("replaced_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("qr_url", sa.String(length=300), nullable=False),
        sa.Column("qr_modules", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["replaced_by_id"], ["plates.id"], name=op.f("fk_plates_replaced_by_id_plates")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_plates_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plates")),
        sa.UniqueConstraint("plate_no", name=op.f("uq_plates_plate_no")),
        sa.UniqueConstraint("token", name=op.f("uq_plates_token")),
    )
    with op.batch_alter_table("plates", schema=None) as batch_op:
        batch_op.create_index("ix_plates_subject_status", ["subject_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_plates_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "plate_scan_days",
        sa.Column("plate_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plate_id"], ["plates.id"], name=op.f("fk_plate_scan_days_plate_id_plates")),
        sa.PrimaryKeyConstraint("plate_id", "day", name=op.f("pk_plate_scan_days")),
    )


def downgrade() -> None:
    op.drop_table("plate_scan_days")
    with op.batch_alter_table("plates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plates_subject_id"))
        batch_op.drop_index("ix_plates_subject_status")
    op.drop_table("plates")
