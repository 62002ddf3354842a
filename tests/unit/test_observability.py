"""deploy/prometheus and deploy/grafana against the code: promtool accepts the rules and configs and their unit
tests pass, and every metric a rule or a panel names is registered by the code (read from the Prometheus
registry after importing the API and every consumer, not grepped), and documented in the README."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY
from prometheus_client.metrics_core import Metric

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
SCRAPE_GENERATED = {"up", "scrape_duration_seconds", "ALERTS"}
"""Series Prometheus makes itself for every target."""


def _promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: `make tools` (deploy/stack.sh tools) installs it from Debian's `prometheus` package")
    return path


def _run(*args: str) -> str:
    done = subprocess.run([_promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_promtool_accepts_the_alert_rules_and_the_scrape_configs() -> None:
    assert "SUCCESS: 7 rules found" in _run("check", "rules", "alerts.yml")
    for config in ("prometheus.yml", "compose.yml"):  # kubernetes.yml: Debian's promtool has no Kubernetes discovery
        assert "is valid prometheus config file syntax" in _run("check", "config", config)
    assert yaml.safe_load((PROMETHEUS / "kubernetes.yml").read_text())["rule_files"] == ["alerts.yml"]


def test_each_alert_fires_on_its_condition_after_its_for_and_not_before() -> None:
    assert "SUCCESS" in _run("test", "rules", "alerts.test.yml")


def test_the_issue_s_alerts_exist() -> None:
    rules = {r["alert"]: r for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"] for r in g["rules"]}
    assert {"AiffConsumerLagHigh", "AiffDeadLettersGrowing", "AiffSlaBreachRateHigh", "AiffWorkerDown", "AiffApi5xx"} <= set(rules)
    assert rules["AiffConsumerLagHigh"]["for"] == "5m"


def _registered() -> dict[str, Metric]:
    """Every collector the API and the workers register, by the names a query uses (with _total, _bucket, ...)."""
    from aiff.cli import CONSUMERS

    for module in ["aiff.api.app", "aiff.consumers.stream", "aiff.metrics", *CONSUMERS.values()]:
        importlib.import_module(module)
    names: dict[str, Metric] = {}
    for metric in REGISTRY.collect():
        suffixes = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_count", "_sum", "_created"],
                    "summary": ["_count", "_sum", "_created"], "gauge": [""], "info": ["_info"]}.get(metric.type, [""])  # fmt: skip
        for suffix in suffixes:
            names[metric.name + suffix] = metric
    return names


PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "le", "inf", "nan"}


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression selects: identifiers that are not functions, keywords, label
    matchers, grouping labels, durations or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)  # grouping labels
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        rest = text[m.end() :].lstrip()
        if rest.startswith("(") or m.group().lower() in PROMQL_WORDS or text[m.start() - 1 : m.start()].isdigit():
            continue
        names.add(m.group())
    return names


def test_metric_names_are_read_from_promql() -> None:
    expr = 'sum by (le, consumer) (rate(aiff_batch_seconds_bucket{consumer=~"a|b"}[5m])) / on(x) group_left(y) up > 0.5'
    assert metric_names(expr) == {"aiff_batch_seconds_bucket", "up"}
    assert metric_names('histogram_quantile(0.95, sum(rate(x_bucket[5m]))) * 3600 > 1e3') == {"x_bucket"}


def _rule_exprs() -> list[str]:
    return [r["expr"] for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"] for r in g["rules"]]


def _panel_exprs() -> list[str]:
    exprs = []
    for path in DASHBOARDS.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            exprs += [t["expr"] for t in panel.get("targets", [])]
    return exprs


def test_every_metric_a_rule_or_panel_names_is_exported_by_the_code() -> None:
    exported = _registered()
    named = {n for e in _rule_exprs() + _panel_exprs() for n in metric_names(e)}
    assert len(named) > 10
    assert not named - exported.keys() - SCRAPE_GENERATED, f"named by rules/panels but not registered: {sorted(named - exported.keys() - SCRAPE_GENERATED)}"


def test_the_readme_documents_every_aiff_metric() -> None:
    readme = (ROOT / "README.md").read_text()
    ours = {m.name + ("_total" if m.type == "counter" else "") for m in _registered().values()
            if m.name.startswith(("aiff_", "http_")) or m.name == "active_connections"}  # fmt: skip
    assert not {n for n in ours if f"`{n}`" not in readme}, sorted(n for n in ours if f"`{n}`" not in readme)


def test_the_dashboard_has_the_seeds_panels_plus_lag_throughput_and_plan_times() -> None:
    (path,) = DASHBOARDS.glob("*.json")
    titles = [p["title"] for p in json.loads(path.read_text())["panels"]]
    for wanted in ("Service health", "Request rate", "Response time p95", "Consumer lag", "Throughput", "Plan solve time"):
        assert any(t.startswith(wanted) for t in titles), (wanted, titles)
    provider = yaml.safe_load((ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "aiff.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def _value(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_hooks_count_decisions_solve_time_sla_events_and_dropped_messages() -> None:
    from types import SimpleNamespace as NS

    from aiff.live.hub import QUEUE_MAX, Client
    from aiff.metrics import observe_plan, observe_sla

    before = _value("aiff_assignment_decisions_total", {"strategy": "greedy", "outcome": "deferred"})
    solves = _value("aiff_plan_solve_seconds_count", {"strategy": "greedy"})
    observe_plan(NS(strategy="greedy", solve_seconds=0.02, decisions=[NS(team_id=1), NS(team_id=None), NS(team_id=None)]))
    assert _value("aiff_assignment_decisions_total", {"strategy": "greedy", "outcome": "deferred"}) - before == 2
    assert _value("aiff_plan_solve_seconds_count", {"strategy": "greedy"}) - solves == 1

    breached = _value("aiff_sla_alerts_total", {"kind": "sla_breached"})
    observe_sla([NS(type="aiff.ticket.sla_breached.v1"), NS(type="aiff.ticket.sla_at_risk.v1")])
    assert _value("aiff_sla_alerts_total", {"kind": "sla_breached"}) - breached == 1

    dropped = _value("aiff_ws_dropped_messages_total")
    client = Client(filter=None)  # type: ignore[arg-type]
    for i in range(QUEUE_MAX + 1):
        client.offer(i)
    assert _value("aiff_ws_dropped_messages_total") - dropped == QUEUE_MAX
