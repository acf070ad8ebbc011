"""XgboostModelArtifact.bad_input_message on what real XGBoost raises."""
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn import datasets

from bentoml_xgboost import XgboostModelArtifact

#: A text column's dtype as the installed pandas names it in XGBoost's message: 'str' in pandas 3,
#: 'object' before (an environment with pyspark keeps pandas 2).
TEXT_DTYPE = str(pd.Series(["x"]).dtype)

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def iris():
    data = datasets.load_iris()
    return data.data, data.target


@pytest.fixture(scope="module")
def unnamed(iris):
    return xgboost.XGBClassifier(n_estimators=3, max_depth=2).fit(*iris)


@pytest.fixture(scope="module")
def booster(iris):
    X, y = iris
    return xgboost.train({"max_depth": 2}, xgboost.DMatrix(pd.DataFrame(X, columns=FEATURES), label=y), 3)


def claimed(call):
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - whatever XGBoost raises
        return XgboostModelArtifact.bad_input_message(exc)
    raise AssertionError("nothing raised")


def test_width_of_a_model_without_feature_names(unnamed):
    assert claimed(lambda: unnamed.predict(np.ones((1, 3)))) == "the model expects 4 features, got 3"
    assert claimed(lambda: unnamed.predict([[1, 2, 3, 4, 5]])) == "the model expects 4 features, got 5"


def test_dmatrix_built_in_the_api_function(booster):
    """A Booster predicts on a DMatrix the API function builds: its conversion errors are bad input too."""
    inf = pd.DataFrame([[np.inf, 3.5, 1.4, 0.2]], columns=FEATURES)
    message = claimed(lambda: booster.predict(xgboost.DMatrix(inf)))
    assert message.startswith("Input data contains `inf`"), message
    assert "Stack trace" not in message and ".cc:" not in message
    text = pd.DataFrame([["x", 3.5, 1.4, 0.2]], columns=FEATURES)
    assert f"invalid columns: sepal_length: {TEXT_DTYPE}" in claimed(lambda: xgboost.DMatrix(text))
    reordered = pd.DataFrame([[0.2, 1.4, 3.5, 5.1]], columns=FEATURES[::-1])
    assert "got them in another order" in claimed(lambda: booster.predict(xgboost.DMatrix(reordered)))
    assert "missing: sepal_length" in claimed(lambda: booster.inplace_predict(reordered.drop(columns="sepal_length")))


def test_other_errors_are_not_claimed(tmp_path, unnamed):
    broken = tmp_path / "broken.json"
    broken.write_text("{not a model")
    assert claimed(lambda: xgboost.Booster(model_file=str(broken))) is None  # an XGBoostError, not the input's

    def users_own_check(X):
        raise ValueError("Feature shape mismatch, expected: 4, got 3")  # the same words, from user code

    assert claimed(lambda: users_own_check([[1, 2, 3]])) is None
    assert XgboostModelArtifact.bad_input_message(KeyError("x")) is None
