"""grading_exclusions: subjects not taking part in a period's evaluation (湖南 第十八条)

Revision ID: 0009_grading_exclusions
Revises: 0008_ordinary_procedure
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_grading_exclusions"
down_revision = "0008_ordinary_procedure"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grading_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_grading_exclusions_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_exclusions")),
        sa.UniqueConstraint("subject_id", "year", name="uq_grading_exclusions_subject_year"),
    )
    op.create_index(op.f("ix_grading_exclusions_subject_id"), "grading_exclusions", ["subject_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_grading_exclusions_subject_id"), table_name="grading_exclusions")
    op.drop_table("grading_exclusions")
