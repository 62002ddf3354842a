"""Stale decisions (issue 21, item 7): the history also records the events refused as overtaken by events.

A decision of AIFF's own (the engine's assignment, the API's cancel) that the ticket's state overtook is no bad
input: the projector records it in `event_history` with `outcome = 'stale'` and the reason instead of
dead-lettering it. Every existing row was applied, hence the default; readers of applied events filter on it.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

STATEMENTS = [
    "ALTER TABLE event_history ADD COLUMN outcome VARCHAR(10) NOT NULL DEFAULT 'applied'",
    "ALTER TABLE event_history ADD COLUMN reason TEXT",
    "ALTER TABLE event_history ADD CONSTRAINT ck_event_history_outcome CHECK (outcome IN ('applied', 'stale'))",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER TABLE event_history DROP CONSTRAINT IF EXISTS ck_event_history_outcome")
    op.execute("ALTER TABLE event_history DROP COLUMN IF EXISTS reason")
    op.execute("ALTER TABLE event_history DROP COLUMN IF EXISTS outcome")
