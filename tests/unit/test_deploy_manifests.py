"""Deployment files (docker-compose.yml, deploy/service.Dockerfile, deploy/k8s/) checked without Docker.

The Kubernetes checks hold the manifests to what the code does: the consumer groups and topics that KEDA
measures lag on are computed with the services' own settings (`ServiceSettings.group` / `.topic`) and the
topic table in `shared/events/topics.py`, so renaming a topic or a group fails here, not in production.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from shared.events.topics import TOPICS, dead_letter_topic, topics_consumed_by
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S_DIR = ROOT / "deploy" / "k8s"
SERVICES = {"intake": 8001, "pathway": 8002, "reporting": 8003, "notifications": 8004}
NAMESPACE = "ruggengraat"
CLUSTER_SCOPED_KINDS = {"Namespace"}
# The services that consume from Kafka (a faust agent in a consumer group): they scale on consumer lag.
CONSUMERS = [name for name in SERVICES if topics_consumed_by(name)]
STRIMZI_TOPICS_FILE = K8S_DIR / "strimzi" / "kafka-topics.yaml"
MONITORING_FILE = K8S_DIR / "monitoring" / "monitoring.yaml"
ALERTS_FILE = ROOT / "deploy" / "prometheus" / "alerts.yml"
COMPOSE_PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
# Kubernetes' defaults when a probe leaves them out.
PROBE_DEFAULT_PERIOD_SECONDS = 10
PROBE_DEFAULT_FAILURE_THRESHOLD = 3


# --- helpers ---------------------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _compose_service(name: str) -> dict[str, Any]:
    return _compose()["services"][name]


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """Compose allows a mapping or a list of KEY=VALUE; both become a mapping of strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _published_ports(service: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(host ip, published port, container port) for the short and the long port syntax."""
    result = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            result.append((port.get("host_ip", ""), str(port.get("published", "")), str(port["target"])))
            continue
        parts = str(port).split("/", 1)[0].rsplit(":", 2)
        if len(parts) == 3:
            result.append((parts[0], parts[1], parts[2]))
        elif len(parts) == 2:
            result.append(("", parts[0], parts[1]))
        else:
            result.append(("", "", parts[0]))
    return result


def _healthcheck_text(service: dict[str, Any]) -> str:
    test = service.get("healthcheck", {}).get("test", "")
    return " ".join(test) if isinstance(test, list) else str(test)


def _build(service: dict[str, Any]) -> tuple[Path, dict[str, str]]:
    """The Dockerfile a compose service builds from, and its build args."""
    build = service["build"]
    if isinstance(build, str):
        build = {"context": build}
    context = (ROOT / build.get("context", ".")).resolve()
    args = build.get("args") or {}
    if isinstance(args, list):
        args = dict(item.split("=", 1) for item in args)
    return context / build.get("dockerfile", "Dockerfile"), {k: str(v) for k, v in args.items()}


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with comments dropped and continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def _k8s_documents() -> list[tuple[Path, dict[str, Any]]]:
    docs = []
    for path in sorted(K8S_DIR.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((path, doc))
    return docs


def _k8s_objects(kind: str) -> list[dict[str, Any]]:
    return [doc for _, doc in _k8s_documents() if doc["kind"] == kind]


def _deployment(name: str) -> dict[str, Any]:
    matches = [d for d in _k8s_objects("Deployment") if d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one Deployment named {name}, found {len(matches)}"
    return matches[0]


def _only_container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def _container_port(container: dict[str, Any], port: int | str) -> int:
    """A probe or Service port (a number or a container port's name) as a container port number."""
    if isinstance(port, int):
        return port
    named = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert named, f"no container port named {port!r} in {container['name']}"
    return named[0]


def _pod_labels(name: str) -> dict[str, str]:
    return _deployment(name)["spec"]["template"]["metadata"]["labels"]


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Whether a label selector with matchLabels only (all these manifests use) selects `labels`."""
    if not selector:
        return False
    assert set(selector) == {"matchLabels"}, "only matchLabels selectors are understood here"
    return selector["matchLabels"].items() <= labels.items()


def _targeting(kind: str, name: str) -> list[dict[str, Any]]:
    """Objects of `kind` (ScaledObject, HorizontalPodAutoscaler) whose scale target is Deployment `name`."""
    return [
        o
        for o in _k8s_objects(kind)
        if o["spec"]["scaleTargetRef"]["name"] == name
        and o["spec"]["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    ]


def _config() -> dict[str, str]:
    (configmap,) = [c for c in _k8s_objects("ConfigMap") if c["metadata"]["name"] == "ruggengraat-config"]
    return {key: str(value) for key, value in configmap["data"].items()}


def _settings_as_deployed() -> ServiceSettings:
    """The services' settings with the ConfigMap's Kafka values (and nothing from this process's environment)."""
    config = _config()
    return ServiceSettings.model_construct(
        kafka_topic_prefix=config.get("KAFKA_TOPIC_PREFIX", ""),
        kafka_topic_partitions=int(config["KAFKA_TOPIC_PARTITIONS"]),
        kafka_bootstrap_servers=config["KAFKA_BOOTSTRAP_SERVERS"],
    )


def _service_name(name: str) -> str:
    """`service_name` of services/<name>/settings.py: the faust app id, hence the consumer group's base name."""
    module = importlib.import_module(f"services.{name}.settings")
    classes = [
        c
        for c in vars(module).values()
        if isinstance(c, type) and issubclass(c, ServiceSettings) and c is not ServiceSettings
    ]
    assert len(classes) == 1, f"services/{name}/settings.py should define one ServiceSettings subclass"
    return classes[0].model_fields["service_name"].default


def _probe_window_seconds(probe: dict[str, Any]) -> int:
    """How long a probe must keep failing before the kubelet acts on it."""
    period = probe.get("periodSeconds", PROBE_DEFAULT_PERIOD_SECONDS)
    return period * probe.get("failureThreshold", PROBE_DEFAULT_FAILURE_THRESHOLD)


def _replica_floor(name: str) -> int:
    """The fewest pods the manifests keep of a Deployment: its replicas, or its autoscaler's minimum."""
    scaled = _targeting("ScaledObject", name)
    hpas = _targeting("HorizontalPodAutoscaler", name)
    if scaled:
        return scaled[0]["spec"].get("minReplicaCount", 0)
    if hpas:
        return hpas[0]["spec"].get("minReplicas", 1)
    return _deployment(name)["spec"].get("replicas", 1)


def _compose_plugin_available() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        result = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


# --- docker-compose.yml ----------------------------------------------------------------------------


def test_compose_defines_kafka_postgres_and_the_four_services_and_compose_accepts_it() -> None:
    services = _compose()["services"]

    assert {"kafka", "postgres", *SERVICES} <= set(services)
    if _compose_plugin_available():
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr


def test_kafka_runs_in_kraft_mode_as_broker_and_controller_reachable_as_kafka_9092() -> None:
    kafka = _compose_service("kafka")
    env = _environment(kafka)

    assert kafka["image"].startswith("apache/kafka:")
    roles = {role.strip() for role in env["KAFKA_PROCESS_ROLES"].split(",")}
    assert roles == {"broker", "controller"}
    assert "PLAINTEXT://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert "CONTROLLER" in env["KAFKA_LISTENERS"]
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"
    assert "kafka-broker-api-versions" in _healthcheck_text(kafka)


def test_postgres_is_version_16_or_newer_with_a_readiness_check_and_a_named_volume() -> None:
    compose = _compose()
    postgres = compose["services"]["postgres"]
    env = _environment(postgres)

    image, _, tag = postgres["image"].partition(":")
    assert image == "postgres"
    assert int(tag.split("-", 1)[0].split(".", 1)[0]) >= 16
    assert env["POSTGRES_DB"] == env["POSTGRES_USER"] == env["POSTGRES_PASSWORD"] == "ruggengraat"
    assert "pg_isready" in _healthcheck_text(postgres)
    volume_names = {str(v).split(":", 1)[0] for v in postgres["volumes"]}
    assert volume_names & set(compose.get("volumes") or {}), "Postgres data is not on a named volume"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_builds_from_an_existing_dockerfile_that_starts_its_own_module(name: str) -> None:
    dockerfile, args = _build(_compose_service(name))

    assert dockerfile.is_file(), f"{name} builds from {dockerfile}, which does not exist"
    text = dockerfile.read_text()
    cmd = " ".join(rest for keyword, rest in _instructions(dockerfile) if keyword == "CMD")
    starts_own_module = f"services.{name}" in cmd or (
        "ARG SERVICE" in text
        and ("services.${SERVICE}" in cmd or "services.$SERVICE" in cmd)
        and args.get("SERVICE") == name
    )
    assert starts_own_module, f"{dockerfile.name} does not start services.{name} for {name}"
    assert args.get("HTTP_PORT", str(SERVICES[name])) == str(SERVICES[name])


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_module_the_images_start_exists(name: str) -> None:
    assert (ROOT / "services" / name / "__main__.py").is_file()


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_waits_for_healthy_kafka_and_postgres(name: str) -> None:
    depends_on = _compose_service(name)["depends_on"]

    assert isinstance(depends_on, dict), "the short depends_on list does not wait for health"
    for dependency in ("kafka", "postgres"):
        assert depends_on[dependency]["condition"] == "service_healthy"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_reaches_postgres_and_kafka_by_their_compose_service_names(name: str) -> None:
    env = _environment(_compose_service(name))

    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme in {"postgresql", "postgres"}
    assert database.hostname == "postgres"
    brokers = [address.strip().rsplit(":", 1) for address in env["KAFKA_BOOTSTRAP_SERVERS"].split(",")]
    assert brokers == [["kafka", "9092"]]
    assert env["HTTP_HOST"] == "0.0.0.0"
    assert env["HTTP_PORT"] == str(SERVICES[name])
    assert env["RUGGENGRAAT_ENV"] == "development"
    assert env.get("JWT_SECRET"), "production refuses a default JWT_SECRET; compose must set one"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_publishes_its_port_on_loopback_only(name: str) -> None:
    ports = _published_ports(_compose_service(name))

    assert ports, f"{name} publishes no port"
    for host_ip, published, target in ports:
        assert host_ip == "127.0.0.1", f"{name} publishes {published} on {host_ip or 'all interfaces'}"
        assert target == str(SERVICES[name])


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_is_healthy_only_when_ready_and_restarts_unless_stopped(name: str) -> None:
    service = _compose_service(name)

    assert "/ready" in _healthcheck_text(service)
    assert "/health" in _healthcheck_text(service), "a stalled loop (/health 503) must show as unhealthy too"
    assert "curl" not in _healthcheck_text(service), "python:3.11-slim has no curl"
    assert service["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", SERVICES)
def test_a_postgres_or_kafka_restart_does_not_make_compose_restart_the_services(name: str) -> None:
    """The services ride out a restart of their database or broker themselves (503 + Retry-After, loops
    that retry); `depends_on: restart: true` would restart them with it and hide whether they can."""
    for dependency, condition in _compose_service(name)["depends_on"].items():
        assert condition.get("restart", False) is False, f"{name} is restarted with {dependency}"


# --- the Dockerfile ----------------------------------------------------------------------------------


def _dockerfiles() -> set[Path]:
    return {_build(_compose_service(name))[0] for name in SERVICES}


def test_service_image_is_python_311_slim_runs_as_non_root_and_checks_health_with_python() -> None:
    for dockerfile in _dockerfiles():
        instructions = _instructions(dockerfile)
        froms = [rest for keyword, rest in instructions if keyword == "FROM"]
        users = [rest for keyword, rest in instructions if keyword == "USER"]
        healthchecks = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]

        assert froms[-1].split()[0] == "python:3.11-slim"
        assert users, f"{dockerfile.name} runs as root"
        assert users[-1].split(":", 1)[0] not in {"root", "0"}
        assert any(keyword == "EXPOSE" for keyword, _ in instructions)
        assert len(healthchecks) == 1 and "/health" in healthchecks[0] and "python" in healthchecks[0]


def test_service_image_installs_pinned_dependencies_before_copying_the_code() -> None:
    for dockerfile in _dockerfiles():
        instructions = _instructions(dockerfile)
        copies = [i for i, (keyword, _) in enumerate(instructions) if keyword == "COPY"]
        first_copy = instructions[copies[0]][1].split()
        installs = [
            i
            for i, (keyword, rest) in enumerate(instructions)
            if keyword == "RUN" and "pip install" in rest and "constraints.txt" in rest
        ]
        code_copy = min(i for i in copies if "services" in instructions[i][1])

        assert set(first_copy[:-1]) == {"pyproject.toml", "constraints.txt"}
        assert installs and installs[0] < code_copy, "dependencies are reinstalled on every code change"


# --- deploy/k8s ------------------------------------------------------------------------------------------


def test_every_k8s_manifest_parses_into_named_objects_in_the_ruggengraat_namespace() -> None:
    documents = _k8s_documents()

    assert {path.name for path, _ in documents} >= {
        "namespace.yaml",
        "config.yaml",
        "secret.example.yaml",
        *(f"{name}.yaml" for name in SERVICES),
    }
    for path, doc in documents:
        assert doc.get("apiVersion") and doc.get("kind"), f"{path.name}: not a Kubernetes object"
        assert doc["metadata"]["name"]
        if doc["kind"] in CLUSTER_SCOPED_KINDS:
            assert doc["metadata"]["name"] == NAMESPACE
        else:
            assert doc["metadata"]["namespace"] == NAMESPACE, f"{path.name}: {doc['kind']} not in namespace"


@pytest.mark.parametrize("name", SERVICES)
def test_every_deployment_probes_health_and_ready_on_the_port_its_service_targets(name: str) -> None:
    deployment = _deployment(name)
    container = _only_container(deployment)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selecting = [
        s
        for s in _k8s_objects("Service")
        if s["spec"].get("selector") and s["spec"]["selector"].items() <= pod_labels.items()
    ]

    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert len(selecting) == 1, f"expected one Service selecting {name}'s pods, found {len(selecting)}"
    (service_port,) = selecting[0]["spec"]["ports"]
    target = _container_port(container, service_port.get("targetPort", service_port["port"]))
    assert target == SERVICES[name]
    liveness, readiness = container["livenessProbe"]["httpGet"], container["readinessProbe"]["httpGet"]
    assert liveness["path"] == "/health"
    assert readiness["path"] == "/ready"
    assert _container_port(container, liveness["port"]) == target
    assert _container_port(container, readiness["port"]) == target
    http_port = [e["value"] for e in container["env"] if e["name"] == "HTTP_PORT"]
    assert http_port == [str(target)], "the process must listen where the probes and the Service point"


@pytest.mark.parametrize("name", SERVICES)
def test_every_deployment_runs_as_non_root_within_resource_requests_and_limits(name: str) -> None:
    deployment = _deployment(name)
    pod_security = deployment["spec"]["template"]["spec"].get("securityContext", {})
    container = _only_container(deployment)
    container_security = container.get("securityContext", {})

    assert pod_security.get("runAsNonRoot") is True or container_security.get("runAsNonRoot") is True
    assert pod_security.get("runAsUser", container_security.get("runAsUser", 0)) != 0
    assert container_security.get("allowPrivilegeEscalation") is False
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name}: no {kind}"


@pytest.mark.parametrize("name", SERVICES)
def test_every_deployment_is_scraped_by_prometheus_at_metrics_on_its_http_port(name: str) -> None:
    annotations = _deployment(name)["spec"]["template"]["metadata"]["annotations"]

    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(SERVICES[name])


def test_deployments_take_settings_from_the_configmap_and_secrets_only_from_a_secret_reference() -> None:
    configmaps = {c["metadata"]["name"]: c for c in _k8s_objects("ConfigMap")}
    secrets = {s["metadata"]["name"]: s for s in _k8s_objects("Secret")}
    referenced_secrets: dict[str, set[str]] = {}

    for name in SERVICES:
        container = _only_container(_deployment(name))
        for source in container["envFrom"]:
            assert "configMapRef" in source, f"{name}: envFrom other than the ConfigMap"
            assert source["configMapRef"]["name"] in configmaps
        for variable in container["env"]:
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                referenced_secrets.setdefault(ref["name"], set()).add(ref["key"])
        secret_variables = {v["name"] for v in container["env"] if "secretKeyRef" in v.get("valueFrom", {})}
        assert {"DATABASE_URL", "JWT_SECRET"} <= secret_variables

    for configmap in configmaps.values():
        assert not {"DATABASE_URL", "JWT_SECRET"} & set(configmap["data"]), "a secret in the ConfigMap"
    example_keys = {key for s in secrets.values() for key in (s.get("stringData") or s.get("data") or {})}
    for secret_name, keys in referenced_secrets.items():
        assert secret_name not in secrets, f"the repository must not ship the Secret {secret_name} itself"
        assert keys <= example_keys, "secret.example.yaml lacks keys the Deployments read"


# --- deploy/k8s: more than one machine --------------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_keeps_at_least_two_pods(name: str) -> None:
    deployment = _deployment(name)
    scaled, hpas = _targeting("ScaledObject", name), _targeting("HorizontalPodAutoscaler", name)

    assert len(scaled) + len(hpas) <= 1, f"{name}: more than one autoscaler for one Deployment"
    assert _replica_floor(name) >= 2, f"{name} may run as a single pod"
    if scaled or hpas:
        # `kubectl apply` of a Deployment with replicas would set the count back on every apply.
        assert "replicas" not in deployment["spec"], f"{name}: replicas fights its autoscaler"
    rolling = deployment["spec"]["strategy"]["rollingUpdate"]
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert rolling["maxUnavailable"] == 0, f"{name}: a rollout must not take a pod away before a new one is ready"


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_spreads_its_pods_over_machines(name: str) -> None:
    pod = _deployment(name)["spec"]["template"]
    constraints = pod["spec"].get("topologySpreadConstraints", [])

    spreading = [
        c
        for c in constraints
        if c["topologyKey"] == "kubernetes.io/hostname" and _selects(c["labelSelector"], pod["metadata"]["labels"])
    ]
    assert spreading, f"{name}: nothing keeps its pods off a single node"
    assert spreading[0]["maxSkew"] == 1


@pytest.mark.parametrize("name", SERVICES)
def test_every_service_has_a_disruption_budget_that_lets_one_pod_go_at_a_time(name: str) -> None:
    budgets = [b for b in _k8s_objects("PodDisruptionBudget") if _selects(b["spec"]["selector"], _pod_labels(name))]

    assert len(budgets) == 1, f"expected one PodDisruptionBudget for {name}, found {len(budgets)}"
    (budget,) = budgets
    assert budget["apiVersion"] == "policy/v1"
    spec = budget["spec"]
    assert ("minAvailable" in spec) != ("maxUnavailable" in spec), "set one of minAvailable and maxUnavailable"
    if "minAvailable" in spec:
        # 1 ≤ minAvailable < the fewest pods: at least one stays, and a drain is not blocked for ever.
        assert isinstance(spec["minAvailable"], int) and 1 <= spec["minAvailable"] < _replica_floor(name)
    else:
        assert spec["maxUnavailable"] == 1


@pytest.mark.parametrize("name", SERVICES)
def test_liveness_outlasts_a_database_outage_and_readiness_stops_traffic_within_seconds(name: str) -> None:
    container = _only_container(_deployment(name))
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    startup = container["startupProbe"]

    assert liveness["httpGet"]["path"] == "/health"
    assert readiness["httpGet"]["path"] == "/ready"
    assert startup["httpGet"]["path"] == "/health", "liveness must not start before the process is up"
    assert _probe_window_seconds(liveness) >= 60, f"{name}: liveness could kill a pod during a short outage"
    assert _probe_window_seconds(readiness) <= 30, f"{name}: a pod without its database keeps traffic too long"
    # /ready asks Postgres (2 s) and the broker (3 s) when one of them hangs; a probe timing out sooner
    # is only a failure for the same reason, but liveness must never time out on a busy event loop.
    assert liveness.get("timeoutSeconds", 1) >= 3
    assert readiness.get("successThreshold", 1) == 1, "a pod must come back as soon as its dependencies do"


def test_only_the_consuming_services_scale_on_lag() -> None:
    targets = {o["spec"]["scaleTargetRef"]["name"] for o in _k8s_objects("ScaledObject")}

    assert CONSUMERS == ["pathway", "reporting", "notifications"]
    assert targets == set(CONSUMERS), "a ScaledObject on kafka lag needs a consumer group to measure"


@pytest.mark.parametrize("name", CONSUMERS)
def test_every_consumer_scales_on_the_lag_of_its_own_group_on_the_topics_it_reads(name: str) -> None:
    settings = _settings_as_deployed()
    scaled = _targeting("ScaledObject", name)

    assert len(scaled) == 1, f"expected one ScaledObject for {name}, found {len(scaled)}"
    (scaled_object,) = scaled
    assert scaled_object["apiVersion"] == "keda.sh/v1alpha1"
    triggers = scaled_object["spec"]["triggers"]
    assert triggers and {t["type"] for t in triggers} == {"kafka"}
    expected_group = settings.group(_service_name(name))
    expected_topics = {settings.topic(t) for t in topics_consumed_by(name)}
    measured_topics = [t["metadata"]["topic"] for t in triggers]
    assert sorted(measured_topics) == sorted(expected_topics), f"{name} reads {sorted(expected_topics)}"
    for trigger in triggers:
        metadata = trigger["metadata"]
        assert metadata["consumerGroup"] == expected_group
        assert metadata["bootstrapServers"] == settings.kafka_bootstrap_servers, "KEDA must ask the same brokers"
        assert int(metadata["lagThreshold"]) > 0
        # faust starts a new group at the earliest offset; KEDA must count that backlog as lag.
        assert metadata["offsetResetPolicy"] == "earliest"
        assert str(metadata.get("allowIdleConsumers", "false")).lower() == "false"


@pytest.mark.parametrize("name", CONSUMERS)
def test_every_consumer_scales_between_two_and_the_partition_count(name: str) -> None:
    (scaled_object,) = _targeting("ScaledObject", name)
    spec = scaled_object["spec"]
    partitions = _settings_as_deployed().kafka_topic_partitions

    assert spec["minReplicaCount"] >= 2
    # A group can use no more workers than partitions: any pod beyond them would sit idle.
    assert spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions


@pytest.mark.parametrize("name", CONSUMERS)
def test_every_consumer_scales_down_slowly(name: str) -> None:
    """Each change in the number of workers rebalances the group, which stops its flow for seconds."""
    (scaled_object,) = _targeting("ScaledObject", name)
    behavior = scaled_object["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]

    assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 300
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] >= 30


def _strimzi_topics() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(STRIMZI_TOPICS_FILE.read_text()) if d is not None]


