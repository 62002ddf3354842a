"""Initial read models: the seeds' tables plus zones, event history and projection positions.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DDL = """
CREATE TABLE analytics (
	id BIGSERIAL NOT NULL, 
	metric_name VARCHAR(100) NOT NULL, 
	metric_value NUMERIC(12, 2) NOT NULL, 
	team_id INTEGER, 
	zone VARCHAR(100), 
	date_recorded TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	metadata JSONB, 
	PRIMARY KEY (id)
);
CREATE INDEX idx_analytics_date ON analytics (date_recorded);
CREATE INDEX idx_analytics_metric ON analytics (metric_name);
CREATE INDEX idx_analytics_team_date ON analytics (team_id, date_recorded);
CREATE TABLE assignments (
	id BIGSERIAL NOT NULL, 
	event_id UUID NOT NULL, 
	ticket_id BIGINT NOT NULL, 
	team_id INTEGER NOT NULL, 
	assigned_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	status VARCHAR(20) DEFAULT 'assigned' NOT NULL, 
	notes TEXT, 
	strategy VARCHAR(20) NOT NULL, 
	assigned_by VARCHAR(100) NOT NULL, 
	distance_km FLOAT, 
	score FLOAT, 
	breakdown JSONB DEFAULT '{}' NOT NULL, 
	frozen BOOLEAN DEFAULT false NOT NULL, 
	ended_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id), 
	UNIQUE (event_id)
);
CREATE INDEX idx_assignments_team_status ON assignments (team_id, status);
CREATE INDEX idx_assignments_ticket ON assignments (ticket_id);
CREATE UNIQUE INDEX uq_assignments_one_active_per_ticket ON assignments (ticket_id) WHERE status IN ('assigned', 'in_progress');
CREATE TABLE event_history (
	event_id UUID NOT NULL, 
	entity_type VARCHAR(10) NOT NULL, 
	entity_id VARCHAR(120) NOT NULL, 
	type VARCHAR(100) NOT NULL, 
	time TIMESTAMP WITH TIME ZONE NOT NULL, 
	source VARCHAR(200) NOT NULL, 
	correlation_id VARCHAR(200), 
	topic VARCHAR(200) NOT NULL, 
	partition INTEGER NOT NULL, 
	"offset" BIGINT NOT NULL, 
	event JSON NOT NULL, 
	applied_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	PRIMARY KEY (event_id)
);
CREATE INDEX idx_event_history_entity ON event_history (entity_type, entity_id, time);
CREATE TABLE projection_positions (
	projection VARCHAR(100) NOT NULL, 
	topic VARCHAR(200) NOT NULL, 
	partition INTEGER NOT NULL, 
	next_offset BIGINT NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	PRIMARY KEY (projection, topic, partition)
);
CREATE TABLE teams (
	id INTEGER NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	zone VARCHAR(100) NOT NULL, 
	description TEXT, 
	is_active BOOLEAN DEFAULT true NOT NULL, 
	tickets_completed INTEGER DEFAULT '0' NOT NULL, 
	customer_rating NUMERIC(3, 2) DEFAULT '0' NOT NULL, 
	response_time INTEGER DEFAULT '0' NOT NULL, 
	completion_rate NUMERIC(5, 2) DEFAULT '0' NOT NULL, 
	efficiency NUMERIC(5, 2) DEFAULT '0' NOT NULL, 
	status VARCHAR(20) DEFAULT 'available' NOT NULL, 
	base_town VARCHAR(100), 
	latitude FLOAT, 
	longitude FLOAT, 
	skills TEXT[] DEFAULT '{}' NOT NULL, 
	capacity INTEGER DEFAULT '5' NOT NULL, 
	members JSONB DEFAULT '[]' NOT NULL, 
	version INTEGER DEFAULT '0' NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	PRIMARY KEY (id)
);
CREATE INDEX idx_teams_status ON teams (status);
CREATE INDEX idx_teams_zone ON teams (zone);
CREATE INDEX idx_teams_zone_status ON teams (zone, status);
CREATE TABLE tickets (
	id BIGINT NOT NULL, 
	ticket_number VARCHAR(20) NOT NULL, 
	title VARCHAR(200) NOT NULL, 
	description TEXT, 
	priority VARCHAR(20) NOT NULL, 
	status VARCHAR(20) DEFAULT 'open' NOT NULL, 
	category VARCHAR(30), 
	assigned_team INTEGER, 
	assigned_to VARCHAR(100), 
	zone VARCHAR(100), 
	location VARCHAR(200), 
	latitude FLOAT, 
	longitude FLOAT, 
	customer_name VARCHAR(100), 
	created_by VARCHAR(100), 
	customer_rating FLOAT, 
	resolution_notes TEXT, 
	version INTEGER DEFAULT '1' NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	assigned_at TIMESTAMP WITH TIME ZONE, 
	started_at TIMESTAMP WITH TIME ZONE, 
	due_date TIMESTAMP WITH TIME ZONE, 
	completed_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id), 
	UNIQUE (ticket_number)
);
CREATE INDEX idx_tickets_assigned_team ON tickets (assigned_team);
CREATE INDEX idx_tickets_created_at ON tickets (created_at);
CREATE INDEX idx_tickets_status ON tickets (status);
CREATE INDEX idx_tickets_zone ON tickets (zone);
CREATE INDEX idx_tickets_zone_status ON tickets (zone, status);
CREATE TABLE users (
	id SERIAL NOT NULL, 
	username VARCHAR(50) NOT NULL, 
	email VARCHAR(100) NOT NULL, 
	password_hash VARCHAR(255) NOT NULL, 
	role VARCHAR(20) DEFAULT 'user' NOT NULL, 
	team_id INTEGER, 
	is_active BOOLEAN DEFAULT true NOT NULL, 
	created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username), 
	UNIQUE (email)
);
CREATE TABLE zones (
	name VARCHAR(100) NOT NULL, 
	code VARCHAR(3) NOT NULL, 
	capital VARCHAR(100) NOT NULL, 
	latitude FLOAT NOT NULL, 
	longitude FLOAT NOT NULL, 
	region VARCHAR(50) NOT NULL, 
	assignment_mode VARCHAR(10) DEFAULT 'auto' NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL, 
	PRIMARY KEY (name), 
	UNIQUE (code)
);

