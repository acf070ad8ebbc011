"""Running the app: one waitress process, or a master that pre-forks workers.

With ``workers > 1`` the master loads the bundle and its fork-safe artifacts,
binds one listening socket per worker on the port (SO_REUSEPORT, so the kernel
spreads connections evenly), freezes the garbage collector's view of what it
loaded (so workers share those pages instead of copying them) and forks. Each
worker pins itself to its share of the CPUs (``cpu_affinity``), loads the
artifacts that are not fork-safe (TensorFlow, XGBoost's OpenMP, H2O's client),
builds the app, and serves its socket with waitress.  Nothing that starts a
thread, opens a database connection or starts a dispatcher runs before the fork.

Before any artifact loads, the parent (the master, or the single process)
calls each artifact class's ``prepare_serving`` once, so that a resource all
workers share (a JVM, a cache server) starts once and its address reaches
the workers through the environment; the parent releases these resources when
it exits, whatever the reason, and never because one worker died.

SIGTERM (and SIGINT) stop gracefully everywhere: stop accepting, let in-flight
requests finish (bounded by ``timeout``), exit 0.  The master forwards the
signal to its workers, replaces a worker that dies unexpectedly, and exits when
all have stopped.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Dict, List, Optional

from bentoml.bundle.load import load_from_dir, load_remaining_artifacts
from bentoml.exceptions import BentoMLException
from bentoml.server.config import ServerConfig
from bentoml.server.cpu_affinity import pin_worker
from bentoml.server.metrics import MULTIPROC_ENV, mark_worker_dead

logger = logging.getLogger("bentoml.server")


def bind_socket(host: str, port: int, backlog: int, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BentoMLException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def _load_service(bundle_path: str):
    """The bundle's service with no artifact loaded yet (``load_remaining_artifacts`` loads them)."""
    return load_from_dir(bundle_path, artifact_filter=lambda artifact: False, keep_modules=True)


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


def _pending_output(channel_map: dict) -> bool:
    return any(getattr(ch, "total_outbufs_len", 0) or getattr(ch, "requests", None)
               for ch in list(channel_map.values()))


def _json_error_channel():
    """waitress's channel, answering its own errors (413 from Content-Length alone,
    malformed HTTP) like the app does: a JSON ``{"error": ...}`` with ``X-Request-Id``."""
    from waitress.channel import HTTPChannel
    from waitress.task import ErrorTask

    from bentoml.inference import InferenceResult
    from bentoml.server.request_ids import RequestIds
    from bentoml.server.response import build_response

    request_ids = RequestIds()

    class JsonErrorTask(ErrorTask):
        def execute(self):
            error = self.request.error
            request_id = request_ids.next((self.request.headers or {}).get("X_REQUEST_ID", ""))
            result = InferenceResult.failure(error.code, f"{error.reason}: {error.body}")
            _status, headers, body = build_response(result, request_id, cors=False)
            self.status = f"{error.code} {error.reason}"  # waitress's reason phrase, as before
            self.response_headers.extend(headers)
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):
        error_task_class = JsonErrorTask

    return JsonErrorChannel


def run_worker(service, config: ServerConfig, sock: socket.socket, announce=None,
               early_signals: Optional[List[int]] = None) -> int:
    """Serve ``sock`` in this process until SIGTERM/SIGINT; returns the exit code.

    ``announce`` is called once the signal handlers are in place (a SIGTERM right
    after the "Serving" line must stop the server gracefully, not kill it).
    ``early_signals`` collects signals an earlier handler caught during startup;
    one caught before these handlers took over stops the worker at once."""
    from waitress import wasyncore
    from waitress.server import create_server

    from bentoml.server.app import create_app

    load_remaining_artifacts(service)
    app = create_app(service, config)
    server = create_server(
        app, sockets=[sock], threads=config.threads, connection_limit=config.connection_limit,
        backlog=config.backlog, max_request_body_size=config.max_request_size,
        channel_timeout=max(config.timeout, 30), ident=f"bentoml {service.name}",
        clear_untrusted_proxy_headers=True, asyncore_use_poll=True)
    server.channel_class = _json_error_channel()
    channel_map = getattr(server, "map", None) or getattr(server, "_map")
    stop = {"at": None}

    def on_signal(signum, _frame):
        if stop["at"] is None:
            stop["at"] = time.monotonic()
            logger.info("worker %d: stopping (signal %d), finishing in-flight requests", os.getpid(), signum)
            for listener in [ch for ch in list(channel_map.values()) if getattr(ch, "accepting", False)]:
                # Stop accepting: close this process's copy of the listening socket, so
                # that once every process has, new connections are refused instead of
                # waiting in the backlog until the server exits.
                listener.del_channel()
                listener.socket.close()  # not listener.close(): that also closes the trigger

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if early_signals:
        on_signal(early_signals[0], None)
    if announce is not None:
        announce()
    try:
        while True:
            wasyncore.loop(timeout=0.2, use_poll=True, map=channel_map, count=1)
            if stop["at"] is not None:
                idle = app.in_flight.count == 0 and not _pending_output(channel_map)
                if idle or time.monotonic() - stop["at"] > config.timeout:
                    break
    finally:
        app.close(timeout=5)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
    return 0


