"""Input a scikit-learn model refuses is a 400 naming the problem; the user's own errors stay 500.

The spec's IrisClassifier (``DataframeInput()``, ``return
self.artifacts.model.predict(df)``) with a real ``svm.SVC`` fitted on numpy
arrays and a ``RandomForestClassifier`` fitted on a DataFrame with feature
names, served over real HTTP by ``serve-gunicorn --enable-microbatch --workers
2`` and by the development server.
"""
from __future__ import annotations

import json
import textwrap
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets, ensemble, svm
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bentoml.adapters import HTTPRequest
from bentoml.testing.server import save_service_source
from bentoml.testing.services import IRIS_CLASSIFIER_SOURCE
from bentoml_sklearn import SklearnModelArtifact

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
SETOSA, VIRGINICA = [5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]

# The spec's IrisClassifier, with one more API in its class body (the class ends the source).
SERVICE_SOURCE = IRIS_CLASSIFIER_SOURCE + textwrap.indent(textwrap.dedent('''
    @bentoml.api(input=DataframeInput())
    def predict_positive(self, df):
        """The user's own check: a ValueError of user code, which stays a 500."""
        if (df.select_dtypes("number") < 0).any().any():
            raise ValueError("measurements must not be negative")
        return self.artifacts.model.predict(df)
    '''), "    ")

#: (what is sent, content type, words the 400's message must contain), for the SVC fitted on arrays.
SVC_BAD_REQUESTS = {
    "3 columns": ("[[5.1, 3.5, 1.4]]", "application/json", "the model expects 4 features, got 3 (SVC)"),
    "5 columns": ("[[5.1, 3.5, 1.4, 0.2, 9.9]]", "application/json", "the model expects 4 features, got 5 (SVC)"),
    "strings": ('[["abc", 3.5, 1.4, 0.2]]', "application/json", "could not convert string to float: 'abc'"),
    "JSON null": ("[[null, 3.5, 1.4, 0.2]]", "application/json", "the input contains NaN"),
    "CSV nan": ("a,b,c,d\nnan,3.5,1.4,0.2\n", "text/csv", "the input contains NaN"),
    "1e999": ("[[1e999, 3.5, 1.4, 0.2]]", "application/json", "infinity"),
    "ragged rows": ("[[5.1, 3.5, 1.4, 0.2], [6.2, 3.4]]", "application/json", "ragged rows"),
    "CSV with 3 columns": ("a,b,c\n5.1,3.5,1.4\n", "text/csv", "the model expects 4 features, got 3"),
    "a dict in a cell": ('[[{"x": 1}, 3.5, 1.4, 0.2]]', "application/json", "not 'dict'"),
}


@pytest.fixture(scope="module")
def iris():
    data = datasets.load_iris()
    return data.data, data.target


@pytest.fixture(scope="module")
def svc(iris):
    return svm.SVC(gamma="scale").fit(*iris)  # the quickstart's model: fitted on arrays


@pytest.fixture(scope="module")
def forest(iris):
    X, y = iris
    return ensemble.RandomForestClassifier(n_estimators=10, random_state=0).fit(pd.DataFrame(X, columns=FEATURES), y)


@pytest.fixture(scope="module")
def svc_bundle(svc, tmp_path_factory):
    return save_service_source(SERVICE_SOURCE, "sklearn_input_errors_svc", "IrisClassifier",
                               tmp_path_factory.mktemp("svc") / "IrisClassifier", {"model": svc})


@pytest.fixture(scope="module")
def forest_bundle(forest, tmp_path_factory):
    return save_service_source(SERVICE_SOURCE, "sklearn_input_errors_rf", "IrisClassifier",
                               tmp_path_factory.mktemp("rf") / "IrisClassifier", {"model": forest})


@pytest.fixture(scope="module", params=["serve-gunicorn", "serve"])
def svc_server(request, start_server, svc_bundle):
    extra = ["--enable-microbatch", "--workers", "2"] if request.param == "serve-gunicorn" else []
    server = start_server(request.param, str(svc_bundle), "--port", "0", *extra)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def forest_server(start_server, forest_bundle):
    server = start_server("serve-gunicorn", str(forest_bundle), "--port", "0", "--enable-microbatch",
                          "--workers", "2")
    yield server
    server.stop()


def error_of(reply) -> str:
    assert reply.headers["content-type"].startswith("application/json"), reply
    return reply.json()["error"]


@pytest.mark.parametrize("case", list(SVC_BAD_REQUESTS))
def test_input_the_model_refuses_is_a_400_naming_the_problem(svc_server, case):
    body, content_type, needle = SVC_BAD_REQUESTS[case]
    reply = svc_server.post("/predict", body, content_type=content_type)
    assert reply.status == 400, reply
    message = error_of(reply)
    assert message.startswith("IrisClassifier predict: ") or message.startswith("DataframeInput"), message
    assert needle in message, message
    assert "Traceback" not in reply.text and "\n" not in message and len(message) < 400


def test_the_users_own_value_error_stays_500(svc_server):
    reply = svc_server.post("/predict_positive", [[-5.1, 3.5, 1.4, 0.2]])
    assert reply.status == 500, reply
    assert "ValueError: measurements must not be negative" in error_of(reply)
    # the same API: the model refusing the input is a 400, good input a 200
    assert svc_server.post("/predict_positive", [[5.1, 3.5, 1.4]]).status == 400
    assert svc_server.post("/predict_positive", [SETOSA]).json() == [0]


