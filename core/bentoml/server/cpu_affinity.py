"""Each pre-forked worker runs on its own share of the CPUs.

A worker's Python threads (waitress's request threads, the dispatcher running
the model) take turns holding the GIL.  Left to the scheduler, consecutive
turns land on different cores, so every hand-over moves the interpreter's state
between caches and wakes a thread on another core; and two workers' threads
interleave on every core.  Measured on a 2-core machine at 64 connections
(``bench/server_bench.py``, see ``bench/RESULTS.md``), pinning each of 2 workers
to its own core served about 40% (RandomForest) and 65% (SVC) more requests per
second, with a lower p99.

The CPUs this process may use are split into ``workers`` contiguous, nearly
equal slices, so a worker's native thread pools (OpenMP in XGBoost, TensorFlow's
intra-op pool, BLAS), which size themselves by the CPUs they may use, fill its
slice instead of every worker starting a pool as large as the machine.  With
more workers than CPUs, workers share CPUs round-robin.
"""
from __future__ import annotations

import logging
import os
from typing import AbstractSet, FrozenSet, Optional

logger = logging.getLogger("bentoml.server")


def worker_cpus(index: int, workers: int, allowed: AbstractSet[int]) -> FrozenSet[int]:
    """The CPUs of worker ``index`` (0-based) out of ``workers``, given the ``allowed`` CPUs."""
    if not 0 <= index < workers:
        raise ValueError(f"worker index {index} is not in 0..{workers - 1}")
    if not allowed:
        raise ValueError("no CPUs to share among the workers")
    cpus = sorted(allowed)
    if workers >= len(cpus):
        return frozenset({cpus[index % len(cpus)]})
    start, stop = index * len(cpus) // workers, (index + 1) * len(cpus) // workers
    return frozenset(cpus[start:stop])


def pin_worker(index: int, workers: int) -> Optional[FrozenSet[int]]:
    """Restrict the calling process to its share; the CPUs chosen, or None where not possible.

    Called in a freshly forked worker before it starts any thread (threads
    inherit the calling thread's affinity; ones started earlier would not).
    """
    if workers < 2 or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        cpus = worker_cpus(index, workers, os.sched_getaffinity(0))
        os.sched_setaffinity(0, cpus)
    except OSError as exc:  # e.g. a cpuset changed under us: serve unpinned rather than not at all
        logger.warning("worker %d: could not set its CPU affinity (%s); it runs on any CPU", os.getpid(), exc)
        return None
    logger.info("worker %d (pid %d) runs on CPU %s", index, os.getpid(), ",".join(map(str, sorted(cpus))))
    return cpus
