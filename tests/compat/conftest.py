"""Fixtures of the BentoML 0.x compatibility tests: services written as 0.8-0.13 users wrote them.

The services are source text, written into a scratch directory and imported
from there as a user's module is (``write_service``, from bentoml.testing's
pytest plugin); the models are real scikit-learn iris
models; bundles go to a scratch ``$BENTOML_HOME`` per test (``bentoml_home``);
the CLI runs as ``python -m bentoml`` in a subprocess, servers with
:class:`bentoml.testing.server.Server` on 127.0.0.1.  These tests need the
plugins (tox env ``all``).
"""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Callable, Dict, Iterator, Optional

import pytest


@pytest.fixture(scope="session")
def iris_model():
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    return svm.SVC(gamma="scale").fit(iris.data, iris.target)


@pytest.fixture(autouse=True)
def _home(bentoml_home: pathlib.Path) -> Iterator[pathlib.Path]:
    """Every test saves into a repository of its own."""
    yield bentoml_home


def run(*args: str, env: Optional[Dict[str, str]] = None, ok: Optional[bool] = True,
        timeout: float = 180) -> subprocess.CompletedProcess:
    """Run ``python ARGS`` (``-m bentoml ...`` or ``-c CODE``); ``ok`` asserts the exit status."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, *args], env=full_env, capture_output=True, text=True,
                          timeout=timeout)
    shown = f"python {' '.join(args)}\n--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    if ok is True:
        assert proc.returncode == 0, shown
    elif ok is False:
        assert proc.returncode != 0, shown
    return proc


@pytest.fixture
def python() -> Callable[..., subprocess.CompletedProcess]:
    """``python("-m", "bentoml", "list")`` or ``python("-c", code)``: a fresh interpreter."""
    return run


@pytest.fixture
def fresh_legacy_modules() -> Iterator[None]:
    """Forget the BentoML 0.x modules served so far, before and after the test (a test that
    swaps the registry must not see modules served from another one)."""

    def forget() -> None:
        for name in [n for n, m in sys.modules.items()
                     if getattr(getattr(m, "__spec__", None), "origin", "") and
                     "bentoml.legacy_modules" in (m.__spec__.origin or "")]:
            del sys.modules[name]

    forget()
    yield
    forget()