def test_strimzi_topics_cover_every_topic_the_services_write_or_read() -> None:
    settings = _settings_as_deployed()
    names = {t["spec"].get("topicName", t["metadata"]["name"]) for t in _strimzi_topics()}

    expected = {settings.topic(name) for name in TOPICS}
    expected |= {settings.topic(dead_letter_topic(name)) for name in CONSUMERS}
    # no faust leader topics: the workers run without faust's leader (shared/consumer/faust_worker.py)
    assert names == expected


def test_strimzi_topics_are_replicated_and_partitioned_as_the_services_expect() -> None:
    config = _config()
    bootstrap_host = config["KAFKA_BOOTSTRAP_SERVERS"].split(",")[0].rsplit(":", 1)[0]

    for topic in _strimzi_topics():
        name = topic["spec"].get("topicName", topic["metadata"]["name"])
        assert topic["apiVersion"].startswith("kafka.strimzi.io/") and topic["kind"] == "KafkaTopic"
        cluster, namespace = topic["metadata"]["labels"]["strimzi.io/cluster"], topic["metadata"]["namespace"]
        # Strimzi's bootstrap Service is <cluster>-kafka-bootstrap in the cluster's namespace.
        assert bootstrap_host.startswith(f"{cluster}-kafka-bootstrap.{namespace}."), "topics on another cluster"
        spec = topic["spec"]
        replicas, min_insync = spec["replicas"], int(spec["config"]["min.insync.replicas"])
        assert replicas >= 3 and 2 <= min_insync < replicas, f"{name}: one broker down must not stop writes"
        assert spec["partitions"] == int(config["KAFKA_TOPIC_PARTITIONS"]), name


