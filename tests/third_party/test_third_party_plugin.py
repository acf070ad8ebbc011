"""A third party's plugin, the repository's example ``examples/bentoml-example-artifact``,
built as its own distribution and installed into a temporary target (never into the
shared test environment), is found through its entry point: listed by ``bentoml
plugins``, passes its own tests (built on ``bentoml.testing``), is packed, saved,
carried as a wheel inside the bundle and loaded back in fresh processes; the example deployer adds a target and a command.
Plugins that raise on import, whose framework is missing or whose hook name is
misspelled are reported and skipped."""
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"
EXAMPLE = EXAMPLES / "bentoml-example-artifact"
EXAMPLE_DEPLOYER = EXAMPLES / "bentoml-example-deployer"

SERVICE_MODULE = '''\
import numpy

import bentoml
from bentoml.adapters import JsonInput
from bentoml.artifact import NumpyArrayArtifact


@bentoml.artifacts([NumpyArrayArtifact("weights")])
class LinearScorer(bentoml.BentoService):
    @bentoml.api(input=JsonInput())
    def score(self, rows):
        return numpy.asarray(rows, dtype=float) @ self.artifacts.weights
'''

BROKEN_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.0.1"

[project.optional-dependencies]
cpu = ["ghost-framework-5e1d>=1"]

[project.entry-points.bentoml]
{ep} = "{module}"

