"""A sweep of services shaped like BentoML 0.8-0.13's example gallery, each run unchanged.

The gallery's scikit-learn, XGBoost and multi-model services used spellings the
iris tests do not: ``from bentoml import api, env, artifacts, BentoService``,
``PickleArtifact`` holding a fitted ``GridSearchCV`` over a pipeline,
``@api(DataframeHandler, typ='series')`` on text, ``xgb.DMatrix(df[[...]])``
fed to a packed ``Booster``, one ``SklearnModelArtifact`` packing a dict of
models, ``pip_dependencies=['sklearn']`` (a PyPI name that no longer
installs), and 0.10-0.13's ``DataframeInput(orient=..., columns=...)`` with
``DataframeOutput()``.  Each is packed with a real model, saved, loaded in a
fresh process, run with ``bentoml run`` and served over HTTP; every answer is
the in-process model's answer.  (H2O's gallery services are covered by the
bentoml-h2o tests, which own the JVM.)
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

LOAN_SOURCE = '''\
    from bentoml import api, BentoService, env, artifacts
    from bentoml.artifact import PickleArtifact
    from bentoml.handlers import DataframeHandler

    @env(pip_dependencies=['sklearn', 'numpy', 'pandas'])
    @artifacts([PickleArtifact('grid')])
    class LoanPrediction(BentoService):

        @api(DataframeHandler)
        def predict(self, df):
            return self.artifacts.grid.predict(df)
    '''

SENTIMENT_SOURCE = '''\
    import pandas as pd
    import bentoml
    from bentoml.artifact import PickleArtifact
    from bentoml.handlers import DataframeHandler

    @bentoml.artifacts([PickleArtifact('model')])
    @bentoml.env(pip_dependencies=["scikit-learn", "pandas"])
    class SentimentAnalysisService(bentoml.BentoService):

        @bentoml.api(DataframeHandler, typ='series')
        def predict(self, series):
            """predict expects pandas.Series as input"""
            return self.artifacts.model.predict(series)
    '''

TITANIC_XGB_SOURCE = '''\
    import xgboost as xgb

    import bentoml
    from bentoml.artifact import XgboostModelArtifact
    from bentoml.handlers import DataframeHandler

    @bentoml.artifacts([XgboostModelArtifact('model')])
    @bentoml.env(pip_dependencies=['xgboost'])
    class TitanicSurvivalPredictionService(bentoml.BentoService):

        @bentoml.api(DataframeHandler)
        def predict(self, df):
            data = xgb.DMatrix(data=df[['Pclass', 'Age', 'Fare', 'SibSp', 'Parch']])
            return self.artifacts.model.predict(data)
    '''

MULTI_MODEL_SOURCE = '''\
    import pandas as pd

    import bentoml
    from bentoml.adapters import JsonInput
    from bentoml.frameworks.sklearn import SklearnModelArtifact


    @bentoml.env(infer_pip_packages=True)
    @bentoml.artifacts([SklearnModelArtifact("model")])
    class TitanicMultiModelService(bentoml.BentoService):

        @bentoml.api(input=JsonInput(), batch=True)
        def predict(self, parsed_json_list):
            df = pd.DataFrame(parsed_json_list)[["Pclass", "Age", "Fare", "SibSp", "Parch"]]
            result = pd.DataFrame()
            result["xgb_proba"] = self.artifacts.model["xgb"].predict_proba(df)[:, 1]
            result["forest_proba"] = self.artifacts.model["forest"].predict_proba(df)[:, 1]
            return [row for row in result.to_dict(orient="records")]
    '''

ORIENTED_SOURCE = '''\
    from bentoml import env, artifacts, api, BentoService
    from bentoml.adapters import DataframeInput, DataframeOutput
    from bentoml.frameworks.sklearn import SklearnModelArtifact


    @env(infer_pip_packages=True)
    @artifacts([SklearnModelArtifact('model')])
    class FareBand(BentoService):

        @api(input=DataframeInput(orient="values", columns=["Pclass", "Age", "Fare", "SibSp", "Parch"]),
             output=DataframeOutput(), batch=True)
        def predict(self, df):
            out = df[["Pclass"]].copy()
            out["survives"] = self.artifacts.model.predict(df)
            return out
    '''

TITANIC_COLUMNS = ["Pclass", "Age", "Fare", "SibSp", "Parch"]


@pytest.fixture(scope="module")
def titanic():
    rng = np.random.default_rng(3)
    n = 240
    frame = pd.DataFrame({"Pclass": rng.integers(1, 4, n), "Age": rng.uniform(1, 70, n).round(1),
                          "Fare": rng.uniform(5, 250, n).round(2), "SibSp": rng.integers(0, 4, n),
                          "Parch": rng.integers(0, 3, n)})
    survived = ((frame["Pclass"] == 1) | (frame["Age"] < 12) | (frame["Fare"] > 150)).astype(int)
    return frame, survived


@pytest.fixture(scope="module")
def loan_grid():
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(5)
    n = 200
    frame = pd.DataFrame({"Gender": rng.choice(["Male", "Female"], n), "Education": rng.choice(["Graduate", "Not"], n),
                          "ApplicantIncome": rng.uniform(1000, 9000, n).round(), "LoanAmount": rng.uniform(50, 400, n)})
    approved = (frame["ApplicantIncome"] / frame["LoanAmount"] > 20).astype(int)
    pipeline = Pipeline([("prep", ColumnTransformer([("cat", OneHotEncoder(), ["Gender", "Education"]),
                                                     ("num", StandardScaler(), ["ApplicantIncome", "LoanAmount"])])),
                         ("clf", LogisticRegression())])
    return GridSearchCV(pipeline, {"clf__C": [0.1, 1.0]}, cv=3).fit(frame, approved), frame


@pytest.fixture(scope="module")
def sentiment_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts = ["great movie", "loved it", "wonderful acting", "terrible plot", "hated it", "awful film"] * 5
    labels = [4, 4, 4, 0, 0, 0] * 5
    return make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(texts, labels)


def _case_loan(fixtures):
    grid, frame = fixtures["loan_grid"]
    rows = frame.head(3).to_dict(orient="records")
    return (LOAN_SOURCE, "loan_prediction_gallery", "LoanPrediction", {"grid": grid},
            rows, grid.predict(pd.DataFrame(rows)).tolist())


def _case_sentiment(fixtures):
    texts = ["what a great movie", "an awful, terrible plot"]
    return (SENTIMENT_SOURCE, "sentiment_gallery", "SentimentAnalysisService", {"model": fixtures["sentiment"]},
            texts, fixtures["sentiment"].predict(pd.Series(texts)).tolist())


def _case_titanic_xgb(fixtures):
    import xgboost as xgb

    frame, survived = fixtures["titanic"]
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(frame, label=survived), 8)
    rows = frame.head(3).to_dict(orient="records")
    expected = booster.predict(xgb.DMatrix(pd.DataFrame(rows)[TITANIC_COLUMNS])).tolist()
    return (TITANIC_XGB_SOURCE, "titanic_xgb_gallery", "TitanicSurvivalPredictionService", {"model": booster},
            rows, expected)


def _case_multi_model(fixtures):
    import xgboost as xgb
    from sklearn.ensemble import RandomForestClassifier

    frame, survived = fixtures["titanic"]
    models = {"xgb": xgb.XGBClassifier(n_estimators=8, max_depth=3).fit(frame, survived),
              "forest": RandomForestClassifier(n_estimators=10, random_state=0).fit(frame, survived)}
    row = frame.iloc[0].to_dict()
    one = pd.DataFrame([row])[TITANIC_COLUMNS]
    expected = {"xgb_proba": float(models["xgb"].predict_proba(one)[0, 1]),
                "forest_proba": float(models["forest"].predict_proba(one)[0, 1])}
    return (MULTI_MODEL_SOURCE, "titanic_multi_gallery", "TitanicMultiModelService", {"model": models},
            {k: (int(v) if k != "Age" and k != "Fare" else float(v)) for k, v in row.items()}, expected)


def _case_oriented(fixtures):
    from sklearn.tree import DecisionTreeClassifier

    frame, survived = fixtures["titanic"]
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(frame, survived)
    values = frame.head(2).to_numpy().tolist()
    predicted = model.predict(pd.DataFrame(values, columns=TITANIC_COLUMNS)).tolist()
    expected = [{"Pclass": int(v[0]), "survives": p} for v, p in zip(values, predicted)]
    return (ORIENTED_SOURCE, "fare_band_gallery", "FareBand", {"model": model}, values, expected)


def _rounded(value):
    """``value`` with floats rounded to 6 places (float32 models answer through JSON)."""
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


CASES = {"loan-gridsearch-pickle": _case_loan, "sentiment-series": _case_sentiment,
         "titanic-xgboost-dmatrix": _case_titanic_xgb, "titanic-dict-of-models": _case_multi_model,
         "values-orient-dataframe-output": _case_oriented}


@pytest.mark.parametrize("case", list(CASES))
def test_a_gallery_service_runs_unchanged(case, write_service, python, start_server, titanic, loan_grid,
                                          sentiment_model):
    source, module_name, class_name, artifacts, body, expected = CASES[case](
        {"titanic": titanic, "loan_grid": loan_grid, "sentiment": sentiment_model})
    module = write_service(source, module_name)
    svc = getattr(module, class_name)()
    for name, model in artifacts.items():
        svc.pack(name, model)
    saved_path = svc.save()

    tag = f"{class_name}:latest"
    loaded = python("-c", "import bentoml, json, sys\n"
                          "from bentoml.adapters import HTTPRequest\n"
                          f"api = bentoml.load({saved_path!r}).get_inference_api('predict')\n"
                          "task = api.input_adapter.from_http_request(HTTPRequest(sys.argv[1].encode(), "
                          "{'content-type': 'application/json'}))\n"
                          "print(api.handle_batch([task])[0].body.decode())", json.dumps(body))
    assert _rounded(json.loads(loaded.stdout)) == _rounded(expected)

    run = python("-m", "bentoml", "run", tag, "predict", f"--input={json.dumps(body)}")
    assert _rounded(json.loads(run.stdout)) == _rounded(expected)

    server = start_server("serve", tag, "--port", "0", "--enable-microbatch")
    try:
        reply = server.post("/predict", body)
        assert reply.status == 200, reply
        assert _rounded(reply.json()) == _rounded(expected)
    finally:
        server.stop()


def test_the_sklearn_pypi_name_is_required_as_scikit_learn(write_service, loan_grid):
    grid, _frame = loan_grid
    svc = write_service(LOAN_SOURCE, "loan_prediction_requirements").LoanPrediction()
    svc.pack("grid", grid)
    saved = svc.save()
    with open(f"{saved}/requirements.txt") as f:
        names = [line.split("==")[0].split(">")[0].strip().lower() for line in f if line.strip()]
    assert "scikit-learn" in names and "sklearn" not in names
