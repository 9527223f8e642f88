"""gradefix2: grading_exclusions.effective_on (a rolling profile's exclusion of the running year
takes effect when decided, 湖南医保 第十六条) and grading_results.repair_held_on (a repair decided
while the result was under objection is applied when the objection is decided)

Revision ID: 0028_gradefix2_grade_effects
Revises: 0027_feedfix_subject_changed_at
Create Date: 2026-12-05 05:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0028_gradefix2_grade_effects'
down_revision = '0027_feedfix_subject_changed_at'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('grading_exclusions') as batch:
        batch.add_column(sa.Column('effective_on', sa.Date(), nullable=True))
    with op.batch_alter_table('grading_results') as batch:
        batch.add_column(sa.Column('repair_held_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('grading_results') as batch:
        batch.drop_column('repair_held_on')
    with op.batch_alter_table('grading_exclusions') as batch:
        batch.drop_column('effective_on')
