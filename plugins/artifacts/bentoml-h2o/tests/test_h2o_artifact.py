"""H2oModelArtifact in this process: the artifact contract, saving and loading, the
pandas helper, configuration errors, and a bundle used by `bentoml run`."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import yaml

from bentoml.exceptions import BentoMLException, InvalidArgument
from bentoml.testing import ArtifactContract
from bentoml.testing.server import save_service_source
from bentoml_h2o import H2oModelArtifact, cluster, predict_dataframe
IRIS_COLUMNS = ["Sepal.Length", "Sepal.Width", "Petal.Length", "Petal.Width"]
SAMPLE_ROWS = [0, 60, 120]  # one of each species


def species(model, df) -> list:
    return predict_dataframe(model, df)["predict"].tolist()


class TestH2oArtifact(ArtifactContract):
    artifact_class = H2oModelArtifact
    distribution = "bentoml-h2o"
    framework_module = "h2o"
    expected_type = "ModelBase"

    @pytest.fixture(autouse=True)
    def _model(self, iris_gbm, iris_df):
        self._gbm, self._df = iris_gbm, iris_df

    def make_model(self):
        return self._gbm

    def sample_input(self):
        return self._df.loc[SAMPLE_ROWS, IRIS_COLUMNS]

    def predict(self, model, x):
        return species(model, x)


def test_seed_import_path_resolves(plugin_registry):
    from bentoml.artifact import H2oModelArtifact as resolved

    assert resolved is H2oModelArtifact


def test_round_trip_predicts_iris_species(iris_gbm, iris_df, tmp_path):
    H2oModelArtifact("clf").pack(iris_gbm).save(str(tmp_path))
    assert sorted(p.name for p in (tmp_path / "clf").iterdir()) == ["h2o_model.json", "model.h2o"]
    info = json.loads((tmp_path / "clf" / "h2o_model.json").read_text())
    assert info["model_id"] == iris_gbm.model_id and info["h2o_version"] == __import__("h2o").__version__
    loaded = H2oModelArtifact("clf").load(str(tmp_path)).get()
    assert loaded.model_id == iris_gbm.model_id
    assert species(loaded, iris_df.loc[SAMPLE_ROWS, IRIS_COLUMNS]) == \
        ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]


def test_remote_h2o_gets_the_model_over_http(iris_gbm, iris_df, tmp_path, monkeypatch):
    """An H2O on another machine cannot read the bundle: download_model/upload_model instead."""
    monkeypatch.setattr(cluster, "shares_our_files", lambda: False)
    H2oModelArtifact("clf").pack(iris_gbm).save(str(tmp_path))
    assert (tmp_path / "clf" / "model.h2o").stat().st_size > 0
    loaded = H2oModelArtifact("clf").load(str(tmp_path)).get()
    assert species(loaded, iris_df.loc[[0], IRIS_COLUMNS]) == ["Iris-setosa"]


@pytest.mark.filterwarnings("ignore::h2o.exceptions.H2ODependencyWarning")  # from h2o.ls()
def test_predict_dataframe_leaves_no_frames_behind(iris_gbm, iris_df):
    import h2o

    before = set(h2o.ls()["key"])
    result = predict_dataframe(iris_gbm, iris_df[IRIS_COLUMNS])
    assert len(result) == len(iris_df)
    assert list(result.columns) == ["predict", "Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert (result["predict"] == iris_df["Species"]).mean() > 0.9
    assert set(h2o.ls()["key"]) == before


@pytest.fixture(scope="module")
def coded_gbm(h2o_cluster):
    """A GBM whose categorical feature has numeric-looking levels ("1", "2", "3")."""
    import h2o
    import pandas as pd
    from h2o.estimators import H2OGradientBoostingEstimator

    df = pd.DataFrame({"x": [float(i % 7) for i in range(60)], "code": [str(1 + i % 3) for i in range(60)]})
    df["y"] = (df["code"] == "2").map({True: "yes", False: "no"})
    frame = h2o.H2OFrame(df, column_types={"code": "enum", "y": "enum"})
    model = H2OGradientBoostingEstimator(ntrees=3, max_depth=2, min_rows=1, seed=1)
    model.train(x=["x", "code"], y="y", training_frame=frame)
    h2o.remove(frame)
    return model


def test_predict_dataframe_uses_the_training_column_types(coded_gbm):
    """H2O would guess types from the batch alone: codes 1/2 as numbers, a column holding
    only a missing value as text, and fail on both; the training types make them score."""
    import pandas as pd

    batch = pd.DataFrame({"x": [None, 3.0], "code": [2, 1]})
    assert predict_dataframe(coded_gbm, batch)["predict"].tolist() == ["yes", "no"]
    assert len(predict_dataframe(coded_gbm, pd.DataFrame({"x": ["4"], "code": ["2"]}))) == 1


@pytest.mark.parametrize("rows, message", [
    ({"x": ["four"], "code": ["1"]}, "column 'x' must be numeric; got 'four'"),
    ({"unknown": [1.0]}, "missing columns 'x', 'code'; the H2O model was trained on 'x', 'code'"),
    ({"x": [1.0], "extra": [0]}, "missing columns 'code'"),  # H2O alone would score 'code' as NaN
])
def test_predict_dataframe_bad_input_is_named(coded_gbm, rows, message):
    import pandas as pd

    from bentoml.exceptions import BadInput

    with pytest.raises(BadInput, match=re.escape(message)) as info:
        predict_dataframe(coded_gbm, pd.DataFrame(rows))
    assert info.value.status == 400 and "stacktrace" not in str(info.value)


def test_untrained_estimator_and_class_are_refused():
    from h2o.estimators import H2OGradientBoostingEstimator

    with pytest.raises(InvalidArgument, match="has not been trained"):
        H2oModelArtifact("m").pack(H2OGradientBoostingEstimator(model_id="later"))
    with pytest.raises(InvalidArgument, match="ModelBase.*got h2o.estimators.gbm.H2OGradientBoostingEstimator"):
        H2oModelArtifact("m").pack(H2OGradientBoostingEstimator)


def test_model_saved_by_another_h2o_version_is_named(iris_gbm, tmp_path):
    H2oModelArtifact("clf").pack(iris_gbm).save(str(tmp_path))
    info_file = tmp_path / "clf" / "h2o_model.json"
    info = json.loads(info_file.read_text())
    info["h2o_version"] = "3.24.0.2"
    info_file.write_text(json.dumps(info))
    with pytest.raises(BentoMLException, match=r"H2O 3\.24\.0\.2 model .* version 3\.46.*h2o==3\.24\.0\.2"):
        H2oModelArtifact("clf").load(str(tmp_path))


def test_missing_model_info_is_a_bundle_error(tmp_path):
    (tmp_path / "clf").mkdir()
    with pytest.raises(BentoMLException, match="holds no readable H2O model"):
        H2oModelArtifact("clf").load(str(tmp_path))


@pytest.mark.parametrize("var, value, message", [
    (cluster.NTHREADS_ENV, "two", "number of threads"),
    (cluster.NTHREADS_ENV, "0", "number of threads"),
    (cluster.MAX_MEM_ENV, "lots", "at least 32M"),
    (cluster.MAX_MEM_ENV, "16M", "at least 32M"),
])
def test_bad_sizing_variables_are_named(monkeypatch, var, value, message):
    monkeypatch.setenv(var, value)
    with pytest.raises(InvalidArgument, match=f"{var}={value!r} is invalid.*{message}"):
        cluster.nthreads() if var == cluster.NTHREADS_ENV else cluster.max_mem_bytes()


def test_sizing_defaults_and_units(monkeypatch):
    monkeypatch.delenv(cluster.NTHREADS_ENV, raising=False)
    monkeypatch.delenv(cluster.MAX_MEM_ENV, raising=False)
    assert cluster.nthreads() == max(1, (os.cpu_count() or 2) // 2)
    assert cluster.max_mem_bytes() == 1 << 30
    monkeypatch.setenv(cluster.MAX_MEM_ENV, "512m")
    monkeypatch.setenv(cluster.NTHREADS_ENV, "-1")
    assert (cluster.max_mem_bytes(), cluster.nthreads()) == (512 << 20, -1)


# -- a bundle ------------------------------------------------------------------------------------
SERVICE_SOURCE = textwrap.dedent('''\
    """Iris species with an H2O GBM."""
    import bentoml
    from bentoml.adapters import DataframeInput
    from bentoml.artifact import H2oModelArtifact
    from bentoml_h2o import predict_dataframe


    @bentoml.env(pip_dependencies=["pandas"])
    @bentoml.artifacts([H2oModelArtifact("model")])
    class H2oIris(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            """Iris species."""
            return predict_dataframe(self.artifacts.model, df)["predict"]
    ''')


@pytest.fixture(scope="module")
def offline_bundle(iris_gbm, tmp_path_factory):
    target = tmp_path_factory.mktemp("h2o_offline") / "H2oIris"
    return save_service_source(SERVICE_SOURCE, "h2o_offline_service", "H2oIris", target, {"model": iris_gbm})


def test_bundle_asks_for_a_java_runtime_and_pins_h2o(offline_bundle):
    dockerfile = (offline_bundle / "Dockerfile").read_text()
    assert "apt-get install -y --no-install-recommends default-jre-headless" in dockerfile
    env = yaml.safe_load((offline_bundle / "environment.yml").read_text())
    assert "openjdk" in env["dependencies"]
    requirements = (offline_bundle / "requirements.txt").read_text().splitlines()
    assert f"h2o=={__import__('h2o').__version__}" in requirements


def test_bentoml_load_uses_this_sessions_h2o(offline_bundle, iris_df):
    import bentoml
    import h2o

    svc = bentoml.load(str(offline_bundle))
    assert h2o.connection().connected
    x = iris_df.loc[SAMPLE_ROWS, IRIS_COLUMNS]
    assert svc.predict(x).tolist() == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]


def test_bentoml_run_connects_to_the_configured_h2o_and_prints_only_the_result(offline_bundle, h2o_cluster):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML_") or k == "BENTOML_HOME"}
    env[cluster.URL_ENV] = h2o_cluster
    rows = json.dumps([dict(zip(IRIS_COLUMNS, [5.1, 3.5, 1.4, 0.2])), dict(zip(IRIS_COLUMNS, [6.3, 3.3, 6.0, 2.5]))])
    out = subprocess.run([sys.executable, "-m", "bentoml", "run", str(offline_bundle), "predict", "--input", rows],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    # nothing but the result on stdout; the API returns the frame's "predict" Series, which is
    # answered as records keyed by its name, as BentoML 0.8 answered it
    assert json.loads(out.stdout) == [{"predict": "Iris-setosa"}, {"predict": "Iris-virginica"}]
    assert "Traceback" not in out.stderr


def h2o_jvms() -> set:
    """pids of running H2O JVMs that h2o.init named (``-name H2O_from_python_...``)."""
    found = set()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"-name" in argv and argv[argv.index(b"-name") + 1].startswith(b"H2O_from_python"):
            found.add(int(entry))
    return found


def test_bentoml_run_without_an_h2o_starts_one_and_stops_it(offline_bundle):
    """No connection, no BENTOML_H2O_URL, nothing on 127.0.0.1:54321: h2o.init starts a
    local H2O, sized by BENTOML_H2O_*, and it is gone when the command exits."""
    import socket

    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", 54321)) == 0:
            pytest.skip("an H2O (or something else) listens on 127.0.0.1:54321; h2o.init would use it")
    before = h2o_jvms()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML_") or k == "BENTOML_HOME"}
    env.update({cluster.NTHREADS_ENV: "1", cluster.MAX_MEM_ENV: "512M"})
    out = subprocess.run([sys.executable, "-m", "bentoml", "run", str(offline_bundle), "predict",
                          "--input", json.dumps([dict(zip(IRIS_COLUMNS, [5.1, 3.5, 1.4, 0.2]))])],
                         capture_output=True, text=True, env=env, timeout=180)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"predict": "Iris-setosa"}]
    assert "Traceback" not in out.stderr
    assert h2o_jvms() == before, "the H2O that `bentoml run` started outlived it"


def test_unreachable_configured_h2o_is_named(offline_bundle):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENTOML_") or k == "BENTOML_HOME"}
    env[cluster.URL_ENV] = f"http://127.0.0.1:{port}"
    out = subprocess.run([sys.executable, "-m", "bentoml", "run", str(offline_bundle), "predict",
                          "--input", "[[5.1, 3.5, 1.4, 0.2]]"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode != 0
    assert f"cannot connect to the H2O at http://127.0.0.1:{port} (BENTOML_H2O_URL)" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


# The spec's "Conda Packages" example, verbatim after the imports it leaves out.
SPEC_SNIPPET = '''\
import bentoml
from bentoml.adapters import DataframeInput
from bentoml.artifact import H2oModelArtifact

@bentoml.artifacts([H2oModelArtifact('model')])
@bentoml.env(
  pip_dependencies=['pandas', 'h2o==3.24.0.2'],
  conda_channels=['h2oai'],
  conda_dependencies=['h2o==3.24.0.2']
)
class ExamplePredictionService(bentoml.BentoService):

  @bentoml.api(input=DataframeInput())
  def predict(self, df):
      return self.artifacts.model.predict(df)
'''


def test_spec_snippet_predicts_from_a_dataframe_as_written(iris_gbm, iris_df, tmp_path):
    """``self.artifacts.model.predict(df)`` with a pandas DataFrame works, packed and loaded."""
    import bentoml

    x = iris_df.loc[SAMPLE_ROWS, IRIS_COLUMNS]
    target = tmp_path / "ExamplePredictionService"
    save_service_source(SPEC_SNIPPET, "h2o_spec_snippet", "ExamplePredictionService", target,
                        {"model": iris_gbm})
    assert iris_gbm.predict(x)["predict"].tolist() == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    loaded = bentoml.load(str(target))
    out = loaded.predict(x)
    assert out["predict"].tolist() == ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
    assert len(out) == 3 and {"Iris-setosa", "Iris-versicolor", "Iris-virginica"} <= set(out.columns)
    from h2o.estimators import H2OGradientBoostingEstimator

    model = loaded.artifacts.model
    assert isinstance(model, H2OGradientBoostingEstimator)  # still H2O's own class...
    assert type(model).__name__ == "H2OGradientBoostingEstimator"  # ...under its own name
    env = yaml.safe_load((target / "environment.yml").read_text())
    assert "h2oai" in env["channels"] and "h2o==3.24.0.2" in env["dependencies"]
