"""Server settings: :class:`ServerConfig`, the one source of every server option.

Each field carries its option's metadata (:class:`ServerOption`: help text,
``BENTOML_*`` variable, CLI flag, bounds, the default ``--help`` shows), from
which the environment parsing here and the click options of ``bentoml serve``
and ``serve-gunicorn`` (``bentoml.cli.serve_commands``) are generated; the
README's table of server options is checked against it by a test.

``BENTOML_ENABLE_MICROBATCH=True`` in a container turns on micro-batching just
like ``--enable-microbatch`` (the bundle's Dockerfile relies on this).
"""
from __future__ import annotations

import os
from typing import Any, Callable, Dict, Optional, Tuple

import attrs

from bentoml.exceptions import InvalidArgument
from bentoml.server.cpu_quota import available_cpus

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

_OPTION = "bentoml.server_option"


def _env_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise InvalidArgument(f"expected a boolean (true/false), got {value!r}")


def _mebibytes(size: int) -> str:
    return f"{size // (1024 * 1024)} MiB"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@attrs.frozen
class ServerOption:
    """How one :class:`ServerConfig` field is set from outside, and how ``--help`` shows it.

    For ``threads``: ``flag="--threads"``, ``env="BENTOML_THREADS"``, ``kind=int``,
    ``minimum=1``, ``shown_default="72"``.  A boolean has an ``off_flag``
    (``--enable-cors/--disable-cors``); a field whose config default is None
    (the API's own setting, or the server's fallback, decides) shows the
    fallback the server uses, e.g. ``DEFAULT_MB_MAX_BATCH_SIZE``.
    """

    name: str
    help: str
    env: str
    flag: str
    off_flag: Optional[str]
    #: int, float, str or bool: how a value is parsed from the environment
    kind: type
    #: the config default is None: "not set here"
    optional: bool
    #: the smallest value allowed (exclusive with ``min_open``), None for no bound
    minimum: Optional[float]
    min_open: bool
    #: the largest value allowed, None for no bound
    maximum: Optional[float]
    shown_default: str
    #: what the value ``auto`` stands for, computed when it is read (``--workers auto``);
    #: None where ``auto`` is not a value
    auto: Optional[Callable[[], Any]] = None

    def parse(self, raw: str) -> Any:
        """The value of environment variable text ``raw``."""
        if self.auto is not None and raw.strip().lower() == "auto":
            return self.auto()
        return _env_bool(raw) if self.kind is bool else self.kind(raw)

    def help_text(self, text: Optional[str] = None) -> str:
        """``text`` (this option's help by default) with where else it is set and its default."""
        return f"{text or self.help} [env {self.env}; default {self.shown_default}]"


def _option(default: Any, help: str, *, env: str, flag: str, off_flag: Optional[str] = None,
            minimum: Optional[float] = None, min_open: bool = False, maximum: Optional[float] = None,
            fallback: Any = None, auto: Optional[Callable[[], Any]] = None,
            show: Callable[[Any], str] = _shown) -> Any:
    """A :class:`ServerConfig` field with its option's metadata; ``fallback`` is what a
    None ``default`` stands for, ``auto`` computes the value ``auto``, ``show`` formats
    the default for ``--help``."""
    effective = default if default is not None else fallback
    return attrs.field(default=default, metadata={_OPTION: dict(
        help=help, env=env, flag=flag, off_flag=off_flag, kind=type(effective), optional=default is None,
        minimum=minimum, min_open=min_open, maximum=maximum, shown_default=show(effective), auto=auto)})


