"""Fixtures for the robustness tests: the spec's real IrisClassifier (scikit-learn iris SVC).

These tests need the plugins (tox env ``all``).  The service module is the
quickstart's, copied into a session directory that is put on ``sys.path`` (and
``PYTHONPATH`` for subprocesses).  The model is trained once per session.
"""
from __future__ import annotations

import importlib
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Dict, List

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart"
#: A module name no other test uses, so sys.modules never clashes.
MODULE = "robustness_iris_classifier"


@pytest.fixture(scope="session")
def iris_src(tmp_path_factory) -> pathlib.Path:
    src = tmp_path_factory.mktemp("iris_src")
    shutil.copy(QUICKSTART / "iris_classifier.py", src / f"{MODULE}.py")
    sys.path.insert(0, str(src))
    importlib.invalidate_caches()
    yield src
    sys.path.remove(str(src))
    sys.modules.pop(MODULE, None)


@pytest.fixture(scope="session")
def iris_module(iris_src):
    return importlib.import_module(MODULE)


@pytest.fixture(scope="session")
def iris_model():
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    return svm.SVC(gamma="scale").fit(iris.data, iris.target)


@pytest.fixture
def iris_service(iris_module, iris_model):
    return iris_module.IrisClassifier().pack("model", iris_model)


@pytest.fixture(scope="session")
def saved_bundle(iris_module, iris_model, tmp_path_factory) -> pathlib.Path:
    """One bundle written by save_to_dir for the session; copy it before changing it."""
    path = tmp_path_factory.mktemp("bundles") / "IrisClassifier"
    iris_module.IrisClassifier().pack("model", iris_model).save_to_dir(str(path))
    return path


@pytest.fixture
def bundle_copy(saved_bundle, tmp_path) -> pathlib.Path:
    target = tmp_path / "copied_bundle"
    shutil.copytree(saved_bundle, target, symlinks=True)
    return target


def _bentoml_command() -> List[str]:
    script = pathlib.Path(sys.executable).with_name("bentoml")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from bentoml.cli import main; main()"]


@pytest.fixture
def cli(iris_src):
    """``cli("list", "-o", "json")`` runs the real ``bentoml`` command in a subprocess."""

    def run(*args: str, env: Dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = os.pathsep.join([str(iris_src)] + [p for p in [os.environ.get("PYTHONPATH")] if p])
        full_env.update(env or {})
        return subprocess.run(_bentoml_command() + list(args), capture_output=True, text=True,
                              env=full_env, timeout=timeout)

    return run


def assert_clean_failure(out: subprocess.CompletedProcess, *needles: str) -> None:
    """Non-zero exit, nothing on stdout, a one-line-ish message on stderr with no traceback."""
    assert out.returncode != 0, (out.stdout, out.stderr)
    assert out.stdout == "", out.stdout
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip(), "no error message"
    for needle in needles:
        assert needle in out.stderr, (needle, out.stderr)


@pytest.fixture
def clean_failure():
    return assert_clean_failure
