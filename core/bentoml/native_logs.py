"""Filtering what native code writes to standard error while a framework loads.

C++ libraries log straight to file descriptor 2, where Python's logging cannot
reach.  TensorFlow 2.21 logs through absl before ``absl::InitializeLog()`` has
run, and then ignores ``TF_CPP_MIN_LOG_LEVEL``: on CPUs with AVX512-VNNI or AMX
every ``import tensorflow`` greets the CLI and each server worker with "oneDNN
custom operations are on".  :func:`filter_native_stderr` points fd 2 at a pipe
for the duration of such an import, and a thread copies each line it keeps to
the real standard error as it arrives, so nothing is held back even if the
import hangs.  Plugins use it as::

    with filter_native_stderr(absl_lines_below(1)):   # drop INFO, keep warnings
        import tensorflow
"""
from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import threading
from typing import Any, Callable, Iterator

#: absl's format (``I0000 00:00:1796117432.923436    7496 port.cc:153] ...``: before
#: InitializeLog the seconds count from the epoch) and
#: the older TSL one (``2024-01-11 05:40:05.061907: I tensorflow/...cc:182] ...``).
_ABSL_LINE = re.compile(rb"^(?:([IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ |"
                        rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: ([IWEF]) )\S+:\d+\] ")
_ABSL_BANNER = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
_SEVERITY = {b"I": 0, b"W": 1, b"E": 2, b"F": 3}
_lock = threading.Lock()


def absl_lines_below(min_level: int) -> Callable[[bytes], bool]:
    """A predicate dropping absl/TSL log lines of a severity below ``min_level``
    (0 INFO, 1 WARNING, 2 ERROR: the levels of ``TF_CPP_MIN_LOG_LEVEL``), and
    absl's "before InitializeLog" banner with them once INFO is dropped."""

    def drop(line: bytes) -> bool:
        if min_level >= 1 and line.rstrip(b"\r\n") == _ABSL_BANNER:
            return True
        match = _ABSL_LINE.match(line)
        return bool(match) and _SEVERITY[match.group(1) or match.group(2)] < min_level

    return drop


def _copy_lines(read_fd: int, write_fd: int, drop: Callable[[bytes], bool]) -> None:
    with open(read_fd, "rb", buffering=0) as pipe:
        pending = b""
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not drop(line))
            if kept:
                os.write(write_fd, kept)
        if pending and not drop(pending):
            os.write(write_fd, pending)


@contextlib.contextmanager
def filter_native_stderr(drop: Callable[[bytes], bool]) -> Iterator[None]:
    """Within the block, lines written to fd 2 (by C, C++ or Python) for which
    ``drop`` is true are discarded; the others reach standard error unchanged.
    One block at a time per process: a second thread waits for the first."""
    with _lock:
        sys.stderr.flush()
        real_stderr = os.dup(2)
        read_fd, write_fd = os.pipe()
        copier = threading.Thread(target=_copy_lines, args=(read_fd, real_stderr, drop),
                                  name="stderr-filter", daemon=True)
        copier.start()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(real_stderr, 2)  # closes the pipe's last write end: the copier drains and ends
            copier.join(5)
            os.close(real_stderr)


def import_with_log_level(module: str, level_variable: str, default_level: int = 1) -> Any:
    """Import ``module`` with its native absl lines below the level in the environment
    variable ``level_variable`` dropped (``default_level``, set there, when unset)."""
    if module in sys.modules:
        return sys.modules[module]
    level = os.environ.setdefault(level_variable, str(default_level))
    with filter_native_stderr(absl_lines_below(int(level) if level.isdigit() else default_level)):
        return importlib.import_module(module)
