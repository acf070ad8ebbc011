"""One Spark ``local[2]`` session for every test (4-7 s and ~470 MiB each), and the saved Bentos.

The Python workers are this interpreter (``PYSPARK_PYTHON``), as on a cluster
whose executors have the Bento's plugins installed.  Ports stay in 18250-18299.
"""
import os
import pathlib
import sys

import pytest

from bentoml.testing.services import service_module

IRIS_SOURCE = '''
import os

import bentoml
from bentoml.adapters import DataframeInput
from bentoml.artifact import SklearnModelArtifact

# Every import of this module (one per load of the Bento) leaves its process id here.
_log = os.environ.get("BENTOML_SPARK_TEST_LOAD_LOG")
if _log:
    with open(_log, "a") as f:
        f.write(f"{os.getpid()}\\n")


@bentoml.env(auto_pip_dependencies=True)
@bentoml.artifacts([SklearnModelArtifact("model")])
class IrisClassifier(bentoml.BentoService):

    @bentoml.api(input=DataframeInput())
    def predict(self, df):
        return self.artifacts.model.predict(df)

    @bentoml.api(input=DataframeInput())
    def proba(self, df):
        return self.artifacts.model.decision_function(df).round(6).tolist()
'''

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="session")
def load_log(tmp_path_factory):
    """The file each load of the test Bento appends its process id to (workers inherit the variable)."""
    path = tmp_path_factory.mktemp("loads") / "loads.txt"
    os.environ["BENTOML_SPARK_TEST_LOAD_LOG"] = str(path)
    yield path
    os.environ.pop("BENTOML_SPARK_TEST_LOAD_LOG", None)


@pytest.fixture(scope="session")
def spark(tmp_path_factory, load_log):
    """The one SparkSession of the test run: local[2], no UI, loopback only."""
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"  # the CLI's own sessions in these tests too
    session = (SparkSession.builder.master("local[2]").appName("bentoml-deployer-spark tests")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.driver.port", "18250").config("spark.blockManager.port", "18260")
               .config("spark.port.maxRetries", "9")
               .config("spark.sql.shuffle.partitions", "2").config("spark.driver.memory", "1g")
               .config("spark.local.dir", str(tmp_path_factory.mktemp("spark-local")))
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def iris():
    """The iris data set as a pandas DataFrame of the four feature columns, and its labels."""
    from sklearn import datasets

    features, labels = datasets.load_iris(return_X_y=True, as_frame=True)
    features.columns = FEATURES
    return features, labels


def _save_iris(tmp_path_factory, name: str, model, **pack) -> pathlib.Path:
    """The IrisClassifier above, packed with ``model``, saved under a new temporary folder ``name``."""
    base = tmp_path_factory.mktemp(name)
    with service_module(IRIS_SOURCE, f"spark_{name.replace('-', '_')}_service", base / "src") as module:
        service = module.IrisClassifier()
        service.pack("model", model, **pack)
        return pathlib.Path(service.save_to_dir(str(base / f"IrisClassifier-{name}"), version="1"))


@pytest.fixture(scope="session")
def iris_bundle(tmp_path_factory, iris, load_log):
    """A saved IrisClassifier (the spec's SVC, fitted on arrays as the spec's is) with two APIs:
    ``predict`` (labels), ``proba`` (decision values, lists)."""
    from sklearn import svm

    features, labels = iris
    path = _save_iris(tmp_path_factory, "iris", svm.SVC(gamma="scale").fit(features.to_numpy(), labels))
    load_log.write_text("")  # saving imported nothing from the bundle; start counting from here
    return path


@pytest.fixture(scope="session")
def iris_bundle_with_example(tmp_path_factory, iris, load_log):
    """The same service packed with ``input_example=`` (its first rows): the Bento records a schema."""
    from sklearn import svm

    features, labels = iris
    return _save_iris(tmp_path_factory, "iris-example", svm.SVC(gamma="scale").fit(features, labels),
                      input_example=features.head(3))
