"""The pre-fork master: ``workers`` processes serving one port, kept running.

The master loads the bundle and its fork-safe artifacts, binds one listening
socket per worker on the port (SO_REUSEPORT, so the kernel spreads connections
evenly), freezes the garbage collector's view of what it loaded (so workers
share those pages instead of copying them) and forks.  Each worker pins itself
to its share of the CPUs (``cpu_affinity``), loads the artifacts that are not
fork-safe (TensorFlow, XGBoost's OpenMP, H2O's client), builds the app, and
serves its socket with waitress.  Nothing that starts a thread, opens a
database connection or starts a dispatcher runs before the fork.

SIGTERM (and SIGINT) are forwarded to the workers, which stop gracefully; the
master replaces a worker that dies unexpectedly and exits when all have stopped.
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any, Callable, Dict, List

from bentoml.server.config import ServerConfig
from bentoml.server.cpu_affinity import pin_worker
from bentoml.server.metrics import MULTIPROC_ENV, mark_worker_dead
from bentoml.server.sockets import bind_sockets
from bentoml.server.worker import run_worker

logger = logging.getLogger("bentoml.server")


def _fork_safe(artifact) -> bool:
    return artifact.fork_safe


class Master:
    """Pre-forks ``config.workers`` workers over one port and keeps them running.

    The bundle is loaded by the function it is given (the runner's), so that
    loading has one home; each worker then loads the service's remaining
    (not fork-safe) artifacts itself, after the fork:

    :param load: ``load(resources, artifact_filter)``: the service, its serving
        resources prepared (``resources`` releases them) and the artifacts the
        filter accepts loaded.
    :param announce: ``announce(service, sock, workers)``: the "Serving" line.
    """

    def __init__(self, config: ServerConfig, load: Callable[[contextlib.ExitStack, Callable], Any],
                 announce: Callable[[Any, socket.socket, int], None]):
        self.config = config
        self._load = load
        self._announce = announce
        self.children: Dict[int, int] = {}  # pid -> worker index
        self.stopping = False
        self.crashes: List[float] = []
        self.socks: List[socket.socket] = []

    def run(self) -> int:
        """Serve until stopped; the exit code."""
        metrics_dir = tempfile.mkdtemp(prefix="bentoml-metrics-")
        os.environ[MULTIPROC_ENV] = metrics_dir  # before any worker imports prometheus_client
        # Handlers first: a SIGTERM while a shared resource starts must still release it.
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            # Workers never leave _spawn (os._exit), so only the master unwinds `resources`.
            with contextlib.ExitStack() as resources:
                service = self._load(resources, _fork_safe)
                self.socks = bind_sockets(self.config.host, self.config.port, self.config.backlog,
                                          self.config.workers)
                gc.collect()
                gc.freeze()  # objects loaded so far stay shared with the workers (copy-on-write)
                if not self.stopping:
                    self._announce(service, self.socks[0], self.config.workers)
                for index in range(self.config.workers):
                    if self.stopping:
                        break
                    self._spawn(service, self.socks[index], index)
                return self._supervise(service)
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)


    def _spawn(self, service, sock: socket.socket, index: int) -> None:
        master = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                _die_with_parent(signal.SIGTERM)
                if os.getppid() != master:  # it died before the line above took effect
                    os._exit(0)
                for other in set(self.socks) - {sock}:
                    other.close()  # only its own socket: a stopped worker must refuse, not queue
                if self.config.cpu_affinity:
                    pin_worker(index, self.config.workers)  # before any thread starts
                service.load_artifacts()  # the ones not fork-safe: TensorFlow, XGBoost's OpenMP
                code = run_worker(service, self.config, sock, parent_pid=master, worker_index=index + 1)
            except BaseException:
                logger.exception("worker %d failed", os.getpid())
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = index

    def _on_signal(self, signum, _frame) -> None:
        if not self.stopping:
            self.stopping = True
            logger.info("stopping %d workers (signal %d)", len(self.children), signum)
            for sock in set(self.socks):
                sock.close()  # the workers close their copies: new connections are refused
        for pid in list(self.children):
            try:
                os.kill(pid, signum)  # SIGTERM drains after a grace period, SIGINT at once
            except ProcessLookupError:
                pass

    def _supervise(self, service) -> int:
        status_code = 0
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            index = self.children.pop(pid, None)
            mark_worker_dead(pid)
            if index is None or self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            logger.error("worker %d exited unexpectedly (code %d); starting a new one", pid, code)
            now = time.monotonic()
            self.crashes = [t for t in self.crashes if now - t < 60] + [now]
            if len(self.crashes) > 5 * self.config.workers:
                logger.error("workers keep crashing; giving up")
                self._on_signal(signal.SIGTERM, None)
                status_code = 1
                continue
            self._spawn(service, self.socks[index], index)
        for sock in set(self.socks):
            sock.close()
        return status_code


#: prctl(2) option: the signal a process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _die_with_parent(signum: int) -> None:
    """Have Linux send ``signum`` to this process when the process that forked it dies, so
    that workers never serve on unsupervised after a SIGKILLed master (elsewhere the
    worker's periodic check of its parent pid does the same, a little later)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
            logger.debug("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    except (OSError, AttributeError) as exc:
        logger.debug("prctl(PR_SET_PDEATHSIG) is not available: %s", exc)
