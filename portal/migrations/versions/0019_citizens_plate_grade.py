"""plates.printed_grade / printed_grade_year: the grade a plate was last printed with, so staff
see which plates to reprint after a grading (issue #13; services.plates.plates_to_reprint)

Revision ID: 0019_citizens_plate_grade
Revises: 0018_provider_workspace, 0002_plates (the plates table's branch: a merge point, as 0015 does
for the reports table)
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_citizens_plate_grade"
down_revision = ("0018_provider_workspace", "0002_plates")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plates") as batch:
        batch.add_column(sa.Column("printed_grade", sa.String(length=4), nullable=False, server_default=""))
        batch.add_column(sa.Column("printed_grade_year", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plates") as batch:
        batch.drop_column("printed_grade_year")
        batch.drop_column("printed_grade")
