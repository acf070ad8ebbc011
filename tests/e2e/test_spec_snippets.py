"""The spec's ("Core Concepts") Python snippets, run as written against real sklearn models.

Each snippet below is the spec's text, dedented and otherwise unchanged.  Where a
snippet cannot run on its own, the test adds what it needs around it and says so
in a comment: a PRELUDE of imports the snippet assumes (``import bentoml``,
``from bentoml import artifacts``...), stand-ins for the spec's placeholders
(``my_lib``, ``input_data``, ``my_sklearn_model_object``), and an EPILOGUE
after the class when the snippet uses ``self.artifacts.model`` without
declaring it.  The only edit inside a snippet is the typo ``json-arr`` (see
``test_service_with_multiple_apis``).
"""
from __future__ import annotations

import json
import os
import pathlib
import textwrap

import importlib_metadata
import pytest
import yaml

import bentoml

SETOSA_ROW = [5.1, 3.5, 1.4, 0.2]
SETOSA_JSON = "[[5.1, 3.5, 1.4, 0.2]]"  # the spec's --input='[[5.1, 3.5, 1.4, 0.2]]'


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def requirement_lines(bundle: str) -> list:
    text = pathlib.Path(bundle, "requirements.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith(("#", "-"))]


def bundle_yml(bundle: str) -> dict:
    return yaml.safe_load(pathlib.Path(bundle, "bentoml.yml").read_text())


def dockerfile_from(bundle: str) -> str:
    lines = pathlib.Path(bundle, "Dockerfile").read_text().splitlines()
    return next(line for line in lines if line.startswith("FROM "))


# == Creating BentoService ========================================================
def test_creating_bentoservice_snippet(spec_saved, saved_path, iris, iris_clf):
    """The spec's IrisClassifier plus its training/pack/predict/save snippet, run as written."""
    svc = spec_saved["iris_classifier_service"]
    assert list(svc.predict([SETOSA_ROW])) == [0]
    assert list(svc.predict(iris.data)) == list(iris_clf.predict(iris.data))
    # save() returned the bundle's directory in the repository, named NAME/VERSION.
    path = pathlib.Path(saved_path)
    assert path.is_dir() and path.parent.name == "IrisClassifier"
    assert path.parent.parent == pathlib.Path(os.environ["BENTOML_HOME"]) / "repository"
    assert path.name == svc.version
    assert len(svc.version) == len("20200121114004_360ECB") and svc.version[14] == "_"
    for name in ("bentoml.yml", "requirements.txt", "environment.yml", "setup.py", "Dockerfile",
                 "docker-entrypoint.sh", "IrisClassifier/src/iris_classifier.py",
                 "IrisClassifier/artifacts/model"):
        assert (path / name).exists(), name
    meta = bundle_yml(saved_path)
    assert meta["name"] == "IrisClassifier" and meta["version"] == svc.version
    assert [a["name"] for a in meta["artifacts"]] == ["model"]
    assert [(a["name"], a["input_type"]) for a in meta["apis"]] == [("predict", "DataframeInput")]


def test_service_class_in_main_is_refused(iris_clf):
    """The spec's note: a BentoService class cannot be defined in ``__main__``."""
    from bentoml.adapters import DataframeInput
    from bentoml.artifact import SklearnModelArtifact

    @bentoml.artifacts([SklearnModelArtifact("model")])
    class InMain(bentoml.BentoService):
        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            return self.artifacts.model.predict(df)

    InMain.__module__ = "__main__"
    svc = InMain().pack("model", iris_clf)
    from bentoml.exceptions import InvalidArgument

    with pytest.raises(InvalidArgument, match="__main__"):
        svc.save()


# == Defining Service Environment =================================================
ENV_AUTO = dedent('''
    @bentoml.env(auto_pip_dependencies=True)
    class ExamplePredictionService(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            return self.artifacts.model.predict(df)
    ''')

ENV_PIP = dedent('''
    @bentoml.env(
      pip_dependencies=['scikit-learn']
    )
    class ExamplePredictionService(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            return self.artifacts.model.predict(df)
    ''')

# Added imports the spec's environment snippets assume.
PRELUDE_BENTOML_DF = "import bentoml\nfrom bentoml.adapters import DataframeInput\n\n"
# Added after the class: declares the `model` artifact the snippet's API uses.
EPILOGUE_MODEL = ("\n# added: the artifact `self.artifacts.model` refers to\n"
                  "from bentoml.artifact import SklearnModelArtifact\n"
                  "ExamplePredictionService = bentoml.artifacts([SklearnModelArtifact('model')])"
                  "(ExamplePredictionService)\n")


def test_auto_pip_dependencies_pins_what_is_installed(write_service, saved_path, tmp_path):
    # The spec's IrisClassifier (auto_pip_dependencies=True): scikit-learn pinned as installed.
    reqs = requirement_lines(saved_path)
    assert f"scikit-learn=={importlib_metadata.version('scikit-learn')}" in reqs
    assert f"pandas=={importlib_metadata.version('pandas')}" in reqs
    # Our kernel and plugins install from the bundle's own wheels, pinned exactly.
    wheels = sorted(os.listdir(pathlib.Path(saved_path, "wheels")))
    assert "bentoml-2.0.0.dev0-py3-none-any.whl" in wheels
    assert any(w.startswith("bentoml_sklearn-") for w in wheels)
    assert "bentoml==2.0.0.dev0" in pathlib.Path(saved_path, "requirements.txt").read_text().splitlines()

    # The spec's ExamplePredictionService snippet, as written (imports added).
    module = write_service(PRELUDE_BENTOML_DF + ENV_AUTO, "auto_env_service")
    svc = module.ExamplePredictionService()
    bundle = svc.save_to_dir(str(tmp_path / "bundle"))
    assert f"pandas=={importlib_metadata.version('pandas')}" in requirement_lines(bundle)
    assert bundle_yml(bundle)["env"]["pip_requirements"] == ["pandas==" + importlib_metadata.version("pandas")]


def test_pip_dependencies_listed_manually(write_service, iris_clf, iris, tmp_path, cli):
    module = write_service(PRELUDE_BENTOML_DF + ENV_PIP + EPILOGUE_MODEL, "pip_env_service")
    svc = module.ExamplePredictionService()
    svc.pack("model", iris_clf)
    bundle = svc.save_to_dir(str(tmp_path / "bundle"))
    reqs = requirement_lines(bundle)
    assert "scikit-learn" in reqs  # as the user wrote it, not re-pinned
    assert not any(r.startswith("scikit-learn==") for r in reqs)
    assert json.loads(cli("run", bundle, "predict", f"--input={SETOSA_JSON}").stdout) == [0]


def test_requirements_txt_file_relative_to_module(write_service, iris_clf, tmp_path, monkeypatch):
    # `@bentoml.env(requirements_txt_file='./requirements.txt')`, as the spec writes it; the
    # class around it is the spec's ExamplePredictionService.  The path is relative to the
    # module's file, not to the working directory.
    source = PRELUDE_BENTOML_DF + dedent('''
        @bentoml.env(requirements_txt_file='./requirements.txt')
        class ExamplePredictionService(bentoml.BentoService):

            @bentoml.api(input=DataframeInput())
            def predict(self, df):
                return self.artifacts.model.predict(df)
        ''') + EPILOGUE_MODEL
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "requirements.txt").write_text("not-this-one==1.0\n")
    monkeypatch.chdir(elsewhere)
    module = write_service(source, "req_file_service", files={
        "requirements.txt": "# serving needs\nscikit-learn>=1.0\nrequests==2.31.0\n"})
    svc = module.ExamplePredictionService().pack("model", iris_clf)
    bundle = svc.save_to_dir(str(tmp_path / "bundle"))
    reqs = requirement_lines(bundle)
    assert "scikit-learn>=1.0" in reqs and "requests==2.31.0" in reqs
    assert not any("not-this-one" in r for r in reqs)