def test_good_requests_batched_with_bad_ones_are_answered(svc_server, svc):
    """Concurrent requests share micro-batches; each bad one fails alone, the rest get their labels."""
    good = [[row] for row in datasets.load_iris().data[::5].tolist()]
    bad = [(body, ctype) for body, ctype, _ in SVC_BAD_REQUESTS.values()]
    sends = [("good", json.dumps(rows), "application/json", svc.predict(rows).tolist()) for rows in good]
    sends += [("bad", body, ctype, None) for body, ctype in bad] * 2
    order = np.random.default_rng(7).permutation(len(sends))

    def send(i):
        kind, body, ctype, expected = sends[i]
        return kind, expected, svc_server.post("/predict", body, content_type=ctype)

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(send, order))
    for kind, expected, reply in replies:
        if kind == "good":
            assert reply.status == 200 and reply.json() == expected, reply
        else:
            assert reply.status == 400, reply
    assert svc_server.post("/predict", [SETOSA, VIRGINICA]).json() == [0, 2]  # the workers are fine


def test_forest_fitted_with_feature_names(forest_server, forest):
    # a CSV header the model was not fitted with names the unseen and the missing features
    reply = forest_server.post("/predict", "a,b,c,d\n5.1,3.5,1.4,0.2\n", content_type="text/csv")
    assert reply.status == 400, reply
    message = error_of(reply)
    assert "the feature names do not match those the model was fitted with" in message, message
    assert "unseen at fit time: a, b, c, d" in message and "missing: petal_length" in message, message
    assert forest_server.post("/predict", [[5.1, 3.5]]).status == 400
    reply = forest_server.post("/predict", "[[1e999, 3.5, 1.4, 0.2]]")
    assert reply.status == 400 and "infinity or a value too large for float32" in error_of(reply), reply
    # random forests take missing values: NaN is a prediction, not an error
    reply = forest_server.post("/predict", [dict(zip(FEATURES, [None, 3.5, 1.4, 0.2]))])
    assert reply.status == 200, reply
    records = pd.DataFrame([SETOSA, VIRGINICA], columns=FEATURES)
    assert forest_server.post("/predict", records.to_dict("records")).json() == forest.predict(records).tolist()


# -- the hook itself, in process ----------------------------------------------------------------------


def _raised(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test looks at whatever was raised
        return exc
    raise AssertionError("nothing raised")


def test_pipelines_are_recognized_by_the_step_that_checks(iris):
    pipe = make_pipeline(StandardScaler(), svm.SVC()).fit(*iris)
    exc = _raised(lambda: pipe.predict(np.ones((1, 3))))
    assert SklearnModelArtifact.bad_input_message(exc) == "the model expects 4 features, got 3 (StandardScaler)"


def test_errors_that_are_not_about_the_input_are_not_claimed(iris, svc):
    assert SklearnModelArtifact.bad_input_message(_raised(lambda: svm.SVC().predict([[1, 2, 3, 4]]))) is None
    assert isinstance(_raised(lambda: svm.SVC().predict([[1, 2, 3, 4]])), NotFittedError)

    def users_own_check(X):
        if len(X[0]) != 4:
            raise ValueError("X has 3 features, but SVC is expecting 4 features as input.")  # same words
        return svc.predict(X)

    assert SklearnModelArtifact.bad_input_message(_raised(lambda: users_own_check([[1, 2, 3]]))) is None
    assert SklearnModelArtifact.bad_input_message(_raised(lambda: svc.predict(None))) is not None
    assert SklearnModelArtifact.bad_input_message(RuntimeError("x")) is None


def _handle(model, tmp_path, *bodies):
    from bentoml.testing.services import service_module

    with service_module(SERVICE_SOURCE, "sklearn_input_errors_inproc", tmp_path) as module:
        service = module.IrisClassifier().pack("model", model)
    api = service.get_inference_api("predict")
    tasks = [api.input_adapter.from_http_request(HTTPRequest(json.dumps(b).encode(), {"Content-Type": "application/json"}))
             for b in bodies]
    return [(r.status, json.loads(r.body)) for r in api.handle_batch(tasks)]


def test_handle_batch_answers_each_task_of_a_mixed_batch(plugin_registry, svc, tmp_path):
    """The kernel runs a failing batch's tasks alone: the bad one gets its 400, the rest their labels."""
    answers = _handle(svc, tmp_path, [SETOSA], [[5.1, 3.5, 1.4]], [VIRGINICA, SETOSA], [["x", 1, 2, 3]])
    assert [status for status, _ in answers] == [200, 400, 200, 400]
    assert [answers[0][1], answers[2][1]] == [[0], [2, 0]]
    assert answers[1][1]["error"] == "IrisClassifier predict: the model expects 4 features, got 3 (SVC)"


def test_a_narrow_request_is_not_padded_by_its_batch_neighbours(plugin_registry, iris, tmp_path):
    """A forest takes NaN: batched with 4-wide rows, a 3-wide request padded with NaN would get a label."""
    X, y = iris
    forest = ensemble.RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    answers = _handle(forest, tmp_path, [SETOSA], [[5.1, 3.5, 1.4]], [VIRGINICA])
    assert [status for status, _ in answers] == [200, 400, 200]
    assert "the model expects 4 features, got 3" in answers[1][1]["error"]
