"""``Settings``: what a deployment asks for, checked before any manifest is written."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional

import attrs

from bentoml.exceptions import InvalidArgument
from bentoml.server.config import SERVER_OPTIONS, ServerConfig
from bentoml_deployer_kubernetes.names import check_name, check_namespace
from bentoml_deployer_kubernetes.quantities import check_quantity

#: The server options a deployment may set; each becomes its ``BENTOML_*`` variable.
SERVER_SETTINGS = ("port", "workers", "enable_microbatch", "mb_max_batch_size", "mb_max_latency",
                   "timeout", "drain_grace")
#: Seconds past the server's own longest stop (drain grace plus timeout) before the kubelet
#: sends SIGKILL: room for the last answers to be written and the process to exit.
STOP_MARGIN_S = 5
DEFAULT_REPLICAS = 1
#: The autoscaler's target: average CPU use as a share of the requested CPUs.
DEFAULT_CPU_UTILIZATION = 80
SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer")


def _env_text(value: Any) -> str:
    """A setting as its environment variable's text (what ``ServerOption.parse`` reads back)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


@attrs.frozen
class Settings:
    """A deployment's settings; construction raises InvalidArgument naming a bad one.

    ``server`` holds :class:`~bentoml.server.config.ServerConfig` fields
    (:data:`SERVER_SETTINGS`) the container's server gets; micro-batching is on
    unless ``server["enable_microbatch"]`` is False.
    """

    name: str
    image: str
    namespace: Optional[str] = None
    replicas: Optional[int] = None
    min_replicas: Optional[int] = None
    max_replicas: Optional[int] = None
    cpu: Optional[str] = None
    memory: Optional[str] = None
    cpu_utilization: int = DEFAULT_CPU_UTILIZATION
    service_type: str = "ClusterIP"
    server: Dict[str, Any] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        check_name(self.name)
        if not self.image or any(c.isspace() for c in self.image):
            raise InvalidArgument(f"--image {self.image!r} is not an image reference (NAME:TAG)")
        if self.namespace is not None:
            check_namespace(self.namespace)
        self._check_replicas()
        if self.cpu is not None:
            check_quantity(self.cpu, "--cpu")
        if self.memory is not None:
            check_quantity(self.memory, "--memory")
        if self.service_type not in SERVICE_TYPES:
            raise InvalidArgument(f"--service-type {self.service_type!r} is not one of {', '.join(SERVICE_TYPES)}")
        unknown = sorted(set(self.server) - set(SERVER_SETTINGS))
        if unknown:
            raise InvalidArgument(f"not a server setting a deployment takes: {', '.join(unknown)}")
        if self.server.get("port") == 0:
            raise InvalidArgument("--port must be a port number from 1 to 65535 in a container, got 0")
        self.server_config()  # the kernel's own bounds on each server option

    def _check_replicas(self) -> None:
        if self.replicas is not None and self.replicas < 0:
            raise InvalidArgument(f"--replicas must be 0 or more, got {self.replicas}")
        if self.min_replicas is None and self.max_replicas is None:
            return
        if self.replicas is not None:
            raise InvalidArgument("--replicas fixes the number of pods; --min-replicas/--max-replicas let "
                                  "the autoscaler choose it: give one or the other")
        if self.max_replicas is None:
            raise InvalidArgument("--min-replicas needs --max-replicas (the autoscaler's upper bound)")
        low = 1 if self.min_replicas is None else self.min_replicas
        if low < 1:
            raise InvalidArgument(f"--min-replicas must be 1 or more, got {low}")
        if low > self.max_replicas:
            raise InvalidArgument(f"--min-replicas {low} is more than --max-replicas {self.max_replicas}")
        if self.cpu is None:
            raise InvalidArgument("--min-replicas/--max-replicas scale on CPU use, a share of the requested "
                                  "CPUs: give --cpu too")
        if not 1 <= self.cpu_utilization <= 100:
            raise InvalidArgument(f"--cpu-utilization must be from 1 to 100 (%), got {self.cpu_utilization}")

    @property
    def autoscaled(self) -> bool:
        """Whether a HorizontalPodAutoscaler sets the number of pods."""
        return self.max_replicas is not None

    def server_config(self) -> ServerConfig:
        """The container's server settings as the kernel reads them (defaults for what is not set)."""
        try:
            return ServerConfig(**self.server)
        except TypeError as exc:  # a value of the wrong type from the Python API
            raise InvalidArgument(f"bad server setting: {exc}") from None

    def server_environment(self) -> Dict[str, str]:
        """The ``BENTOML_*`` variables of the settings given, micro-batching always included."""
        given = {"enable_microbatch": True, **self.server}
        values = {}
        for option in SERVER_OPTIONS:
            value = given.get(option.name)
            if value is None:
                continue  # the server's default, or an API's own mb_max_batch_size/mb_max_latency
            values[option.env] = _env_text(value)
        return values

    def termination_grace_seconds(self) -> int:
        """Seconds Kubernetes waits after SIGTERM: longer than the server's drain (its grace
        period, then at most ``timeout`` for the requests in flight)."""
        config = self.server_config()
        return math.ceil(config.drain_grace + config.timeout) + STOP_MARGIN_S
