"""The build context: the bundle itself, or a copy of it with a ``wheelhouse/`` for air-gapped builds.

The bundle's Dockerfile installs from ``./wheelhouse`` alone (``--no-index``) when
the context has one, so such a build reaches no package index.  The wheels are
made here by pip (``pip wheel``: sdists are built, so the image needs no
compiler), for this machine's Python and platform: the bundle's Python minor on
the image's platform is what they fit.
"""
from __future__ import annotations

import contextlib
import logging
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from typing import Iterator, Optional

from bentoml.bundle.config import BundleConfig
from bentoml.exceptions import BentoMLException

logger = logging.getLogger(__name__)

WHEELHOUSE = "wheelhouse"


def fill_wheelhouse(context: str, config: BundleConfig) -> str:
    """``pip wheel`` every requirement of the bundle at ``context`` (pinned by its
    constraints.txt) into ``context/wheelhouse``; returns that folder."""
    saved = ".".join(config.env.python_version.split(".")[:2])
    here = ".".join(platform.python_version_tuple()[:2])
    if saved != here:
        logger.warning("the wheelhouse is made with Python %s, the bundle was saved with Python %s: "
                       "wheels with compiled code may not install in the image", here, saved)
    target = os.path.join(context, WHEELHOUSE)
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
               "--wheel-dir", target, "-r", "requirements.txt"]
    if os.path.exists(os.path.join(context, "constraints.txt")):
        command[-2:-2] = ["-c", "constraints.txt"]
    done = subprocess.run(command, cwd=context, stdout=sys.stderr, stderr=sys.stderr, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise BentoMLException(f"pip could not make the wheelhouse (exit {done.returncode}); its output "
                               f"is above: {' '.join(command)}")
    return target


def replace_base_image(context: str, base_image: str) -> None:
    """Point the Dockerfile's ``FROM`` at ``base_image`` (a mirror, an image with conda)."""
    path = os.path.join(context, "Dockerfile")
    with open(path) as f:
        lines = f.read().splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.upper().startswith("FROM "):
            lines[index] = f"FROM {base_image}\n"
            break
    else:
        raise BentoMLException(f"{path} has no FROM line")
    with open(path, "w") as f:
        f.writelines(lines)


@contextlib.contextmanager
def build_context(bundle_path: str, config: BundleConfig, wheelhouse: bool = False,
                  base_image: Optional[str] = None) -> Iterator[str]:
    """The folder to build: the bundle as it is, or a temporary copy with the wheelhouse in
    it (``wheelhouse``) and another ``FROM`` (``base_image``); the bundle itself is never
    written to."""
    if not wheelhouse and not base_image:
        yield bundle_path
        return
    parent = tempfile.mkdtemp(prefix="bentoml-containerize-")
    try:
        context = os.path.join(parent, "context")
        shutil.copytree(bundle_path, context, symlinks=True)
        if base_image:
            replace_base_image(context, base_image)
        if wheelhouse:
            fill_wheelhouse(context, config)
        yield context
    finally:
        shutil.rmtree(parent, ignore_errors=True)
