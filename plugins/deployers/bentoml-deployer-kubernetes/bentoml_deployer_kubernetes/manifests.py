"""The manifests of a deployment: a Deployment, its Service, and a HorizontalPodAutoscaler
when a range of replicas is asked for; plain dicts, as ``kubectl apply`` reads them.

What the server needs comes from the kernel, never a copied constant: the probe
paths from :mod:`bentoml.server.routes`, each ``BENTOML_*`` variable from
:data:`~bentoml.server.config.SERVER_OPTIONS`, the stop timeout from
:class:`~bentoml.server.config.ServerConfig`, and the Prometheus directory's
variable from :mod:`bentoml.server.metrics`.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List

import yaml

from bentoml.bundle.config import BundleConfig
from bentoml.server.metrics import MULTIPROC_ENV
from bentoml.server.routes import LIVEZ, METRICS, READYZ
from bentoml_deployer_kubernetes.names import label_value
from bentoml_deployer_kubernetes.settings import Settings

Manifest = Dict[str, Any]

#: The server's master makes its :data:`MULTIPROC_ENV` directory (each worker's metric
#: files) under the temporary directory; an emptyDir there keeps them off the image's
#: layer and writable under a read-only root file system.
METRICS_VOLUME = "prometheus-multiproc"
TMP_DIR = "/tmp"
PORT_NAME = "http"
#: How long a pod may take to load its models before liveness checks start (periods x seconds).
STARTUP_PERIOD_S, STARTUP_FAILURES = 5, 60
FORMATS = ("yaml", "json")


def labels(settings: Settings, config: BundleConfig) -> Dict[str, str]:
    """The recommended ``app.kubernetes.io`` labels; the selector uses only ``name``."""
    return {"app.kubernetes.io/name": settings.name,
            "app.kubernetes.io/version": label_value(config.version),
            "app.kubernetes.io/managed-by": "bentoml"}


def _metadata(settings: Settings, config: BundleConfig) -> Dict[str, Any]:
    metadata: Dict[str, Any] = {"name": settings.name}
    if settings.namespace:
        metadata["namespace"] = settings.namespace
    metadata["labels"] = labels(settings, config)
    metadata["annotations"] = {"bentoml.org/bento": f"{config.name}:{config.version}"}
    return metadata


def _probe(path: str, period: int, failures: int, timeout: int) -> Dict[str, Any]:
    return {"httpGet": {"path": path, "port": PORT_NAME}, "periodSeconds": period,
            "failureThreshold": failures, "timeoutSeconds": timeout}


def _container(settings: Settings, port: int) -> Dict[str, Any]:
    env = {**settings.server_environment(), "TMPDIR": TMP_DIR}
    container: Dict[str, Any] = {
        "name": settings.name,
        "image": settings.image,
        "ports": [{"name": PORT_NAME, "containerPort": port, "protocol": "TCP"}],
        "env": [{"name": name, "value": value} for name, value in env.items()],
        # /livez answers once the models are loaded and the port is open: the startup
        # probe gives a slow model that long before a liveness failure restarts the pod.
        "startupProbe": _probe(LIVEZ.path, STARTUP_PERIOD_S, STARTUP_FAILURES, 5),
        "livenessProbe": _probe(LIVEZ.path, 10, 3, 5),
        # /readyz answers 503 while draining: the pod leaves the Service before it stops accepting
        "readinessProbe": _probe(READYZ.path, 5, 2, 5),
        "volumeMounts": [{"name": METRICS_VOLUME, "mountPath": TMP_DIR}],
    }
    requests = {key: value for key, value in (("cpu", settings.cpu), ("memory", settings.memory)) if value}
    if requests:
        container["resources"] = {"requests": requests}
    return container


def deployment(settings: Settings, config: BundleConfig) -> Manifest:
    """The Deployment: the Bento's image with its server settings, probes and drain time."""
    port = settings.server_config().port
    spec: Dict[str, Any] = {}
    if not settings.autoscaled:  # else the autoscaler owns it: apply must not reset its choice
        spec["replicas"] = settings.replicas if settings.replicas is not None else 1
    spec["selector"] = {"matchLabels": {"app.kubernetes.io/name": settings.name}}
    # a rollout takes an old pod away only once a new one is ready
    spec["strategy"] = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    spec["template"] = {
        "metadata": {"labels": labels(settings, config),
                     "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                                     "prometheus.io/path": METRICS.path}},
        "spec": {
            "terminationGracePeriodSeconds": settings.termination_grace_seconds(),
            "containers": [_container(settings, port)],
            "volumes": [{"name": METRICS_VOLUME, "emptyDir": {}}],
        },
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _metadata(settings, config), "spec": spec}


def service(settings: Settings, config: BundleConfig) -> Manifest:
    """The Service in front of the Deployment's ready pods, on the server's port."""
    port = settings.server_config().port
    return {"apiVersion": "v1", "kind": "Service", "metadata": _metadata(settings, config),
            "spec": {"type": settings.service_type,
                     "selector": {"app.kubernetes.io/name": settings.name},
                     "ports": [{"name": PORT_NAME, "port": port, "targetPort": PORT_NAME, "protocol": "TCP"}]}}


def autoscaler(settings: Settings, config: BundleConfig) -> Manifest:
    """The HorizontalPodAutoscaler keeping the average CPU use at ``cpu_utilization`` % of ``--cpu``."""
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": _metadata(settings, config),
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": settings.name},
                     "minReplicas": 1 if settings.min_replicas is None else settings.min_replicas,
                     "maxReplicas": settings.max_replicas,
                     "metrics": [{"type": "Resource", "resource": {
                         "name": "cpu", "target": {"type": "Utilization",
                                                   "averageUtilization": settings.cpu_utilization}}}]}}


def manifests(settings: Settings, config: BundleConfig) -> List[Manifest]:
    """Every object of the deployment, in the order ``kubectl apply`` should create them."""
    objects = [deployment(settings, config), service(settings, config)]
    if settings.autoscaled:
        objects.append(autoscaler(settings, config))
    return objects


def render(objects: List[Manifest], fmt: str = "yaml") -> str:
    """``objects`` as kubectl reads them: YAML documents separated by ``---``, or a JSON ``List``."""
    if fmt == "json":
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}, indent=2) + "\n"
    if fmt != "yaml":
        raise ValueError(f"unknown manifest format {fmt!r}; one of {', '.join(FORMATS)}")
    return yaml.safe_dump_all(objects, sort_keys=False, explicit_start=True)
