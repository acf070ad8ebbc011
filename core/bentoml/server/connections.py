"""One client connection on waitress: request deadlines, error answers, drains and lingering close.

waitress's own channel closes the socket as soon as an error answer is
flushed; a client still sending its body (a 72 MB upload refused with 413,
a 1 MiB header refused with 431) then gets a connection reset instead of the
answer.  :class:`Connection` closes the way HTTP servers must: it sends its
half of the close (``shutdown(SHUT_WR)``) and keeps reading and discarding
what the client still sends until the client closes too or the linger time
ends.  It also remembers when each request started (the server's sweep holds
requests to their header and body deadlines), answers its own errors as JSON
like the app does, and during a drain tells each client ``Connection: close``.
"""
from __future__ import annotations

import socket
import time
from typing import Optional, Tuple

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import Error

from bentoml.inference import InferenceResult
from bentoml.server.response import build_response


class RequestTimeout(Error):
    """The client did not send its request line, headers or body in time."""

    code = 408
    reason = "Request Timeout"


class TimedRequestParser(HTTPRequestParser):
    """waitress's parser, remembering when the request's first byte arrived."""

    def __init__(self, adj) -> None:
        super().__init__(adj)
        self.started = time.monotonic()

    def received(self, data: bytes) -> int:
        consumed = super().received(data)
        # After an error the rest of what arrived is not a next request: take it all, so
        # the channel does not parse a refused body as more requests.
        return len(data) if self.error is not None else consumed


class JsonErrorTask(ErrorTask):
    """waitress's error answer as the app's: a JSON ``{"error": ...}`` with ``X-Request-Id``."""

    def execute(self) -> None:
        error = self.request.error
        request_id = self.channel.server.request_ids.next((self.request.headers or {}).get("X_REQUEST_ID", ""))
        result = InferenceResult.failure(error.code, f"{error.reason}: {error.body}")
        _status, headers, body = build_response(result, request_id, cors=False)
        self.status = f"{error.code} {error.reason}"  # waitress's reason phrase, as before
        self.response_headers.extend(headers)
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
        request = self.request  # answered without the app: still counted and logged
        self.channel.server.service_app.server_answered(
            error.code, request_id, getattr(request, "command", None), getattr(request, "path", None),
            self.channel.addr[0] if self.channel.addr else None, f"{error.reason}: {error.body}")


class DrainAwareTask(WSGITask):
    """The app's answer; while the server drains, the last one on its connection."""

    def build_response_header(self) -> bytes:
        if self.channel.server.draining:
            self.set_close_on_finish()  # adds Connection: close
        return super().build_response_header()


class Connection(HTTPChannel):
    """waitress's connection with deadlines, JSON errors, drains and lingering close."""

    task_class = DrainAwareTask
    error_task_class = JsonErrorTask
    parser_class = TimedRequestParser

    def __init__(self, server, sock, addr, adj, map=None) -> None:
        self.opened = time.monotonic()
        self.answered = 0  # requests answered on this connection
        # Whether any byte arrived: set as the bytes are read, where ``answered`` counts only
        # after an answer is sent, so a connection being answered never looks silent.
        self.heard = False
        self.lingering_until: Optional[float] = None
        self.discarding = False  # an error answer is on its way: what arrives now is dropped
        super().__init__(server, sock, addr, adj, map=map)

    # -- states the server's sweep and shedding look at -------------------------------------
    @property
    def lingering(self) -> bool:
        return self.lingering_until is not None

    @property
    def busy(self) -> bool:
        """A request is being answered, or an answer is still being sent."""
        return bool(self.requests or self.total_outbufs_len)

    def shed_rank(self) -> Optional[Tuple[int, float]]:
        """Which connection goes first when the server is full: lingering ones, then idle
        keep-alive ones (the idlest first), then those still to send a request (the one
        waited on longest first, so a connection just accepted goes last); None for one
        that is being answered."""
        if self.lingering:
            return (0, self.lingering_until or 0.0)
        if self.busy or self.will_close or self.close_when_flushed:
            return None
        if self.request is None and self.heard:  # idle between requests (keep-alive)
            return (1, self.last_activity - time.time() + time.monotonic())
        return (2, self.request.started if self.request is not None else self.opened)

    def time_out(self, what: str) -> None:
        """Answer the request being received with 408 (the client missed ``what``'s deadline)."""
        request = self.request
        request.error = RequestTimeout(what)
        request.completed = True
        with self.requests_lock:
            self.requests.append(request)
            self.request = None
            if len(self.requests) == 1:
                self.server.add_task(self)
        self.discarding = True

    # -- reading ---------------------------------------------------------------------------
    # waitress's loop asks every connection readable() and writable() on every pass: those
    # stay waitress's own methods until the connection lingers (see handle_close), when
    # instance attributes replace them, so the common case pays nothing for lingering.
    def _discard_input(self) -> None:
        try:
            data = self.socket.recv(65536)
        except OSError:
            data = b""
        if not data:  # the client closed its side too: done
            self.close_now()

    def received(self, data: bytes) -> bool:
        self.heard = True
        if self.discarding:
            return True
        taken = super().received(data)
        if self.requests and self.requests[-1].error is not None:
            self.discarding = True
        return taken

    def service(self) -> None:
        super().service()
        self.answered += 1

    # -- closing ---------------------------------------------------------------------------
    def handle_close(self) -> None:
        """Linger when we close after an answer (``will_close``, connected); close at once
        when the client is gone or the socket failed."""
        if self.lingering or not (self.will_close and self.connected) or self.server.linger_time <= 0:
            self.close_now()
            return
        try:
            self.socket.shutdown(socket.SHUT_WR)  # the answer already sent still goes out first
        except OSError:
            self.close_now()
            return
        self.will_close = False
        self.lingering_until = time.monotonic() + self.server.linger_time
        self.readable, self.writable = _always, _never  # type: ignore[method-assign]
        self.handle_read = self._discard_input  # type: ignore[method-assign]
        self.handle_write = _nothing  # type: ignore[method-assign]

    def has_unread_input(self) -> bool:
        """Whether bytes wait in the socket that the loop has not read yet (a request sent
        while the server was too busy to read it): closing now would reset the connection."""
        try:
            return bool(self.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:  # reset or closed by the client: nothing to lose
            return False

    def close_now(self) -> None:
        """Close the socket now, lingering or not."""
        self.lingering_until = None
        super().handle_close()


def _always() -> bool:
    return True


def _never() -> bool:
    return False


def _nothing() -> None:
    pass
