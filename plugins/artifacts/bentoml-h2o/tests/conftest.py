"""One H2O (Java) for the whole test session, and a small GBM trained on iris in it.

Starting H2O takes 5-7 s and ~250 MiB, so every in-process test shares one; it is
started on a free port from 54400 (never attached to an H2O someone else runs)
and stopped at the end of the session.
"""
from __future__ import annotations

import os
import shutil

import pytest

# One name per test process: an H2O started under a name another test run's H2O
# already uses (two checkouts tested at once) tries to join that cloud and exits.
SESSION_CLUSTER = f"bentoml-h2o-tests-{os.getpid()}"


@pytest.fixture(scope="session")
def h2o_cluster():
    """The session's H2O, connected; yields its URL."""
    import h2o
    from h2o.backend import H2OLocalServer

    # Not on h2o's default port 54321, where h2o.init() in a test's subprocess would find it.
    server = H2OLocalServer.start(nthreads=1, max_mem_size=1 << 30, enable_assertions=False,
                                  port="54400+", name=SESSION_CLUSTER, bind_to_localhost=True,
                                  verbose=False)
    process = server._process  # stopped by hand: h2o's shutdown() may leave it running
    try:
        h2o.connect(server=server, verbose=False)
        h2o.no_progress()
        yield h2o.connection().base_url
    finally:
        connection = h2o.connection()
        if connection is not None and connection.connected:
            connection.close()
        process.terminate()
        process.wait(30)
        server.shutdown()
        for scratch in {getattr(server, "_ice_root", None), getattr(server, "_tempdir", None)} - {None}:
            shutil.rmtree(scratch, ignore_errors=True)  # h2o leaves its temporary dirs behind


@pytest.fixture(scope="session")
def iris_df():
    """iris as pandas (the copy that ships with h2o): four features and Species."""
    import os

    import h2o
    import pandas as pd

    return pd.read_csv(os.path.join(os.path.dirname(h2o.__file__), "h2o_data", "iris.csv"))


@pytest.fixture(scope="session")
def iris_gbm(h2o_cluster, iris_df):
    """A 5-tree GBM classifier of iris species."""
    import h2o
    from h2o.estimators import H2OGradientBoostingEstimator

    frame = h2o.H2OFrame(iris_df, column_types={"Species": "enum"})
    model = H2OGradientBoostingEstimator(ntrees=5, max_depth=3, seed=1)
    model.train(x=[c for c in iris_df.columns if c != "Species"], y="Species", training_frame=frame)
    h2o.remove(frame)
    return model
