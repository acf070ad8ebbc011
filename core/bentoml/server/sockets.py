"""The listening socket, bound by us (not by waitress) so that it exists before any fork,
and the process's open-file limit, which every connection counts against."""
from __future__ import annotations

import errno
import logging
import resource
import socket
from typing import List

from bentoml.exceptions import BentoMLException

logger = logging.getLogger("bentoml.server")


def _refuse(host: str, port: int, exc: OSError) -> BentoMLException:
    return BentoMLException(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _check_port_free(family: int, host: str, port: int) -> None:
    """Raise "address already in use" when anything listens on ``host:port``.

    Sockets with SO_REUSEPORT share a port with any other such socket of the
    same user, so a second server (or a restarted one beside orphaned workers)
    would bind silently and steal half the connections.  A probe without
    SO_REUSEPORT cannot bind while any socket listens there.
    """
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise _refuse(host, port, exc) from None
    finally:
        probe.close()


def bind_socket(host: str, port: int, backlog: int, reuse_port: bool = False) -> socket.socket:
    """A non-blocking socket listening on ``host:port`` (IPv6 when ``host`` has a colon).

    ``reuse_port`` lets several sockets listen on one port (see :func:`bind_sockets`).
    A port that cannot be bound is a :class:`BentoMLException` naming it.
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
        raise _refuse(host, port, exc) from None
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def bind_sockets(host: str, port: int, backlog: int, count: int) -> List[socket.socket]:
    """``count`` listening sockets on one port, one per worker (SO_REUSEPORT), after
    checking that no other process listens there.

    The kernel spreads new connections evenly over the sockets; with one
    shared socket whichever worker wins each accept race takes the
    connection, and a busy benchmark or client pool ends up lopsided.
    """
    if not hasattr(socket, "SO_REUSEPORT"):  # one shared socket elsewhere
        return [bind_socket(host, port, backlog)] * count
    if port:
        _check_port_free(socket.AF_INET6 if ":" in host else socket.AF_INET, host, port)
    first = bind_socket(host, port, backlog, reuse_port=True)
    port = first.getsockname()[1]
    return [first] + [bind_socket(host, port, backlog, reuse_port=True) for _ in range(count - 1)]


def raise_open_file_limit(wanted: int) -> int:
    """Raise the soft RLIMIT_NOFILE toward the hard limit (at least to ``wanted`` when the
    hard limit allows); returns the soft limit in force.  Each connection is a descriptor:
    a thousand clients plus the server's own files pass the common default of 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:  # a hard limit the kernel caps lower (nr_open)
            logger.debug("cannot raise RLIMIT_NOFILE to %d: %s", target, exc)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        logger.warning("only %d open files are allowed (ulimit -n; hard limit %s): fewer connections "
                       "than --connection-limit (%d) fit", soft, hard, wanted)
    return soft


#: accept() failed for want of a descriptor: shed a connection, then accept again.
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})
