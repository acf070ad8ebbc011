"""The copy progress bar: drawn on a real pseudo-terminal, never on a pipe."""
import logging
import os
import pty
import threading
import time

import pytest

from bentoml.progress import LARGE_BYTES, CopyProgress

MB = 1000 * 1000


class _Reader:
    """Reads what is written to a file descriptor's other end, in a thread (a full pty would block)."""

    def __init__(self, fd: int):
        self.fd, self.data = fd, b""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the pty's other end closed (EIO)
                return
            if not chunk:
                return
            self.data += chunk

    def text(self) -> str:
        self._thread.join(timeout=10)
        return self.data.decode()


@pytest.fixture
def terminal():
    """A writable text stream on the slave end of a pty, and a reader of its master end."""
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w")
    reader = _Reader(master)
    yield stream, reader
    if not stream.closed:
        stream.close()
    os.close(master)


@pytest.fixture
def pipe():
    read_end, write_end = os.pipe()
    stream = os.fdopen(write_end, "w")
    reader = _Reader(read_end)
    yield stream, reader
    if not stream.closed:
        stream.close()
    os.close(read_end)


def _copy(stream, total: int, chunk: int = MB, pause: float = 0.0) -> CopyProgress:
    with CopyProgress("Copying Svc:1", total, stream=stream) as progress:
        for _ in range(total // chunk):
            time.sleep(pause)
            progress.update(chunk)
    stream.close()
    return progress


def test_a_large_copy_on_a_terminal_draws_a_bar_to_the_end(terminal):
    stream, reader = terminal
    progress = _copy(stream, 60 * MB)
    out = reader.text()
    assert progress.shown
    assert "Copying Svc:1" in out and "100%" in out and "60/60 MB" in out
    assert out.endswith("\n")  # the bar's line is finished (and the cursor shown again)


def test_a_small_quick_copy_on_a_terminal_draws_nothing(terminal):
    stream, reader = terminal
    assert not _copy(stream, 5 * MB).shown
    assert reader.text() == ""


def test_a_slow_copy_on_a_terminal_draws_a_bar_after_a_second(terminal):
    stream, reader = terminal
    assert 4 * MB < LARGE_BYTES
    assert _copy(stream, 4 * MB, pause=0.4).shown
    assert "100%" in reader.text()


def test_a_pipe_gets_nothing_however_large(pipe):
    stream, reader = pipe
    assert not _copy(stream, 120 * MB).shown
    assert reader.text() == ""


def test_quiet_hides_the_bar_on_a_terminal(terminal):
    stream, reader = terminal
    logger = logging.getLogger("bentoml")
    old = logger.level
    logger.setLevel(logging.ERROR)  # what -q sets
    try:
        assert not _copy(stream, 60 * MB).shown
    finally:
        logger.setLevel(old)
    assert reader.text() == ""


def test_a_copy_that_fails_still_ends_the_bar_line(terminal):
    stream, reader = terminal
    with pytest.raises(OSError):
        with CopyProgress("Copying Svc:1", 100 * MB, stream=stream) as progress:
            progress.update(60 * MB)
            raise OSError("disk full")
    stream.close()
    out = reader.text()
    assert "Copying Svc:1" in out and out.endswith("\n")
