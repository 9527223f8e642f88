"""draws: 双随机、一公开 draws by credit grade, drawn units with inspection results, the inspector
pool and its 回避 list (阳山 四（四）; 湖南 第二十、二十一、二十三条; 海南 第三十二条; 湖南医保 第二十条)

Revision ID: 0012_draw_inspections
Revises: 0011_login_throttle
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_draw_inspections"
down_revision = "0011_login_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("algorithm", sa.String(length=40), nullable=False),
        sa.Column("seed_sha256", sa.String(length=64), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("ratios", sa.JSON(), nullable=False),
        sa.Column("population", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("announced_at", sa.DateTime(), nullable=False),
        sa.Column("announced_by", sa.String(length=80), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=True),
        sa.Column("drawn_on", sa.Date(), nullable=True),
        sa.Column("publish_results_by", sa.Date(), nullable=True),
        sa.Column("drawn_by", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draws")),
        sa.UniqueConstraint("number", name=op.f("uq_draws_number")),
    )
    op.create_table(
        "draw_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draw_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stratum", sa.String(length=12), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("inspectors", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("inspected_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["draw_id"], ["draws.id"], name=op.f("fk_draw_items_draw_id_draws")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_draw_items_subject_id_subjects")),
        sa.ForeignKeyConstraint(["record_id"], ["credit_records.id"], name=op.f("fk_draw_items_record_id_credit_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_items")),
        sa.UniqueConstraint("draw_id", "subject_id", name="uq_draw_items_draw_subject"),
    )
    op.create_index(op.f("ix_draw_items_draw_id"), "draw_items", ["draw_id"], unique=False)
    op.create_index(op.f("ix_draw_items_subject_id"), "draw_items", ["subject_id"], unique=False)
    op.create_table(
        "draw_inspectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"], name=op.f("fk_draw_inspectors_staff_user_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_inspectors")),
        sa.UniqueConstraint("staff_user_id", name=op.f("uq_draw_inspectors_staff_user_id")),
    )
    op.create_table(
        "draw_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"], name=op.f("fk_draw_conflicts_staff_user_id_staff_users")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_draw_conflicts_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draw_conflicts")),
    )
    op.create_index(op.f("ix_draw_conflicts_staff_user_id"), "draw_conflicts", ["staff_user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_draw_conflicts_staff_user_id"), table_name="draw_conflicts")
    op.drop_table("draw_conflicts")
    op.drop_table("draw_inspectors")
    op.drop_index(op.f("ix_draw_items_subject_id"), table_name="draw_items")
    op.drop_index(op.f("ix_draw_items_draw_id"), table_name="draw_items")
    op.drop_table("draw_items")
    op.drop_table("draws")
