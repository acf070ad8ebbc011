"""What a new user meets first: the save line, quiet runs, usage errors, a fast open-api-spec."""
from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap

import pytest


SETOSA = "[[5.1, 3.5, 1.4, 0.2]]"

#: A training script that configures no logging: the save line must still show.
SAVE_SCRIPT = textwrap.dedent('''\
    import sys
    {setup}
    from sklearn import datasets, svm
    from iris_classifier import IrisClassifier

    iris = datasets.load_iris()
    svc = IrisClassifier().pack("model", svm.SVC(gamma="scale").fit(iris.data, iris.target))
    print(svc.{call})
    print(svc.version)
    ''')


@pytest.fixture(scope="module")
def iris_src(iris_module):
    """The directory of the spec's IrisClassifier module (``iris_classifier.py``)."""
    return pathlib.Path(iris_module.__file__).parent


def _save(iris_src, home, call="save()", setup=""):
    path = os.pathsep.join(filter(None, [str(iris_src), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path, BENTOML_HOME=str(home))
    proc = subprocess.run([sys.executable, "-c", SAVE_SCRIPT.format(setup=setup, call=call)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    path, version = proc.stdout.split()
    return proc, path, version


def test_a_save_writes_one_line_on_stderr(iris_src, tmp_path):
    proc, path, version = _save(iris_src, tmp_path / "home")
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].endswith(f"INFO bentoml.service.bento_service: Saved IrisClassifier:{version} to {path}")
    target = tmp_path / "dir"
    proc, path, version = _save(iris_src, tmp_path / "home", call=f"save_to_dir({str(target)!r})")
    assert proc.stderr.strip().endswith(f"Saved IrisClassifier:{version} to {target}")


def test_an_application_with_its_own_logging_gets_the_line_once(iris_src, tmp_path):
    setup = "import logging; logging.basicConfig(level=logging.INFO, format='APP %(name)s %(message)s')"
    proc, path, version = _save(iris_src, tmp_path / "home", setup=setup)
    saved = [line for line in proc.stderr.splitlines() if "Saved IrisClassifier" in line]
    assert saved == [f"APP bentoml.service.bento_service Saved IrisClassifier:{version} to {path}"]


def test_the_save_line_can_be_turned_off(iris_src, tmp_path):
    setup = "import logging; logging.getLogger('bentoml').setLevel(logging.WARNING)"
    proc, _, _ = _save(iris_src, tmp_path / "home", setup=setup)
    assert proc.stderr == ""


@pytest.mark.parametrize("command", ["serve", "serve-gunicorn"])
def test_a_port_out_of_range_is_a_usage_error(saved_path, cli, command):
    proc = cli(command, saved_path, "--port", "99999", ok=False)
    assert proc.returncode == 2, proc.stderr
    assert "Invalid value for '--port': 99999 is not in the range 0<=x<=65535" in proc.stderr
    assert "Traceback" not in proc.stderr and "OverflowError" not in proc.stderr


def test_get_print_location_prints_the_local_directory(saved_path, cli):
    name = pathlib.Path(saved_path).parent.name
    version = pathlib.Path(saved_path).name
    latest, exact = (cli("get", tag, "--print-location", "-q").stdout.strip()
                     for tag in (f"{name}:{version}", f"{name}:latest"))
    assert exact == saved_path
    assert os.path.isfile(os.path.join(latest, "bentoml.yml"))
    assert cli("get", name, "--print-location", "-o", "json", ok=False).returncode == 2


@pytest.fixture
def broken_weights(saved_path, tmp_path):
    """A copy of the saved IrisClassifier whose model file is garbage."""
    copy = tmp_path / "IrisClassifier"
    shutil.copytree(saved_path, copy, symlinks=True)
    models = [p for p in (copy / "IrisClassifier" / "artifacts").rglob("*") if p.is_file()]
    assert models
    for model in models:
        model.write_bytes(b"not a model")
    return copy


def test_open_api_spec_does_not_load_the_weights(broken_weights, cli_many):
    spec, run = cli_many([("open-api-spec", str(broken_weights)),
                          ("run", str(broken_weights), "predict", f"--input={SETOSA}")], ok=None)
    assert spec.returncode == 0, spec.stderr
    assert "/predict" in json.loads(spec.stdout)["paths"]
    assert run.returncode == 1  # the weights really are unreadable


#: A service whose model warns when it is unpickled, the way frameworks warn about versions.
WARNING_SERVICE = textwrap.dedent('''\
    import warnings

    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.artifact import PickleArtifact


    class OldModel:
        def __init__(self):
            self.weights = [1.0]

        def __setstate__(self, state):
            warnings.warn("this model was saved by framework 0.1; results may differ", UserWarning)
            self.__dict__.update(state)


    @bentoml.artifacts([PickleArtifact("model")])
    class Warns(bentoml.BentoService):

        @bentoml.api(input=JsonInput())
        def predict(self, items):
            return [len(items)] * len(items)
    ''')


def test_quiet_hides_framework_warnings(tmp_path, write_service, cli_many):
    module = write_service(WARNING_SERVICE, "warning_service")
    bundle = module.Warns().pack("model", module.OldModel()).save_to_dir(str(tmp_path / "Warns"))
    loud, quiet = cli_many([("run", bundle, "predict", "--input=[1]"),
                            ("run", bundle, "predict", "--input=[1]", "-q")])
    assert "this model was saved by framework 0.1" in loud.stderr
    assert quiet.stdout == loud.stdout == "1\n"
    assert quiet.stderr == ""