CREATE SEQUENCE ticket_id_seq;
CREATE SEQUENCE team_id_seq;
"""

ZONES = """
INSERT INTO zones (name, code, capital, latitude, longitude, region) VALUES
    ('Johor', 'JHR', 'Johor Bahru', 1.4927, 103.7414, 'Peninsular South'),
    ('Kedah', 'KDH', 'Alor Setar', 6.1248, 100.3678, 'Peninsular North'),
    ('Kelantan', 'KTN', 'Kota Bharu', 6.1254, 102.2381, 'Peninsular East'),
    ('Melaka', 'MLK', 'Melaka', 2.1896, 102.2501, 'Peninsular South'),
    ('Negeri Sembilan', 'NSN', 'Seremban', 2.7258, 101.9424, 'Peninsular Central'),
    ('Pahang', 'PHG', 'Kuantan', 3.8077, 103.326, 'Peninsular East'),
    ('Perak', 'PRK', 'Ipoh', 4.5975, 101.0901, 'Peninsular North'),
    ('Perlis', 'PLS', 'Kangar', 6.4414, 100.1986, 'Peninsular North'),
    ('Pulau Pinang', 'PNG', 'George Town', 5.4141, 100.3288, 'Peninsular North'),
    ('Sabah', 'SBH', 'Kota Kinabalu', 5.9804, 116.0735, 'East Malaysia'),
    ('Sarawak', 'SWK', 'Kuching', 1.5535, 110.3593, 'East Malaysia'),
    ('Selangor', 'SGR', 'Shah Alam', 3.0738, 101.5183, 'Peninsular Central'),
    ('Terengganu', 'TRG', 'Kuala Terengganu', 5.3302, 103.1408, 'Peninsular East'),
    ('Kuala Lumpur', 'KUL', 'Kuala Lumpur', 3.139, 101.6869, 'Peninsular Central'),
    ('Labuan', 'LBN', 'Victoria', 5.2831, 115.2308, 'East Malaysia');
"""


def upgrade() -> None:
    for statement in (DDL + ZONES).split(";"):
        if statement.strip():
            op.execute(statement)


def downgrade() -> None:
    for table in ("analytics", "assignments", "event_history", "projection_positions", "teams", "tickets", "users", "zones"):
        op.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
    op.execute("DROP SEQUENCE IF EXISTS ticket_id_seq")
    op.execute("DROP SEQUENCE IF EXISTS team_id_seq")