H2O_SNIPPET = dedent('''
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
    ''')


def test_conda_h2o_snippet_names_the_missing_plugin(write_service, monkeypatch, plugin_registry):
    """Without the H2O plugin, the snippet fails at its import with an error naming `bentoml-h2o`.

    (Disabled explicitly, so this holds whether or not bentoml-h2o is installed.)
    """
    monkeypatch.setenv("BENTOML_DISABLE_PLUGINS", "bentoml-h2o")
    # Added imports: bentoml, DataframeInput, and H2oModelArtifact (the one that fails).
    prelude = PRELUDE_BENTOML_DF + "from bentoml.artifact import H2oModelArtifact\n\n"
    with pytest.raises(ImportError, match="bentoml-h2o") as excinfo:
        write_service(prelude + H2O_SNIPPET, "h2o_service")
    assert "pip install -e '" in str(excinfo.value) and "plugins/artifacts/bentoml-h2o'" in str(excinfo.value)


DOCKER_SLIM_CONDA = dedent('''
    @bentoml.env(
      pip_dependencies=['pandas'],
      conda_channels=['h2oai'],
      conda_dependencies=['h2o==3.24.0.2'],
      docker_base_image="bentoml/model-server:0.8.12-slim-py37"
    )
    class ExamplePredictionService(bentoml.BentoService):
      ...
    ''')


