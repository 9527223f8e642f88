"""api_clients, api_tokens, api_idempotency: the government sharing API's registered clients,
issued tokens and idempotency keys (海南 第二十五条; 湖南 第二十四条)

Revision ID: 0024_api_clients
Revises: 0023_staffpw_must_change (chained after main's migrations at the merge)
"""
import sqlalchemy as sa
from alembic import op

revision = "0024_api_clients"
down_revision = "0023_staffpw_must_change"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("scopes", sa.String(300), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("authority", sa.String(120), nullable=False),
        sa.Column("rate_limit", sa.String(40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("rotated_at", sa.DateTime(), nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("client_pk", sa.Integer(), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("scopes", sa.String(300), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_api_tokens_client_pk", "api_tokens", ["client_pk"])
    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_pk", sa.Integer(), sa.ForeignKey("api_clients.id"), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("client_pk", "key", name="uq_api_idempotency_client_key"),
    )
    op.create_index("ix_api_idempotency_created", "api_idempotency", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_api_idempotency_created", "api_idempotency")
    op.drop_table("api_idempotency")
    op.drop_index("ix_api_tokens_client_pk", "api_tokens")
    op.drop_table("api_tokens")
    op.drop_table("api_clients")
