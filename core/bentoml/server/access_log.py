"""The access log: one INFO line per answered request, written off the request thread.

Each request the app answers, except the probes (``/healthz``, ``/livez``,
``/readyz``) and ``/metrics``, is one record of the ``bentoml.access`` logger::

    127.0.0.1 POST /predict 200 3.2ms id=4f3c9a0e1b2d7c65000000000000002a
    127.0.0.1 POST /predict 400 0.4ms id=client-id.42 error="DataframeInput: ..."

(client address, method, path, status, latency, request id, and for an error
answer other than 404 and 405 its message, JSON-quoted).  The record carries the
same fields as attributes (``client``, ``method``, ``path``, ``status``,
``latency_ms``, ``request_id``, ``error``), so a JSON formatter or a handler of
its own on ``bentoml.access`` routes it with ordinary logging configuration;
the CLI's handler on ``bentoml`` writes it to stderr like the other logs.

The request thread only puts a tuple of the fields on a queue (no formatting,
no clock formatting, no I/O: under a microsecond); one writer thread per
process builds the record and hands it to the logger (about 6 us a line with
the CLI's handler, GIL time the request threads share).  The thread starts with the first line to write,
so in a worker after the fork, never in the pre-fork master.  :meth:`close`
(``ServiceApp.close``, on a graceful stop) writes what is still queued, and a
line recorded after it is written at once on its own thread.

A path with characters that could forge a line or a field (control
characters, spaces) is logged percent-encoded, and cut at 512 characters.
When the log's stream blocks (a pipe nobody reads), at most ``max_queued``
lines wait; later ones are dropped, and counted in a warning once the stream
moves again, rather than growing the worker's memory without bound.
"""
from __future__ import annotations

import json
import logging
import queue
import threading
import time
from typing import Optional, Union
from urllib.parse import quote

LOGGER_NAME = "bentoml.access"
_STOP = object()
_MAX_PATH = 512
_MAX_ERROR = 300
_MAX_QUEUED = 100_000
_BURST_PAUSE = 0.05


class AccessLog:
    """One process's access log, to the ``bentoml.access`` logger (or ``logger``).

    >>> log = AccessLog()
    >>> log.record("127.0.0.1", "POST", "/predict", 200, 0.0032, "client-id.42")
    >>> log.close(timeout=5)  # writes what is queued
    """

    def __init__(self, logger: Optional[logging.Logger] = None, max_queued: int = _MAX_QUEUED):
        self.logger = logger or logging.getLogger(LOGGER_NAME)
        self.max_queued = max_queued
        #: lines dropped because ``max_queued`` were waiting (approximate: not locked)
        self.dropped = 0
        self._reported_dropped = 0
        self._queue: "queue.SimpleQueue" = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._running = False  # True from the first line to close()
        self._closed = False
        self._prototype: Optional[logging.LogRecord] = None

    @property
    def enabled(self) -> bool:
        """Whether a line would be written (``-q`` raises the level above INFO)."""
        return self.logger.isEnabledFor(logging.INFO)

    def record(self, client: Optional[str], method: str, path: str, status: int, seconds: float,
               request_id: str, error: Union[bytes, str, None] = None) -> None:
        """Queue one line; ``error`` is the answer's message, or its JSON body to read it from."""
        item = (time.time(), client, method, path, status, seconds, request_id, error)
        if self._running:
            if self._queue.qsize() < self.max_queued:
                self._queue.put(item)
            else:
                self.dropped += 1
            return
        with self._lock:
            if not self._closed:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
                    self._thread.start()
                    self._running = True
                self._queue.put(item)
                return
        self._write(item)  # after close(): nobody reads the queue any more

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the writer thread (waiting at most ``timeout`` s)."""
        with self._lock:
            self._closed = True
            self._running = False
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)
            if thread.is_alive():
                return  # a blocked stream: leave the rest to the daemon thread
        while True:  # lines queued while closing
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                self._write(item)

    def _new_record(self) -> logging.LogRecord:
        """A copy of a record made once by the logger (so with the record factory's class
        and attributes): a third of the cost of making each, which is most of a line's."""
        prototype = self._prototype
        if prototype is None:
            prototype = self._prototype = self.logger.makeRecord(
                self.logger.name, logging.INFO, __file__, 0, "", (), None)
        record = prototype.__class__.__new__(prototype.__class__)
        record.__dict__.update(prototype.__dict__)
        return record

    def _run(self) -> None:
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            item = get()
            while item is not _STOP:  # write every line waiting, then pause: one wake-up a burst
                self._write(item)
                try:
                    item = get_nowait()
                except queue.Empty:
                    item = None
                    break
            if self.dropped != self._reported_dropped:
                self._report_dropped()
            if item is _STOP:
                return
            # Under load a line arrives every few hundred microseconds: waking for each would
            # take the GIL from the request threads that often; lines wait at most this long.
            time.sleep(_BURST_PAUSE)

    def _report_dropped(self) -> None:
        dropped, self._reported_dropped = self.dropped - self._reported_dropped, self.dropped
        self.logger.warning("%d access log lines dropped: %d were waiting for the log's stream",
                            dropped, self.max_queued)

    def _write(self, item: tuple) -> None:
        try:
            created, client, method, path, status, seconds, request_id, error = item
            path = _safe_path(path)
            latency_ms = round(seconds * 1000, 1)
            message = _error_message(error) if error is not None else None
            fmt = "%s %s %s %d %.1fms id=%s"
            args: tuple = (client or "-", method, path, status, latency_ms, request_id)
            if message:
                fmt += " error=%s"
                args += (json.dumps(message[:_MAX_ERROR]),)
            record = self._new_record()
            record.__dict__.update(
                msg=fmt, args=args, client=client, method=method, path=path, status=status,
                latency_ms=latency_ms, request_id=request_id, error=message,
                # the time of the answer, not of the writing
                created=created, msecs=(created - int(created)) * 1000,
                relativeCreated=record.relativeCreated + (created - record.created) * 1000)
            self.logger.handle(record)
        except Exception:  # a log line must never stop the writer
            logging.getLogger("bentoml.server").exception("writing an access log line failed")


def _safe_path(path: str) -> str:
    if len(path) > _MAX_PATH:
        path = path[:_MAX_PATH] + "..."
    if path.isprintable() and " " not in path:
        return path
    return quote(path, safe="/:@!$&'()*+,;=-._~%")


def _error_message(error: Union[bytes, str]) -> Optional[str]:
    if isinstance(error, str):
        return error
    try:
        body = json.loads(error)
    except ValueError:
        return None
    message = body.get("error") if isinstance(body, dict) else None
    return message if isinstance(message, str) else None
