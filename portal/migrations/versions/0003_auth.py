"""login bindings and server-side web sessions

Revision ID: 0003_auth
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_auth"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_bindings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iss", sa.String(length=300), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("last_acr", sa.String(length=120), nullable=False),
        sa.Column("login_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"],
                                name=op.f("fk_login_bindings_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_bindings")),
        sa.UniqueConstraint("iss", "sub", name="uq_login_bindings_iss_sub"),
    )
    with op.batch_alter_table("login_bindings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_bindings_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_sessions")),
    )
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_web_sessions_last_seen_at", ["last_seen_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("web_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_web_sessions_last_seen_at")
    op.drop_table("web_sessions")
    with op.batch_alter_table("login_bindings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_bindings_subject_id"))
    op.drop_table("login_bindings")
