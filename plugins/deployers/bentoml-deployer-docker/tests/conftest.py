"""One stand-in base image and one bundle image for the session, built with real podman.

The base image (a debootstrapped Debian bookworm with Python, see
``bentoml_deployer_docker.testing``) is kept in podman's storage and its tarball
in the test cache, so only the first session on a machine makes it.  The bundle
image is built the way a user builds it: ``bentoml containerize --wheelhouse``.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from bentoml.testing.services import service_module
from bentoml_deployer_docker.testing import BASE_IMAGE, ensure_base_image, podman

#: Ports of this plugin's tests: 18100-18149.
PORTS = iter(range(18100, 18150))

ECHO_SERVICE = f'''\
import os

import bentoml
from bentoml_adapter_json import JsonInput


@bentoml.env(docker_base_image={BASE_IMAGE!r})
class DockerEcho(bentoml.BentoService):
    """Answers who served the request: the body, the worker's uid and pid."""

    @bentoml.api(input=JsonInput(), batch=False)
    def echo(self, body):
        return {{"echo": body, "uid": os.getuid(), "pid": os.getpid()}}
'''


@pytest.fixture(scope="session")
def bentoml_cli():
    """``bentoml_cli(*args, env=...)``: ``bentoml ARGS`` in a subprocess, as a user runs it."""
    def run(*args: str, env=None, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bentoml", *args], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, **(env or {})})
    return run


@pytest.fixture(scope="session")
def next_port():
    """``next_port()``: the next of this plugin's ports."""
    return lambda: next(PORTS)


@pytest.fixture(scope="session")
def base_image() -> str:
    """The stand-in for python:3.11-slim (skips where podman is not installed)."""
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed (apt-get install -y podman runc debootstrap)")
    return ensure_base_image()


@pytest.fixture(scope="session")
def echo_bundle(tmp_path_factory) -> pathlib.Path:
    """A saved bundle of ``DockerEcho`` (a JSON API)."""
    root = tmp_path_factory.mktemp("echo")
    with service_module(ECHO_SERVICE, "docker_echo_service", root / "src") as module:
        return pathlib.Path(module.DockerEcho().save_to_dir(str(root / "bundle"), version="1.0_Test"))


@pytest.fixture(scope="session")
def echo_image(base_image, echo_bundle, bentoml_cli) -> str:
    """``bentoml containerize`` of the echo bundle, with a wheelhouse and no network in the build."""
    image = "localhost/bentoml-test/DockerEcho:session"
    done = bentoml_cli("containerize", str(echo_bundle), "-t", image, "--backend", "podman", "--wheelhouse",
                       "--build-option=--network=none")
    assert done.returncode == 0, done.stderr[-5000:]
    assert done.stdout.strip() == "localhost/bentoml-test/dockerecho:session"  # the name lower-cased
    yield done.stdout.strip()
    podman("rmi", "-f", done.stdout.strip(), check=False)