def test_conda_settings_and_slim_base_image(write_service, tmp_path):
    # The spec's second "other Docker base images" snippet; added: `import bentoml`.
    module = write_service("import bentoml\n\n" + DOCKER_SLIM_CONDA, "slim_conda_service")
    bundle = module.ExamplePredictionService().save_to_dir(str(tmp_path / "bundle"))
    env = yaml.safe_load(pathlib.Path(bundle, "environment.yml").read_text())
    assert env["channels"][0] == "h2oai"
    assert "h2o==3.24.0.2" in env["dependencies"]
    assert "pandas" in requirement_lines(bundle)
    assert dockerfile_from(bundle) == "FROM bentoml/model-server:0.8.12-slim-py37"


DOCKER_BASE_IMAGE = dedent('''
    # e.g. using BentoML slim image
    @env(docker_base_image="bentoml/model-server:0.8.12-slim-py37")
    @artifacts([SklearnModelArtifact('model')])
    class ExamplePredictionService(BentoService):
      ...
    ''')


def test_docker_base_image_in_dockerfile(write_service, iris_clf, tmp_path):
    # Added imports: `from bentoml import env, artifacts, BentoService` and SklearnModelArtifact.
    prelude = ("from bentoml import BentoService, artifacts, env\n"
               "from bentoml.artifact import SklearnModelArtifact\n\n")
    module = write_service(prelude + DOCKER_BASE_IMAGE, "docker_base_service")
    svc = module.ExamplePredictionService()
    svc.pack("model", iris_clf)
    bundle = svc.save_to_dir(str(tmp_path / "bundle"))
    assert dockerfile_from(bundle) == "FROM bentoml/model-server:0.8.12-slim-py37"
    assert bundle_yml(bundle)["env"]["docker_base_image"] == "bentoml/model-server:0.8.12-slim-py37"


SETUP_SH_FILE = dedent('''
    @bentoml.env(
        auto_pip_dependencies=True,
        setup_sh="./my_init_script.sh"
    )
    class ExamplePredictionService(bentoml.BentoService):
        ...
    ''')

SETUP_SH_INLINE = dedent('''
    @bentoml.env(
        auto_pip_dependencies=True,
        setup_sh="""\\
    #!/bin/bash
    set -e

    apt-get install --no-install-recommends nvidia-driver-430
    ...
      """
    )
    class ExamplePredictionService(bentoml.BentoService):
        ...
    ''')


def test_init_bash_script(write_service, tmp_path):
    # The spec's two "Init Bash Script" snippets; added: `import bentoml`.
    script = "#!/bin/bash\nset -e\necho from-my-init-script\n"
    module = write_service("import bentoml\n\n" + SETUP_SH_FILE, "setup_sh_file_service",
                           files={"my_init_script.sh": script})
    bundle = module.ExamplePredictionService().save_to_dir(str(tmp_path / "b1"))
    assert pathlib.Path(bundle, "setup.sh").read_text() == script
    assert "RUN bash -e ./setup.sh" in pathlib.Path(bundle, "Dockerfile").read_text()

    module = write_service("import bentoml\n\n" + SETUP_SH_INLINE, "setup_sh_inline_service")
    bundle = module.ExamplePredictionService().save_to_dir(str(tmp_path / "b2"))
    text = pathlib.Path(bundle, "setup.sh").read_text()
    assert text.startswith("#!/bin/bash\nset -e\n")
    assert "apt-get install --no-install-recommends nvidia-driver-430" in text
    assert os.access(pathlib.Path(bundle, "setup.sh"), os.X_OK)


