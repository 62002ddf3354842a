"""SLA clocks (issue 13, item 7): one row per ticket with its current due date and the events already published.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE sla_clocks (
        ticket_id BIGINT PRIMARY KEY,
        due_date TIMESTAMP WITH TIME ZONE NOT NULL,
        open BOOLEAN NOT NULL DEFAULT true,
        at_risk_event_id UUID,
        at_risk_at TIMESTAMP WITH TIME ZONE,
        breached_event_id UUID,
        breached_at TIMESTAMP WITH TIME ZONE
    )""",
    "CREATE INDEX idx_sla_clocks_pending ON sla_clocks (due_date) WHERE open AND breached_event_id IS NULL",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sla_clocks")
