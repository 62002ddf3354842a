"""Disjoint id spaces: the API allocates ticket and team ids from ranges upstream publishers may not use.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The sequences restart at the start of the API's range (or after the highest id already taken from it).
STATEMENTS = [
    "ALTER SEQUENCE ticket_id_seq MAXVALUE 99999999999 NO CYCLE",
    """SELECT setval('ticket_id_seq',
         GREATEST((SELECT max(id) FROM tickets WHERE id BETWEEN 10000000000 AND 99999999999), 9999999999))""",
    "ALTER SEQUENCE team_id_seq MAXVALUE 2147483647 NO CYCLE",
    """SELECT setval('team_id_seq',
         GREATEST((SELECT max(id) FROM teams WHERE id BETWEEN 1000000000 AND 2147483647), 999999999))""",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("ALTER SEQUENCE ticket_id_seq NO MAXVALUE")
    op.execute("ALTER SEQUENCE team_id_seq NO MAXVALUE")
