"""grading_cycles + grading_results + grades.formal_on: the grading cycle, a preliminary result
(初评) with an objection window before the formal one (湖南医保 第十六、十九条; 湖南 第十八条;
阳山 四（三）)

Revision ID: 0017_grading_cycle
Revises: 0015_public_reports
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_grading_cycle"
down_revision = "0016_subjectws_notify"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grading_cycles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("generated_on", sa.Date(), nullable=False),
        sa.Column("objection_until", sa.Date(), nullable=False),
        sa.Column("publish_by", sa.Date(), nullable=True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("formal_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_cycles")),
        sa.UniqueConstraint("key", name=op.f("uq_grading_cycles_key")),
    )
    op.create_table(
        "grading_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("letter", sa.String(length=2), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("objection_until", sa.Date(), nullable=False),
        sa.Column("previous_letter", sa.String(length=2), nullable=False),
        sa.Column("formal_on", sa.Date(), nullable=True),
        sa.Column("objection_statement", sa.Text(), nullable=False),
        sa.Column("objection_filed_on", sa.Date(), nullable=True),
        sa.Column("objection_filed_by", sa.String(length=120), nullable=False),
        sa.Column("objection_due_on", sa.Date(), nullable=True),
        sa.Column("objection_outcome", sa.String(length=12), nullable=False),
        sa.Column("objection_reason", sa.Text(), nullable=False),
        sa.Column("objection_decided_by", sa.String(length=120), nullable=False),
        sa.Column("objection_decided_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["cycle_id"], ["grading_cycles.id"],
                                name=op.f("fk_grading_results_cycle_id_grading_cycles")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_grading_results_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grading_results")),
        sa.UniqueConstraint("cycle_id", "subject_id", name="uq_grading_results_cycle_subject"),
    )
    op.create_index(op.f("ix_grading_results_cycle_id"), "grading_results", ["cycle_id"], unique=False)
    op.create_index(op.f("ix_grading_results_subject_id"), "grading_results", ["subject_id"], unique=False)
    with op.batch_alter_table("grades") as batch:
        batch.add_column(sa.Column("formal_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("grades") as batch:
        batch.drop_column("formal_on")
    op.drop_index(op.f("ix_grading_results_subject_id"), table_name="grading_results")
    op.drop_index(op.f("ix_grading_results_cycle_id"), table_name="grading_results")
    op.drop_table("grading_results")
    op.drop_table("grading_cycles")
