"""deploy/k8s against the Kubernetes API schemas (kubernetes-validate ships them, so this runs offline) and against
the code: every consumer group has a Deployment, every container has probes and the seeds' resources."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from aiff.cli import CONSUMERS

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.30.0"
SEED_REQUESTS = {"cpu": "250m", "memory": "256Mi"}
SEED_LIMITS = {"cpu": "500m", "memory": "512Mi"}
MEMORY_MI = {"Mi": 1, "Gi": 1024}


def _documents() -> list[dict[str, Any]]:
    files = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(files) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
    return [doc for name in files for doc in yaml.safe_load_all((K8S / name).read_text()) if doc]


DOCS = _documents()


def _of(kind: str) -> list[dict[str, Any]]:
    return [d for d in DOCS if d["kind"] == kind]


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_manifest_is_valid_for_kubernetes(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_rejects_a_broken_manifest() -> None:
    (api,) = [d for d in _of("Deployment") if d["metadata"]["name"] == "aiff-api"]
    broken = {**api, "spec": {**api["spec"], "replicas": "three"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_api_has_deployment_service_hpa_and_disruption_budget() -> None:
    names = {(d["kind"], d["metadata"]["name"]) for d in DOCS}
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert (kind, "aiff-api") in names
    (pdb,) = _of("PodDisruptionBudget")
    (hpa,) = _of("HorizontalPodAutoscaler")
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]  # a drain can always proceed
    assert {"ConfigMap", "Secret", "Job", "Namespace"} <= {d["kind"] for d in DOCS}
    (job,) = _of("Job")
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["db", "upgrade"]


def test_one_deployment_per_consumer_group() -> None:
    args = sorted(tuple(d["spec"]["template"]["spec"]["containers"][0]["args"]) for d in _of("Deployment"))
    assert args == sorted([("api",)] + [("worker", c) for c in CONSUMERS])


def _mi(quantity: str) -> float:
    return float(quantity[:-2]) * MEMORY_MI[quantity[-2:]]


def test_every_long_running_container_has_probes_and_the_seeds_resources() -> None:
    config = _of("ConfigMap")[0]["data"]
    assert config["AIFF_WORKER_METRICS_HOST"] == "0.0.0.0"  # else the probes and Prometheus cannot reach /metrics
    for deployment in _of("Deployment"):
        pod = deployment["spec"]["template"]
        (container,) = pod["spec"]["containers"]
        assert "readinessProbe" in container and "livenessProbe" in container, deployment["metadata"]["name"]
        assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
        assert pod["metadata"]["labels"]["app.kubernetes.io/component"] in ("api", "worker")  # the alerts' `component`
        resources = container["resources"]
        assert resources["requests"] == SEED_REQUESTS, deployment["metadata"]["name"]
        assert resources["limits"]["cpu"] == SEED_LIMITS["cpu"]
        assert _mi(resources["limits"]["memory"]) >= _mi(SEED_LIMITS["memory"])
