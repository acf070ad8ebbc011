"""The container engines an image is built with: docker, podman or buildah, whichever is present.

Each takes the bundle's Dockerfile as it is.  Podman and buildah write OCI images
by default, and the OCI format has no HEALTHCHECK: they build with ``--format
docker`` so the image keeps the bundle's.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from typing import List, Optional, Sequence

import attrs

from bentoml.exceptions import BentoMLException, InvalidArgument

#: In the order one is picked when none is named.
ENGINES = ("docker", "podman", "buildah")


@attrs.frozen
class Engine:
    """One engine's executable and how it builds and pushes."""

    name: str
    executable: str

    def build_command(self, context: str, image: str, options: Sequence[str] = ()) -> List[str]:
        """The command that builds ``context`` (a folder holding a Dockerfile) as ``image``."""
        verb = ["bud"] if self.name == "buildah" else ["build"]
        keep_healthcheck = ["--format", "docker"] if self.name in ("podman", "buildah") else []
        return [self.executable, *verb, *keep_healthcheck, *options, "-t", image, context]

    def push_command(self, image: str) -> List[str]:
        """The command that pushes ``image`` to the registry its name says."""
        return [self.executable, "push", image]

    def run(self, command: Sequence[str], what: str) -> None:
        """Run ``command``; its output goes to stderr (stdout is the image's name alone)."""
        done = subprocess.run(list(command), stdout=sys.stderr, stderr=sys.stderr, stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            raise BentoMLException(f"{self.name} {what} failed (exit {done.returncode}); "
                                   f"its output is above: {' '.join(command)}")


def find_engine(backend: Optional[str] = None) -> Engine:
    """The engine named ``backend``, or the first of :data:`ENGINES` on ``PATH`` that can
    build (a docker CLI whose daemon does not answer is skipped); an error naming the
    options when there is none."""
    if backend is not None and backend not in ENGINES:
        raise InvalidArgument(f"unknown container backend {backend!r}; choose one of {', '.join(ENGINES)}")
    skipped = []
    for name in [backend] if backend else ENGINES:
        executable = shutil.which(name)
        if executable and not backend and name == "docker" and not _daemon_answers(executable):
            skipped.append(f"{executable} (its daemon does not answer)")
            continue
        if executable:
            return Engine(name, executable)
    if backend:
        raise BentoMLException(f"{backend} is not installed (not on PATH); install it, or pick another "
                               f"--backend of {', '.join(e for e in ENGINES if e != backend)}")
    raise BentoMLException("no container engine found: install docker, podman or buildah "
                           "(e.g. `apt-get install podman`), or build the bundle's Dockerfile "
                           "elsewhere with `docker build BUNDLE_PATH`"
                           + (f"; skipped {', '.join(skipped)}" if skipped else ""))


def _daemon_answers(executable: str) -> bool:
    """Whether the docker CLI reaches a daemon: a docker client alone cannot build, while
    podman or buildah next to it can, so picking one by itself skips such a client."""
    try:
        return subprocess.run([executable, "version", "--format", "{{.Server.Version}}"], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False
