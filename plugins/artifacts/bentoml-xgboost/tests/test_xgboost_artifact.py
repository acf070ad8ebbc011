"""XgboostModelArtifact with real XGBoost models (small data, few trees): contracts and round trips."""
import functools
import json
import logging
import pickle
import re
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn import datasets

from bentoml.exceptions import BundleError, InvalidArgument
from bentoml.testing import ArtifactContract
from bentoml_xgboost import XgboostModelArtifact

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@functools.lru_cache(maxsize=None)
def iris_frame():
    iris = datasets.load_iris()
    return pd.DataFrame(iris.data, columns=FEATURES), iris.target


@functools.lru_cache(maxsize=None)
def diabetes():
    return datasets.load_diabetes(return_X_y=True)


def iris_classifier(**params):
    X, y = iris_frame()
    return xgboost.XGBClassifier(n_estimators=5, max_depth=2, **params).fit(X, y)


def iris_booster():
    X, y = iris_frame()
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 2}
    return xgboost.train(params, xgboost.DMatrix(X, label=y), num_boost_round=5)


def round_trip(model, tmp_path, name="model", **options):
    XgboostModelArtifact(name, **options).pack(model).save(str(tmp_path))
    return XgboostModelArtifact(name).load(str(tmp_path)).get()


class TestBoosterArtifact(ArtifactContract):
    artifact_class = XgboostModelArtifact
    distribution = "bentoml-xgboost"
    framework_module = "xgboost"
    expected_type = "xgboost.Booster"

    def make_model(self):
        return iris_booster()

    def sample_input(self):
        return xgboost.DMatrix(iris_frame()[0][::10])

    def predict(self, model, x):
        return model.predict(x)


class TestClassifierArtifact(TestBoosterArtifact):
    expected_type = "xgboost.XGBModel"

    def make_model(self):
        return iris_classifier()

    def sample_input(self):
        return iris_frame()[0][::10]

    def predict(self, model, x):
        return model.predict_proba(x)

    def wrong_object(self):
        from sklearn.linear_model import LogisticRegression

        X, y = iris_frame()
        return LogisticRegression(max_iter=200).fit(X, y)  # has predict, but is not XGBoost


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.artifact import XgboostModelArtifact as resolved

    assert resolved is XgboostModelArtifact


BLOCK_XGBOOST = textwrap.dedent("""\
    import sys

    class BlockXgboost:  # as if neither xgboost-cpu nor xgboost were installed
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "xgboost":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    sys.meta_path.insert(0, BlockXgboost())
    try:
        from bentoml.artifact import XgboostModelArtifact
    except ImportError as exc:
        print("lookup:", exc)
    from bentoml_xgboost import XgboostModelArtifact
    try:
        XgboostModelArtifact("model").pack(object())
    except ImportError as exc:
        print("pack:", exc)
    """)


def test_without_xgboost_the_errors_name_both_extras():
    out = subprocess.run([sys.executable, "-c", BLOCK_XGBOOST], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lookup, pack = out.stdout.splitlines()
    for line in (lookup, pack):
        # the index distributions each extra adds: the plugin itself is installed already
        assert "pip install 'xgboost-cpu>=2.1' ([cpu] of bentoml-xgboost)" in line, line
        assert "pip install 'xgboost>=2.0' ([gpu] of bentoml-xgboost)" in line, line
    assert lookup.startswith("lookup: artifact 'XgboostModelArtifact' is provided by") and "skipped" in lookup
    assert pack.startswith("pack: XgboostModelArtifact needs XGBoost, which is not installed")


def test_classifier_round_trip_keeps_classes_features_and_params(tmp_path):
    X, _ = iris_frame()
    model = iris_classifier(missing=-1.0)
    loaded = round_trip(model, tmp_path)
    assert type(loaded) is xgboost.XGBClassifier
    assert loaded.classes_.tolist() == model.classes_.tolist() == [0, 1, 2]
    assert loaded.feature_names_in_.tolist() == FEATURES
    # Constructor parameters come back, `missing` among them (it changes predictions).
    assert (loaded.n_estimators, loaded.max_depth, loaded.missing) == (5, 2, -1.0)
    with_missing = X.iloc[::15].copy()
    with_missing.iloc[0, 2] = -1.0
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(with_missing), model.predict_proba(with_missing))


def test_regressor_round_trip(tmp_path):
    X, y = diabetes()
    model = xgboost.XGBRegressor(n_estimators=8, max_depth=3).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert type(loaded) is xgboost.XGBRegressor
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_booster_round_trip_keeps_feature_names(tmp_path):
    X, _ = iris_frame()
    model = iris_booster()
    loaded = round_trip(model, tmp_path, model_format="json")
    assert type(loaded) is xgboost.Booster
    assert loaded.feature_names == FEATURES
    np.testing.assert_array_equal(loaded.inplace_predict(X), model.inplace_predict(X))


