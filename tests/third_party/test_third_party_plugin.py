"""A third party's artifact plugin, built as its own distribution and installed
into a temporary target (never into the shared test environment), is found through
its entry point: packed, saved, listed by `bentoml plugins`, carried as a wheel
inside the bundle, and loaded back in a fresh process."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

PLUGIN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "bentoml-textfile"
version = "0.3.1"
dependencies = []

[project.entry-points.bentoml]
textfile = "bentoml_textfile"
"""

PLUGIN_MODULE = '''\
"""A custom artifact that keeps a str in a text file."""
import os

from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import InvalidArgument
from bentoml.hookspecs import hookimpl


class TextFileArtifact(BentoServiceArtifact):
    def _pack(self, obj):
        if not isinstance(obj, str):
            raise InvalidArgument("TextFileArtifact packs a str")
        return obj

    def _save(self, obj, path):
        with open(os.path.join(path, "text.txt"), "w") as f:
            f.write(obj)

    def _load(self, path):
        with open(os.path.join(path, "text.txt")) as f:
            return f.read()


@hookimpl
def register_artifacts(register):
    register(TextFileArtifact)
'''

SERVICE_MODULE = '''\
import bentoml
from bentoml.adapters import JsonInput
from bentoml.artifact import TextFileArtifact


@bentoml.artifacts([TextFileArtifact("greeting")])
class Greeter(bentoml.BentoService):
    @bentoml.api(input=JsonInput())
    def greet(self, names):
        return [self.artifacts.greeting + " " + n for n in names]
'''


@pytest.fixture(scope="module")
def plugin_target(tmp_path_factory):
    src = tmp_path_factory.mktemp("plugin-src")
    (src / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (src / "bentoml_textfile").mkdir()
    (src / "bentoml_textfile" / "__init__.py").write_text(PLUGIN_MODULE)
    target = tmp_path_factory.mktemp("plugin-target")
    subprocess.run([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--no-deps",
                    "--python", sys.executable, "--target", str(target), str(src)], check=True)
    return target


def _run(args, env, cwd):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_third_party_artifact_round_trip(plugin_target, tmp_path):
    (tmp_path / "greeter.py").write_text(SERVICE_MODULE)
    env = dict(os.environ, PYTHONPATH=str(plugin_target), BENTOML_HOME=str(tmp_path / "home"))

    listed = _run([sys.executable, "-m", "bentoml", "plugins", "-o", "json"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["distribution"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert plugins["bentoml-textfile"]["version"] == "0.3.1"
    assert plugins["bentoml-textfile"]["registers"] == {"artifacts": ["TextFileArtifact"]}

    save = textwrap.dedent("""
        from greeter import Greeter
        svc = Greeter().pack("greeting", "hello")
        assert svc.greet(["ann"]) == ["hello ann"]
        print(svc.save())
    """)
    saved = _run([sys.executable, "-c", save], env, tmp_path)
    assert saved.returncode == 0, saved.stderr
    bundle = saved.stdout.strip().splitlines()[-1]
    assert "bentoml_textfile-0.3.1-py3-none-any.whl" in os.listdir(os.path.join(bundle, "wheels"))
    with open(os.path.join(bundle, "requirements.txt")) as f:
        assert "bentoml-textfile==0.3.1" in f.read().splitlines()

    ran = _run([sys.executable, "-m", "bentoml", "run", "Greeter:latest", "greet", "--input", '"bob"'],
               env, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == '"hello bob"'


def test_bundle_names_the_missing_plugin(plugin_target, tmp_path):
    (tmp_path / "greeter.py").write_text(SERVICE_MODULE)
    env = dict(os.environ, PYTHONPATH=str(plugin_target), BENTOML_HOME=str(tmp_path / "home"))
    saved = _run([sys.executable, "-c",
                  "from greeter import Greeter; print(Greeter().pack('greeting', 'hi').save())"],
                 env, tmp_path)
    assert saved.returncode == 0, saved.stderr
    bundle = saved.stdout.strip().splitlines()[-1]

    env.pop("PYTHONPATH")  # the plugin is no longer importable
    ran = _run([sys.executable, "-m", "bentoml", "run", bundle, "greet", "--input", '"x"'], env, tmp_path)
    assert ran.returncode != 0
    assert ran.stdout == ""
    assert "bentoml-textfile" in ran.stderr and "Traceback" not in ran.stderr
