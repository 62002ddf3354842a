"""Assignment engine bookkeeping: its published decisions' offsets, last deferral per ticket, shadow decisions.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE engine_outbox (
        topic VARCHAR(200) NOT NULL,
        partition INTEGER NOT NULL,
        last_offset BIGINT NOT NULL,
        PRIMARY KEY (topic, partition)
    )""",
    """CREATE TABLE engine_deferrals (
        ticket_id BIGINT PRIMARY KEY,
        reason TEXT NOT NULL,
        deferred_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
    )""",
    """CREATE TABLE shadow_decisions (
        id BIGSERIAL PRIMARY KEY,
        ticket_id BIGINT NOT NULL,
        strategy VARCHAR(20) NOT NULL,
        live_strategy VARCHAR(20) NOT NULL,
        team_id INTEGER,
        live_team_id INTEGER,
        distance_km FLOAT,
        live_distance_km FLOAT,
        score FLOAT,
        breakdown JSONB NOT NULL DEFAULT '{}',
        reason TEXT,
        decided_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
    )""",
    "CREATE INDEX idx_shadow_decisions_ticket ON shadow_decisions (ticket_id, decided_at)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("shadow_decisions", "engine_deferrals", "engine_outbox"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