[tool.setuptools]
packages = ["{module}"]
"""

RAISES_ON_IMPORT = 'raise RuntimeError("this plugin is broken on purpose")\n'

MISSPELLED_HOOK = '''\
from bentoml.artifact import BentoServiceArtifact
from bentoml.hookspecs import hookimpl


class TypoArtifact(BentoServiceArtifact):
    def _save(self, obj, path):
        pass

    def _load(self, path):
        pass


@hookimpl
def register_artifact(register):
    register(TypoArtifact)
'''

FRAMEWORK_MISSING = '''\
from bentoml.artifact import BentoServiceArtifact
from bentoml.hookspecs import hookimpl


class GhostModelArtifact(BentoServiceArtifact):
    requirement_imports = ("ghost_framework_5e1d",)

    def _save(self, obj, path):
        pass

    def _load(self, path):
        pass


@hookimpl
def register_artifacts(register):
    register(GhostModelArtifact)
'''


def _install(src, target):
    subprocess.run([sys.executable, "-m", "uv", "pip", "install", "--quiet", "--no-deps",
                    "--python", sys.executable, "--target", str(target), str(src)], check=True)


@pytest.fixture(scope="module")
def plugin_target(tmp_path_factory):
    target = tmp_path_factory.mktemp("plugin-target")
    _install(EXAMPLE, target)
    _install(EXAMPLE_DEPLOYER, target)
    return target


def _env(target, home):
    return dict(os.environ, PYTHONPATH=str(target), BENTOML_HOME=str(home))


def _run(args, env, cwd):
    return subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def test_example_plugin_is_listed_with_its_distribution(plugin_target, tmp_path):
    listed = _run([sys.executable, "-m", "bentoml", "plugins", "-o", "json"],
                  _env(plugin_target, tmp_path / "home"), tmp_path)
    assert listed.returncode == 0, listed.stderr
    plugins = {p["distribution"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert plugins["bentoml-example-artifact"]["version"] == "0.1.0"
    assert plugins["bentoml-example-artifact"]["registers"] == {"artifacts": ["NumpyArrayArtifact"]}


@pytest.mark.parametrize("example", [EXAMPLE, EXAMPLE_DEPLOYER], ids=lambda p: p.name)
def test_example_plugin_passes_its_own_tests(plugin_target, tmp_path, example):
    """The tests shipped with each example, run against the installed distributions."""
    ran = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                str(example / "tests")], _env(plugin_target, tmp_path / "home"), tmp_path)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout and "failed" not in ran.stdout


def test_example_deployer_adds_its_target_and_command(plugin_target, tmp_path):
    env = _env(plugin_target, tmp_path / "home")
    listed = _run([sys.executable, "-m", "bentoml", "plugins", "-o", "json"], env, tmp_path)
    plugins = {p["distribution"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert plugins["bentoml-example-deployer"]["registers"] == {"deployers": ["tarball"], "commands": ["tarball"]}
    _save_scorer(env, tmp_path)
    packed = _run([sys.executable, "-m", "bentoml", "tarball", "LinearScorer:latest", "-o", str(tmp_path / "out")],
                  env, tmp_path)
    assert packed.returncode == 0, packed.stderr
    archive = packed.stdout.strip()
    assert archive.startswith(str(tmp_path / "out" / "LinearScorer-")) and archive.endswith(".tar.gz")
    assert os.path.getsize(archive) > 0


def _save_scorer(env, cwd):
    (cwd / "scorer.py").write_text(SERVICE_MODULE)
    save = textwrap.dedent("""
        from scorer import LinearScorer
        svc = LinearScorer().pack("weights", [[1.0], [10.0], [100.0]])
        assert svc.score([[1, 2, 3]]).tolist() == [[321.0]]
        print(svc.save())
    """)
    saved = _run([sys.executable, "-c", save], env, cwd)
    assert saved.returncode == 0, saved.stderr
    return saved.stdout.strip().splitlines()[-1]


def test_example_artifact_round_trip_through_a_bundle(plugin_target, tmp_path):
    env = _env(plugin_target, tmp_path / "home")
    bundle = _save_scorer(env, tmp_path)
    assert "bentoml_example_artifact-0.1.0-py3-none-any.whl" in os.listdir(os.path.join(bundle, "wheels"))
    with open(os.path.join(bundle, "requirements.txt")) as f:
        lines = f.read().splitlines()
    assert "bentoml-example-artifact==0.1.0" in lines
    assert any(line.startswith("numpy==") for line in lines)  # from requirement_imports
    with open(os.path.join(bundle, "bentoml.yml")) as f:
        assert "bentoml-example-artifact" in f.read()

    ran = _run([sys.executable, "-m", "bentoml", "run", "LinearScorer:latest", "score",
                "--input", "[2, 0, 1]"], env, tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [102.0]


def test_bundle_names_the_missing_plugin(plugin_target, tmp_path):
    env = _env(plugin_target, tmp_path / "home")
    bundle = _save_scorer(env, tmp_path)
    env.pop("PYTHONPATH")  # the plugin is no longer importable
    ran = _run([sys.executable, "-m", "bentoml", "run", bundle, "score", "--input", "[1, 1, 1]"],
               env, tmp_path)
    assert ran.returncode != 0
    assert ran.stdout == ""
    assert "bentoml-example-artifact" in ran.stderr and "Traceback" not in ran.stderr


@pytest.fixture(scope="module")
def broken_target(tmp_path_factory):
    """Three broken plugins next to the working example, in one target directory."""
    target = tmp_path_factory.mktemp("broken-target")
    _install(EXAMPLE, target)
    for dist, ep, module, code in [("bentoml-raises-on-import", "raises", "bentoml_raises", RAISES_ON_IMPORT),
                                   ("bentoml-ghost", "ghost", "bentoml_ghost", FRAMEWORK_MISSING),
                                   ("bentoml-typo", "typo", "bentoml_typo", MISSPELLED_HOOK)]:
        src = tmp_path_factory.mktemp(dist)
        (src / "pyproject.toml").write_text(BROKEN_PYPROJECT.format(dist=dist, ep=ep, module=module))
        (src / module).mkdir()
        (src / module / "__init__.py").write_text(code)
        _install(src, target)
    return target


def test_broken_plugins_are_reported_and_skipped(broken_target, tmp_path):
    env = _env(broken_target, tmp_path / "home")
    listed = _run([sys.executable, "-m", "bentoml", "plugins", "-o", "json"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    report = json.loads(listed.stdout)
    failed = {f["distribution"]: f["error"] for f in report["failed"]}
    assert "this plugin is broken on purpose" in failed["bentoml-raises-on-import"]
    assert "'ghost_framework_5e1d'" in failed["bentoml-ghost"]
    # the hint: what its extra adds from the index (the plugin itself is installed)
    assert "pip install 'ghost-framework-5e1d>=1' ([cpu] of bentoml-ghost)" in failed["bentoml-ghost"]
    assert "register_artifact matches no hook of bentoml; did you mean register_artifacts?" in failed["bentoml-typo"]
    working = {p["distribution"] for p in report["plugins"]}
    assert "bentoml-example-artifact" in working and not working & {"bentoml-ghost", "bentoml-typo"}

    table = _run([sys.executable, "-m", "bentoml", "plugins"], env, tmp_path)
    assert table.returncode == 0 and "FAILED" in table.stdout and "bentoml-ghost" in table.stdout

    # The working plugin still serves; the skipped one names itself when used.
    bundle = _save_scorer(env, tmp_path)
    assert os.path.isdir(bundle)
    used = _run([sys.executable, "-c", "from bentoml.artifact import GhostModelArtifact"], env, tmp_path)
    assert used.returncode != 0
    assert "bentoml-ghost" in used.stderr and "ghost_framework_5e1d" in used.stderr
