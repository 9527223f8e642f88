"""subjects.public_stamp (pages cached per subject across unrelated public changes), index_jobs.seq
(the index outbox as a commit-ordered log) and index_cursors (one per search node that follows it)

Revision ID: 0020_multinode_stamps_cursors
Revises: 0019_citizens_plate_grade
"""
import sqlalchemy as sa
from alembic import op

revision = "0020_multinode_stamps_cursors"
down_revision = "0019_citizens_plate_grade"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("subjects") as batch:
        batch.add_column(sa.Column("public_stamp", sa.String(length=16), nullable=True))
    with op.batch_alter_table("index_jobs") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
    op.execute("UPDATE index_jobs SET seq = id")
    op.create_index("ix_index_jobs_seq", "index_jobs", ["seq"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE index_log_seq")
        op.execute("SELECT setval('index_log_seq', (SELECT coalesce(max(id), 0) + 1 FROM index_jobs), false)")
    op.create_table(
        "index_cursors",
        sa.Column("node", sa.String(length=64), primary_key=True),
        sa.Column("position", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("index_cursors")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE index_log_seq")
    op.drop_index("ix_index_jobs_seq", table_name="index_jobs")
    with op.batch_alter_table("index_jobs") as batch:
        batch.drop_column("seq")
    with op.batch_alter_table("subjects") as batch:
        batch.drop_column("public_stamp")
