"""A bundle's container files: constraints.txt pins every distribution it needs at the version
installed where it was saved, and the Dockerfile and entrypoint use them as the image needs."""
from __future__ import annotations

import os
import subprocess

import importlib_metadata
import pytest

from bentoml.bundle.pins import installed_closure
from bentoml.testing.services import PLAIN_SERVICES, service_module


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("pins")
    with service_module(PLAIN_SERVICES, "pins_service", root / "src") as module:
        return module.ContractAlpha().save_to_dir(str(root / "bundle"), version="1")


def _pins(bundle) -> dict:
    with open(os.path.join(bundle, "constraints.txt")) as f:
        return dict(line.strip().split("==") for line in f if "==" in line and not line.startswith("#"))


def test_constraints_pin_the_kernel_and_its_dependencies_transitively(bundle):
    pins = _pins(bundle)
    for name in ("bentoml", "flask", "waitress", "click", "werkzeug", "markupsafe", "pluggy"):
        assert pins.get(name) == importlib_metadata.version(name), (name, pins)


def test_the_dockerfile_installs_with_the_constraints_and_runs_as_a_user(bundle):
    dockerfile = open(os.path.join(bundle, "Dockerfile")).read()
    assert "pip install --no-cache-dir -r requirements.txt -c constraints.txt" in dockerfile
    assert "\nUSER bentoml\n" in dockerfile and "HEALTHCHECK" in dockerfile and "/livez" in dockerfile
    assert 'org.opencontainers.image.title="ContractAlpha"' in dockerfile
    assert "BENTOML_WORKERS=auto" in dockerfile
    assert os.path.exists(os.path.join(bundle, ".dockerignore"))
    # pip install BUNDLE keeps using setup.py's requirements, not the pins
    assert "constraints" not in open(os.path.join(bundle, "setup.py")).read()


def test_a_version_a_requirement_excludes_is_not_pinned():
    flask = importlib_metadata.version("flask")
    assert installed_closure([f"flask=={flask}"])["flask"] == flask
    assert "werkzeug" in installed_closure(["flask"])
    assert installed_closure(["flask<0.1"]) == {}
    assert installed_closure(["no-such-distribution-here", "./wheels/x.whl", "--find-links x"]) == {}


def test_entrypoint_passes_options_to_the_server_and_runs_commands(bundle, tmp_path):
    script = os.path.join(bundle, "docker-entrypoint.sh")
    # a stand-in `bentoml` on PATH shows what the entrypoint runs
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bentoml").write_text('#!/bin/sh\necho "bentoml $*"\n')
    os.chmod(fake / "bentoml", 0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin"}
    served = subprocess.run([script, "--workers", "2"], capture_output=True, text=True, env=env, timeout=30)
    assert served.stdout.strip() == f"bentoml serve-gunicorn {bundle} --host 0.0.0.0 --port 5000 --workers 2"
    command = subprocess.run([script, "echo", "hi"], capture_output=True, text=True, env=env, timeout=30)
    assert command.stdout.strip() == "hi"