@attrs.define
class ServerConfig:
    """How to serve a bundle; :func:`server_config` fills it from the CLI and ``BENTOML_*``.

    The fields are in the order ``--help`` lists them.
    """

    #: ``auto`` (the bundle's image sets it): one per CPU the container may use (cpu_quota.py)
    workers: int = _option(1, "Worker processes sharing the port (auto: one per CPU the cgroup quota and "
                           "CPU affinity allow)", env="BENTOML_WORKERS", flag="--workers", minimum=1,
                           auto=available_cpus)
    port: int = _option(5000, "Port to listen on", env="BENTOML_PORT", flag="--port", minimum=0,
                        maximum=65535)
    host: str = _option("127.0.0.1", "Address to bind", env="BENTOML_HOST", flag="--host")
    enable_microbatch: bool = _option(False, "Batch concurrent requests", env="BENTOML_ENABLE_MICROBATCH",
                                      flag="--enable-microbatch", off_flag="--disable-microbatch")
    mb_max_batch_size: Optional[int] = _option(None, "Most requests per API call", env="BENTOML_MB_MAX_BATCH_SIZE",
                                               flag="--mb-max-batch-size", minimum=1,
                                               fallback=DEFAULT_MB_MAX_BATCH_SIZE)
    mb_max_latency: Optional[float] = _option(None, "Latency budget per request in ms",
                                              env="BENTOML_MB_MAX_LATENCY", flag="--mb-max-latency",
                                              minimum=0, min_open=True, fallback=DEFAULT_MB_MAX_LATENCY_MS)
    threads: int = _option(DEFAULT_THREADS, "Request threads per worker", env="BENTOML_THREADS",
                           flag="--threads", minimum=1)
    timeout: float = _option(60.0, "Seconds an API call or a graceful stop may take", env="BENTOML_TIMEOUT",
                             flag="--timeout", minimum=0, min_open=True)
    max_request_size: int = _option(DEFAULT_MAX_REQUEST_SIZE, "Largest request body in bytes",
                                    env="BENTOML_MAX_REQUEST_SIZE", flag="--max-request-size", minimum=1,
                                    show=_mebibytes)
    cors: bool = _option(False, "Send CORS headers", env="BENTOML_ENABLE_CORS",
                         flag="--enable-cors", off_flag="--disable-cors")
    #: None: the command decides, on for the production server (``serve-gunicorn``,
    #: ``serve --production``), off for the development server; off where no command does
    access_log: Optional[bool] = _option(
        None, "Log a line per request (client, method, path, status, latency, request id) to the "
              "bentoml.access logger; not the probes or /metrics",
        env="BENTOML_ACCESS_LOG", flag="--access-log", off_flag="--no-access-log", fallback=True,
        show=lambda _on: "on in production, off in development")
    #: with several workers, pin each to its own share of the CPUs (see cpu_affinity.py)
    cpu_affinity: bool = _option(True, "With several workers, pin each to its own share of the CPUs",
                                 env="BENTOML_CPU_AFFINITY", flag="--cpu-affinity", off_flag="--no-cpu-affinity")
    connection_limit: int = _option(512, "Open connections per worker; beyond it the idlest or slowest "
                                    "connection is closed for each new one", env="BENTOML_CONNECTION_LIMIT",
                                    flag="--connection-limit", minimum=1)
    backlog: int = _option(2048, "Connections the kernel queues for the server to accept (listen backlog)",
                           env="BENTOML_BACKLOG", flag="--backlog", minimum=1)
    header_timeout: float = _option(10.0, "Seconds a client has, from a request's first byte, to send its "
                                    "request line and headers (408 after)", env="BENTOML_HEADER_TIMEOUT",
                                    flag="--header-timeout", minimum=0, min_open=True)
    body_timeout: float = _option(60.0, "Seconds a client has, from a request's first byte, to send its body "
                                  "(408 after)", env="BENTOML_BODY_TIMEOUT", flag="--body-timeout",
                                  minimum=0, min_open=True)
    keepalive_timeout: float = _option(15.0, "Seconds an idle keep-alive connection stays open",
                                       env="BENTOML_KEEPALIVE_TIMEOUT", flag="--keepalive-timeout",
                                       minimum=0, min_open=True)
    linger_time: float = _option(5.0, "Seconds to keep reading (and dropping) what a client still sends after "
                                 "the server answered and closes, so that the client sees the answer",
                                 env="BENTOML_LINGER_TIME", flag="--linger-time", minimum=0)
    drain_grace: float = _option(2.0, "On SIGTERM, seconds to keep accepting (/readyz answers 503) before "
                                 "the listener closes; then in-flight requests finish", env="BENTOML_DRAIN_GRACE",
                                 flag="--drain-grace", minimum=0)

    def __attrs_post_init__(self) -> None:
        for option in SERVER_OPTIONS:
            if option.minimum is None:
                continue
            value = getattr(self, option.name)
            if option.maximum is not None and value is not None and value > option.maximum:
                raise InvalidArgument(f"{option.flag} must be at most {option.maximum:g}, got {value!r}")
            if option.kind is int and not option.optional:
                if not isinstance(value, int) or value < option.minimum:
                    raise InvalidArgument(f"{option.flag} must be a positive integer, got {value!r}")
            elif value is not None and (value <= option.minimum if option.min_open else value < option.minimum):
                raise InvalidArgument(f"{option.flag} must be positive, got {value!r}")


#: Every server option, in ``ServerConfig``'s field order.
SERVER_OPTIONS: Tuple[ServerOption, ...] = tuple(
    ServerOption(name=field.name, **field.metadata[_OPTION]) for field in attrs.fields(ServerConfig))

#: environment variable -> (field, parser)
ENVIRONMENT: Dict[str, Tuple[str, Callable[[str], Any]]] = {
    option.env: (option.name, option.parse) for option in SERVER_OPTIONS}


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
