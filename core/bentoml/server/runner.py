"""Serving a bundle: one process, or a pre-fork master (``master``) with workers.

``serve`` is what ``bentoml serve`` and ``serve-gunicorn`` run.  Both modes
load the bundle here (:func:`_load_service`, the one place that calls the
bundle loader), serve with :func:`~bentoml.server.worker.run_worker`, and print
the "Serving NAME:VERSION on http://HOST:PORT" line that scripts and tests read.

Before any artifact loads, the parent (the master, or the single process)
calls each artifact class's ``prepare_serving`` once, so that a resource all
workers share (a JVM, a cache server) starts once and its address reaches
the workers through the environment; the parent releases these resources when
it exits, whatever the reason, and never because one worker died.

SIGTERM (and SIGINT) stop gracefully everywhere: stop accepting, let in-flight
requests finish (bounded by ``timeout``), exit 0.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import signal
import socket
import sys
from typing import Callable, List, Optional

from bentoml.bundle.load import load_from_dir
from bentoml.server.config import ServerConfig
from bentoml.server.master import Master
from bentoml.server.sockets import bind_socket, raise_open_file_limit
from bentoml.server.worker import run_worker

logger = logging.getLogger("bentoml.server")


def _load_service(bundle_path: str, resources: contextlib.ExitStack,
                  artifact_filter: Optional[Callable] = None):
    """The bundle's service with its serving resources prepared (``resources``
    releases them) and the artifacts ``artifact_filter`` accepts loaded (all when None)."""
    service = load_from_dir(bundle_path, artifact_filter=lambda artifact: False, keep_modules=True)
    prepare_serving_resources(service, resources)
    service.load_artifacts(artifact_filter)
    return service


def _release_quietly(cls: type, release) -> None:
    try:
        release()
    except Exception as exc:  # the others must still be released
        logger.error("releasing the serving resources of %s failed: %s", cls.__name__, exc)


def prepare_serving_resources(service, stack: contextlib.ExitStack) -> None:
    """Call ``prepare_serving`` once per artifact class of ``service`` (in declaration
    order) and push each release onto ``stack``, which the serving parent unwinds when
    it exits."""
    for cls in dict.fromkeys(type(artifact) for artifact in service.artifacts):
        release = cls.prepare_serving()
        if release is not None:
            stack.callback(_release_quietly, cls, release)


def _announce(service, config: ServerConfig, sock: socket.socket, workers: int) -> None:
    host, port = sock.getsockname()[:2]
    mode = "micro-batching" if config.enable_microbatch else "no batching"
    shown = f"[{host}]" if ":" in host else host
    # Tests and scripts read the port from this line when --port 0 picks one.
    print(f"Serving {service.name}:{service.version} on http://{shown}:{port} "
          f"({workers} worker{'s' if workers != 1 else ''}, {mode}) (Press CTRL+C to quit)",
          file=sys.stderr, flush=True)


def serve(bundle_path: str, config: ServerConfig) -> int:
    """Serve a bundle with ``config``; returns the process exit code."""
    raise_open_file_limit(config.connection_limit + 64)  # workers inherit it
    if config.workers <= 1:
        return _serve_single(bundle_path, config)
    master = Master(config, load=functools.partial(_load_service, bundle_path),
                    announce=lambda service, sock, workers: _announce(service, config, sock, workers))
    return master.run()


def _serve_single(bundle_path: str, config: ServerConfig) -> int:
    """One process: prepare shared resources, load everything, serve, release."""
    stop_signal: List[int] = []

    def on_early_signal(signum, _frame):  # until run_worker takes over: stop after setup
        stop_signal.append(signum)

    # Kept until run_worker installs its own, which then honours a signal seen here.
    signal.signal(signal.SIGTERM, on_early_signal)
    signal.signal(signal.SIGINT, on_early_signal)
    with contextlib.ExitStack() as resources:
        service = _load_service(bundle_path, resources)
        sock = bind_socket(config.host, config.port, config.backlog)
        if stop_signal:
            logger.info("stopped (signal %d) before serving", stop_signal[0])
            sock.close()
            return 0
        return run_worker(service, config, sock, announce=lambda: _announce(service, config, sock, 1),
                          early_signals=stop_signal)
