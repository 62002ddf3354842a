"""The read models in Postgres, as SQLAlchemy Core tables (queries use these; migrations create them).

Ticket and team rows carry the id chosen by their events (not a serial) so that a replay reproduces the
same rows. There are no foreign keys between projections: topics are consumed independently, so a row
may legitimately arrive before the row it refers to.
"""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSON, JSONB, UUID

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(50), nullable=False, unique=True),
    Column("email", String(100), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False, server_default="user"),
    Column("team_id", Integer),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

zones = Table(
    "zones",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("code", String(3), nullable=False, unique=True),
    Column("capital", String(100), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("region", String(50), nullable=False),
    Column("assignment_mode", String(10), nullable=False, server_default="auto"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("zone", String(100), nullable=False),
    Column("description", Text),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("tickets_completed", Integer, nullable=False, server_default="0"),
    Column("customer_rating", Numeric(3, 2), nullable=False, server_default="0"),
    Column("response_time", Integer, nullable=False, server_default="0"),
    Column("completion_rate", Numeric(5, 2), nullable=False, server_default="0"),
    Column("efficiency", Numeric(5, 2), nullable=False, server_default="0"),
    Column("status", String(20), nullable=False, server_default="available"),
    Column("base_town", String(100)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("skills", ARRAY(Text), nullable=False, server_default="{}"),
    Column("capacity", Integer, nullable=False, server_default="5"),
    Column("members", JSONB, nullable=False, server_default="[]"),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("idx_teams_zone", "zone"),
    Index("idx_teams_status", "status"),
    Index("idx_teams_zone_status", "zone", "status"),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("ticket_number", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("description", Text),
    Column("priority", String(20), nullable=False),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("category", String(30)),
    Column("assigned_team", Integer),
    Column("assigned_to", String(100)),
    Column("zone", String(100)),
    Column("location", String(200)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("customer_name", String(100)),
    Column("created_by", String(100)),
    Column("customer_rating", Float),
    Column("resolution_notes", Text),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("assigned_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True)),
    Column("due_date", DateTime(timezone=True)),
    Column("completed_at", DateTime(timezone=True)),
    Index("idx_tickets_status", "status"),
    Index("idx_tickets_zone", "zone"),
    Index("idx_tickets_assigned_team", "assigned_team"),
    Index("idx_tickets_zone_status", "zone", "status"),
    Index("idx_tickets_created_at", "created_at"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("ticket_id", BigInteger, nullable=False),
    Column("team_id", Integer, nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False, server_default="assigned"),
    Column("notes", Text),
    Column("strategy", String(20), nullable=False),
    Column("assigned_by", String(100), nullable=False),
    Column("distance_km", Float),
    Column("score", Float),
    Column("breakdown", JSONB, nullable=False, server_default="{}"),
    Column("frozen", Boolean, nullable=False, server_default=text("false")),
    Column("ended_at", DateTime(timezone=True)),
    Index("idx_assignments_ticket", "ticket_id"),
    Index("idx_assignments_team_status", "team_id", "status"),
    Index(
        "uq_assignments_one_active_per_ticket",
        "ticket_id",
        unique=True,
        postgresql_where=text("status IN ('assigned', 'in_progress')"),
    ),
)

analytics = Table(
    "analytics",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("metric_name", String(100), nullable=False),
    Column("metric_value", Numeric(12, 2), nullable=False),
    Column("team_id", Integer),
    Column("zone", String(100)),
    Column("date_recorded", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("metadata", JSONB),
    Index("idx_analytics_metric", "metric_name"),
    Index("idx_analytics_date", "date_recorded"),
    Index("idx_analytics_team_date", "team_id", "date_recorded"),
)

event_history = Table(
    "event_history",
    metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("entity_type", String(10), nullable=False),
    Column("entity_id", String(120), nullable=False),
    Column("type", String(100), nullable=False),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("source", String(200), nullable=False),
    Column("correlation_id", String(200)),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("event", JSON, nullable=False),  # json, not jsonb: stored as sent, ~25% cheaper to write
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("idx_event_history_entity", "entity_type", "entity_id", "time"),
)

projection_positions = Table(
    "projection_positions",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("topic", String(200), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
