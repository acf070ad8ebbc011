"""Shared fixtures of the end-to-end tests: real iris models, real bundles, the real CLI.

Every test runs with ``$BENTOML_HOME`` pointing at the ``repo_home`` fixture: one
temporary repository for the whole session by default, which a test module may
override with its own (``test_model_management.py`` does, since it deletes
bundles).  The spec's IrisClassifier is trained, packed and saved once per
session by running the spec's own snippet (``spec_saved``).

The CLI is always run as ``[sys.executable, "-m", "bentoml", ...]`` so the tox
environment's interpreter is the one under test.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import pytest

import bentoml.repository
from bentoml.testing.services import IRIS_CLASSIFIER_SOURCE, import_from_dir


#: The spec's training/pack/predict/save snippet ("Core Concepts", second code block), verbatim.
CREATING_SNIPPET = textwrap.dedent('''\
    from sklearn import svm
    from sklearn import datasets

    clf = svm.SVC(gamma='scale')
    iris = datasets.load_iris()
    X, y = iris.data, iris.target
    clf.fit(X, y)

    # Create a iris classifier service with the newly trained model
    iris_classifier_service = IrisClassifier()
    iris_classifier_service.pack("model", clf)

    # Test invoking BentoService instance
    iris_classifier_service.predict([[5.1, 3.5, 1.4, 0.2]])

    # Save the entire prediction service to file bundle
    saved_path = iris_classifier_service.save()
    ''')

IRIS_MODULE = "iris_classifier"
SETOSA_ROW = [5.1, 3.5, 1.4, 0.2]


# -- environment ------------------------------------------------------------------
_ISOLATED_VARS = ("BENTOML_DB_URL", "BENTOML_REPOSITORY_URL", "BENTOML_LOAD_PLUGINS",
                  "BENTOML_DISABLE_PLUGINS")


@contextlib.contextmanager
def use_home(home: pathlib.Path) -> Iterator[pathlib.Path]:
    """Point ``$BENTOML_HOME`` (and the cached repository) at ``home`` for a block."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENTOML_HOME", str(home))
        for var in _ISOLATED_VARS:
            mp.delenv(var, raising=False)
        bentoml.repository.reset_repository()
        try:
            yield home
        finally:
            bentoml.repository.reset_repository()


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("e2e_bentoml_home")


@pytest.fixture(scope="session")
def repo_home(session_home: pathlib.Path) -> pathlib.Path:
    """The ``$BENTOML_HOME`` every test runs with; a module may override this fixture."""
    return session_home


@pytest.fixture(autouse=True)
def _e2e_home(repo_home: pathlib.Path) -> Iterator[pathlib.Path]:
    with use_home(repo_home):
        yield repo_home


# -- the spec's IrisClassifier, trained and saved once ------------------------------------
@pytest.fixture(scope="session")
def iris():
    from sklearn import datasets

    return datasets.load_iris()


@pytest.fixture(scope="session")
def iris_module(tmp_path_factory: pytest.TempPathFactory):
    directory = tmp_path_factory.mktemp("iris_service_src")
    (directory / f"{IRIS_MODULE}.py").write_text(IRIS_CLASSIFIER_SOURCE)
    module = import_from_dir(directory, IRIS_MODULE)
    yield module
    if sys.modules.get(IRIS_MODULE) is module:
        del sys.modules[IRIS_MODULE]


@pytest.fixture(scope="session")
def IrisClassifier(iris_module):
    return iris_module.IrisClassifier


@pytest.fixture(scope="session")
def spec_saved(IrisClassifier, session_home: pathlib.Path) -> Dict[str, object]:
    """The namespace after running the spec's training/pack/predict/save snippet as written."""
    namespace: Dict[str, object] = {"IrisClassifier": IrisClassifier}
    with use_home(session_home):
        exec(compile(CREATING_SNIPPET, "<spec: Creating BentoService>", "exec"), namespace)
    return namespace


@pytest.fixture(scope="session")
def saved_path(spec_saved) -> str:
    """The session's saved IrisClassifier bundle (in ``session_home``)."""
    return spec_saved["saved_path"]


@pytest.fixture(scope="session")
def iris_clf(spec_saved):
    """The SVC the spec's snippet trained on all of iris."""
    return spec_saved["clf"]


# -- the CLI, as a user runs it ---------------------------------------------------------
def run_cli(*args: str, cwd=None, env: Optional[Dict[str, str]] = None, ok: Optional[bool] = True,
            timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m bentoml ARGS``; ``ok=True`` asserts exit 0, ``False`` non-zero, None neither."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "bentoml", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    shown = f"bentoml {' '.join(args)}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    if ok is True:
        assert proc.returncode == 0, shown
    elif ok is False:
        assert proc.returncode != 0, shown
    return proc


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess]:
    """``cli(*args, cwd=None, env=None, ok=True)``: run ``python -m bentoml ARGS``."""
    return run_cli


@pytest.fixture(scope="session")
def cli_many() -> Callable[..., List[subprocess.CompletedProcess]]:
    """``cli_many([args, ...], **kw)``: several independent CLI calls at once (they are slow)."""

    def run_all(calls: Sequence[Sequence[str]], **kwargs) -> List[subprocess.CompletedProcess]:
        with ThreadPoolExecutor(max_workers=max(1, min(len(calls), os.cpu_count() or 1))) as pool:
            return list(pool.map(lambda args: run_cli(*args, **kwargs), calls))

    return run_all


@pytest.fixture(scope="session")
def home_context() -> Callable[[pathlib.Path], contextlib.AbstractContextManager]:
    """``with home_context(path):`` runs a block with ``$BENTOML_HOME=path`` (module fixtures)."""
    return use_home


@pytest.fixture(scope="session")
def import_dir() -> Callable:
    """``import_dir(directory, module_name)``: a fresh import of a module written to directory."""
    return import_from_dir