# --- monitoring: Prometheus in compose, the Prometheus operator's resources in k8s ----------------------------


def _monitoring(kind: str) -> dict[str, Any]:
    [found] = [d for d in yaml.safe_load_all(MONITORING_FILE.read_text()) if d and d["kind"] == kind]
    return found


def test_the_prometheus_rule_holds_the_alert_rules_exactly() -> None:
    assert _monitoring("PrometheusRule")["spec"]["groups"] == yaml.safe_load(ALERTS_FILE.read_text())["groups"]


def test_the_service_monitor_scrapes_every_services_metrics_port_with_the_service_name_as_job() -> None:
    monitor = _monitoring("ServiceMonitor")["spec"]
    [endpoint] = monitor["endpoints"]
    for name in SERVICES:
        [service] = [d for d in _k8s_objects("Service") if d["metadata"]["name"] == name]
        labels = service["metadata"]["labels"]
        assert monitor["selector"]["matchLabels"].items() <= labels.items()
        assert labels[monitor["jobLabel"]] == name  # the alerts group by job
        assert service["metadata"]["namespace"] in monitor["namespaceSelector"]["matchNames"]
        assert endpoint["port"] in {port["name"] for port in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


def test_compose_runs_prometheus_on_the_rules_scraping_the_four_services_at_their_ports() -> None:
    prometheus = _compose_service("prometheus")
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in prometheus["volumes"] if volume.startswith("./")}
    assert mounts == {
        "/etc/prometheus/prometheus.yml": "./deploy/prometheus/prometheus.yml",
        "/etc/prometheus/alerts.yml": "./deploy/prometheus/alerts.yml",
    }
    config = yaml.safe_load(COMPOSE_PROMETHEUS_FILE.read_text())
    assert config["rule_files"] == ["alerts.yml"]
    scraped = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert scraped == {name: [f"{name}:{_environment(_compose_service(name))['HTTP_PORT']}"] for name in SERVICES}
