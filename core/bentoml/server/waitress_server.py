"""waitress's server over a socket we bound ourselves: the one place that knows waitress's server.

:class:`WaitressServer` is built the way ``waitress.create_server`` builds a
server over a given socket, with :class:`~bentoml.server.connections.Connection`
as its channel, and looks after its connections through waitress's public
``active_channels``:

- a sweep (every ``sweep_interval``) holds each request to its deadlines,
  measured from the request's first byte whatever trickles in after it: the
  request line and headers within ``header_timeout``, the body within
  ``body_timeout`` (408 otherwise); it closes keep-alive connections idle for
  ``keepalive_timeout`` (and new ones that sent nothing within
  ``header_timeout``), and ends lingering closes after ``linger_time``;
- at ``connection_limit`` it keeps accepting and sheds a connection for each
  new one: a lingering one, else the idlest, else the slowest to send its
  request; one being answered is never shed.  (waitress itself stops
  accepting there, which a few hundred slow clients turn into an outage.)
- while it drains, every answer carries ``Connection: close``.

The loop is :meth:`WaitressServer.run_once`: one pass of waitress's loop, then
the sweep.  Connections are closed between passes, never while a pass has
their descriptors registered for polling: a descriptor closed there can be
reused by a connection accepted later in the same pass, and the stale poll
entry (``POLLNVAL``) would then close that new connection with its request
unread, which the client sees as a reset.
"""
from __future__ import annotations

import select
import socket
import time
from typing import Any, Dict

import attrs
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.server import TcpWSGIServer

from bentoml.server.connections import Connection
from bentoml.server.request_ids import RequestIds
from bentoml.server.sockets import OUT_OF_DESCRIPTORS


@attrs.frozen
class ConnectionDeadlines:
    """Seconds a client gets; see the module docstring."""

    header_timeout: float = 10.0
    body_timeout: float = 60.0
    keepalive_timeout: float = 15.0
    linger_time: float = 5.0

    @property
    def sweep_interval(self) -> float:
        """Often enough to hold the shortest deadline to about a quarter of itself."""
        return max(0.01, min(1.0, self.header_timeout / 4, self.keepalive_timeout / 4, self.linger_time / 4))


