"""A bundle as a tar stream for a WSGI answer: written on a thread, handed over in bounded chunks.

:func:`~bentoml.bundle.manifest.write_tar` writes to a file object; a WSGI
answer is an iterator.  :class:`TarStream` runs the writer on a thread into a
queue of at most ``max_chunks`` chunks, so memory stays flat for a 1 GB bundle
however slowly the client reads, and stops the writer when the client goes away
(the server closes the iterator).
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import Iterator, Optional, Union

from bentoml.bundle.manifest import write_stored_tar, write_tar
from bentoml.repository.storage import StoredBundle

logger = logging.getLogger(__name__)

_CHUNK = 256 * 1024
_DONE = object()


class _Cancelled(Exception):
    """The reader went away."""


class _QueueWriter:
    def __init__(self, chunks: "queue.Queue", cancelled: threading.Event):
        self._chunks = chunks
        self._cancelled = cancelled
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) >= _CHUNK:
            self._put(bytes(self._buffer[:_CHUNK]))
            del self._buffer[:_CHUNK]
        return len(data)

    def flush(self) -> None:
        if self._buffer:
            self._put(bytes(self._buffer))
            self._buffer.clear()

    def _put(self, item: object) -> None:
        while True:
            if self._cancelled.is_set():
                raise _Cancelled()
            try:
                self._chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


class TarStream:
    """Iterate to get the tar of ``bundle`` (a folder, or a bundle read in place from its
    storage); :meth:`close` stops the writer."""

    def __init__(self, bundle: Union[str, StoredBundle], max_chunks: int = 16):
        self._chunks: "queue.Queue" = queue.Queue(maxsize=max_chunks)
        self._cancelled = threading.Event()
        self._error: Optional[BaseException] = None
        self._thread = threading.Thread(target=self._write, args=(bundle,), name="yatai-tar", daemon=True)
        self._thread.start()

    def _write(self, bundle: Union[str, StoredBundle]) -> None:
        writer = _QueueWriter(self._chunks, self._cancelled)
        try:
            if isinstance(bundle, str):
                write_tar(bundle, writer)
            else:
                write_stored_tar(bundle, writer)
            writer.flush()
        except _Cancelled:
            return
        except BaseException as exc:  # noqa: BLE001 - reported by the reader, which ends the answer
            self._error = exc
        try:
            writer._put(_DONE)
        except _Cancelled:
            pass

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self._chunks.get()
            if item is _DONE:
                if self._error is not None:
                    # The status is sent already: ending the answer short is all that is left,
                    # and the client's checksum check refuses what arrived.
                    logger.error("streaming a bundle failed: %s", self._error)
                    raise self._error
                return
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Stop the writer (the client went away, or the answer is complete)."""
        self._cancelled.set()
