"""Route-aware dispatch (issue 13): visit windows and pins on tickets, plan fields on assignments, shift calendars
on teams, each team's latest position, and planned days with their visits.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STATEMENTS = [
    """ALTER TABLE tickets
        ADD COLUMN window_start TIMESTAMP WITH TIME ZONE,
        ADD COLUMN window_end TIMESTAMP WITH TIME ZONE,
        ADD COLUMN service_minutes INTEGER,
        ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false,
        ADD COLUMN pinned_team INTEGER,
        ADD COLUMN pinned_sequence INTEGER,
        ADD COLUMN pinned_date DATE""",
    """ALTER TABLE assignments
        ADD COLUMN planned_start TIMESTAMP WITH TIME ZONE,
        ADD COLUMN eta TIMESTAMP WITH TIME ZONE,
        ADD COLUMN sequence INTEGER,
        ADD COLUMN plan_date DATE""",
    """ALTER TABLE teams
        ADD COLUMN shift_start VARCHAR(5) NOT NULL DEFAULT '08:00',
        ADD COLUMN shift_end VARCHAR(5) NOT NULL DEFAULT '17:00',
        ADD COLUMN working_days TEXT[] NOT NULL DEFAULT '{mon,tue,wed,thu,fri,sat}',
        ADD COLUMN lunch_earliest VARCHAR(5) NOT NULL DEFAULT '12:00',
        ADD COLUMN lunch_latest VARCHAR(5) NOT NULL DEFAULT '14:00',
        ADD COLUMN lunch_minutes INTEGER NOT NULL DEFAULT 45,
        ADD COLUMN max_overtime_minutes INTEGER NOT NULL DEFAULT 60""",
    """CREATE TABLE team_positions (
        team_id INTEGER PRIMARY KEY,
        latitude FLOAT NOT NULL,
        longitude FLOAT NOT NULL,
        reported_at TIMESTAMP WITH TIME ZONE NOT NULL,
        accuracy_m FLOAT,
        source VARCHAR(20) NOT NULL,
        event_id UUID NOT NULL
    )""",
    """CREATE TABLE plans (
        team_id INTEGER NOT NULL,
        plan_date DATE NOT NULL,
        revision INTEGER NOT NULL,
        strategy VARCHAR(30) NOT NULL,
        drive_minutes FLOAT NOT NULL DEFAULT 0,
        drive_km FLOAT NOT NULL DEFAULT 0,
        overtime_minutes FLOAT NOT NULL DEFAULT 0,
        break_start TIMESTAMP WITH TIME ZONE,
        break_end TIMESTAMP WITH TIME ZONE,
        unserved JSONB NOT NULL DEFAULT '[]',
        reason TEXT,
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
        event_id UUID NOT NULL,
        PRIMARY KEY (team_id, plan_date)
    )""",
    "CREATE INDEX idx_plans_date ON plans (plan_date)",
    """CREATE TABLE plan_visits (
        team_id INTEGER NOT NULL,
        plan_date DATE NOT NULL,
        ticket_id BIGINT NOT NULL,
        sequence INTEGER NOT NULL,
        eta TIMESTAMP WITH TIME ZONE NOT NULL,
        planned_start TIMESTAMP WITH TIME ZONE NOT NULL,
        planned_end TIMESTAMP WITH TIME ZONE NOT NULL,
        travel_minutes FLOAT NOT NULL DEFAULT 0,
        travel_km FLOAT NOT NULL DEFAULT 0,
        pinned BOOLEAN NOT NULL DEFAULT false,
        PRIMARY KEY (team_id, plan_date, sequence)
    )""",
    "CREATE INDEX idx_plan_visits_ticket ON plan_visits (ticket_id)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("plan_visits", "plans", "team_positions"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute(
        "ALTER TABLE teams DROP COLUMN shift_start, DROP COLUMN shift_end, DROP COLUMN working_days, "
        "DROP COLUMN lunch_earliest, DROP COLUMN lunch_latest, DROP COLUMN lunch_minutes, DROP COLUMN max_overtime_minutes"
    )
    op.execute("ALTER TABLE assignments DROP COLUMN planned_start, DROP COLUMN eta, DROP COLUMN sequence, DROP COLUMN plan_date")
    op.execute(
        "ALTER TABLE tickets DROP COLUMN window_start, DROP COLUMN window_end, DROP COLUMN service_minutes, "
        "DROP COLUMN pinned, DROP COLUMN pinned_team, DROP COLUMN pinned_sequence, DROP COLUMN pinned_date"
    )
