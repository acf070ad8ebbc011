"""Real images for the tests and benchmarks: a local stand-in for ``python:3.11-slim``, and podman runs.

No image registry is reachable from the test machines, so the base image is
made here: a debootstrapped Debian bookworm (``--variant=minbase``) with
Debian's Python, pip and ``python`` on PATH, imported with ``podman import``.
Debian marks its Python "externally managed" (pip refuses to install into it);
the real ``python:3.11-slim`` has no such marker, so the stand-in drops it.

Both the root file system's tarball (in :func:`cache_dir`) and the image (in
podman's storage) are kept: a later session, or a CI run on the same machine,
finds them and builds nothing.  A lock keeps two sessions from making them at once.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from typing import Iterator, List, Optional

#: Named like the image it stands in for, so the Python check reads its version from the tag.
BASE_IMAGE = "localhost/bentoml-test/python:3.11-slim-bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: podman here: runc cannot raise its rlimits to the host's, so the container gets its own
RUN_OPTIONS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def cache_dir() -> str:
    """``$BENTOML_TEST_CACHE_DIR``, else ``~/.cache/bentoml-tests`` (kept between runs)."""
    home = os.environ.get("HOME") or tempfile.gettempdir()
    path = os.environ.get("BENTOML_TEST_CACHE_DIR") or os.path.join(home, ".cache", "bentoml-tests")
    os.makedirs(path, exist_ok=True)
    return path


def podman(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    """``podman ARGS``, output captured; a failure raises with its output."""
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def image_exists(image: str) -> bool:
    return podman("image", "exists", image, check=False).returncode == 0


def _rootfs_tarball(cache: str) -> str:
    """The tarball of the debootstrapped root, made once (about 2-3 minutes, 200 MB)."""
    tarball = os.path.join(cache, "debian-bookworm-python3.tar")
    if os.path.exists(tarball):
        return tarball
    if shutil.which("debootstrap") is None:
        raise RuntimeError("making the test base image needs debootstrap: apt-get install -y debootstrap")
    work = tempfile.mkdtemp(prefix="rootfs-", dir=cache)
    try:
        root = os.path.join(work, "root")
        done = subprocess.run(["debootstrap", "--variant=minbase",
                               "--include=python3,python3-pip,python-is-python3,ca-certificates",
                               "bookworm", root, DEBIAN_MIRROR], capture_output=True, text=True, timeout=1200)
        if done.returncode != 0:
            with contextlib.suppress(OSError), open(os.path.join(root, "debootstrap", "debootstrap.log")) as log:
                done.stderr += "\n" + log.read()[-3000:]
            raise RuntimeError(f"debootstrap failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr}")
        for marker in ("usr/lib/python3.11/EXTERNALLY-MANAGED",):
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(root, marker))
        for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for name in os.listdir(os.path.join(root, folder)):
                if name.endswith(".deb") or folder.endswith("lists"):
                    path = os.path.join(root, folder, name)
                    if os.path.isfile(path):
                        os.remove(path)
        partial = tarball + ".partial"
        subprocess.run(["tar", "-C", root, "--numeric-owner", "-cf", partial, "."], check=True, timeout=600)
        os.replace(partial, tarball)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tarball


def ensure_base_image(image: str = BASE_IMAGE) -> str:
    """The stand-in base image, imported from the cached tarball (made first when missing)."""
    if image_exists(image):
        return image
    cache = cache_dir()
    with open(os.path.join(cache, "base-image.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not image_exists(image):
            podman("import", "--change", 'CMD ["python3"]', _rootfs_tarball(cache), image)
    return image


class Container:
    """A detached ``podman run`` of an image, removed by :meth:`remove`."""

    def __init__(self, image: str, *args: str, port: int, options: Optional[List[str]] = None) -> None:
        self.port = port
        self.started = time.monotonic()
        self.id = podman("run", "-d", *RUN_OPTIONS, "-p", f"127.0.0.1:{port}:5000", *(options or []),
                         image, *args).stdout.strip().splitlines()[-1]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 60) -> float:
        """Seconds from ``podman run`` until ``/readyz`` answered 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.url("/readyz"), timeout=2) as reply:
                    if reply.status == 200:
                        return time.monotonic() - self.started
            if not self.running():
                raise RuntimeError(f"the container exited:\n{self.logs()}")
            time.sleep(0.05)
        raise RuntimeError(f"no answer from {self.url('/readyz')} within {timeout}s:\n{self.logs()}")

    def running(self) -> bool:
        return podman("inspect", "--format", "{{.State.Running}}", self.id, check=False).stdout.strip() == "true"

    def logs(self) -> str:
        done = podman("logs", self.id, check=False)
        return done.stdout + done.stderr

    def exec(self, *command: str) -> str:
        return podman("exec", self.id, *command).stdout

    def remove(self) -> None:
        podman("rm", "-f", "-t", "0", self.id, check=False)


@contextlib.contextmanager
def running(image: str, *args: str, port: int, options: Optional[List[str]] = None) -> Iterator[Container]:
    """A :class:`Container` for the block, removed afterwards."""
    container = Container(image, *args, port=port, options=options)
    try:
        yield container
    finally:
        container.remove()
