"""The client's HTTP to a YataiService: urllib3, one-line errors, streamed bodies.

A bare ``host:port`` arrives here as ``http://host:port`` (the configuration
normalizes it); an ``https://`` URL verifies the server's certificate, against
``yatai_service.ca_bundle`` when one is set (a private CA).  Nothing is retried
here: an upload is retried as a whole, in a new session, by running the save
again.  Every failure is one line naming the server: connection refused, a
timeout, a TLS failure, or the server's own ``{"error": ...}`` as the typed
error of its status (404 :class:`~bentoml.exceptions.NotFound`, 409
:class:`~bentoml.exceptions.BundleExists`, 400
:class:`~bentoml.exceptions.InvalidArgument`, else
:class:`~bentoml.exceptions.RepositoryError`, which for 401 and 403 carries the
server's word on the token).  With ``yatai_service.token`` set, every request
carries ``Authorization: Bearer TOKEN``.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Optional
from urllib.parse import quote

import urllib3

from bentoml.exceptions import BundleExists, InvalidArgument, NotFound, RepositoryError
from bentoml.yatai.protocol import SERVER_NAME

#: Seconds to connect, and to wait for each read of an answer (a commit of a large
#: bundle copies it on the server before it answers).
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 600.0


def quote_path(path: str) -> str:
    """``path`` for a URL, each segment percent-encoded (``/`` kept)."""
    return quote(path, safe="/")


class YataiTransport:
    """Requests to the YataiService at ``url`` (``http://`` or ``https://``)."""

    def __init__(self, url: str, ca_bundle: Optional[str] = None, token: Optional[str] = None,
                 timeout: Optional[urllib3.Timeout] = None):
        self.url = url.rstrip("/")
        self.token = token
        options: Dict[str, Any] = {}
        if self.url.startswith("https://"):
            options["cert_reqs"] = "CERT_REQUIRED"
            if ca_bundle:
                options["ca_certs"] = ca_bundle
        self.pool = urllib3.PoolManager(
            num_pools=4, maxsize=4, retries=False,
            timeout=timeout or urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT), **options)

    def request(self, method: str, path: str, *, json_body: Any = None, body: Any = None,
                headers: Optional[Dict[str, str]] = None, fields: Optional[Dict[str, Any]] = None,
                stream: bool = False) -> urllib3.BaseHTTPResponse:
        """The answer to ``method path`` (2xx only; an error status raises its typed error).

        ``stream``: the body is left unread, for the caller to read in chunks and release."""
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        url = self.url + path
        try:
            response = self.pool.request(method, url, body=body, fields=fields, headers=sent,
                                         preload_content=not stream, redirect=False)
        except urllib3.exceptions.HTTPError as exc:
            raise RepositoryError(f"cannot reach the YataiService at {self.url}: {_reason(exc)}") from None
        if response.status >= 400:
            try:
                raise self._error(response, method, path)
            finally:
                response.release_conn()
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer to ``method path``."""
        response = self.request(method, path, **kwargs)
        try:
            return json.loads(response.data)
        except ValueError:
            raise RepositoryError(f"the YataiService at {self.url} answered {method} {path} with "
                                  f"something that is not JSON (is {self.url} a YataiService?)") from None

    def _error(self, response: urllib3.BaseHTTPResponse, method: str, path: str) -> Exception:
        if SERVER_NAME not in response.headers.get("Server", ""):
            # Another program's 404 would read as "no such bundle": name the real problem.
            return RepositoryError(f"{self.url} does not answer as a YataiService (HTTP {response.status} for "
                                   f"{method} {path}, server {response.headers.get('Server', 'unnamed')!r}); "
                                   "check yatai_service.url")
        try:
            message = str(json.loads(response.data)["error"])
        except (ValueError, KeyError, TypeError):
            message = f"HTTP {response.status} (is {self.url} a YataiService?)"
        if response.status == 404:
            return NotFound(message)
        if response.status == 409:
            return BundleExists(message)
        if response.status == 400:
            return InvalidArgument(message)
        if response.status in (401, 403):  # the server's message says what to set
            return RepositoryError(f"the YataiService at {self.url} refused the request: {message}")
        if response.status == 503:
            return RepositoryError(f"the YataiService at {self.url} is busy: {message}")
        return RepositoryError(f"the YataiService at {self.url} failed ({response.status}): {message}")

    def close(self) -> None:
        """Close every pooled connection."""
        self.pool.clear()


def _reason(exc: urllib3.exceptions.HTTPError) -> str:
    """Why a request failed, in words (urllib3's own messages repeat the pool's repr)."""
    cause = getattr(exc, "reason", None) or exc
    text = str(cause)
    if isinstance(cause, urllib3.exceptions.NewConnectionError) or "Connection refused" in text:
        return "connection refused (is `bentoml yatai-service-start` running there? " \
               "`bentoml config unset yatai_service.url` goes back to the local repository)"
    if isinstance(cause, (urllib3.exceptions.ReadTimeoutError, urllib3.exceptions.ConnectTimeoutError)):
        return "it did not answer in time"
    if isinstance(cause, urllib3.exceptions.SSLError):
        return f"TLS failed ({text.split(': ', 1)[-1]}); set yatai_service.ca_bundle for a private CA"
    if isinstance(cause, urllib3.exceptions.ProtocolError):
        return "the connection broke off (did the server stop?)"
    return text
