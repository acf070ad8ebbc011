"""Uploads and downloads stream: a 200 MB bundle moves through the server and a reader
without either holding it in memory (peak resident memory grows by a fraction of it)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from .conftest import client_env, save

pytestmark = pytest.mark.slow

MODEL_BYTES = 200_000_000

#: ``python -c`` running the CLI with the arguments after it, saving /proc/self/status at exit.
_RECORDING_PEAK = ("import atexit, runpy, sys\n"
                   "atexit.register(lambda: open({out!r}, 'w').write(open('/proc/self/status').read()))\n"
                   "sys.argv = ['bentoml'] + sys.argv[1:]\n"
                   "runpy.run_module('bentoml', run_name='__main__')\n")


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_memory_stays_flat(start_yatai, tmp_path, service_src):
    server = start_yatai(tmp_path / "server", "--no-ui")
    before = _peak_rss_mb(server.proc.pid)
    save(service_src, tmp_path / "writer", server.url, version="big-1", padding=MODEL_BYTES)
    after_upload = _peak_rss_mb(server.proc.pid)
    # The reader's own peak (VmHWM of its process image), written as it exits: the rusage of a
    # child counts the memory of the process it was forked from (here, pytest with every plugin).
    peak_file = tmp_path / "reader-status"
    reader = subprocess.run(
        [sys.executable, "-c", _RECORDING_PEAK.format(out=str(peak_file)), "retrieve", "TeamText:big-1",
         f"--target_dir={tmp_path / 'copy'}"], env=client_env(tmp_path / "reader", server.url),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600)
    assert reader.returncode == 0, reader.stderr
    after_download = _peak_rss_mb(server.proc.pid)
    reader_mb = int(next(line for line in peak_file.read_text().splitlines()
                         if line.startswith("VmHWM:")).split()[1]) / 1024
    size_mb = sum(p.stat().st_size for p in (tmp_path / "copy").rglob("*") if p.is_file()) / 1e6
    print(f"\n{size_mb:.0f} MB bundle: server peak RSS {before:.0f} MB at start, {after_upload:.0f} MB after "
          f"the upload, {after_download:.0f} MB after the download; `bentoml retrieve` peak {reader_mb:.0f} MB")
    assert size_mb > MODEL_BYTES / 1e6
    # Held in memory, the bundle alone would be 200 MB more; streaming costs buffers only.
    assert after_upload - before < 100 and after_download - before < 100 and reader_mb < 130
