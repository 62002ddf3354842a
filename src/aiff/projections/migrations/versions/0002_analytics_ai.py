"""Analytics and AI read models: daily stats per team and zone, the analytics consumer's facts, AI insights,
ticket enrichments and model metadata; a unique key on the seeds' `analytics` rows so upserts are idempotent.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DDL = """
CREATE TABLE analytics_ticket_facts (
    ticket_id BIGINT PRIMARY KEY,
    zone VARCHAR(100),
    priority VARCHAR(20),
    category VARCHAR(30),
    status VARCHAR(20) NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE,
    due_date TIMESTAMP WITH TIME ZONE,
    assigned_at TIMESTAMP WITH TIME ZONE,
    assigned_team INTEGER,
    started_at TIMESTAMP WITH TIME ZONE,
    completed_at TIMESTAMP WITH TIME ZONE,
    completed_team INTEGER,
    reopened INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMP WITH TIME ZONE
);
CREATE INDEX idx_analytics_facts_zone_status ON analytics_ticket_facts (zone, status);
CREATE INDEX idx_analytics_facts_team_status ON analytics_ticket_facts (assigned_team, status);
CREATE INDEX idx_analytics_facts_created ON analytics_ticket_facts (created_at);
CREATE TABLE analytics_team_facts (
    team_id INTEGER PRIMARY KEY,
    zone VARCHAR(100),
    capacity INTEGER NOT NULL DEFAULT 5,
    is_active BOOLEAN NOT NULL DEFAULT true
);
CREATE TABLE team_daily_stats (
    team_id INTEGER NOT NULL,
    day DATE NOT NULL,
    zone VARCHAR(100),
    assigned INTEGER NOT NULL DEFAULT 0,
    started INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    sla_met INTEGER NOT NULL DEFAULT 0,
    sla_missed INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0,
    reopened_7d INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    sum_assign_minutes DOUBLE PRECISION NOT NULL DEFAULT 0,
    sum_response_minutes DOUBLE PRECISION NOT NULL DEFAULT 0,
    sum_resolve_minutes DOUBLE PRECISION NOT NULL DEFAULT 0,
    rating_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    rating_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, day)
);
CREATE INDEX idx_team_daily_day ON team_daily_stats (day);
CREATE INDEX idx_team_daily_zone_day ON team_daily_stats (zone, day);
CREATE TABLE zone_daily_stats (
    zone VARCHAR(100) NOT NULL,
    day DATE NOT NULL,
    created INTEGER NOT NULL DEFAULT 0,
    assigned INTEGER NOT NULL DEFAULT 0,
    started INTEGER NOT NULL DEFAULT 0,
    completed INTEGER NOT NULL DEFAULT 0,
    sla_met INTEGER NOT NULL DEFAULT 0,
    sla_missed INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0,
    reopened_7d INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    sum_assign_minutes DOUBLE PRECISION NOT NULL DEFAULT 0,
    sum_response_minutes DOUBLE PRECISION NOT NULL DEFAULT 0,
    sum_resolve_minutes DOUBLE PRECISION NOT NULL DEFAULT 0,
    rating_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    rating_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (zone, day)
);
CREATE INDEX idx_zone_daily_day ON zone_daily_stats (day);
CREATE TABLE analytics_team_metrics (
    team_id INTEGER PRIMARY KEY,
    tickets_completed INTEGER NOT NULL,
    customer_rating DOUBLE PRECISION NOT NULL,
    response_time INTEGER NOT NULL,
    completion_rate DOUBLE PRECISION NOT NULL,
    efficiency DOUBLE PRECISION NOT NULL,
    open_tickets INTEGER NOT NULL,
    first_time_fix DOUBLE PRECISION NOT NULL,
    reopen_rate DOUBLE PRECISION NOT NULL,
    utilization DOUBLE PRECISION NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX uq_analytics_metric_team_zone_date ON analytics (metric_name, team_id, zone, date_recorded) NULLS NOT DISTINCT;
CREATE TABLE ai_insights (
    id BIGSERIAL PRIMARY KEY,
    kind VARCHAR(40) NOT NULL,
    scope VARCHAR(20) NOT NULL,
    scope_id VARCHAR(100),
    severity VARCHAR(10) NOT NULL,
    title VARCHAR(300) NOT NULL,
    detail TEXT,
    recommendation TEXT,
    metrics JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    expires_at TIMESTAMP WITH TIME ZONE,
    dedupe_key VARCHAR(200) NOT NULL UNIQUE
);
CREATE INDEX idx_ai_insights_kind_created ON ai_insights (kind, created_at);
CREATE INDEX idx_ai_insights_scope ON ai_insights (scope, scope_id);
CREATE TABLE ticket_enrichments (
    ticket_id BIGINT PRIMARY KEY,
    suggested_category VARCHAR(30),
    category_confidence DOUBLE PRECISION,
    suggested_priority VARCHAR(20),
    priority_confidence DOUBLE PRECISION,
    urgency_cues TEXT[] NOT NULL DEFAULT '{}',
    duplicate_of BIGINT[] NOT NULL DEFAULT '{}',
    sla_risk DOUBLE PRECISION,
    model_version VARCHAR(60),
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);
CREATE TABLE ai_models (
    name VARCHAR(40) PRIMARY KEY,
    version VARCHAR(60) NOT NULL,
    trained_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
    metrics JSONB NOT NULL DEFAULT '{}'
);
"""

TABLES = (
    "analytics_ticket_facts", "analytics_team_facts", "team_daily_stats", "zone_daily_stats",
    "analytics_team_metrics", "ai_insights", "ticket_enrichments", "ai_models",
)  # fmt: skip


def upgrade() -> None:
    for statement in DDL.split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS uq_analytics_metric_team_zone_date")
    for table in TABLES:
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
