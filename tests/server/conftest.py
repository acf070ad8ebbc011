"""Fixtures of the API server tests: one test service, saved once, served over real HTTP.

The service (``SERVICE_SOURCE``) has a real scikit-learn iris model and APIs that
misbehave on purpose.  Servers are real subprocesses (``python -m bentoml serve
...``) on 127.0.0.1 with ``--port 0``; the port is read from the server's
``Serving NAME:VERSION on http://HOST:PORT`` line on stderr.  Servers that many
tests share are module or session scoped; every server is terminated when its
fixture ends.
"""
from __future__ import annotations

import gzip
import pathlib
import textwrap

import pytest

from bentoml.testing.server import Server, metric_sum, save_service_source

MODULE = "server_test_service"
DOC_MARKER = "Iris species for the API server tests (docstring marker 7f3a9c)."

SERVICE_SOURCE = textwrap.dedent('''\
    """A service for the API server tests."""
    import os
    import threading
    import time

    import bentoml
    from bentoml.adapters import DataframeInput, JsonInput
    from bentoml.artifact import SklearnModelArtifact

    IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    _guard = threading.Lock()
    _active = 0
    _max_active = 0


    @bentoml.env(pip_dependencies=["scikit-learn", "pandas"])
    @bentoml.artifacts([SklearnModelArtifact("model")])
    class ServerTestService(bentoml.BentoService):
        """DOC_MARKER"""

        @bentoml.api(input=DataframeInput(columns=IRIS_COLUMNS, input_dtypes="float64"))
        def predict(self, df):
            """Iris species from sepal and petal measurements."""
            return self.artifacts.model.predict(df)

        @bentoml.api(input=JsonInput())
        def double(self, docs):
            """{"x": n} -> {"y": 2n}; raises for x == 13."""
            out = []
            for doc in docs:
                if doc.get("x") == 13:
                    raise ValueError("unlucky number 13")
                out.append({"y": doc["x"] * 2})
            return out

        @bentoml.api(input=JsonInput())
        def wrong_count(self, docs):
            """Returns one result too many."""
            return list(docs) + ["surplus"]

        @bentoml.api(input=JsonInput(), mb_max_batch_size=1)
        def slow(self, docs):
            """Sleeps {"sleep": seconds}."""
            seconds = max(float(doc.get("sleep", 0.5)) for doc in docs)
            time.sleep(seconds)
            return [{"slept": seconds} for _ in docs]

        @bentoml.api(input=JsonInput(), mb_max_batch_size=1, mb_max_latency=150)
        def budget(self, docs):
            """A slow API with a latency budget of 150 ms."""
            seconds = max(float(doc.get("sleep", 0.0)) for doc in docs)
            time.sleep(seconds)
            return [{"slept": seconds} for _ in docs]

        @bentoml.api(input=JsonInput(), mb_fixed_batch_size=4)
        def fixed(self, docs):
            """Answers each input with the size of the batch it was part of."""
            time.sleep(0.02)
            return [{"x": doc.get("x"), "batch": len(docs)} for doc in docs]

        @bentoml.api(input=JsonInput())
        def whoami(self, docs):
            """Answers with the worker process id."""
            return [{"pid": os.getpid()} for _ in docs]

        @bentoml.api(input=JsonInput())
        def overlap(self, docs):
            """Counts calls running at once; answers the most seen so far."""
            global _active, _max_active
            with _guard:
                _active += 1
                _max_active = max(_max_active, _active)
            try:
                time.sleep(0.05)
            finally:
                with _guard:
                    _active -= 1
            return [{"max_active": _max_active} for _ in docs]
    ''').replace("DOC_MARKER", DOC_MARKER)

SETOSA = [5.1, 3.5, 1.4, 0.2]
VERSICOLOR = [7.0, 3.2, 4.7, 1.4]
VIRGINICA = [6.3, 3.3, 6.0, 2.5]
IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


# -- the bundle -------------------------------------------------------------------------
@pytest.fixture(scope="session")
def iris_model():
    import pandas as pd
    from sklearn import datasets, svm

    iris = datasets.load_iris()
    return svm.SVC(gamma="scale").fit(pd.DataFrame(iris.data, columns=IRIS_COLUMNS), iris.target)


@pytest.fixture(scope="session")
def bundle(iris_model, tmp_path_factory) -> pathlib.Path:
    """The test service, packed and saved with ``save_to_dir`` once per session."""
    target = tmp_path_factory.mktemp("server_bundles") / "ServerTestService"
    return save_service_source(SERVICE_SOURCE, MODULE, "ServerTestService", target, {"model": iris_model})


# -- servers -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def dev_server(start_server, bundle) -> Server:
    """``bentoml serve BUNDLE``: development server, no micro-batching, no CORS."""
    return start_server("serve", str(bundle), "--port", "0")


@pytest.fixture(scope="session")
def mb_server(start_server, bundle) -> Server:
    """Production server: micro-batching, 2 workers, CORS on."""
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch",
                        "--workers", "2", "--enable-cors")


@pytest.fixture(scope="session")
def small_server(start_server, bundle) -> Server:
    """Production server, one worker, micro-batching, a 4 KiB request size limit."""
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch",
                        "--max-request-size", "4096")


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data)


@pytest.fixture(scope="session")
def prom_sum():
    """``prom_sum(text, name, **labels)``: see :func:`metric_sum`."""
    return metric_sum
