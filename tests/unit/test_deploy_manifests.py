"""deploy/kubernetes and deploy/compose.yaml validate offline against their schemas, and
say what the operations docs promise (replication 3, retention, AOF on a volume, probes,
resources, a disruption budget, Services, config from a ConfigMap, secrets from Secrets).

Kubernetes' own kinds are checked by kubernetes-validate (the Kubernetes API's JSON
schemas, shipped in the package); Strimzi's by their CRDs, made from Strimzi's jars on
Maven Central (deploy/kubernetes/schemas); compose by the Compose spec that
check-jsonschema ships. Nothing is fetched from a cluster.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from alerting.notifiers.policy import parse_policy
from models.watchlist import parse_watchlist
from streams.settings import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.30.0"  # the oldest minor release the manifests must apply to


def documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def by_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for _, d in documents() if d["kind"] == kind}


# ---------------------------------------------------------------- schemas

@pytest.fixture(scope="session")
def strimzi_schemas() -> dict[str, dict[str, Any]]:
    """kind -> strict JSON schema of its v1beta2 version, from Strimzi's generated CRDs."""
    env = {**os.environ,
           "FIRESTORM_STACK_DIR": os.environ.get("FIRESTORM_STACK_DIR", str(REPO / ".stack"))}
    made = subprocess.run([str(K8S / "schemas" / "strimzi-crds.sh")], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert made.returncode == 0, made.stderr
    folder = Path(made.stdout.strip().splitlines()[-1])
    schemas = {}
    for path in folder.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1beta2")
        schemas[crd["spec"]["names"]["kind"]] = strict(version["schema"]["openAPIV3Schema"])
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"} <= set(schemas)
    return schemas


def strict(schema: Any) -> Any:
    """A CRD's OpenAPI v3 schema as JSON Schema, rejecting fields it does not declare
    (what kubeconform's openapi2jsonschema does, with its strict mode)."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items() if not k.startswith("x-kubernetes")}
    if schema.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable"):
        out["type"] = [out["type"], "null"] if "type" in out else out.get("type")
    if ("properties" in out and "additionalProperties" not in out
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def validate(doc: dict[str, Any], strimzi: dict[str, dict[str, Any]]) -> None:
    """Raise on any schema error: Strimzi kinds against their CRDs, the rest against
    Kubernetes' schemas (strict: unknown fields are errors)."""
    if doc["apiVersion"].startswith("kafka.strimzi.io/"):
        assert doc["apiVersion"] == "kafka.strimzi.io/v1beta2", doc["apiVersion"]
        jsonschema.validate(doc, strimzi[doc["kind"]])
        assert doc["metadata"].get("name")
    else:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_every_kubernetes_manifest_validates_against_its_schema(strimzi_schemas):
    docs = documents()
    assert len(docs) >= 15
    for name, doc in docs:
        try:
            validate(doc, strimzi_schemas)
        except (jsonschema.ValidationError, kubernetes_validate.ValidationError) as exc:
            pytest.fail(f"{name}: {doc['kind']} {doc['metadata'].get('name')}: {exc}")


@pytest.mark.parametrize(("kind", "name", "path", "bad"), [
    ("KafkaTopic", "mentions", ["spec", "partitions"], "six"),          # a string, not int
    ("KafkaTopic", "mentions", ["spec", "replica"], 3),                 # a misspelt field
    ("Kafka", "firestorm", ["spec", "kafka", "listeners", 0, "type"], "public"),
    ("StatefulSet", "firestorm-worker", ["spec", "replica"], 3),
    ("Deployment", "firestorm-pages",
     ["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"], "http"),
])
def test_the_validators_catch_a_broken_manifest(strimzi_schemas, kind, name, path, bad):
    doc = copy.deepcopy(by_kind(kind)[name])
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises((jsonschema.ValidationError, kubernetes_validate.ValidationError)):
        validate(doc, strimzi_schemas)


# ---------------------------------------------------------------- what the docs promise

def test_topics_are_replicated_three_times_with_retention_and_enough_partitions():
    topics = by_kind("KafkaTopic")
    assert set(topics) == {"mentions", "mentions-dead", "firestorm-observations"}
    for topic in topics.values():
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == 2
        assert topic["spec"]["config"]["retention.ms"] > 0
        assert topic["spec"]["partitions"] >= by_kind("StatefulSet")[
            "firestorm-worker"]["spec"]["replicas"]
    kafka = by_kind("Kafka")["firestorm"]["spec"]["kafka"]
    assert kafka["config"]["default.replication.factor"] == 3
    assert kafka["listeners"][0]["authentication"]["type"] == "scram-sha-512"
    assert kafka["listeners"][0]["tls"] is True
    assert by_kind("KafkaNodePool")["nodes"]["spec"]["replicas"] == 3


def test_redis_keeps_an_append_only_file_on_a_volume():
    redis = by_kind("StatefulSet")["redis"]["spec"]
    args = redis["template"]["spec"]["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    mount = redis["template"]["spec"]["containers"][0]["volumeMounts"][0]
    assert (mount["mountPath"], args[args.index("--dir") + 1]) == ("/data", "/data")
    assert redis["volumeClaimTemplates"][0]["metadata"]["name"] == mount["name"]


def test_workloads_have_probes_resources_and_the_worker_a_disruption_budget():
    workloads = {**by_kind("StatefulSet"), **by_kind("Deployment")}
    for name in ("firestorm-worker", "firestorm-notify", "firestorm-pages"):
        container = workloads[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
    pdb = by_kind("PodDisruptionBudget")["firestorm-worker"]["spec"]
    assert pdb["selector"] == workloads["firestorm-worker"]["spec"]["selector"]
    services = by_kind("Service")
    for name in ("firestorm-notify", "firestorm-pages"):
        assert services[name]["spec"]["selector"] == workloads[name]["spec"]["selector"][
            "matchLabels"]


def test_config_comes_from_the_configmap_and_secrets_from_secrets(tmp_path):
    config = by_kind("ConfigMap")["firestorm-config"]["data"]
    parse_watchlist(config["watchlist.yaml"], source="ConfigMap watchlist.yaml")
    parse_policy(config["notify-policy.yaml"], "ConfigMap notify-policy.yaml")
    for key, text in config.items():
        (tmp_path / key).write_text(text)
    settings = Settings.load({}, config=str(tmp_path / "firestorm.toml"))
    assert settings.watchlist_path() == tmp_path / "watchlist.yaml"
    assert (settings.kafka_security_protocol, settings.replication_factor) == ("SASL_SSL", 3)
    secrets = set(by_kind("Secret")) | {"firestorm", "firestorm-cluster-ca-cert"}  # Strimzi's
    workloads = {**by_kind("StatefulSet"), **by_kind("Deployment")}
    for name, workload in workloads.items():
        pod = workload["spec"]["template"]["spec"]
        for container in pod["containers"]:
            for env in container.get("env", []):
                assert "value" not in env or "PASSWORD" not in env["name"] or "$(" in env[
                    "value"], f"{name}: {env['name']} is a literal secret"
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] in secrets, f"{name}: no Secret {ref['name']}"
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets


# ---------------------------------------------------------------- compose

def compose_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "check-jsonschema"),
                           "--builtin-schema", "vendor.compose-spec", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_compose_validates_against_the_compose_spec(tmp_path):
    done = compose_check(REPO / "deploy" / "compose.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    assert {"kafka", "redis", "worker", "notify", "pages"} <= set(compose["services"])
    assert "--appendonly" in compose["services"]["redis"]["command"]
    broken = tmp_path / "compose.yaml"
    compose["services"]["pages"]["ports"] = 8088  # a list is required
    broken.write_text(yaml.safe_dump(compose))
    assert compose_check(broken).returncode != 0


# ---------------------------------------------------------------- the Grafana dashboard

def test_the_grafana_dashboard_queries_only_series_firestorm_exports():
    import json
    import re

    from streams.metrics import Metrics

    dashboard = json.loads((REPO / "deploy" / "grafana" / "firestorm.json").read_text())
    exported = {m.name for m in Metrics("worker").registry.collect()}
    queried = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            for name in re.findall(r"firestorm_[a-z_]+", target["expr"]):
                queried.add(re.sub(r"_(total|bucket|sum|count)$", "", name))
    assert queried, "the dashboard queries nothing"
    assert queried <= exported, f"not exported: {sorted(queried - exported)}"
    # Every metric the issue asks for has a panel.
    assert {"firestorm_mentions_received", "firestorm_mentions_dead", "firestorm_consumer_lag",
            "firestorm_batch_seconds", "firestorm_alerts", "firestorm_notifications",
            "firestorm_outbox_depth", "firestorm_late_mentions",
            "firestorm_heartbeat_age_seconds"} <= queried
