"""``svc.pack("model", clf, input_example=df)``: a schema in bentoml.yml that checks requests and drives OpenAPI.

The spec's IrisClassifier, saved and served by ``serve-gunicorn --enable-microbatch
--workers 2`` over real HTTP, with a real scikit-learn model.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from sklearn import datasets, ensemble, svm

import bentoml
from bentoml.testing.server import save_service_source
from bentoml.testing.services import IRIS_CLASSIFIER_SOURCE

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]

SERVICE_SOURCE = IRIS_CLASSIFIER_SOURCE  # the spec's IrisClassifier


@pytest.fixture(scope="module")
def iris_df():
    data = datasets.load_iris()
    return pd.DataFrame(data.data, columns=FEATURES), data.target


@pytest.fixture(scope="module")
def bundle(iris_df, tmp_path_factory):
    X, y = iris_df
    model = svm.SVC(gamma="scale").fit(X, y)
    return save_service_source(SERVICE_SOURCE, "sklearn_schema_iris", "IrisClassifier",
                               tmp_path_factory.mktemp("schema") / "IrisClassifier",
                               {"model": model}, input_examples={"model": X})


@pytest.fixture(scope="module")
def server(start_server, bundle):
    server = start_server("serve-gunicorn", str(bundle), "--port", "0", "--enable-microbatch", "--workers", "2")
    yield server
    server.stop()


def request_content(server, api="predict"):
    spec = server.get("/docs.json").json()
    return spec["paths"][f"/{api}"]["post"]["requestBody"]["content"]


def test_the_schema_round_trips_through_bentoml_yml(bundle):
    (artifact,) = yaml.safe_load((bundle / "bentoml.yml").read_text())["artifacts"]
    assert artifact["input_schema"] == {
        "columns": [{"name": name, "type": "double"} for name in FEATURES],
        "example": [5.1, 3.5, 1.4, 0.2],
    }
    loaded = bentoml.load_from_dir(str(bundle))
    schema = loaded.artifacts["model"].input_schema
    assert schema.names == FEATURES and schema.example == [5.1, 3.5, 1.4, 0.2]


def test_docs_show_the_columns_and_an_example_that_predicts(server):
    content = request_content(server)
    body = content["application/json"]
    records = body["schema"]["oneOf"][1]["items"]
    assert records["required"] == FEATURES
    assert records["properties"]["petal_width"] == {"type": "number", "format": "double"}
    assert body["example"] == [dict(zip(FEATURES, [5.1, 3.5, 1.4, 0.2]))]
    assert content["text/csv"]["example"] == ",".join(FEATURES) + "\n5.1,3.5,1.4,0.2\n"
    # "Try it out": each example is a request the model answers
    assert server.post("/predict", body["example"]).json() == [0]
    assert server.post("/predict", content["text/csv"]["example"], content_type="text/csv").json() == [0]


@pytest.mark.parametrize("body, content_type, needle", [
    ("a,b,c,d\n5.1,3.5,1.4,0.2\n", "text/csv",
     "missing columns 'sepal_length', 'sepal_width', 'petal_length', 'petal_width'; the model takes "
     "sepal_length (double), sepal_width (double), petal_length (double), petal_width (double); "
     "the request has 'a', 'b', 'c', 'd' instead"),
    ('[{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4}]', "application/json",
     "missing columns 'petal_width'"),
    ("[[5.1, 3.5, 1.4]]", "application/json", "rows have 3 values but the model takes 4 columns"),
    ('[["abc", 3.5, 1.4, 0.2]]', "application/json",
     "column 'sepal_length' holds strings (e.g. 'abc') but float64 is expected"),
])
def test_requests_are_checked_before_the_call(server, body, content_type, needle):
    reply = server.post("/predict", body, content_type=content_type)
    assert reply.status == 400, reply
    message = reply.json()["error"]
    assert message.startswith("DataframeInput: ") and needle in message, message


def test_rows_without_names_get_the_schemas_names(server):
    """A model fitted on a DataFrame gets its feature names, and records in any order are reordered."""
    assert server.post("/predict", [[5.1, 3.5, 1.4, 0.2], [6.3, 3.3, 6.0, 2.5]]).json() == [0, 2]
    shuffled = [dict(zip(FEATURES[::-1], [2.5, 6.0, 3.3, 6.3]))]
    assert server.post("/predict", shuffled).json() == [2]
    # what the schema lets through, the model may still refuse: NaN for an SVC
    reply = server.post("/predict", [[None, 3.5, 1.4, 0.2]])
    assert reply.status == 400 and "the input contains NaN" in reply.json()["error"], reply


WIDE_SOURCE = SERVICE_SOURCE.replace("IrisClassifier", "WideClassifier")


@pytest.fixture(scope="module")
def wide_model():
    X, y = datasets.make_classification(n_samples=60, n_features=20, random_state=0)
    return ensemble.RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y), X


def test_a_20_feature_model_without_a_schema_shows_no_made_up_example(start_server, wide_model, tmp_path):
    model, X = wide_model
    plain = save_service_source(WIDE_SOURCE, "sklearn_schema_wide", "WideClassifier", tmp_path / "plain",
                                {"model": model})
    with_schema = save_service_source(WIDE_SOURCE, "sklearn_schema_wide2", "WideClassifier", tmp_path / "typed",
                                      {"model": model}, input_examples={"model": X[:5]})
    server = start_server("serve", str(plain), "--port", "0")
    try:
        content = request_content(server)
        assert all("example" not in entry for entry in content.values()), content
        assert "5.1" not in json.dumps(content)  # the old hard-coded iris row
    finally:
        server.stop()
    server = start_server("serve", str(with_schema), "--port", "0")
    try:
        content = request_content(server)
        example = content["application/json"]["example"]
        assert example == [X[0].tolist()] and len(example[0]) == 20
        assert server.post("/predict", example).json() == model.predict(X[:1]).tolist()
    finally:
        server.stop()
