"""waitress's server over a socket we bound ourselves: the one place that knows waitress's classes.

:class:`WaitressServer` is built the way ``waitress.create_server`` builds a
server over a given socket, answers waitress's own errors (413 from
Content-Length alone, malformed HTTP) like the app does, and tells the worker
loop what its connections are doing through waitress's public
``active_channels``.
"""
from __future__ import annotations

import socket
from typing import Any, Dict

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from bentoml.inference import InferenceResult
from bentoml.server.request_ids import RequestIds
from bentoml.server.response import build_response


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


class JsonErrorChannel(HTTPChannel):
    """waitress's connection, answering its errors with :class:`JsonErrorTask`."""

    error_task_class = JsonErrorTask


class WaitressServer(TcpWSGIServer):
    """waitress serving ``app`` on ``sock`` (bound and listening already), registered in
    ``channel_map``, the socket map the caller's loop polls.

    :param request_ids: where waitress's own error answers take their ``X-Request-Id``.
    :param adjustments: waitress's settings (``threads``, ``connection_limit``, ...).
    """

    channel_class = JsonErrorChannel

    def __init__(self, app: Any, sock: socket.socket, channel_map: Dict[int, Any],
                 request_ids: RequestIds, **adjustments: Any):
        self.request_ids = request_ids
        super().__init__(app, map=channel_map, _sock=sock, bind_socket=False,
                         sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
                         adj=Adjustments(sockets=[sock], **adjustments))

    def stop_accepting(self) -> None:
        """Close this process's copy of the listening socket, so that once every process
        has, new connections are refused instead of waiting in the backlog until the
        server exits.  Connections already accepted are served on."""
        if self.accepting:
            self.accepting = False
            self.del_channel()
            self.socket.close()  # not self.close(): that also closes the trigger the loop still needs

    def has_pending_output(self) -> bool:
        """Whether a connection still has a request in progress or an answer to send."""
        return any(channel.total_outbufs_len or channel.requests
                   for channel in list(self.active_channels.values()))
