"""``--workers auto``: the CPUs a process may use, from its cgroup's quota and its affinity,
read from fake cgroup trees as a container would show them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bentoml.server.config import server_config
from bentoml.server.cpu_quota import available_cpus, cgroup_cpu_quota

AFFINITY = len(os.sched_getaffinity(0))


def _tree(tmp_path, files: dict, self_cgroup: str):
    root = tmp_path / "cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text + "\n")
    proc = tmp_path / "self-cgroup"
    proc.write_text(self_cgroup)
    return str(root), str(proc)


def test_cgroup_v2_quota_in_a_container_namespace(tmp_path):
    root, proc = _tree(tmp_path, {"cgroup.controllers": "cpu memory", "cpu.max": "150000 100000"}, "0::/\n")
    assert cgroup_cpu_quota(root, proc) == 1.5
    assert available_cpus(root, proc) == min(AFFINITY, 2)  # 1.5 CPUs of time: two workers share it


def test_cgroup_v2_the_tightest_ancestor_wins(tmp_path):
    root, proc = _tree(tmp_path, {"cgroup.controllers": "cpu", "cpu.max": "max 100000",
                                  "machine/cpu.max": "100000 100000",
                                  "machine/ctr/cpu.max": "max 100000"}, "0::/machine/ctr\n")
    assert cgroup_cpu_quota(root, proc) == 1.0
    assert available_cpus(root, proc) == 1


def test_cgroup_v2_without_a_limit_is_the_affinity(tmp_path):
    root, proc = _tree(tmp_path, {"cgroup.controllers": "cpu", "cpu.max": "max 100000"}, "0::/\n")
    assert cgroup_cpu_quota(root, proc) is None
    assert available_cpus(root, proc) == AFFINITY


def test_cgroup_v1_cfs_quota(tmp_path):
    root, proc = _tree(tmp_path, {"cpu,cpuacct/cpu.cfs_quota_us": "50000", "cpu,cpuacct/cpu.cfs_period_us": "100000"},
                       "4:memory:/\n3:cpu,cpuacct:/\n")
    assert cgroup_cpu_quota(root, proc) == 0.5
    assert available_cpus(root, proc) == 1  # never fewer than one


def test_cgroup_v1_unlimited_is_the_affinity(tmp_path):
    root, proc = _tree(tmp_path, {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, "1:cpu:/\n")
    assert available_cpus(root, proc) == AFFINITY


def test_no_cgroup_files_is_the_affinity(tmp_path):
    assert available_cpus(str(tmp_path / "none"), str(tmp_path / "none-either")) == AFFINITY


def test_a_quota_above_the_affinity_is_capped(tmp_path):
    root, proc = _tree(tmp_path, {"cgroup.controllers": "cpu", "cpu.max": f"{(AFFINITY + 8) * 100000} 100000"},
                       "0::/\n")
    assert available_cpus(root, proc) == AFFINITY


def test_workers_auto_from_the_environment(monkeypatch):
    monkeypatch.setenv("BENTOML_WORKERS", "auto")
    assert server_config().workers == available_cpus()
    monkeypatch.setenv("BENTOML_WORKERS", "3")
    assert server_config().workers == 3


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs Linux CPU affinity")
def test_workers_auto_on_the_command_line_follows_the_affinity():
    # a real process pinned to one CPU: `--workers auto` is 1 there; the click type accepts it
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))});"
            "from bentoml.cli.serve_commands import serve_gunicorn;"
            "serve_gunicorn.make_context('serve-gunicorn', ['x', '--workers', 'auto']).params['workers'] == 1"
            " or exit(3);"
            "serve_gunicorn.make_context('serve-gunicorn', ['x', '-w', '2']).params['workers'] == 2 or exit(4)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    bad = subprocess.run([sys.executable, "-m", "bentoml", "serve-gunicorn", "x", "--workers", "many"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "--workers" in bad.stderr and "Traceback" not in bad.stderr
