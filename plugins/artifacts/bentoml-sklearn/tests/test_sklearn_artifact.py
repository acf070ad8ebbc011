import warnings

import numpy as np
import pytest
from sklearn import datasets, svm
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from bentoml.exceptions import InvalidArgument
from bentoml.testing import ArtifactContract
from bentoml_sklearn import SklearnModelArtifact


def iris_svc():
    iris = datasets.load_iris()
    return svm.SVC(gamma="scale").fit(iris.data, iris.target)


class TestSklearnArtifact(ArtifactContract):
    artifact_class = SklearnModelArtifact
    distribution = "bentoml-sklearn"
    framework_module = "sklearn"
    expected_type = "BaseEstimator"

    def make_model(self):
        return iris_svc()

    def sample_input(self):
        return datasets.load_iris().data[::10]

    def predict(self, model, x):
        return model.predict(x)


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.artifact import SklearnModelArtifact as resolved

    assert resolved is SklearnModelArtifact


def test_saves_joblib_file_named_after_artifact(tmp_path):
    SklearnModelArtifact("clf").pack(iris_svc()).save(str(tmp_path))
    assert [p.name for p in (tmp_path / "clf").iterdir()] == ["clf.pkl"]


def test_custom_pickle_extension(tmp_path):
    artifact = SklearnModelArtifact("clf", pickle_extension=".joblib").pack(iris_svc())
    artifact.save(str(tmp_path))
    assert (tmp_path / "clf" / "clf.joblib").is_file()
    loaded = SklearnModelArtifact("clf", pickle_extension=".joblib").load(str(tmp_path)).get()
    assert loaded.predict([[5.1, 3.5, 1.4, 0.2]]).tolist() == [0]


def test_bad_pickle_extension():
    with pytest.raises(InvalidArgument, match="must start with '.'"):
        SklearnModelArtifact("clf", pickle_extension="pkl")


def test_pipeline_and_transformer_pack(tmp_path):
    iris = datasets.load_iris()
    pipe = make_pipeline(StandardScaler(), svm.SVC()).fit(iris.data, iris.target)
    SklearnModelArtifact("pipe").pack(pipe).save(str(tmp_path))
    loaded = SklearnModelArtifact("pipe").load(str(tmp_path)).get()
    np.testing.assert_array_equal(loaded.predict(iris.data), pipe.predict(iris.data))
    # A fitted transformer is an estimator without predict: still accepted.
    SklearnModelArtifact("scaler").pack(StandardScaler().fit(iris.data))


def test_quickstart_prediction_from_values_dataframe():
    pd = pytest.importorskip("pandas")
    model = iris_svc()
    df = pd.DataFrame([[5.1, 3.5, 1.4, 0.2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.predict(df).tolist() == [0]


def test_estimator_class_instead_of_instance_is_rejected():
    """Packing the class ``svm.SVC`` (it has a ``predict`` attribute) names the mistake."""
    from sklearn import svm

    from bentoml.exceptions import InvalidArgument
    from bentoml_sklearn import SklearnModelArtifact

    with pytest.raises(InvalidArgument, match="sklearn.svm._classes.SVC .*pass a fitted instance"):
        SklearnModelArtifact("model").pack(svm.SVC)


def test_a_dict_of_estimators_is_one_artifact_and_a_stray_value_is_named(tmp_path):
    """BentoML 0.x services packed several models in one artifact (``self.artifacts.model["svc"]``)."""
    from sklearn import datasets, svm, tree

    from bentoml.exceptions import InvalidArgument
    from bentoml_sklearn import SklearnModelArtifact

    iris = datasets.load_iris()
    models = {"svc": svm.SVC().fit(iris.data, iris.target),
              "tree": tree.DecisionTreeClassifier(random_state=0).fit(iris.data, iris.target)}
    artifact = SklearnModelArtifact("model")
    artifact.pack(models)
    artifact.save(str(tmp_path))
    loaded = SklearnModelArtifact("model").load(str(tmp_path)).get()
    assert sorted(loaded) == ["svc", "tree"]
    assert loaded["tree"].predict(iris.data[:1]).tolist() == [0]
    with pytest.raises(InvalidArgument, match="or a dict, list or tuple of them; got builtins.str"):
        SklearnModelArtifact("model").pack({"svc": models["svc"], "notes": "not a model"})
