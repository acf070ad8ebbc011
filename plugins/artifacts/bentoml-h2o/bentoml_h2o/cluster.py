"""Which H2O the artifacts talk to, and the one an API server starts for its workers.

H2O models live in an H2O cluster (a Java process); Python holds a client
connection to it.  Three cases, in order:

1. This process already has a connection (a user's ``h2o.init()``): use it.
2. ``BENTOML_H2O_URL`` names an H2O (one you run, or the one an API server
   started for its workers): connect to it.
3. Otherwise start a local one with ``h2o.init`` (which first tries
   ``127.0.0.1:54321``), sized by ``BENTOML_H2O_NTHREADS`` / ``BENTOML_H2O_MAX_MEM``.

An API server calls :func:`start_for_server` once, in its parent process,
before it forks: the workers inherit ``BENTOML_H2O_URL`` and connect after the
fork, so one JVM serves them all; the parent stops it when the server exits.
"""
from __future__ import annotations

import atexit
import contextlib
import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from typing import Callable, Iterator, Optional
from urllib.parse import urlparse

from bentoml.exceptions import BentoMLException, InvalidArgument

# Under "bentoml", whose handler the CLI sets up: these lines belong in a server's log.
logger = logging.getLogger("bentoml.h2o")

#: An H2O to use (``http://host:port``); an API server sets it for its workers.
URL_ENV = "BENTOML_H2O_URL"
#: Threads of an H2O started here (default: half the CPUs, at least 1; -1: all).
NTHREADS_ENV = "BENTOML_H2O_NTHREADS"
#: Largest Java heap of an H2O started here, e.g. ``512M`` or ``2G`` (default 1G).
MAX_MEM_ENV = "BENTOML_H2O_MAX_MEM"
#: Set by an API server for its workers: the scratch directory of the H2O it started
#: for them alone (its presence tells a worker that the H2O is dedicated to this server).
SERVER_DIR_ENV = "BENTOML_H2O_SERVER_DIR"

DEFAULT_MAX_MEM = "1G"
_MEMORY = re.compile(r"^\s*(\d+)\s*([kmgt]?)b?\s*$", re.I)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_MIN_MEMORY = 1 << 25  # h2o refuses a heap under 32 MiB
_STOP_TIMEOUT = 15.0
_connect_lock = threading.Lock()


def nthreads() -> int:
    """Threads for an H2O started here: ``BENTOML_H2O_NTHREADS`` or half the CPUs.

    Half: on a small machine the API server's Python workers need CPU too.
    """
    raw = os.environ.get(NTHREADS_ENV, "").strip()
    if not raw:
        return max(1, (os.cpu_count() or 2) // 2)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise InvalidArgument(f"environment variable {NTHREADS_ENV}={raw!r} is invalid: "
                              "expected a number of threads >= 1, or -1 for all CPUs")
    return value


def max_mem_bytes() -> int:
    """The Java heap limit for an H2O started here, in bytes (``BENTOML_H2O_MAX_MEM``)."""
    raw = os.environ.get(MAX_MEM_ENV, "").strip() or DEFAULT_MAX_MEM
    match = _MEMORY.match(raw)
    size = int(match.group(1)) * _UNITS[match.group(2).lower()] if match else 0
    if size < _MIN_MEMORY:
        raise InvalidArgument(f"environment variable {MAX_MEM_ENV}={raw!r} is invalid: expected "
                              "a size of at least 32M, like 512M or 2G")
    return size


def _quietly(call: Callable[[], object]) -> object:
    """Run an h2o call that prints to stdout (status, "cluster version is old"), logging it instead.

    Its prints would otherwise land in a server's log on every worker start and in
    the JSON that ``bentoml run`` writes to stdout.
    """
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = call()
    for line in printed.getvalue().splitlines():
        if line.strip():
            logger.log(logging.WARNING if "mismatch" in line.lower() else logging.DEBUG, "h2o: %s", line)
    return result


