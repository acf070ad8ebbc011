"""An XGBoost service served by ``serve-gunicorn --enable-microbatch --workers 2`` over real HTTP.

The model is not fork-safe: the master must not load XGBoost, each worker loads
it after the fork, and both workers must answer with the in-process model's
predictions.
"""
import os
import textwrap
from concurrent.futures import ThreadPoolExecutor

import importlib_metadata
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn import datasets

from bentoml.testing.server import save_service_source

#: A text column's dtype as the installed pandas names it in XGBoost's message: 'str' in pandas 3,
#: 'object' before (an environment with pyspark keeps pandas 2).
TEXT_DTYPE = str(pd.Series(["x"]).dtype)

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

SERVICE_SOURCE = textwrap.dedent('''\
    """Iris species from an XGBoost classifier."""
    import os
    import sys

    import bentoml
    from bentoml.adapters import DataframeInput
    from bentoml.artifact import XgboostModelArtifact

    FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


    @bentoml.artifacts([XgboostModelArtifact("model", nthread=1)])
    class XgbIris(bentoml.BentoService):
        """Iris species from an XGBoost classifier."""

        @bentoml.api(input=DataframeInput(columns=FEATURES, input_dtypes="float64"))
        def predict(self, df):
            """The species index of each row."""
            return self.artifacts.model.predict(df)

        @bentoml.api(input=DataframeInput())
        def predict_any(self, df):
            """No columns declared: XGBoost itself checks what it gets."""
            return self.artifacts.model.predict(df)

        @bentoml.api(input=DataframeInput())
        def predict_checked(self, df):
            """The user's own ValueError stays a 500."""
            if len(df) > 2:
                raise ValueError("at most 2 rows per request")
            return self.artifacts.model.predict(df)

        @bentoml.api(input=DataframeInput(columns=FEATURES, input_dtypes="float64"))
        def proba(self, df):
            """Each row's class probabilities, with the answering worker's pid."""
            probs = self.artifacts.model.predict_proba(df)
            return [{"pid": os.getpid(), "proba": p.tolist(), "xgboost": "xgboost" in sys.modules}
                    for p in probs]
    ''')


@pytest.fixture(scope="module")
def iris():
    data = datasets.load_iris()
    return pd.DataFrame(data.data, columns=FEATURES), data.target


@pytest.fixture(scope="module")
def model(iris):
    X, y = iris
    return xgboost.XGBClassifier(n_estimators=10, max_depth=3).fit(X, y)


@pytest.fixture(scope="module")
def bundle(model, tmp_path_factory):
    return save_service_source(SERVICE_SOURCE, "xgb_iris_service", "XgbIris",
                               tmp_path_factory.mktemp("xgb_bundle") / "XgbIris", {"model": model})


@pytest.fixture(scope="module")
def server(start_server, bundle):
    return start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch",
                        "--workers", "2")


def test_bundle_pins_the_installed_xgboost_and_scikit_learn(bundle):
    """XGBClassifier needs scikit-learn where it is served, though the service never imports it."""
    reqs = (bundle / "requirements.txt").read_text().splitlines()
    (xgboost_dist,) = importlib_metadata.packages_distributions()["xgboost"]  # xgboost-cpu here
    assert f"{xgboost_dist}=={importlib_metadata.version(xgboost_dist)}" in reqs
    assert f"scikit-learn=={importlib_metadata.version('scikit-learn')}" in reqs
    assert sorted(p.name for p in (bundle / "XgbIris" / "artifacts" / "model").iterdir()) == [
        "model.meta.json", "model.ubj"]


def test_predictions_match_the_in_process_model(server, model, iris):
    X, _ = iris
    rows = X.iloc[::7]
    reply = server.post("/predict", rows.values.tolist())
    assert reply.status == 200, reply
    assert reply.json() == model.predict(rows).tolist()
    records = server.post("/predict", rows.to_dict(orient="records"))
    assert records.json() == model.predict(rows).tolist()
    csv = server.post("/predict", rows.to_csv(index=False), content_type="text/csv")
    assert csv.json() == model.predict(rows).tolist()


def test_both_workers_load_the_model_after_the_fork(server, model, iris):
    X, _ = iris
    rows = X.values.tolist()

    def ask(i):
        return i, server.post("/proba", [rows[i]])

    # One connection per request: the kernel spreads them over the workers' sockets.
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(ask, range(0, len(rows), 3)))
    pids = set()
    for i, reply in replies:
        assert reply.status == 200, reply
        (answer,) = reply.json()
        np.testing.assert_allclose(answer["proba"], model.predict_proba(X.iloc[[i]])[0], rtol=1e-6)
        assert answer["xgboost"] is True
        pids.add(answer["pid"])
    assert len(pids) == 2, f"requests reached only workers {pids}"
    assert server.proc.pid not in pids
    # The master never loaded XGBoost (its OpenMP pool must not be forked); the workers did.
    if os.path.exists(f"/proc/{server.proc.pid}/maps"):
        def maps(pid):
            with open(f"/proc/{pid}/maps") as f:
                return f.read()

        assert "libxgboost" not in maps(server.proc.pid)
        assert all("libxgboost" in maps(pid) for pid in pids)


def test_bad_input_is_a_400_naming_the_problem(server):
    missing = server.post("/predict", [{"sepal_length": 5.1, "sepal_width": 3.5}])
    assert missing.status == 400
    assert "petal_length" in missing.json()["error"]
    not_a_number = server.post("/predict", [["a lot", 3.5, 1.4, 0.2]])
    assert not_a_number.status == 400, not_a_number
    assert "float64" in not_a_number.json()["error"]
    # The workers are fine afterwards.
    assert server.post("/predict", [[5.1, 3.5, 1.4, 0.2]]).json() == [0]


@pytest.mark.parametrize("body, needles", [
    ([[5.1, 3.5, 1.4]], ["the model expects the features sepal_length, sepal_width, petal_length, petal_width",
                         "not in the training data: 0, 1, 2"]),
    ([{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}], ["missing: petal_width"]),
    ([{"sepal_length": "wide", "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}],
     ["XGBoost takes columns of numbers", f"invalid columns: sepal_length: {TEXT_DTYPE}"]),
])
def test_input_xgboost_refuses_is_a_400_with_its_feature_message(server, body, needles):
    reply = server.post("/predict_any", body)
    assert reply.status == 400, reply
    message = reply.json()["error"]
    assert message.startswith("XgbIris predict_any: "), message
    for needle in needles:
        assert needle in message, message
    assert "Traceback" not in message and "\n" not in message


def test_the_users_own_value_error_stays_500_and_good_neighbours_are_answered(server, model, iris):
    X, _ = iris
    reply = server.post("/predict_checked", X.iloc[:3].to_dict(orient="records"))
    assert reply.status == 500 and "at most 2 rows per request" in reply.json()["error"], reply
    good = [X.iloc[[i]] for i in range(0, len(X), 10)]
    sends = [(rows.to_dict(orient="records"), model.predict(rows).tolist()) for rows in good]
    sends += [([{"sepal_length": 1.0}], None), ([[1.0, 2.0, 3.0]], None)] * 4

    def send(item):
        body, expected = item
        return expected, server.post("/predict_any", body)

    with ThreadPoolExecutor(12) as pool:
        for expected, reply in pool.map(send, sends):
            if expected is None:
                assert reply.status == 400, reply
            else:
                assert reply.status == 200 and reply.json() == expected, reply