class WaitressServer(TcpWSGIServer):
    """waitress serving ``app`` on ``sock`` (bound and listening already), registered in
    ``channel_map``, the socket map the caller's loop polls.

    :param request_ids: where waitress's own error answers take their ``X-Request-Id``.
    :param deadlines: what clients get (:class:`ConnectionDeadlines`).
    :param adjustments: waitress's settings (``threads``, ``connection_limit``, ...).
    """

    channel_class = Connection

    def __init__(self, app: Any, sock: socket.socket, channel_map: Dict[int, Any],
                 request_ids: RequestIds, deadlines: ConnectionDeadlines = ConnectionDeadlines(),
                 **adjustments: Any):
        self.request_ids = request_ids
        self.service_app = app  # `application` is waitress's proxy-headers wrapper around it
        self.deadlines = deadlines
        self.linger_time = deadlines.linger_time
        self.draining = False
        self.full = False  # at the limit with nothing to shed: not accepting for now
        super().__init__(app, map=channel_map, _sock=sock, bind_socket=False,
                         sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
                         adj=Adjustments(sockets=[sock], **adjustments))

    # -- accepting and shedding ----------------------------------------------------------
    def run_once(self, timeout: float = 0.2) -> None:
        """One pass of the loop over the server's connections (waiting at most ``timeout``
        seconds, or the sweep interval), then :meth:`housekeeping`."""
        wasyncore.loop(timeout=min(timeout, self.deadlines.sweep_interval), use_poll=True, map=self._map, count=1)
        self.housekeeping()

    def run(self) -> None:
        """Serve until interrupted (waitress's ``run``, on :meth:`run_once`)."""
        try:
            while True:
                self.run_once()
        except (SystemExit, KeyboardInterrupt):
            self.task_dispatcher.shutdown()

    def readable(self) -> bool:
        if self.full and len(self.active_channels) < self.adj.connection_limit:
            self.full = False
        return self.accepting and not self.full

    def handle_accept(self) -> None:
        try:
            accepted = self.accept()
        except OSError as exc:
            if exc.errno in OUT_OF_DESCRIPTORS:
                self._shed()  # frees a descriptor; the waiting connection is accepted next time
            elif self.adj.log_socket_errors:
                self.logger.warning("accept() failed: %s", exc)
            return
        if accepted is None:
            return
        conn, addr = accepted
        try:
            self.set_socket_options(conn)
        except OSError:  # the client is gone already
            conn.close()
            return
        self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
        if len(self.active_channels) > self.adj.connection_limit and not self._shed():
            self.full = True
            self.logger.warning("all %d connections are being answered; not accepting more for now",
                                len(self.active_channels))

    def _accept_waiting(self) -> bool:
        """Accept one connection waiting in the queue; False when none waits."""
        before = len(self.active_channels)
        try:
            waiting = select.select([self.socket], [], [], 0)[0]
        except (OSError, ValueError):
            return False
        if not waiting:
            return False
        self.handle_accept()
        return len(self.active_channels) != before

    def _shed(self) -> bool:
        """Close the connection :meth:`Connection.shed_rank` puts first; False if none may go."""
        victim, best = None, None
        for channel in list(self.active_channels.values()):
            rank = channel.shed_rank()
            if rank is not None and (best is None or rank < best):
                victim, best = channel, rank
        if victim is None:
            return False
        victim.close_now()
        return True

    # -- deadlines --------------------------------------------------------------------------
    def housekeeping(self) -> None:
        """:meth:`sweep` (and, once a drain closed the listener, :meth:`close_idle`) when due;
        :meth:`run_once` calls it between passes of the loop."""
        now = time.monotonic()
        if now >= self.next_channel_cleanup:
            self.next_channel_cleanup = now + self.deadlines.sweep_interval
            self.sweep()
            if self.draining and not self.accepting:
                self.close_idle()

    def maintenance(self, now: float) -> None:
        """waitress's inactivity timer (reset by every byte) is replaced by :meth:`sweep`."""

    def sweep(self) -> None:
        """Hold every connection to its deadlines (see the module docstring)."""
        now, wall = time.monotonic(), time.time()
        d = self.deadlines
        for channel in list(self.active_channels.values()):
            if channel.lingering:
                if now >= channel.lingering_until:
                    channel.close_now()
            elif channel.busy or channel.will_close or channel.close_when_flushed:
                continue
            elif channel.request is not None:
                waited = now - channel.request.started
                if not channel.request.headers_finished and waited > d.header_timeout:
                    channel.time_out(f"the request line and headers did not arrive within {d.header_timeout:g} s")
                elif channel.request.headers_finished and waited > d.body_timeout:
                    channel.time_out(f"the request body did not arrive within {d.body_timeout:g} s")
            # A request the loop has not read yet (the server was busy) keeps its connection:
            # closing would reset it; the request's own deadlines run once it is read.
            elif not channel.heard:
                if now - channel.opened > d.header_timeout and not channel.has_unread_input():
                    channel.close_now()  # connected and sent nothing
            elif wall - channel.last_activity > d.keepalive_timeout and not channel.has_unread_input():
                channel.will_close = True  # the loop closes it (lingering) on its next pass

    # -- stopping -----------------------------------------------------------------------------
    def start_draining(self) -> None:
        """From now on every answer is the last on its connection (``Connection: close``)."""
        self.draining = True

    def stop_accepting(self) -> None:
        """Close this process's copy of the listening socket, so that once every process
        has, new connections are refused instead of waiting in the backlog until the
        server exits.  Connections already accepted are served on, and so are those
        waiting in this socket's accept queue: with SO_REUSEPORT each worker's socket
        has a queue of its own, which closing it would reset."""
        if self.accepting:
            while self._accept_waiting():
                pass
            self.accepting = False
            self.del_channel()
            self.socket.close()  # not self.close(): that also closes the trigger the loop still needs

    def close_idle(self) -> None:
        """Close (lingering) every keep-alive connection idle between requests.  A connection
        not answered yet stays: its client is about to send (its header deadline holds)."""
        for channel in list(self.active_channels.values()):
            if channel.answered and not (channel.lingering or channel.busy or channel.request is not None
                                         or channel.will_close or channel.close_when_flushed):
                channel.will_close = True

    @property
    def open_connections(self) -> int:
        return len(self.active_channels)

    def has_pending_output(self) -> bool:
        """Whether a connection still has a request in progress or an answer to send."""
        return any(channel.busy for channel in list(self.active_channels.values()))