# == Packaging Model Artifacts ====================================================
MULTI_ARTIFACT = dedent('''
    import bentoml
    from bentoml.adapters import DataframeInput
    from bentoml.artifact import SklearnModelArtifact, XgboostModelArtifact

    @bentoml.env(auto_pip_dependencies=True)
    @artifacts([
        SklearnModelArtifact("model_a"),
        XgboostModelArtifact("model_b")
    ])
    class MyPredictionService(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            # assume the output of model_a will be the input of model_b in this example:
            df = self.artifacts.model_a.predict(df)

            return self.artifacts.model_b.predict(df)
    ''')

MULTI_ARTIFACT_SAVE = dedent('''
    svc = MyPredictionService()
    svc.pack('model_a', my_sklearn_model_object)
    svc.pack('model_b', my_xgboost_model_object)
    svc.save()
    ''')

# Added import: the snippet uses `@artifacts` without the `bentoml.` prefix.
PRELUDE_ARTIFACTS = "from bentoml import artifacts\n\n"


def test_two_artifact_snippet_names_missing_xgboost_plugin(write_service, monkeypatch, plugin_registry):
    """Without the XGBoost plugin, the snippet's import fails naming `bentoml-xgboost`."""
    monkeypatch.setenv("BENTOML_DISABLE_PLUGINS", "bentoml-xgboost")
    with pytest.raises(ImportError, match="bentoml-xgboost") as excinfo:
        write_service(PRELUDE_ARTIFACTS + MULTI_ARTIFACT, "multi_artifact_service")
    assert "pip install -e '" in str(excinfo.value) and "plugins/artifacts/bentoml-xgboost'" in str(excinfo.value)
    # The sklearn half of the import resolves: only the missing plugin is named.
    from bentoml.artifact import SklearnModelArtifact  # noqa: F401


def test_two_artifact_snippet_with_xgboost(write_service, iris, bentoml_home, cli):
    """The full snippet with real models: saved, loaded back, and run from the CLI."""
    # The `core` tox environment has neither; the plugin's own and `all` environments run this.
    pytest.importorskip("bentoml_xgboost", reason="bentoml-xgboost is not installed")
    xgboost = pytest.importorskip("xgboost", reason="XGBoost (xgboost-cpu or xgboost) is not installed")
    from sklearn.neighbors import KNeighborsRegressor

    # Stand-ins for the spec's placeholders: model_a maps iris rows to two features
    # (a 2-D predict output, so it can feed model_b), model_b classifies those.
    two_features = iris.data[:, 2:4]
    my_sklearn_model_object = KNeighborsRegressor(n_neighbors=3).fit(iris.data, two_features)
    my_xgboost_model_object = xgboost.XGBClassifier(n_estimators=10).fit(
        my_sklearn_model_object.predict(iris.data), iris.target)
    module = write_service(PRELUDE_ARTIFACTS + MULTI_ARTIFACT, "multi_artifact_service")
    namespace = {"MyPredictionService": module.MyPredictionService,
                 "my_sklearn_model_object": my_sklearn_model_object,
                 "my_xgboost_model_object": my_xgboost_model_object}
    exec(compile(MULTI_ARTIFACT_SAVE, "<spec: Packaging Model Artifacts>", "exec"), namespace)
    loaded = bentoml.load("MyPredictionService:latest")
    import pandas as pd

    expected = my_xgboost_model_object.predict(my_sklearn_model_object.predict(iris.data))
    assert list(loaded.predict(pd.DataFrame(iris.data))) == list(expected)
    assert type(loaded.artifacts.model_b) is xgboost.XGBClassifier

    # The bundle: both artifacts declared, XGBoost in its own format, the installed
    # XGBoost distribution pinned (xgboost-cpu or xgboost, whichever this machine has).
    bundle = bentoml_home / "repository" / "MyPredictionService" / loaded.version
    assert [(a["name"], a["artifact_type"]) for a in bundle_yml(str(bundle))["artifacts"]] == [
        ("model_a", "SklearnModelArtifact"), ("model_b", "XgboostModelArtifact")]
    assert sorted(p.name for p in (bundle / "MyPredictionService" / "artifacts" / "model_b").iterdir()) == [
        "model_b.meta.json", "model_b.ubj"]
    (xgboost_dist,) = importlib_metadata.packages_distributions()["xgboost"]
    reqs = requirement_lines(str(bundle))
    assert f"{xgboost_dist}=={importlib_metadata.version(xgboost_dist)}" in reqs
    assert f"scikit-learn=={importlib_metadata.version('scikit-learn')}" in reqs

    # As a user runs it, in a fresh process.
    out = cli("run", "MyPredictionService:latest", "predict", f"--input={SETOSA_JSON}")
    assert json.loads(out.stdout) == [int(expected[0])]


