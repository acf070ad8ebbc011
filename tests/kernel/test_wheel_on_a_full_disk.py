"""A wheel that stops fitting midway fails with the file system's error and leaves no file
open: while the error is handled (a save removing its partial bundle), an open deleted
file would keep its disk space taken."""
import os
import subprocess
import sys

import pytest

# Writes past 64 KiB fail (EFBIG, as ENOSPC does on a full disk) once a few files are in the wheel.
BUILD_UNDER_A_SIZE_LIMIT = """
import errno, os, resource, signal, sys
from bentoml.bundle.wheels import build_wheel
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
try:
    build_wheel("bentoml", sys.argv[1])
except OSError as exc:
    assert exc.errno == errno.EFBIG, exc
    failure = exc  # held, with its traceback, as a caller undoing the save holds it
else:
    raise AssertionError("the wheel fit")
fds = "/proc/self/fd"
print([os.readlink(os.path.join(fds, fd)) for fd in os.listdir(fds) if os.path.exists(os.path.join(fds, fd))])
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc to list open files")
def test_a_wheel_that_does_not_fit_leaves_no_open_file(tmp_path):
    out = subprocess.run([sys.executable, "-c", BUILD_UNDER_A_SIZE_LIMIT, str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert str(tmp_path) not in out.stdout, out.stdout
