"""written authorisations and credit reports

Revision ID: 0004_authz
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_authz"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "authorisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grantor_subject_id", sa.Integer(), nullable=False),
        sa.Column("grantee_kind", sa.String(length=10), nullable=False),
        sa.Column("grantee_hash", sa.String(length=64), nullable=False),
        sa.Column("grantee_name", sa.String(length=200), nullable=False),
        sa.Column("grantee_masked", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("info_classes", sa.JSON(), nullable=False),
        sa.Column("include_non_public", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["grantor_subject_id"], ["subjects.id"],
                                name=op.f("fk_authorisations_grantor_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorisations")),
    )
    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_authorisations_grantor_subject_id"), ["grantor_subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_authorisations_grantee_hash"), ["grantee_hash"], unique=False)
        batch_op.create_index("ix_authorisations_grantee_valid", ["grantee_hash", "valid_until"], unique=False)

    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_no", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("requester_name", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("authorisation_id", sa.Integer(), nullable=True),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("verify_token", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["authorisation_id"], ["authorisations.id"],
                                name=op.f("fk_reports_authorisation_id_authorisations")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_reports_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("report_no", name=op.f("uq_reports_report_no")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_subject_id"), ["subject_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reports_subject_id"))
    op.drop_table("reports")
    with op.batch_alter_table("authorisations", schema=None) as batch_op:
        batch_op.drop_index("ix_authorisations_grantee_valid")
        batch_op.drop_index(batch_op.f("ix_authorisations_grantee_hash"))
        batch_op.drop_index(batch_op.f("ix_authorisations_grantor_subject_id"))
    op.drop_table("authorisations")
