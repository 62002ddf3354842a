"""One settings object, read from the environment once, whose defaults match the local stack."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"changethis", "your_jwt_secret_key_here", "secret"}
DEV_JWT_SECRET = "aiff-local-development-only-secret-change-me"
"""The fixed key of AIFF_ENV=test; refused anywhere else (it is in the repository)."""
JWT_SECRET_FILE = "jwt-secret"


@lru_cache(maxsize=8)
def state_jwt_secret(state_dir: Path) -> str:
    """The key kept in `<state_dir>/jwt-secret`, created (mode 0600) by the first process that needs it.

    Written to a temporary file and hard-linked into place, so concurrent starters all read one complete key.
    """
    path = Path(state_dir) / JWT_SECRET_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{JWT_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text().strip()
    if len(key) < 32:
        raise ValueError(f"{path} holds no usable JWT key (at least 32 characters); delete it to get a new one")
    return key


class Settings(BaseSettings):
    """Runtime configuration; every field can be set by the environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False, populate_by_name=True)

    environment: Literal["development", "test", "production"] = Field(
        "development", alias="AIFF_ENV", description="Refuses placeholder secrets outside development/test."
    )
    kafka_bootstrap_servers: str = Field("127.0.0.1:19092", description="Kafka bootstrap servers.")
    database_url: str = Field(
        "postgresql://aiff:aiffpass@127.0.0.1:55432/aiff_db", description="Postgres URL of the read models."
    )
    redis_url: str = Field("redis://127.0.0.1:56379/0", description="Redis for rate limits and live fan-out.")
    topic_prefix: str = Field("aiff", alias="AIFF_TOPIC_PREFIX", description="Prefix of every Kafka topic name.")
    topic_partitions: int = Field(6, alias="AIFF_TOPIC_PARTITIONS", ge=1)
    topic_retention_ms: int = Field(-1, alias="AIFF_TOPIC_RETENTION_MS", description="-1 keeps the log forever.")

    jwt_secret_key: str = Field(
        "", description="HMAC key of the API's access tokens. Unset: the test key under AIFF_ENV=test, otherwise the "
        "key in <AIFF_STATE_DIR>/jwt-secret (generated on first use), so no running system trusts a key from the repository.",
    )
    jwt_algorithm: str = Field("HS256")
    jwt_expire_minutes: int = Field(30, ge=1)

    api_host: str = Field("127.0.0.1", alias="AIFF_API_HOST")
    api_port: int = Field(8085, alias="AIFF_API_PORT")
    api_workers: int = Field(1, alias="AIFF_API_WORKERS", ge=1, description="uvicorn worker processes of `aiff api`.")
    cors_origins: list[str] = Field(default_factory=lambda: ["*"], alias="AIFF_CORS_ORIGINS")
    rate_limit_per_hour: int = Field(1000, alias="AIFF_RATE_LIMIT_PER_HOUR", ge=1)
    rate_limit_window_s: float = Field(3600.0, alias="AIFF_RATE_LIMIT_WINDOW_S", gt=0)
    max_body_bytes: int = Field(1_048_576, alias="AIFF_MAX_BODY_BYTES")
    read_your_writes_timeout_s: float = Field(3.0, alias="AIFF_RYW_TIMEOUT_S")

    kafka_session_timeout_ms: int = Field(10_000, alias="AIFF_KAFKA_SESSION_TIMEOUT_MS", ge=6000)
    kafka_linger_ms: int = Field(0, alias="AIFF_KAFKA_LINGER_MS", ge=0, description="Producer linger: 0 sends at once.")
    kafka_publish_timeout_s: float = Field(
        5.0, alias="AIFF_KAFKA_PUBLISH_TIMEOUT_S", gt=0,
        description="How long one publish may try (re-sending, replacing a failed producer) before the API answers 503.",
    )
    db_timeout_s: float = Field(
        5.0, alias="AIFF_DB_TIMEOUT_S", gt=0,
        description="How long a request waits for a pooled database connection before answering 503.",
    )
    retry_after_s: int = Field(5, alias="AIFF_RETRY_AFTER_S", ge=1, description="`Retry-After` of 503 answers.")
    log_format: Literal["auto", "json", "text"] = Field(
        "auto", alias="AIFF_LOG_FORMAT",
        description="Logs of `aiff api` and `aiff worker`: JSON lines or plain text; auto = text when stderr is a terminal.",
    )
    worker_metrics_port: int = Field(9108, alias="AIFF_WORKER_METRICS_PORT", description="0 disables the workers' /metrics.")
    worker_metrics_host: str = Field(
        "127.0.0.1", alias="AIFF_WORKER_METRICS_HOST", description="Address of the workers' /metrics (0.0.0.0 in containers)."
    )
    projector_batch_size: int = Field(5000, alias="AIFF_PROJECTOR_BATCH_SIZE", ge=1)
    projector_batch_timeout_ms: int = Field(50, alias="AIFF_PROJECTOR_BATCH_TIMEOUT_MS", ge=1)
    snapshot_interval_s: float = Field(
        600.0, alias="AIFF_SNAPSHOT_INTERVAL_S", ge=0,
        description="How often the projector worker extends the time-travel snapshots (0: never; `aiff snapshots take`).",
    )
    projector_window_ms: int = Field(
        20, alias="AIFF_PROJECTOR_WINDOW_MS", ge=0,
        description="The broker holds the projector's fetch up to this long (unless 64 KiB arrived): under a trickle "
        "of events, one transaction per window instead of one per few events. 0: apply what arrives at once.",
    )

    live_projector_wait_s: float = Field(
        0.0,
        alias="AIFF_LIVE_PROJECTOR_WAIT_S",
        ge=0,
        description="0: live updates go out as soon as Kafka has the events (events-first); > 0: they wait up to "
        "this long for the projector and show the rows read back from Postgres (consistent).",
    )
    assignment_strategy: Literal["routes", "greedy", "nearest", "optimal"] = Field(
        "routes", alias="AIFF_ASSIGNMENT_STRATEGY",
        description="routes: every team's day planned as a route (the default); greedy, nearest, optimal: the "
        "assignment-only baselines.",
    )
    assignment_shadow_strategy: Literal["greedy", "nearest", "optimal", ""] = Field(
        "", alias="AIFF_ASSIGNMENT_SHADOW_STRATEGY"
    )
    assignment_window_ms: int = Field(200, alias="AIFF_ASSIGNMENT_WINDOW_MS", ge=1)
    assignment_live_window_s: int = Field(
        900, alias="AIFF_ASSIGNMENT_LIVE_WINDOW_S", description="Older events rebuild state but trigger no decisions."
    )
    assignment_hysteresis_km: float = Field(10.0, alias="AIFF_ASSIGNMENT_HYSTERESIS_KM", ge=0)
    assignment_freeze_minutes: float = Field(
        30.0, alias="AIFF_ASSIGNMENT_FREEZE_MINUTES", ge=0,
        description="routes: a planned visit whose team departs for it within this many minutes is fixed.",
    )
    assignment_churn_minutes: float = Field(
        10.0, alias="AIFF_ASSIGNMENT_CHURN_MINUTES", ge=0,
        description="routes: a re-plan moves assigned visits to other teams only when that saves more than this "
        "many minutes of planner cost (drive time, priced lateness, overtime) over keeping every visit with its team.",
    )
    assignment_route_seconds: float = Field(
        0.3, alias="AIFF_ASSIGNMENT_ROUTE_SECONDS", gt=0, le=60,
        description="routes: search time per zone re-plan (twice when the free plan moves visits).",
    )
    assignment_batch_seconds: float = Field(
        1.0, alias="AIFF_ASSIGNMENT_BATCH_SECONDS", gt=0, le=600,
        description="routes: most search time of one re-plan over all the zones it touches; past it every zone's "
        "share is scaled down alike (a backlog touching every zone costs one bounded re-plan).",
    )
    assignment_horizon_days: int = Field(
        3, alias="AIFF_ASSIGNMENT_HORIZON_DAYS", ge=1, le=7,
        description="routes: each team plans its current day and its next working days, this many in all (1: today only); "
        "a ticket planned on a later day stays unassigned but planned (deferral code planned_later).",
    )
    assignment_full_replan_interval_s: float = Field(
        300.0, alias="AIFF_ASSIGNMENT_FULL_REPLAN_INTERVAL_S", ge=0,
        description="routes: every zone is re-planned this often even without events (0: never).",
    )
    assignment_revise_interval_s: float = Field(
        5.0, alias="AIFF_ASSIGNMENT_REVISE_INTERVAL_S", ge=0,
        description="The optimal strategy re-solves the assigned-but-unstarted tickets at most this often (0: every window).",
    )

    sla_risk_horizon_minutes: float = Field(
        60.0, alias="AIFF_SLA_RISK_HORIZON_MINUTES", ge=0,
        description="An unplanned open ticket is at risk once its due time is this close.",
    )
    sla_tick_s: float = Field(
        10.0, alias="AIFF_SLA_TICK_S", gt=0,
        description="How often the SLA consumer checks the clocks for due times that passed without an event.",
    )

    openai_api_key: str = Field("", description="When set, the assistant uses an OpenAI-compatible model.")
    openai_base_url: str = Field("", description="Any OpenAI-compatible endpoint.")
    openai_model: str = Field("gpt-4o-mini", alias="AIFF_OPENAI_MODEL")
    openai_timeout_s: float = Field(10.0, alias="AIFF_OPENAI_TIMEOUT_S")

    state_dir: Path = Field(Path(".state"), alias="AIFF_STATE_DIR")

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> "Settings":
        key = self.jwt_secret_key
        if self.environment == "production" and (not key or key in PLACEHOLDER_SECRETS or key == DEV_JWT_SECRET):
            raise ValueError("JWT_SECRET_KEY must be set to a real secret when AIFF_ENV=production")
        if self.environment != "test" and (key in PLACEHOLDER_SECRETS or key == DEV_JWT_SECRET):
            raise ValueError("JWT_SECRET_KEY is a published placeholder; unset it (a key is generated in AIFF_STATE_DIR) or set a real secret")
        return self

    @property
    def jwt_key(self) -> str:
        """The key that signs and checks access tokens (see `jwt_secret_key`); only the API needs it."""
        if self.jwt_secret_key:
            return self.jwt_secret_key
        if self.environment == "test":
            return DEV_JWT_SECRET
        return state_jwt_secret(self.state_dir.resolve())

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL in the plain form asyncpg accepts."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the asyncpg driver, for SQLAlchemy and Alembic."""
        return self.asyncpg_dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process."""
    return Settings()
