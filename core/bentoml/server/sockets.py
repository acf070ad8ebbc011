"""The listening socket, bound by us (not by waitress) so that it exists before any fork."""
from __future__ import annotations

import socket

from bentoml.exceptions import BentoMLException


def bind_socket(host: str, port: int, backlog: int, reuse_port: bool = False) -> socket.socket:
    """A non-blocking socket listening on ``host:port`` (IPv6 when ``host`` has a colon).

    ``reuse_port`` lets several sockets (one per worker) listen on one port; a
    port that cannot be bound is a :class:`BentoMLException` naming it.
    """
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
