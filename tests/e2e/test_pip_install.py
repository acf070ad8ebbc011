"""The spec's "Install BentoService as a PyPI package": ``pip install $saved_path`` into a
fresh virtual environment (no system site packages), then the package and its command.

uv (next to this interpreter, or on PATH) creates the venv and installs, for speed;
without uv, ``python -m venv`` and pip do the same.  Third-party requirements come
from the configured package index (or uv's cache); our kernel and plugins must come
from the wheels inside the bundle, never from the index.
"""
from __future__ import annotations

import hashlib
import json
import pathlib
import shutil

import pytest

from bentoml.testing.venvs import run_checked as _run
from bentoml.testing.venvs import uv_command as _uv
from bentoml.testing.venvs import venv_with

pytestmark = pytest.mark.slow

SETOSA_INPUT = "--input=[[5.1, 3.5, 1.4, 0.2]]"  # IrisClassifier run predict --input='[[5.1, 3.5, 1.4, 0.2]]'


def _snapshot(root: str):
    base = pathlib.Path(root)
    return {str(p.relative_to(base)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(base.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def installed(saved_path, tmp_path_factory):
    """A fresh venv with ``pip install $saved_path`` done; returns (venv, before, after snapshots)."""
    venv = tmp_path_factory.mktemp("installed") / "venv"
    before = _snapshot(saved_path)
    venv_with(saved_path, venv, quiet=False)
    yield venv, before, _snapshot(saved_path)
    shutil.rmtree(venv, ignore_errors=True)  # a whole environment: don't leave it in pytest's basetemp


def _pip_list(venv: pathlib.Path):
    uv = _uv()
    if uv:
        out = _run([uv, "pip", "list", "--python", venv / "bin" / "python", "--format", "json"]).stdout
    else:
        out = _run([venv / "bin" / "python", "-m", "pip", "list", "--format", "json"]).stdout
    return {p["name"].lower(): p["version"] for p in json.loads(out)}


def test_venv_is_isolated_and_has_our_bentoml(installed, saved_path):
    venv, _before, _after = installed
    cfg = (venv / "pyvenv.cfg").read_text().lower()
    assert "include-system-site-packages = false" in cfg
    packages = _pip_list(venv)
    assert packages["bentoml"] == "2.0.0.dev0"
    assert packages["bentoml-sklearn"] == "2.0.0.dev0"
    assert packages["bentoml-adapter-dataframe"] == "2.0.0.dev0"
    assert packages["irisclassifier"]  # the bundle itself, named after the service
    # The kernel is the bundle's wheel, installed into the venv (not our source tree, not the index).
    probe = ("import json, bentoml, importlib.metadata as m; "
             "print(json.dumps([bentoml.__file__, bentoml.__version__, "
             "m.distribution('bentoml').read_text('direct_url.json')]))")
    path, version, direct_url = json.loads(_run([venv / "bin" / "python", "-c", probe]).stdout)
    assert pathlib.Path(path).is_relative_to(venv)
    assert version == "2.0.0.dev0"
    assert direct_url and json.loads(direct_url)["url"].startswith(pathlib.Path(saved_path, "wheels").as_uri())


def test_import_package_and_predict(installed, tmp_path):
    venv, _before, _after = installed
    code = "import IrisClassifier; svc = IrisClassifier.load(); print(svc.predict([[5.1,3.5,1.4,0.2]]))"
    # From a directory unrelated to the bundle: the installed package carries everything.
    assert _run([venv / "bin" / "python", "-c", code], cwd=tmp_path).stdout == "[0]\n"


def test_console_command(installed, tmp_path, iris):
    venv, _before, _after = installed
    command = venv / "bin" / "IrisClassifier"
    assert _run([command, "run", "predict", SETOSA_INPUT], cwd=tmp_path).stdout == "[0]\n"
    # IrisClassifier run predict --input='./iris_test_data.csv'
    rows = iris.data[[0, 50, 100]].tolist()
    (tmp_path / "iris_test_data.csv").write_text(
        "sepal_length,sepal_width,petal_length,petal_width\n"
        + "".join(",".join(map(str, r)) + "\n" for r in rows))
    out = _run([command, "run", "predict", "--input=./iris_test_data.csv"], cwd=tmp_path).stdout
    assert json.loads(out) == [0, 1, 2]


def test_install_leaves_the_saved_bundle_unchanged(installed):
    _venv, before, after = installed
    assert after == before