# == API Function and Adapters ====================================================
DATAFRAME_ASSERT = dedent('''
    class ExamplePredictionService(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            assert type(df) == pandas.core.frame.DataFrame
            return postprocessing(model_output)
    ''')


def test_dataframe_input_passes_a_dataframe(write_service, tmp_path, cli_many):
    # Added: imports, and stand-ins for the snippet's undefined `postprocessing` and
    # `model_output` (one fixed result, so each call must be given one row).
    prelude = dedent('''
        import bentoml
        import pandas
        from bentoml.adapters import DataframeInput

        # stand-ins for the spec's placeholders
        model_output = ["a DataFrame arrived"]

        def postprocessing(output):
            return list(output)

        ''')
    module = write_service(prelude + DATAFRAME_ASSERT, "df_assert_service")
    bundle = module.ExamplePredictionService().save_to_dir(str(tmp_path / "bundle"))
    (tmp_path / "one.csv").write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    # JSON text and a CSV file both reach the API as one pandas DataFrame (in a fresh process).
    values = (SETOSA_JSON, '[{"a": 1, "b": "x"}]', str(tmp_path / "one.csv"))
    for value, proc in zip(values, cli_many([("run", bundle, "predict", f"--input={v}") for v in values])):
        assert json.loads(proc.stdout) == ["a DataFrame arrived"], value


MY_LIB = dedent('''
    """Stand-in for the spec's `my_lib`: a user's local helper module."""
    FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    LABELS = ["setosa", "versicolor", "virginica"]
    _PROFILES = {1: "gold", 2: "silver"}


    def fetch_user_profile_from_database(user_ids):
        return user_ids.map(lambda i: _PROFILES.get(int(i), "none"))


    def preprocessing(df):
        return df[FEATURES].to_numpy()


    def postprocessing(model_output):
        return [LABELS[int(i)] for i in model_output]


    def process_custom_json_format(json_arr):
        return [[doc[name] for name in FEATURES] for doc in json_arr]
    ''')

PREPROCESSING = dedent('''
    from my_lib import preprocessing, postprocessing, fetch_user_profile_from_database

    class ExamplePredictionService(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df):
            user_profile_column = fetch_user_profile_from_database(df['user_id'])
            df['user_profile'] = user_profile_column
            model_input = preprocessing(df)
            model_output = self.artifacts.model.predict(model_input)
            return postprocessing(model_output)
    ''')


