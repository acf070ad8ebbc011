"""``bentoml yatai-service-start``: open the server-side repository, bind, announce, serve.

The API and the UI page are each a :class:`~bentoml.server.waitress_server.WaitressServer`
(deadlines, shedding, access log, ``Connection: close`` while draining) in one
process and one loop.  SIGTERM and SIGINT drain as the API server does: the
readiness probe says 503 for ``drain_grace`` seconds, then the listeners close,
requests in flight finish (at most ``timeout`` seconds) and open upload sessions
are dropped with their files (a client retries with a new one).  A server killed
outright leaves its sessions' working directories unlocked: the next start
removes them, with any bundle row a commit left pending.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from typing import List, Optional, Tuple

import ipaddress

import attrs

from bentoml.repository.local_repository import LocalRepository
from bentoml.server.sockets import bind_socket, raise_open_file_limit
from bentoml.yatai.protocol import DEFAULT_API_PORT, DEFAULT_UI_PORT, DEFAULT_UPLOAD_TIMEOUT, SERVER_NAME
from bentoml.yatai.sessions import SessionStore

logger = logging.getLogger("bentoml.yatai")

#: glibc's malloc arenas the server may use (``M_ARENA_MAX``).  Each waitress thread that moves
#: a bundle's blocks otherwise gets an arena of its own, which keeps tens of MB after the
#: transfer: RSS climbed by ~60 MB per 100 MB transfer up to threads x arena; with 2 it
#: stays flat (bench/yatai_s3_bench.py --rounds 5).  ``MALLOC_ARENA_MAX`` set by an operator wins.
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas for this process (see :data:`MALLOC_ARENAS`); False where the
    C library is not glibc or the operator set ``MALLOC_ARENA_MAX``."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return False
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    M_ARENA_MAX = -8  # glibc's malloc.h
    return bool(mallopt(M_ARENA_MAX, arenas))


#: An upload's file may be a 1 GB model or more, over a slow link: the body deadline and
#: size limit of the API server (20 MiB, 60 s) would refuse it.
MAX_UPLOAD_BYTES = 1 << 40
UPLOAD_BODY_TIMEOUT = 6 * 3600.0


@attrs.frozen
class YataiOptions:
    """The options of ``bentoml yatai-service-start`` (see its ``--help``)."""

    home: str
    db_url: Optional[str] = None
    repo_base_url: Optional[str] = None
    host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    ui_port: int = DEFAULT_UI_PORT
    ui: bool = True
    upload_timeout: float = DEFAULT_UPLOAD_TIMEOUT
    access_log: bool = True
    threads: int = 16
    drain_grace: float = 2.0
    timeout: float = 60.0
    token_file: Optional[str] = None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is an address only this machine reaches (``localhost`` included)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def plain_http_warning(host: str, has_tokens: bool) -> Optional[str]:
    """What to warn of when tokens would cross the network to ``host`` in clear text."""
    if not has_tokens or is_loopback(host):
        return None
    # waitress has no TLS; a proxy on this machine would bind loopback, not this address
    return (f"tokens travel over plain HTTP to {host}; put a TLS-terminating proxy in front "
            "and give clients its https:// URL (README, Team repository)")


def _shown(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _server(app, sock, channel_map, threads: int):
    from bentoml.server.waitress_server import ConnectionDeadlines, WaitressServer

    return WaitressServer(app, sock, channel_map, app.request_ids,
                          ConnectionDeadlines(body_timeout=UPLOAD_BODY_TIMEOUT),
                          threads=threads, connection_limit=512, backlog=2048,
                          max_request_body_size=MAX_UPLOAD_BYTES, ident=SERVER_NAME,
                          clear_untrusted_proxy_headers=True, asyncore_use_poll=True)


def start_yatai_service(options: YataiOptions) -> int:
    """Serve until SIGTERM or SIGINT; returns the exit code."""
    from bentoml.yatai.api import create_api_app
    from bentoml.yatai.checksums import ChecksumCache
    from bentoml.yatai.tokens import load_tokens
    from bentoml.yatai.ui import create_ui_app

    tokens = load_tokens(options.token_file) if options.token_file else None  # a bad file: before binding
    stop_signal: List[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop_signal.append(signum))
    signal.signal(signal.SIGINT, lambda signum, _frame: stop_signal.append(signum))
    limit_malloc_arenas()  # before the threads exist: each would make its own arena
    repo = LocalRepository(options.home, options.db_url, options.repo_base_url)
    repo.storage.check_writable()  # an unknown scheme or an unwritable folder, said before serving
    repo.cleanup_interrupted()  # uploads and commits a killed server left
    sessions = SessionStore(os.path.join(options.home, "tmp"), options.upload_timeout)
    raise_open_file_limit(1024 + 64)
    api_sock = bind_socket(options.host, options.api_port, 2048)
    ui_sock = bind_socket(options.host, options.ui_port, 128) if options.ui else None
    channel_map: dict = {}
    apps = [create_api_app(repo, sessions, ChecksumCache(), options.access_log, tokens)]
    servers = [_server(apps[0], api_sock, channel_map, options.threads)]
    # A wildcard address is no address to give a client: the machine's name is.
    reachable = _shown(socket.getfqdn() if options.host in ("0.0.0.0", "::", "") else options.host,
                       api_sock.getsockname()[1])
    if ui_sock is not None:
        apps.append(create_ui_app(repo, tokens, reachable))
        servers.append(_server(apps[1], ui_sock, channel_map, 4))
    sessions.start_sweeper()
    api = _shown(options.host, api_sock.getsockname()[1])
    # Tests and scripts read the ports from these lines when port 0 picks them.
    lines = [f"* Starting BentoML YataiService HTTP API on {api}",
             "* The API is HTTP/JSON (OpenAPI at http://" + api + "/docs.json); "
             "0.x gRPC clients are not supported",
             f"* Debug mode: {'on' if logging.getLogger('bentoml').isEnabledFor(logging.DEBUG) else 'off'}",
             f"* Repository: metadata {repo.metadata.url}, files {repo.base_url}"]
    if ui_sock is not None:
        lines.append(f"* Web UI: running on http://{_shown(options.host, ui_sock.getsockname()[1])}")
    lines += [f"* Running on {api} (Press CTRL+C to quit)",
              f"* Usage: `bentoml config set yatai_service.url={reachable}`"]
    if tokens is not None:
        lines.append(f"* Tokens: {len(tokens)} from {options.token_file}; every request but the probes needs one")
    warning = plain_http_warning(options.host, tokens is not None)
    if warning:
        lines.append(f"* WARNING: {warning}")
    print("\n".join(lines), file=sys.stderr, flush=True)
    try:
        return _serve(servers, apps, channel_map, options, stop_signal)
    finally:
        sessions.close()
        repo.close()


def _serve(servers, apps, channel_map, options: YataiOptions, early: List[int]) -> int:
    from waitress import wasyncore

    drain: List[Tuple[float, float]] = []  # (began, close listeners at)

    def stop(signum: int) -> None:
        if not drain:
            grace = options.drain_grace if signum == signal.SIGTERM else 0.0
            logger.info("stopping (signal %d), finishing in-flight requests", signum)
            now = time.monotonic()
            drain.append((now, now + grace))
            for app in apps:
                app.readiness.start_draining()
            for server in servers:
                server.start_draining()

    signal.signal(signal.SIGTERM, lambda signum, _frame: stop(signum))
    signal.signal(signal.SIGINT, lambda signum, _frame: stop(signum))
    if early:
        stop(early[0])
    listening = True
    try:
        while True:
            wasyncore.loop(timeout=0.2, use_poll=True, map=channel_map, count=1)
            # between passes, never inside one: see bentoml.server.waitress_server
            for server in servers:
                server.housekeeping()
            if not drain:
                continue
            now = time.monotonic()
            began, close_at = drain[0]
            if listening and now >= close_at:
                for server in servers:
                    server.stop_accepting()
                    server.close_idle()
                listening = False
            if not listening:
                if all(s.open_connections == 0 for s in servers) or now - began > options.timeout:
                    break
    finally:
        for app in apps:
            app.close(timeout=5)
        for server in servers:
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
    return 0
