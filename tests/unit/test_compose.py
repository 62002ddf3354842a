"""docker-compose.yml (for people with Docker) describes the same stack as the settings and the scripts, and is a
valid Compose file (the compose-spec schema that check-jsonschema vendors, so no Docker and no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from aiff.cli import CONSUMERS
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
    for service in ("api", *(f"worker-{c}" for c in CONSUMERS)):
        env = COMPOSE["services"][service]["environment"]
        keys = set(env) if isinstance(env, dict) else {e.split("=", 1)[0] for e in env}
        for var in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY"):
            assert var in keys, (service, var)
            assert var.lower() in {n.lower() for n in names}
        assert env["KAFKA_BOOTSTRAP_SERVERS"].split(":")[0] == "kafka"
        assert "@postgres:5432/" in env["DATABASE_URL"]


def test_one_worker_service_per_consumer_group_each_scraped_by_prometheus() -> None:
    workers = {name: svc for name, svc in COMPOSE["services"].items() if name.startswith("worker-")}
    assert sorted(workers) == sorted(f"worker-{c}" for c in CONSUMERS)
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "compose.yml").read_text())
    targets = {t for job in scrape["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    for consumer in CONSUMERS:
        svc = workers[f"worker-{consumer}"]
        assert svc["command"] == ["worker", consumer]
        assert svc["environment"]["AIFF_WORKER_METRICS_HOST"] == "0.0.0.0" and "healthcheck" in svc
        assert f"worker-{consumer}:9108" in targets
    assert "api:8085" in targets


def test_monitoring_services_mount_files_that_exist() -> None:
    for service in ("prometheus", "grafana"):
        for volume in COMPOSE["services"][service]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), (service, source)


def _check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run([str(tool), "--builtin-schema", "vendor.compose-spec", str(path)], capture_output=True, text=True, timeout=60)


def test_the_compose_file_validates_against_the_compose_spec(tmp_path: Path) -> None:
    done = _check_compose(ROOT / "docker-compose.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    broken = dict(COMPOSE, services={**COMPOSE["services"], "api": {**COMPOSE["services"]["api"], "restart": ["always"]}})
    (tmp_path / "broken.yml").write_text(yaml.safe_dump(broken))
    assert _check_compose(tmp_path / "broken.yml").returncode != 0  # the check can fail
