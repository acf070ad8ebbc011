"""One serving process: the app on waitress over one socket, until SIGTERM or SIGINT.

A signal starts a drain.  On SIGTERM (an orchestrator's stop) the worker first
keeps accepting for ``drain_grace`` seconds while ``/readyz`` answers 503, so
a load balancer sees "not ready" rather than "connection refused"; SIGINT
(Ctrl+C) and the death of the worker's master skip that.  Then the listener
closes, idle connections close, and every request already received is
answered with ``Connection: close`` on its connection's last response; the
worker returns 0 once every connection is closed, or when ``timeout`` seconds
have passed since the signal.  The single-process server runs one worker in
its own process; the pre-fork master runs one in each child.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import time
from typing import Callable, List, Optional

from bentoml.server.config import ServerConfig

logger = logging.getLogger("bentoml.server")

#: How often a worker checks that its master is still there (besides PR_SET_PDEATHSIG).
PARENT_CHECK_SECONDS = 1.0


class _Drain:
    """When the stop began, and when the listener closes."""

    def __init__(self, signum: int, grace: float) -> None:
        self.signum = signum
        self.began = time.monotonic()
        self.close_listener_at = self.began + grace
        self.listener_closed = False


def run_worker(service, config: ServerConfig, sock: socket.socket,
               announce: Optional[Callable[[], None]] = None,
               early_signals: Optional[List[int]] = None,
               parent_pid: Optional[int] = None, worker_index: int = 1) -> int:
    """Serve ``sock`` with the app of ``service`` (its artifacts loaded) until SIGTERM/SIGINT
    (or until the process ``parent_pid`` is gone); returns the exit code.  ``worker_index``
    (1 to ``--workers``) labels this worker's metrics.

    ``announce`` is called once the signal handlers are in place (a SIGTERM right
    after the "Serving" line must stop the server gracefully, not kill it).
    ``early_signals`` collects signals an earlier handler caught during startup;
    one caught before these handlers took over stops the worker at once."""
    from bentoml.server.app import create_app
    from bentoml.server.waitress_server import ConnectionDeadlines, WaitressServer

    app = create_app(service, config, worker_index)
    channel_map: dict = {}
    server = WaitressServer(
        app, sock, channel_map, app.request_ids,
        ConnectionDeadlines(config.header_timeout, config.body_timeout, config.keepalive_timeout,
                            config.linger_time),
        threads=config.threads, connection_limit=config.connection_limit, backlog=config.backlog,
        max_request_body_size=config.max_request_size, ident=f"bentoml {service.name}",
        clear_untrusted_proxy_headers=True, asyncore_use_poll=True)
    drain: Optional[_Drain] = None

    def stop(signum: int, grace: float) -> None:
        nonlocal drain
        if drain is None:
            drain = _Drain(signum, grace)
            logger.info("worker %d: stopping (signal %d), finishing in-flight requests", os.getpid(), signum)
            app.readiness.start_draining()
            server.start_draining()

    def on_signal(signum, _frame):
        stop(signum, config.drain_grace if signum == signal.SIGTERM and _parent_alive(parent_pid) else 0.0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if early_signals:
        on_signal(early_signals[0], None)
    if announce is not None:
        announce()
    next_parent_check = time.monotonic() + PARENT_CHECK_SECONDS
    try:
        while True:
            server.run_once(timeout=0.2)
            now = time.monotonic()
            if parent_pid is not None and now >= next_parent_check:
                next_parent_check = now + PARENT_CHECK_SECONDS
                if not _parent_alive(parent_pid):
                    logger.error("worker %d: its master (pid %d) is gone; stopping", os.getpid(), parent_pid)
                    stop(signal.SIGTERM, 0.0)
            if drain is None:
                continue
            if not drain.listener_closed and now >= drain.close_listener_at:
                server.stop_accepting()
                server.close_idle()
                drain.listener_closed = True
            if drain.listener_closed:
                if server.open_connections == 0 or now - drain.began > config.timeout:
                    break
    finally:
        app.close(timeout=5)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
    return 0


def _parent_alive(parent_pid: Optional[int]) -> bool:
    return parent_pid is None or os.getppid() == parent_pid
