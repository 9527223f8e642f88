"""audit chain: version marker per event (0 = unkeyed SHA-256, 1 = HMAC), one-row chain head
that serialises appends, counters for repeated failures

Existing events keep chain_version 0 and verify by the rule they were written with; the head
starts at the current last event.

Revision ID: 0010_audit_keyed_chain
Revises: 0009_grading_exclusions
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_audit_keyed_chain"
down_revision = "0009_grading_exclusions"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("chain_version", sa.SmallInteger(), nullable=False, server_default="0"))
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    conn = op.get_bind()
    count = conn.execute(sa.text("SELECT count(*) FROM audit_events")).scalar_one()
    last = conn.execute(sa.text("SELECT id, hash FROM audit_events ORDER BY id DESC LIMIT 1")).first()
    op.bulk_insert(head, [{"id": 1, "seq": count, "last_id": last[0] if last else 0,
                           "hash": last[1] if last else GENESIS}])
    op.create_table(
        "audit_failure_counts",
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("action", "source", "window_start"),
    )
    op.create_index("ix_audit_failure_counts_window", "audit_failure_counts", ["window_start"])


def downgrade() -> None:
    op.drop_index("ix_audit_failure_counts_window", table_name="audit_failure_counts")
    op.drop_table("audit_failure_counts")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("chain_version")
