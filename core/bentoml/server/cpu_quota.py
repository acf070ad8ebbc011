"""How many CPUs this process may use: what ``--workers auto`` (the image's default) starts.

A container sees every core of its host in ``os.cpu_count()``, but ``docker run
--cpus 2`` limits it to two cores' worth of time through the CPU controller of
its cgroup.  So the count is the smallest of the cgroup's quota (v2
``cpu.max``, v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``, rounded up, since a
1.5-CPU quota is used best by two workers) and the CPUs the process may be
scheduled on (``sched_getaffinity``: ``--cpuset-cpus``, ``taskset``), at least 1.
"""
from __future__ import annotations

import math
import os
from typing import Iterator, Optional

CGROUP_ROOT = "/sys/fs/cgroup"
PROC_SELF_CGROUP = "/proc/self/cgroup"


def _read(path: str) -> Optional[str]:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _own_cgroups(proc_self_cgroup: str) -> dict:
    """``{controller: path}`` from ``/proc/self/cgroup`` (``""`` is cgroup v2's unified entry)."""
    paths = {}
    for line in (_read(proc_self_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                paths[controller] = parts[2]
    return paths


def _candidates(base: str, own: Optional[str]) -> Iterator[str]:
    """The process's own cgroup folder and its ancestors, then ``base`` itself: in a
    container's cgroup namespace ``/proc/self/cgroup`` says ``/`` and the controller
    root is its own cgroup; outside one the path names it below the root."""
    if own:
        path = own.strip("/")
        while path:
            yield os.path.join(base, path)
            path = os.path.dirname(path)
    yield base


def _quota_v2(root: str, own: Optional[str]) -> Optional[float]:
    limits = []
    for folder in _candidates(root, own):
        text = _read(os.path.join(folder, "cpu.max"))
        if text:
            quota, _, period = text.partition(" ")
            if quota != "max" and period and float(period) > 0:
                limits.append(int(quota) / float(period))
    return min(limits) if limits else None


def _quota_v1(root: str, own: Optional[str]) -> Optional[float]:
    limits = []
    for controller in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        for folder in _candidates(os.path.join(root, controller), own):
            quota, period = (_read(os.path.join(folder, name)) for name in ("cpu.cfs_quota_us", "cpu.cfs_period_us"))
            if quota and period and int(quota) > 0 and int(period) > 0:
                limits.append(int(quota) / int(period))
    return min(limits) if limits else None


def cgroup_cpu_quota(root: str = CGROUP_ROOT, proc_self_cgroup: str = PROC_SELF_CGROUP) -> Optional[float]:
    """The CPU time this process's cgroup may use, in CPUs (``1.5``), None without a limit."""
    own = _own_cgroups(proc_self_cgroup)
    v2 = _quota_v2(root, own.get("")) if os.path.exists(os.path.join(root, "cgroup.controllers")) else None
    return v2 if v2 is not None else _quota_v1(root, own.get("cpu"))


def available_cpus(root: str = CGROUP_ROOT, proc_self_cgroup: str = PROC_SELF_CGROUP) -> int:
    """CPUs this process may use: the cgroup quota (rounded up) capped by its CPU affinity; at least 1."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    quota = cgroup_cpu_quota(root, proc_self_cgroup)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)