def test_local_module_preprocessing_travels_with_the_bundle(write_service, iris_clf, tmp_path, cli):
    module = write_service(PRELUDE_BENTOML_DF + PREPROCESSING + EPILOGUE_MODEL, "preprocessing_service",
                           files={"my_lib.py": MY_LIB})
    svc = module.ExamplePredictionService().pack("model", iris_clf)
    bundle = svc.save_to_dir(str(tmp_path / "bundle"))
    src = pathlib.Path(bundle, "ExamplePredictionService", "src")
    assert (src / "my_lib.py").read_text() == MY_LIB
    assert (src / "preprocessing_service.py").exists()
    # The user's source tree goes away: the bundle's own copy of my_lib is what runs.
    for py in pathlib.Path(module.__file__).parent.glob("*.py"):
        py.unlink()
    rows = [{"user_id": 1, "sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
            {"user_id": 2, "sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}]
    out = cli("run", bundle, "predict", f"--input={json.dumps(rows)}", cwd=tmp_path).stdout
    assert json.loads(out) == ["setosa", "virginica"]
    import pandas as pd

    loaded = bentoml.load(bundle)
    assert loaded.predict(pd.DataFrame(rows)) == ["setosa", "virginica"]


MULTIPLE_APIS = dedent('''
    from my_lib import process_custom_json_format

    class ExamplePredictionService(bentoml.BentoService):

        @bentoml.api(input=DataframeInput())
        def predict(self, df: pandas.Dataframe):
            return self.artifacts.model.predict(df)

        @bentoml.api(input=JsonInput())
        def predict_json(self, json_arr):
            df = process_custom_json_format(json-arr)
            return self.artifacts.model.predict(df)
    ''')


def test_service_with_multiple_apis(write_service, iris_clf, tmp_path, cli_many):
    # Added: `from __future__ import annotations` (so the spec's `pandas.Dataframe`
    # annotation stays a string, as written), imports, and the my_lib stand-in.
    # The one edit in the snippet: its typo `json-arr` (json minus arr) -> `json_arr`.
    snippet = MULTIPLE_APIS.replace("process_custom_json_format(json-arr)",
                                    "process_custom_json_format(json_arr)")
    prelude = ("from __future__ import annotations\n\nimport bentoml\nimport pandas\n"
               "from bentoml.adapters import DataframeInput, JsonInput\n\n")
    module = write_service(prelude + snippet + EPILOGUE_MODEL, "multi_api_service",
                           files={"my_lib.py": MY_LIB})
    svc = module.ExamplePredictionService().pack("model", iris_clf)
    doc = {"sepal_length": 6.7, "sepal_width": 3.0, "petal_length": 5.2, "petal_width": 2.3}
    assert list(svc.predict_json([doc])) == [2]
    bundle = svc.save_to_dir(str(tmp_path / "bundle"))
    assert [(a["name"], a["input_type"]) for a in bundle_yml(bundle)["apis"]] == [
        ("predict", "DataframeInput"), ("predict_json", "JsonInput")]
    by_df, by_json, spec_out = cli_many([("run", bundle, "predict", f"--input={SETOSA_JSON}"),
                                         ("run", bundle, "predict_json", f"--input={json.dumps(doc)}"),
                                         ("open-api-spec", bundle)])
    assert by_df.stdout == "[0]\n"
    assert by_json.stdout == "2\n"  # JsonInput: one document per request, answered with its one result
    spec = json.loads(spec_out.stdout)
    assert {"/predict", "/predict_json"} <= set(spec["paths"])


# == Saving BentoService ==========================================================
SAVING_SNIPPET = dedent('''
    from sklearn import svm
    from sklearn import datasets

    # 1. Model training
    clf = svm.SVC(gamma='scale')
    iris = datasets.load_iris()
    X, y = iris.data, iris.target
    clf.fit(X, y)

    # 2. Create BentoService instance
    iris_classifier_service = IrisClassifier()

    # 3. Pack trained model artifacts
    iris_classifier_service.pack("model", clf)

    # 4. Save
    saved_path = iris_classifier_service.save()
    ''')


def test_saving_bentoservice_snippet(IrisClassifier, bentoml_home, cli):
    namespace = {"IrisClassifier": IrisClassifier}
    exec(compile(SAVING_SNIPPET, "<spec: Saving BentoService>", "exec"), namespace)
    saved_path = namespace["saved_path"]
    version = namespace["iris_classifier_service"].version
    assert saved_path == str(bentoml_home / "repository" / "IrisClassifier" / version)
    # BentoML keeps track of it: listed, and NAME:latest resolves to it.
    assert f"IrisClassifier:{version}" in cli("list").stdout
    assert json.loads(cli("get", "IrisClassifier:latest", "-q").stdout)["uri"]["uri"] == saved_path
    assert (bentoml_home / "storage.db").is_file()


def test_save_to_dir_then_load_is_the_same_service(IrisClassifier, iris_clf, iris, tmp_path):
    """"How Save Works": save_to_dir(path) and bentoml.load(path) give the same service back."""
    svc = IrisClassifier().pack("model", iris_clf)
    path = svc.save_to_dir(str(tmp_path / "bundle"))
    loaded = bentoml.load(path)
    assert loaded.name == "IrisClassifier" and loaded.version == svc.version
    assert list(loaded.predict(iris.data)) == list(svc.predict(iris.data))
    # save_to_dir does not register the bundle in the repository.
    from bentoml.repository import get_repository

    assert svc.version not in {r.version for r in get_repository().list(name="IrisClassifier")}


# == Programmatic Access ==========================================================
LOAD_SNIPPET = dedent('''
    import bentoml

    bento_service = bentoml.load(saved_path)
    result = bento_service.predict(input_data)
    ''')


def test_programmatic_access_bentoml_load(saved_path, iris, iris_clf):
    # Stand-in for the spec's `input_data`: the iris feature rows.
    namespace = {"saved_path": saved_path, "input_data": iris.data}
    exec(compile(LOAD_SNIPPET, "<spec: Programmatic Access>", "exec"), namespace)
    assert list(namespace["result"]) == list(iris_clf.predict(iris.data))
    loaded = namespace["bento_service"]
    assert loaded.version == pathlib.Path(saved_path).name
    # Also by name, as every command accepts it.
    assert bentoml.load("IrisClassifier:latest").version == loaded.version
    assert bentoml.load(f"IrisClassifier:{loaded.version}").version == loaded.version


# == Command-Line Access ==========================================================
@pytest.fixture(scope="module")
def iris_test_files(tmp_path_factory, iris):
    """./iris_test_data.csv (with a header row) and ./iris_test_data.json: rows 0, 50, 100."""
    directory = tmp_path_factory.mktemp("cli_inputs")
    rows = iris.data[[0, 50, 100]].tolist()
    header = "sepal_length,sepal_width,petal_length,petal_width"
    (directory / "iris_test_data.csv").write_text(
        header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    (directory / "iris_test_data.json").write_text(json.dumps(rows))
    return directory, rows


def test_run_by_name_and_version(saved_path, cli_many):
    version = pathlib.Path(saved_path).name
    latest, by_version = cli_many([
        # bentoml run IrisClassifier:latest predict --input='[[5.1, 3.5, 1.4, 0.2]]'
        ("run", "IrisClassifier:latest", "predict", f"--input={SETOSA_JSON}"),
        ("run", f"IrisClassifier:{version}", "predict", "--input", SETOSA_JSON)])
    assert latest.stdout == "[0]\n"
    assert by_version.stdout == "[0]\n"


def test_run_with_csv_and_json_files(saved_path, iris_test_files, iris_clf, cli_many):
    directory, rows = iris_test_files
    expected = [int(v) for v in iris_clf.predict(rows)]
    assert expected == [0, 1, 2]
    from_csv, from_json = cli_many([
        # bentoml run IrisClassifier:latest predict --input='./iris_test_data.csv'
        ("run", "IrisClassifier:latest", "predict", "--input=./iris_test_data.csv"),
        ("run", "IrisClassifier:latest", "predict", "--input=./iris_test_data.json")], cwd=directory)
    assert json.loads(from_csv.stdout) == expected
    assert json.loads(from_json.stdout) == expected


def test_run_by_saved_path(saved_path, iris_test_files, cli_many):
    directory, _rows = iris_test_files
    literal, from_csv = cli_many([
        # bentoml run $saved_path predict --input='[[5.1, 3.5, 1.4, 0.2]]'
        ("run", saved_path, "predict", f"--input={SETOSA_JSON}"),
        ("run", saved_path, "predict", "--input=./iris_test_data.csv")], cwd=directory)
    assert literal.stdout == "[0]\n"
    assert json.loads(from_csv.stdout) == [0, 1, 2]


def test_run_errors_go_to_stderr(saved_path, cli_many):
    no_api, bad_json = cli_many([("run", saved_path, "nope", f"--input={SETOSA_JSON}"),
                                 ("run", saved_path, "predict", "--input=[[5.1, 3.5")], ok=False)
    assert no_api.stdout == "" and "nope" in no_api.stderr and "predict" in no_api.stderr
    assert bad_json.stdout == "" and "not valid JSON" in bad_json.stderr
    assert "Traceback" not in no_api.stderr + bad_json.stderr
