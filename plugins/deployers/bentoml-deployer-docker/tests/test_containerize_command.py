"""``bentoml containerize`` as a user runs it: the errors that come before any build, and the image names."""
from __future__ import annotations

import os
import sys

import pytest

from bentoml.testing import CommandsContract
from bentoml.testing.services import service_module
from bentoml_deployer_docker.checks import base_image_python, image_name, normalize_image

#: A PATH with Python and nothing else: no docker, podman or buildah.
NO_ENGINE = {"PATH": os.path.dirname(sys.executable)}


class TestContainerizeCommand(CommandsContract):
    distribution = "bentoml-deployer-docker"
    commands = ["containerize"]


def _bundle(tmp_path, env: str, name: str = "Needy"):
    source = f"import bentoml\n\n\n@bentoml.env({env})\nclass {name}(bentoml.BentoService):\n    pass\n"
    with service_module(source, f"containerize_{name.lower()}", tmp_path / "src") as module:
        return getattr(module, name)().save_to_dir(str(tmp_path / "bundle"), version="2")


def test_no_engine_is_an_error_naming_the_options(echo_bundle, bentoml_cli):
    done = bentoml_cli("containerize", str(echo_bundle), env=NO_ENGINE)
    assert done.returncode == 1, done.stderr
    assert "no container engine found: install docker, podman or buildah" in done.stderr
    assert "docker build BUNDLE_PATH" in done.stderr and "Traceback" not in done.stderr


def test_a_docker_client_without_a_daemon_is_skipped(echo_bundle, bentoml_cli, tmp_path):
    # a docker CLI alone cannot build: picking an engine by itself passes over it
    (tmp_path / "docker").write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    (tmp_path / "docker").chmod(0o755)
    done = bentoml_cli("containerize", str(echo_bundle), env={"PATH": f"{tmp_path}:{NO_ENGINE['PATH']}"})
    assert done.returncode == 1
    assert "no container engine found" in done.stderr
    assert f"skipped {tmp_path}/docker (its daemon does not answer)" in done.stderr, done.stderr


def test_a_backend_that_is_missing_is_named(echo_bundle, bentoml_cli):
    done = bentoml_cli("containerize", str(echo_bundle), "--backend", "buildah", env=NO_ENGINE)
    assert done.returncode == 1
    assert "buildah is not installed" in done.stderr and "docker, podman" in done.stderr


@pytest.mark.parametrize("args", [["-t", "bad name"], ["-t", "UPPER:bad tag"], ["--backend", "lxc"]])
def test_bad_options_are_usage_errors(echo_bundle, bentoml_cli, args):
    done = bentoml_cli("containerize", str(echo_bundle), *args, env=NO_ENGINE)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and ("-t" in done.stderr or "--backend" in done.stderr)


def test_conda_packages_are_refused_unless_ignored(tmp_path, bentoml_cli):
    bundle = _bundle(tmp_path, "conda_dependencies=['cudatoolkit=11.8', 'libgdal']")
    done = bentoml_cli("containerize", bundle, env=NO_ENGINE)
    assert done.returncode == 1
    assert "Needy:2 declares conda packages (cudatoolkit=11.8, libgdal)" in done.stderr
    assert "pip_packages" in done.stderr and "docker_base_image" in done.stderr and "--ignore-conda" in done.stderr
    # --ignore-conda goes on, to the next thing missing here: the engine
    done = bentoml_cli("containerize", bundle, "--ignore-conda", env=NO_ENGINE)
    assert done.returncode == 1 and "no container engine found" in done.stderr, done.stderr


def test_a_base_image_of_another_python_is_warned_about(tmp_path, bentoml_cli):
    bundle = _bundle(tmp_path, "docker_base_image='python:3.8-slim'", name="OldPython")
    done = bentoml_cli("containerize", bundle, env=NO_ENGINE)
    saved = "%d.%d" % sys.version_info[:2]
    assert f"OldPython:2 was saved with Python {saved}, but the base image python:3.8-slim has Python 3.8" \
        in done.stderr
    # --base-image replaces it, and is checked the same way
    done = bentoml_cli("containerize", bundle, "--base-image", f"python:{saved}-slim", env=NO_ENGINE)
    assert "was saved with Python" not in done.stderr


def test_image_names_are_lower_cased():
    class Named:  # the default name reads only these of the bundle's config
        name, version = "IrisClassifier", "20200121114004_360ECB"

    assert image_name(Named, None) == "irisclassifier:20200121114004_360ecb"
    assert image_name(Named, "Team/Iris") == "team/iris"
    assert normalize_image("Team/Iris:V1") == "team/iris:V1"  # a tag may have capitals
    assert normalize_image("Registry.Example.com:5000/Iris:1") == "Registry.Example.com:5000/iris:1"
    assert normalize_image("localhost:5000/iris") == "localhost:5000/iris"
    with pytest.raises(ValueError, match="invalid image name"):
        normalize_image("iris:two words")


@pytest.mark.parametrize("image, python", [("python:3.10-slim", "3.10"), ("docker.io/library/python:3.11", "3.11"),
                                           ("bentoml/model-server:0.8.12-slim-py37", "3.7"),
                                           ("continuumio/miniconda3:latest", None), ("ubuntu:22.04", None)])
def test_the_python_of_a_base_image_is_read_from_its_tag(image, python):
    assert base_image_python(image) == python
