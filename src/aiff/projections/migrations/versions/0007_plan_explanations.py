"""Plan explanations (issue 13, item 8): why each planned visit has its team and slot, stored with the visit.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE plan_visits ADD COLUMN explanation JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE plan_visits DROP COLUMN explanation")
