"""notify_contacts + notice_outbox: notices sent outside the portal by e-mail or SMS, each once,
with an opt-out (issue 14)

Revision ID: 0016_subjectws_notify
Revises: 0015_public_reports
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_subjectws_notify"
down_revision = "0015_public_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_contacts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("iss", sa.String(length=300), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("email_enc", sa.Text(), nullable=False),
        sa.Column("phone_enc", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("iss", "sub", name="uq_notify_contacts_login"),
    )
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notifications.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("notify_contacts.id"), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("notification_id", "channel", name="uq_notice_outbox_once"),
    )
    op.create_index("ix_notice_outbox_notification_id", "notice_outbox", ["notification_id"])
    op.create_index("ix_notice_outbox_state", "notice_outbox", ["state"])


def downgrade() -> None:
    op.drop_index("ix_notice_outbox_state", table_name="notice_outbox")
    op.drop_index("ix_notice_outbox_notification_id", table_name="notice_outbox")
    op.drop_table("notice_outbox")
    op.drop_table("notify_contacts")
