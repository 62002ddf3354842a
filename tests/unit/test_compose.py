"""docker-compose.yml (for people with Docker) describes the same stack as the settings and the scripts."""

from __future__ import annotations

from pathlib import Path

import yaml

from aiff.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _host_ports(service: str) -> set[int]:
    return {int(str(p).split(":")[-2]) for p in COMPOSE["services"][service].get("ports", [])}


def _defaults() -> Settings:
    """The settings' own defaults, whatever the environment of this run says."""
    return Settings.model_construct(**{n: f.default for n, f in Settings.model_fields.items() if f.default_factory is None})


def test_infrastructure_ports_match_the_settings_defaults() -> None:
    s = _defaults()
    assert int(s.kafka_bootstrap_servers.rsplit(":", 1)[1]) in _host_ports("kafka")
    assert int(s.asyncpg_dsn.rsplit("@", 1)[1].split("/")[0].split(":")[1]) in _host_ports("postgres")
    assert int(s.redis_url.split("//")[1].split("/")[0].split(":")[1]) in _host_ports("redis")
    assert s.api_port in _host_ports("api")


def test_postgres_credentials_match_the_settings_default() -> None:
    env = COMPOSE["services"]["postgres"]["environment"]
    dsn = _defaults().asyncpg_dsn
    assert f"{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@" in dsn
    assert dsn.endswith("/" + env["POSTGRES_DB"])


def test_app_services_set_every_connection_variable_the_settings_read() -> None:
    names = {f.alias or name for name, f in Settings.model_fields.items()}
    for service in ("api", "worker"):
        env = COMPOSE["services"][service]["environment"]
        keys = set(env) if isinstance(env, dict) else {e.split("=", 1)[0] for e in env}
        for var in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY"):
            assert var in keys, (service, var)
            assert var.lower() in {n.lower() for n in names}
        assert env["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] == "kafka"
        assert "@postgres:5432/" in env["DATABASE_URL"]


def test_worker_runs_every_consumer() -> None:
    command = COMPOSE["services"]["worker"]["command"]
    text = " ".join(command) if isinstance(command, list) else command
    for consumer in ("projector", "assignment", "analytics", "ai", "sla", "live"):
        assert consumer in text
