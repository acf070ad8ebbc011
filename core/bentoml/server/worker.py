"""One serving process: the app on waitress over one socket, until SIGTERM or SIGINT.

A signal stops it gracefully: it stops accepting at once, lets in-flight
requests finish (bounded by ``timeout``) and returns 0.  The single-process
server runs one worker in its own process; the pre-fork master runs one in
each child.
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


def run_worker(service, config: ServerConfig, sock: socket.socket,
               announce: Optional[Callable[[], None]] = None,
               early_signals: Optional[List[int]] = None) -> int:
    """Serve ``sock`` with the app of ``service`` (its artifacts loaded) until SIGTERM/SIGINT;
    returns the exit code.

    ``announce`` is called once the signal handlers are in place (a SIGTERM right
    after the "Serving" line must stop the server gracefully, not kill it).
    ``early_signals`` collects signals an earlier handler caught during startup;
    one caught before these handlers took over stops the worker at once."""
    from waitress import wasyncore

    from bentoml.server.app import create_app
    from bentoml.server.waitress_server import WaitressServer

    app = create_app(service, config)
    channel_map: dict = {}
    server = WaitressServer(
        app, sock, channel_map, app.request_ids, threads=config.threads,
        connection_limit=config.connection_limit, backlog=config.backlog,
        max_request_body_size=config.max_request_size, channel_timeout=max(config.timeout, 30),
        ident=f"bentoml {service.name}", clear_untrusted_proxy_headers=True, asyncore_use_poll=True)
    stopping_since: Optional[float] = None

    def on_signal(signum, _frame):
        nonlocal stopping_since
        if stopping_since is None:
            stopping_since = time.monotonic()
            logger.info("worker %d: stopping (signal %d), finishing in-flight requests", os.getpid(), signum)
            server.stop_accepting()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if early_signals:
        on_signal(early_signals[0], None)
    if announce is not None:
        announce()
    try:
        while True:
            wasyncore.loop(timeout=0.2, use_poll=True, map=channel_map, count=1)
            if stopping_since is not None:
                idle = app.in_flight.count == 0 and not server.has_pending_output()
                if idle or time.monotonic() - stopping_since > config.timeout:
                    break
    finally:
        app.close(timeout=5)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
    return 0