def connect():
    """The process's H2O connection, opened (see the module docstring) if there is none."""
    import h2o
    from h2o.exceptions import H2OConnectionError, H2OError

    with _connect_lock:
        current = h2o.connection()
        if current is not None and current.connected:
            return current
        url = os.environ.get(URL_ENV, "").strip()
        try:
            if url:
                _quietly(lambda: h2o.connect(url=url, verbose=False))
            else:
                _quietly(lambda: h2o.init(ip="127.0.0.1", nthreads=nthreads(), max_mem_size=max_mem_bytes(),
                                          enable_assertions=False, bind_to_localhost=True, verbose=False))
        except (H2OConnectionError, H2OError, OSError) as exc:
            where = f"the H2O at {url} ({URL_ENV})" if url else "a local H2O (is Java installed?)"
            raise BentoMLException(f"cannot connect to {where}: {first_line(exc)}") from None
        # Progress bars are for people at a console; a connection opened here serves a
        # server or `bentoml run`, whose output they would clutter.
        h2o.no_progress()
        opened = h2o.connection()
        # Registered after h2o's own exit hooks, so these run first: h2o's then find the
        # connection closed (no "Closing connection ... at exit" on stdout) and the H2O
        # that h2o.init started already stopped (its own stop never escalates to SIGKILL).
        if getattr(opened.local_server, "_process", None) is not None:
            atexit.register(_stop_local_server, opened.local_server)
        atexit.register(_close_quietly, opened)
        logger.debug("connected to H2O at %s", opened.base_url)
        return opened


def _stop_local_server(server) -> None:
    """Stop an H2O that h2o.init started here, and remove the temporary directory h2o left."""
    _stop(server._process)
    shutil.rmtree(getattr(server, "_tempdir", None) or "", ignore_errors=True)


def _close_quietly(connection) -> None:
    if connection.connected:
        _quietly(connection.close)


def shares_our_files() -> bool:
    """Whether the connected H2O runs on this machine, so it can read and write the
    bundle's files itself (``h2o.save_model``/``load_model``); a remote one gets them
    over HTTP (``download_model``/``upload_model``)."""
    import h2o

    connection = h2o.connection()
    if connection is None:  # h2o's own call then says "Not connected to a cluster..."
        return True
    host = urlparse(connection.base_url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def dedicated_to_this_server() -> bool:
    """Whether this process is a worker of an API server that started its own H2O."""
    return bool(os.environ.get(SERVER_DIR_ENV))


@contextlib.contextmanager
def exclusive_model_loading() -> Iterator[None]:
    """Serialise model loading among one server's workers (a file lock in its scratch dir).

    H2O replaces a model it loads again under the same key, and must not do that
    while another worker predicts with it; under this lock a worker finds the
    model its sibling loaded and uses it instead.
    """
    scratch = os.environ.get(SERVER_DIR_ENV)
    if not scratch:
        yield
        return
    import fcntl

    with open(os.path.join(scratch, "load.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start_for_server() -> Optional[Callable[[], None]]:
    """Start one local H2O for an API server's workers; returns the function that stops it.

    Does nothing (returns None) when ``BENTOML_H2O_URL`` names an H2O to use:
    that one is not ours to stop.
    """
    if os.environ.get(URL_ENV, "").strip():
        logger.info("serving with the H2O at %s (%s)", os.environ[URL_ENV], URL_ENV)
        return None
    from h2o.backend import H2OLocalServer
    from h2o.exceptions import H2OError

    threads, memory = nthreads(), max_mem_bytes()
    scratch = tempfile.mkdtemp(prefix="bentoml-h2o-")
    try:
        server = H2OLocalServer.start(
            nthreads=threads, max_mem_size=memory, enable_assertions=False, port="54321+",
            ice_root=scratch, log_dir=os.path.join(scratch, "logs"), name=f"bentoml-{os.getpid()}",
            bind_to_localhost=True, verbose=False)
    except (H2OError, OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(scratch, ignore_errors=True)
        raise BentoMLException(f"cannot start H2O for this server (is Java 8 or later installed?): "
                               f"{first_line(exc)}") from None
    url = f"{server.scheme}://{server.ip}:{server.port}"
    process = server._process  # h2o's own shutdown() never escalates to SIGKILL (see _stop)
    os.environ[URL_ENV] = url
    os.environ[SERVER_DIR_ENV] = scratch
    logger.info("started H2O for this server at %s (pid %d, %d thread%s, heap up to %d MiB)",
                url, process.pid, threads, "" if threads == 1 else "s", memory >> 20)

    def stop() -> None:
        for var, value in ((URL_ENV, url), (SERVER_DIR_ENV, scratch)):
            if os.environ.get(var) == value:
                del os.environ[var]
        _stop(process)
        server.shutdown()  # forgets the process, so h2o's own exit hook has nothing left to do
        for directory in (scratch, getattr(server, "_tempdir", None)):  # its stdout/stderr files
            if directory:
                shutil.rmtree(directory, ignore_errors=True)
        logger.info("stopped H2O (pid %d)", process.pid)

    return stop


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (H2O shuts down cleanly), then SIGKILL if it has not exited in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        logger.warning("H2O (pid %d) did not stop within %.0f s; killing it", process.pid, _STOP_TIMEOUT)
        process.kill()
        process.wait(_STOP_TIMEOUT)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
