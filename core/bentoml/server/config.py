"""Server settings: CLI options, each with an environment variable of the same name.

``BENTOML_ENABLE_MICROBATCH=True`` in a container turns on micro-batching just
like ``--enable-microbatch`` (the bundle's Dockerfile relies on this).
"""
from __future__ import annotations

import os
from typing import Optional

import attrs

from bentoml.exceptions import InvalidArgument

#: Default latency budget (ms) of a request under micro-batching: queueing plus
#: the batch's run. One second is far above what a healthy server needs (p99 of
#: a loaded 2-core server is tens of ms), so it fires only when the server is
#: genuinely overloaded, and then a client gets a clear 503 in bounded time
#: instead of an unbounded wait.
DEFAULT_MB_MAX_LATENCY_MS = 1000.0
#: Largest batch handed to an API; also what 64 concurrent clients can fill.
DEFAULT_MB_MAX_BATCH_SIZE = 64
#: Waitress threads per worker. A request waiting for its batch holds a thread,
#: so this bounds how many requests can join one batch: 64 connections must
#: really batch.
DEFAULT_THREADS = 72
DEFAULT_MAX_REQUEST_SIZE = 20 * 1024 * 1024


def _env_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise InvalidArgument(f"expected a boolean (true/false), got {value!r}")


@attrs.define
class ServerConfig:
    """How to serve a bundle; ``from_env`` fills unset fields from ``BENTOML_*``."""

    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    threads: int = DEFAULT_THREADS
    timeout: float = 60.0
    enable_microbatch: bool = False
    mb_max_batch_size: Optional[int] = None
    mb_max_latency: Optional[float] = None
    max_request_size: int = DEFAULT_MAX_REQUEST_SIZE
    cors: bool = False
    #: with several workers, pin each to its own share of the CPUs (see cpu_affinity.py)
    cpu_affinity: bool = True
    connection_limit: int = 512
    backlog: int = 2048

    def __attrs_post_init__(self) -> None:
        for name in ("port", "workers", "threads", "max_request_size", "connection_limit"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "port" else 1):
                raise InvalidArgument(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        for name in ("mb_max_batch_size", "mb_max_latency", "timeout"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InvalidArgument(f"--{name.replace('_', '-')} must be positive, got {value!r}")


#: environment variable -> (field, parser)
ENVIRONMENT = {
    "BENTOML_HOST": ("host", str),
    "BENTOML_PORT": ("port", int),
    "BENTOML_WORKERS": ("workers", int),
    "BENTOML_THREADS": ("threads", int),
    "BENTOML_TIMEOUT": ("timeout", float),
    "BENTOML_ENABLE_MICROBATCH": ("enable_microbatch", _env_bool),
    "BENTOML_MB_MAX_BATCH_SIZE": ("mb_max_batch_size", int),
    "BENTOML_MB_MAX_LATENCY": ("mb_max_latency", float),
    "BENTOML_MAX_REQUEST_SIZE": ("max_request_size", int),
    "BENTOML_ENABLE_CORS": ("cors", _env_bool),
    "BENTOML_CPU_AFFINITY": ("cpu_affinity", _env_bool),
}


def env_defaults() -> dict:
    """Field values given by ``BENTOML_*`` environment variables (bad values are named)."""
    values = {}
    for var, (field, parse) in ENVIRONMENT.items():
        raw = os.environ.get(var)
        if raw is None or raw == "":
            continue
        try:
            values[field] = parse(raw)
        except (ValueError, InvalidArgument) as exc:
            raise InvalidArgument(f"environment variable {var}={raw!r} is invalid: {exc}") from None
    return values


def server_config(**options) -> ServerConfig:
    """Options from the CLI over ``BENTOML_*`` environment variables over defaults."""
    values = env_defaults()
    values.update({k: v for k, v in options.items() if v is not None})
    return ServerConfig(**values)