def serve(bundle_path: str, config: ServerConfig) -> int:
    """Serve a bundle with ``config``; returns the process exit code."""
    if config.workers <= 1:
        return _serve_single(bundle_path, config)
    return _Master(bundle_path, config).run()


def _serve_single(bundle_path: str, config: ServerConfig) -> int:
    """One process: prepare shared resources, load everything, serve, release."""
    stop_signal: List[int] = []

    def on_early_signal(signum, _frame):  # until run_worker takes over: stop after setup
        stop_signal.append(signum)

    # Kept until run_worker installs its own, which then honours a signal seen here.
    signal.signal(signal.SIGTERM, on_early_signal)
    signal.signal(signal.SIGINT, on_early_signal)
    with contextlib.ExitStack() as resources:
        service = _load_service(bundle_path)
        prepare_serving_resources(service, resources)
        load_remaining_artifacts(service)
        sock = bind_socket(config.host, config.port, config.backlog)
        if stop_signal:
            logger.info("stopped (signal %d) before serving", stop_signal[0])
            sock.close()
            return 0
        return run_worker(service, config, sock, announce=lambda: _announce(service, config, sock, 1),
                          early_signals=stop_signal)


class _Master:
    """Pre-forks ``config.workers`` workers over one socket and keeps them running."""

    def __init__(self, bundle_path: str, config: ServerConfig):
        self.bundle_path = bundle_path
        self.config = config
        self.children: Dict[int, int] = {}  # pid -> worker index
        self.stopping = False
        self.crashes: List[float] = []
        self.socks: List[socket.socket] = []

    def run(self) -> int:
        metrics_dir = tempfile.mkdtemp(prefix="bentoml-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir  # before any worker imports prometheus_client
        # Handlers first: a SIGTERM while a shared resource starts must still release it.
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            # Workers never leave _spawn (os._exit), so only the master unwinds `resources`.
            with contextlib.ExitStack() as resources:
                service = _load_service(self.bundle_path)
                prepare_serving_resources(service, resources)
                load_remaining_artifacts(service, lambda artifact: artifact.fork_safe)
                self.socks = self._bind()
                sock = self.socks[0]
                gc.collect()
                gc.freeze()  # objects loaded so far stay shared with the workers (copy-on-write)
                if not self.stopping:
                    _announce(service, self.config, sock, self.config.workers)
                for index in range(self.config.workers):
                    if self.stopping:
                        break
                    self._spawn(service, self.socks[index], index)
                return self._supervise(service)
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _bind(self) -> List[socket.socket]:
        """One listening socket per worker on one port (SO_REUSEPORT).

        The kernel spreads new connections evenly over the sockets; with one
        shared socket whichever worker wins each accept race takes the
        connection, and a busy benchmark or client pool ends up lopsided.
        """
        if not hasattr(socket, "SO_REUSEPORT"):  # one shared socket elsewhere
            return [bind_socket(self.config.host, self.config.port, self.config.backlog)] * self.config.workers
        first = bind_socket(self.config.host, self.config.port, self.config.backlog, reuse_port=True)
        port = first.getsockname()[1]
        return [first] + [bind_socket(self.config.host, port, self.config.backlog, reuse_port=True)
                          for _ in range(self.config.workers - 1)]

    def _spawn(self, service, sock: socket.socket, index: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                for other in set(self.socks) - {sock}:
                    other.close()  # only its own socket: a stopped worker must refuse, not queue
                if self.config.cpu_affinity:
                    pin_worker(index, self.config.workers)  # before any thread starts
                code = run_worker(service, self.config, sock)
            except BaseException:
                logger.exception("worker %d failed", os.getpid())
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = index

    def _on_signal(self, signum, _frame) -> None:
        if not self.stopping:
            self.stopping = True
            logger.info("stopping %d workers (signal %d)", len(self.children), signum)
            for sock in set(self.socks):
                sock.close()  # the workers close their copies: new connections are refused
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    def _supervise(self, service) -> int:
        status_code = 0
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = self.children.pop(pid, None)
            mark_worker_dead(pid)
            if index is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            logger.error("worker %d exited unexpectedly (code %d); starting a new one", pid, code)
            now = time.monotonic()
            self.crashes = [t for t in self.crashes if now - t < 60] + [now]
            if len(self.crashes) > 5 * self.config.workers:
                logger.error("workers keep crashing; giving up")
                self._on_signal(signal.SIGTERM, None)
                status_code = 1
                continue
            self._spawn(service, self.socks[index], index)
        for sock in set(self.socks):
            sock.close()
        return status_code


def server_config(**options) -> ServerConfig:
    """Options from the CLI over ``BENTOML_*`` environment variables over defaults."""
    from bentoml.server.config import env_defaults

    values = env_defaults()
    values.update({k: v for k, v in options.items() if v is not None})
    return ServerConfig(**values)

