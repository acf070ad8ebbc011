"""Bundles that BentoML 0.x itself saved are refused in one line, naming the release.

Their pickles reference 0.x's own classes and their layout differs, so this
kernel does not load them; ``bentoml.load``, ``bentoml run`` and ``bentoml
serve`` say so instead of "schema_version None".  The bundles here are laid
out as 0.8.6's ``save_to_dir`` writes them (``bentoml/saved_bundle/bundler.py``
and ``config.py`` of that release): ``bentoml.yml`` at the top and again in
``<Name>/`` (the pip-installed package), the service module and
``artifacts/`` in ``<Name>/``.  0.1-0.2 wrote a flat ``bentoml.yml``.
"""
import pickle
import subprocess
import sys
import textwrap

import pytest

import bentoml
from bentoml.exceptions import BundleError

#: bentoml.yml as 0.8.6 writes it (ruamel.yaml, block style), for the spec's IrisClassifier.
YML_086 = textwrap.dedent("""\
    version: 0.8.6
    kind: BentoService
    metadata:
      created_at: 2020-09-14 08:12:30.462014
      service_name: IrisClassifier
      service_version: 20200914081230_8C6B3A
      module_name: iris_classifier
      module_file: iris_classifier.py
    env:
      pip_dependencies:
      - scikit-learn
      - pandas
      - bentoml==0.8.6
      conda_env:
        name: bentoml-IrisClassifier
        channels:
        - defaults
        dependencies:
        - python=3.8.5
        - pip
      python_version: 3.8.5
      docker_base_image: bentoml/model-server:0.8.6
    apis:
    - name: predict
      docs: BentoService API
      input_type: DataframeInput
      output_type: DefaultOutput
      mb_max_batch_size: 2000
      mb_max_latency: 10000
      input_config:
        is_batch_input: true
        orient:
        typ: frame
        input_dtypes:
    artifacts:
    - name: model
      artifact_type: SklearnModelArtifact
    """)

#: 0.10-0.13 added ``batch`` to each API and ``metadata`` to each artifact.
YML_013 = YML_086.replace("version: 0.8.6", "version: 0.13.1").replace(
    "  mb_max_latency: 10000\n", "  mb_max_latency: 10000\n  batch: true\n").replace(
    "  artifact_type: SklearnModelArtifact\n", "  artifact_type: SklearnModelArtifact\n  metadata: {}\n")

#: 0.1-0.2 wrote a flat file.
YML_02 = textwrap.dedent("""\
    service_name: IrisClassifier
    service_version: 2019_06_01_1c2f3e4a
    module_name: iris_classifier
    module_file: iris_classifier.py
    created_at: 2019-06-01 10:11:12.000000
    bentoml_version: 0.2.0
    """)

SERVICE_086 = textwrap.dedent("""\
    from bentoml import env, artifacts, api, BentoService
    from bentoml.handlers import DataframeHandler
    from bentoml.artifact import SklearnModelArtifact

    @env(auto_pip_dependencies=True)
    @artifacts([SklearnModelArtifact('model')])
    class IrisClassifier(BentoService):
        @api(DataframeHandler)
        def predict(self, df):
            return self.artifacts.model.predict(df)
    """)


def write_0x_bundle(path, yml):
    """A bundle directory laid out the way 0.8.6's save_to_dir writes one."""
    package = path / "IrisClassifier"
    (package / "artifacts").mkdir(parents=True)
    for where in (path, package):
        (where / "bentoml.yml").write_text(yml)
    (package / "iris_classifier.py").write_text(SERVICE_086)
    (package / "__init__.py").write_text("from bentoml import saved_bundle\n")
    (package / "artifacts" / "__init__.py").write_text("")
    # Never read: a pickle of 0.x's classes would need 0.x installed to load.
    (package / "artifacts" / "model.pkl").write_bytes(pickle.dumps({"saved_by": "BentoML 0.8.6"}))
    (path / "requirements.txt").write_text("scikit-learn\npandas\nbentoml==0.8.6")
    (path / "setup.py").write_text("import setuptools\n")
    (path / "Dockerfile").write_text("FROM bentoml/model-server:0.8.6\n")
    (path / "README.md").write_text("# Generated BentoService bundle - IrisClassifier:20200914081230_8C6B3A\n")
    return path


@pytest.fixture
def bundle_086(tmp_path):
    return write_0x_bundle(tmp_path / "IrisClassifier_086", YML_086)


def expected(path, release):
    return (f"{path} was saved by BentoML {release}, not by this kernel; re-save the service with this kernel "
            "(see docs/migrating.md)")


@pytest.mark.parametrize("yml, release", [(YML_086, "0.8.6"), (YML_013, "0.13.1"), (YML_02, "0.2.0")])
def test_load_names_the_release(tmp_path, yml, release):
    path = write_0x_bundle(tmp_path / "bundle", yml)
    with pytest.raises(BundleError) as raised:
        bentoml.load(str(path))
    assert str(raised.value) == expected(path, release)


def test_the_installed_package_folder_is_refused_too(bundle_086):
    package = bundle_086 / "IrisClassifier"
    with pytest.raises(BundleError) as raised:
        bentoml.load(str(package))
    assert str(raised.value) == expected(package, "0.8.6")


@pytest.mark.parametrize("field", ['"0.8.6\\nrm -rf /"', "20200121114004_360ECB", "[1, 2]"])
def test_a_release_field_that_is_no_0x_release_is_not_repeated(tmp_path, field):
    path = write_0x_bundle(tmp_path / "bundle", YML_086.replace("version: 0.8.6", f"version: {field}"))
    with pytest.raises(BundleError) as raised:
        bentoml.load(str(path))
    assert str(raised.value) == expected(path, "0.x")


@pytest.mark.parametrize("command", [["run", "{bundle}", "predict", "--input", "[[5.1, 3.5, 1.4, 0.2]]"],
                                     ["serve", "{bundle}", "--port", "0"]])
def test_cli_refuses_in_one_line(bundle_086, command):
    args = [a.format(bundle=bundle_086) for a in command]
    out = subprocess.run([sys.executable, "-m", "bentoml", *args], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and out.stdout == "", (out.stdout, out.stderr)
    assert out.stderr.strip() == f"Error: {expected(bundle_086, '0.8.6')}", out.stderr
