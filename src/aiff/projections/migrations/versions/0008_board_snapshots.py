"""Time travel (issue 14, item 2): periodic snapshots of the board, and the history indexed by event time.

A snapshot is the projector's state (tickets, teams, active assignments, positions, plans) folded from every
event up to `at`, stored compressed; an answer `as_of` an instant loads the latest snapshot at or before it and
folds the events after it from `event_history`, read in event-time order (hence the index on `time`).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATEMENTS = [
    """CREATE TABLE board_snapshots (
        at TIMESTAMP WITH TIME ZONE PRIMARY KEY,
        taken_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        events BIGINT NOT NULL,
        positions JSONB NOT NULL DEFAULT '[]',
        state BYTEA NOT NULL
    )""",
    "CREATE INDEX idx_event_history_time ON event_history (time)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS idx_event_history_time")
    op.execute("DROP TABLE IF EXISTS board_snapshots")
