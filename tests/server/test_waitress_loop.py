"""WaitressServer's loop closes connections between passes, never while a pass polls them.

A connection the sweep closes mid-pass leaves its descriptor registered for that
pass's poll; a connection accepted later in the same pass can get the same
descriptor number, and the stale entry (POLLNVAL) then closed the new connection
with its request unread: the client saw a reset.  Under CPU load that happened
to clients connecting just as another connection reached its deadline.  The
test below makes the timing certain: a client connects and sends its request in
the very moment the sweep has closed a silent connection.
"""
from __future__ import annotations

import http.client
import socket
import threading
import time

from bentoml.server.request_ids import RequestIds
from bentoml.server.waitress_server import ConnectionDeadlines, WaitressServer

REQUEST = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"


def _app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "4")])
    return [b"pong"]


class ConnectsAfterEachClose(WaitressServer):
    """Connects a client and sends its request right after a sweep closed a connection."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clients = []
        # made beforehand: a socket made after the close would take the freed descriptor
        # (this test runs client and server in one process), and the server's accept not
        self.unused = [socket.socket() for _ in range(5)]

    def sweep(self) -> None:
        before = len(self.active_channels)
        super().sweep()
        if len(self.active_channels) < before and self.unused:
            client = self.unused.pop()
            client.connect(self.socket.getsockname())  # the kernel completes it before any accept
            client.sendall(REQUEST)
            self.clients.append(client)


def test_a_connection_accepted_right_after_a_close_is_answered():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    server = ConnectsAfterEachClose(_app, listener, {}, RequestIds(), ConnectionDeadlines(0.1, 1.0, 5.0, 1.0),
                                    threads=1, asyncore_use_poll=True)
    stop = threading.Event()
    loop = threading.Thread(target=lambda: [server.run_once(0.05) for _ in iter(stop.is_set, True)], daemon=True)
    loop.start()
    try:
        silent = []
        for _ in range(5):  # each silent connection's close is followed by a client at once
            silent.append(socket.create_connection(listener.getsockname()))
            deadline = time.monotonic() + 5
            while len(server.clients) < len(silent) and time.monotonic() < deadline:
                time.sleep(0.01)
        assert len(server.clients) == 5
        for client in server.clients:
            client.settimeout(5)
            reply = http.client.HTTPResponse(client)
            reply.begin()  # a reset here is the bug
            assert (reply.status, reply.read()) == (200, b"pong")
    finally:
        stop.set()
        loop.join(5)
        for sock in silent + server.clients + server.unused:
            sock.close()
        server.close()
        server.task_dispatcher.shutdown()
