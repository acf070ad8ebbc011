"""Pre-forked workers run on their own share of the CPUs (``--cpu-affinity``, on by default)."""
from __future__ import annotations

import os
import pathlib
import signal
import time

import pytest

from bentoml.server.cpu_affinity import worker_cpus
from bentoml.testing.server import child_pids

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="needs Linux CPU affinity")


# -- how the CPUs are shared ---------------------------------------------------------------------
@pytest.mark.parametrize("workers, allowed, shares", [
    (2, {0, 1}, [{0}, {1}]),
    (2, set(range(16)), [set(range(8)), set(range(8, 16))]),
    (3, set(range(8)), [{0, 1}, {2, 3, 4}, {5, 6, 7}]),
    (4, {0, 1}, [{0}, {1}, {0}, {1}]),  # more workers than CPUs: round-robin
    (2, {3, 5, 9, 12}, [{3, 5}, {9, 12}]),  # a restricted, non-contiguous set
    (1, {0, 1, 2}, [{0, 1, 2}]),
])
def test_shares_cover_the_allowed_cpus(workers, allowed, shares):
    got = [set(worker_cpus(i, workers, allowed)) for i in range(workers)]
    assert got == shares
    assert set().union(*got) == allowed or workers > len(allowed)


def test_share_arguments_are_checked():
    with pytest.raises(ValueError, match="index 2"):
        worker_cpus(2, 2, {0, 1})
    with pytest.raises(ValueError, match="no CPUs"):
        worker_cpus(0, 2, set())


# -- black box: the workers of a real server -------------------------------------------------------
def _workers(server, want: int, exclude=(), timeout: float = 30) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = [p for p in child_pids(server.proc.pid) if p not in exclude]
        if len(pids) == want:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"expected {want} workers of {server.proc.pid}, found {child_pids(server.proc.pid)}")


def _affinity_of_every_thread(pid: int) -> set:
    """The one CPU set all threads of ``pid`` share (fails if they differ)."""
    sets = set()
    for tid in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            sets.add(frozenset(os.sched_getaffinity(int(tid.name))))
        except ProcessLookupError:  # a thread that just ended
            pass
    assert len(sets) == 1, f"threads of {pid} have different affinities: {sets}"
    return set(sets.pop())


def _exercise(server) -> None:
    """Requests on every worker, so that request and dispatcher threads exist."""
    for x in range(8):
        assert server.post("/double", {"x": x}).json() == {"y": 2 * x}


def test_each_worker_and_its_replacement_run_on_their_share(start_server, bundle):
    allowed = os.sched_getaffinity(0)  # what the master inherits from this process
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", "2",
                          "--enable-microbatch")
    _exercise(server)
    workers = _workers(server, 2)
    shares = {pid: _affinity_of_every_thread(pid) for pid in workers}
    expected = [set(worker_cpus(i, 2, allowed)) for i in range(2)]
    assert sorted(map(sorted, shares.values())) == sorted(map(sorted, expected)), server.log
    assert set(os.sched_getaffinity(server.proc.pid)) == allowed  # the master is not pinned
    assert server.wait_log("runs on CPU"), server.log

    # A killed worker's replacement takes over the same share.
    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    newcomer = _workers(server, 1, exclude={workers[1], victim})[0]
    _exercise(server)
    assert _affinity_of_every_thread(newcomer) == shares[victim]
    assert server.terminate() == 0, server.log


@pytest.mark.parametrize("how", ["option", "environment"])
def test_affinity_can_be_turned_off(start_server, bundle, how):
    allowed = os.sched_getaffinity(0)
    args, env = (["--no-cpu-affinity"], None) if how == "option" else ([], {"BENTOML_CPU_AFFINITY": "false"})
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--workers", "2", *args, env=env)
    _exercise(server)
    for pid in _workers(server, 2):
        assert _affinity_of_every_thread(pid) == allowed
    assert "runs on CPU" not in server.log
    assert server.terminate() == 0, server.log