@pytest.mark.parametrize("cls", [xgboost.XGBRFClassifier, xgboost.XGBRanker])
def test_other_sklearn_style_models_round_trip(cls, tmp_path):
    X, y = iris_frame()
    if cls is xgboost.XGBRanker:
        model = cls(n_estimators=3).fit(X, (y == 2).astype(int), qid=np.arange(len(y)) // 10)
    else:
        model = cls(n_estimators=3, max_depth=2).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert type(loaded) is cls
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("model_format", ["ubj", "json"])
def test_saved_files_are_xgboost_format_and_json_never_pickle(model_format, tmp_path):
    XgboostModelArtifact("clf", model_format=model_format).pack(iris_classifier()).save(str(tmp_path))
    folder = tmp_path / "clf"
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"clf.{model_format}", "clf.meta.json"])
    meta = json.loads((folder / "clf.meta.json").read_text())
    assert meta["class"] == "xgboost.sklearn:XGBClassifier"
    assert meta["model_format"] == model_format and meta["params"]["n_estimators"] == 5
    data = (folder / f"clf.{model_format}").read_bytes()
    if model_format == "json":
        assert json.loads(data)["learner"]["feature_names"] == FEATURES
    else:
        assert data[:1] == b"{"  # UBJSON object marker
    # XGBoost reads the file on its own, without our metadata.
    assert xgboost.Booster(model_file=str(folder / f"clf.{model_format}")).feature_names == FEATURES
    for path in folder.iterdir():
        with pytest.raises(pickle.UnpicklingError):
            pickle.loads(path.read_bytes())


def test_loading_follows_the_saved_format(tmp_path):
    """A bundle saved as JSON loads through a declaration that says (by default) UBJSON."""
    XgboostModelArtifact("clf", model_format="json").pack(iris_classifier()).save(str(tmp_path))
    loaded = XgboostModelArtifact("clf", model_format="ubj").load(str(tmp_path)).get()
    assert type(loaded) is xgboost.XGBClassifier


def test_nthread_is_applied_on_load(tmp_path):
    """The training machine's n_jobs is not kept; the declaration's nthread is."""
    XgboostModelArtifact("clf").pack(iris_classifier(n_jobs=1)).save(str(tmp_path))
    XgboostModelArtifact("bst").pack(iris_booster()).save(str(tmp_path))

    def nthread(booster):
        return int(json.loads(booster.save_config())["learner"]["generic_param"]["nthread"])

    clf = XgboostModelArtifact("clf").load(str(tmp_path)).get()
    assert clf.n_jobs is None
    clf = XgboostModelArtifact("clf", nthread=2).load(str(tmp_path)).get()
    assert clf.n_jobs == 2 and nthread(clf.get_booster()) == 2
    assert nthread(XgboostModelArtifact("bst", nthread=3).load(str(tmp_path)).get()) == 3


def test_params_that_are_not_json_are_reported_not_pickled(tmp_path, caplog):
    X, y = diabetes()

    def squared_error(y_true, y_pred):
        return y_pred - y_true, np.ones_like(y_pred)

    model = xgboost.XGBRegressor(n_estimators=4, objective=squared_error).fit(X, y)
    with caplog.at_level(logging.WARNING, logger="bentoml_xgboost"):
        XgboostModelArtifact("reg").pack(model).save(str(tmp_path))
    assert "not saving objective" in caplog.text
    meta = json.loads((tmp_path / "reg" / "reg.meta.json").read_text())
    assert meta["params_not_saved"] == ["objective"] and "objective" not in meta["params"]
    loaded = XgboostModelArtifact("reg").load(str(tmp_path)).get()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_sklearn_style_models_also_pin_scikit_learn():
    assert XgboostModelArtifact("m").pack(iris_booster()).requirement_imports == ("xgboost",)
    assert XgboostModelArtifact("m").pack(iris_classifier()).requirement_imports == ("xgboost", "sklearn")
    assert XgboostModelArtifact.requirement_imports == ("xgboost",)  # what the kernel checks is installed


@pytest.mark.parametrize("wrong, message", [
    (xgboost.XGBClassifier, "got xgboost.sklearn.XGBClassifier (the class itself; pass a fitted instance)"),
    (xgboost.XGBClassifier(), "got an unfitted XGBClassifier; call fit() first"),
    ("model.json", "packs an xgboost.Booster or a fitted xgboost.XGBModel"),
])
def test_wrong_objects_are_refused_naming_the_problem(wrong, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        XgboostModelArtifact("model").pack(wrong)


@pytest.mark.parametrize("options, message", [
    ({"model_format": "pickle"}, "model_format=...) must be one of ('ubj', 'json'), got 'pickle'"),
    ({"nthread": 0}, "nthread=...) must be None or a positive int, got 0"),
    ({"nthread": True}, "nthread=...) must be None or a positive int, got True"),
])
def test_bad_options(options, message):
    with pytest.raises(InvalidArgument, match=re.escape(message)):
        XgboostModelArtifact("model", **options)


def test_broken_saved_artifact_is_a_clear_bundle_error(tmp_path):
    XgboostModelArtifact("clf").pack(iris_classifier()).save(str(tmp_path))
    meta_file = tmp_path / "clf" / "clf.meta.json"
    meta = json.loads(meta_file.read_text())

    meta_file.write_text(json.dumps(dict(meta, **{"class": "builtins:dict"})))
    with pytest.raises(BundleError, match="builtins:dict, which is not an xgboost.Booster"):
        XgboostModelArtifact("clf").load(str(tmp_path))

    meta_file.write_text(json.dumps(dict(meta, model_file="../../elsewhere.ubj")))
    with pytest.raises(BundleError, match="invalid model file"):
        XgboostModelArtifact("clf").load(str(tmp_path))

    meta_file.unlink()
    with pytest.raises(BundleError, match="clf.meta.json is missing"):
        XgboostModelArtifact("clf").load(str(tmp_path))
