"""Bad input gets a clear error, and nothing is lost: services, bundles, names, CLI input."""
import json
import os

import pytest
import yaml

import bentoml
from bentoml.exceptions import (ArtifactNotPacked, BundleError, InvalidArgument, MissingPlugin,
                                NotFound)
from bentoml.repository import get_repository

MISSING_VERSION = "20200101000000_ABCDEF"
IRIS_ROW = "[[5.1, 3.5, 1.4, 0.2]]"


# -- the service ------------------------------------------------------------------------------


def test_pack_unknown_artifact_name(iris_module, iris_model):
    svc = iris_module.IrisClassifier()
    with pytest.raises(InvalidArgument) as err:
        svc.pack("modle", iris_model)
    assert "'modle'" in str(err.value) and "declared: model" in str(err.value)
    assert not svc.artifacts["model"].is_packed


@pytest.mark.parametrize("obj", ["not a model", {"weights": [1, 2]}, 42])
def test_wrong_object_for_sklearn_artifact(iris_module, obj):
    svc = iris_module.IrisClassifier()
    with pytest.raises(InvalidArgument) as err:
        svc.pack("model", obj)
    message = str(err.value)
    assert "SklearnModelArtifact" in message and "'model'" in message
    assert type(obj).__qualname__ in message
    assert not svc.artifacts["model"].is_packed


def test_save_with_artifact_unpacked(iris_module, bentoml_home):
    svc = iris_module.IrisClassifier()
    with pytest.raises(ArtifactNotPacked) as err:
        svc.save()
    assert "model" in str(err.value) and "pack" in str(err.value)
    repo = get_repository()
    assert repo.list() == []
    assert repo.metadata.stale_pending() == []  # nothing half-registered
    repository_dir = bentoml_home / "repository"
    assert not repository_dir.exists() or not [p for p in repository_dir.iterdir() if p.name != ".staging"]
    tmp_dir = bentoml_home / "tmp"
    assert not tmp_dir.exists() or list(tmp_dir.iterdir()) == []


# -- naming a bundle that is not there -----------------------------------------------------------


def test_name_version_not_found_api(bentoml_home):
    with pytest.raises(NotFound) as err:
        bentoml.load(f"IrisClassifier:{MISSING_VERSION}")
    assert f"IrisClassifier:{MISSING_VERSION}" in str(err.value) and "bentoml list" in str(err.value)
    with pytest.raises(NotFound, match="any version of IrisClassifier"):
        bentoml.load("IrisClassifier:latest")


def test_name_version_not_found_cli(bentoml_home, cli, clean_failure, iris_service):
    iris_service.save()  # another version exists; the named one does not
    tag = f"IrisClassifier:{MISSING_VERSION}"
    clean_failure(cli("get", tag), tag, "not in the repository")
    clean_failure(cli("run", tag, "predict", "--input", IRIS_ROW), tag, "not in the repository")
    clean_failure(cli("get", "NoSuchService"), "NoSuchService")
    clean_failure(cli("delete", "-y", tag), tag)
    assert len(get_repository().list()) == 1  # the failed delete removed nothing


def test_path_that_is_not_a_bundle(tmp_path, bentoml_home, cli, clean_failure):
    empty = tmp_path / "x"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    clean_failure(cli("run", str(empty), "predict", "--input", IRIS_ROW), str(empty), "not a bundle")
    missing = tmp_path / "nothing" / "here"
    clean_failure(cli("run", str(missing), "predict", "--input", IRIS_ROW), "not a bundle")
    with pytest.raises(BundleError, match="not a bundle"):
        bentoml.load(str(empty))
    assert os.listdir(empty) == ["notes.txt"]


# -- damaged and foreign bundles -----------------------------------------------------------------


def _edit_configs(bundle, edit):
    """Apply ``edit`` to the bundle's bentoml.yml files (root and package copy)."""
    for path in (bundle / "bentoml.yml", bundle / "IrisClassifier" / "bentoml.yml"):
        data = yaml.safe_load(path.read_text())
        edit(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_copied_bundle_loads_before_damage(bundle_copy, cli):
    svc = bentoml.load(str(bundle_copy))
    assert svc.predict([[5.1, 3.5, 1.4, 0.2]]).tolist() == [0]
    out = cli("run", str(bundle_copy), "predict", "--input", IRIS_ROW)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [0]


def test_corrupt_bentoml_yml(bundle_copy, cli, clean_failure):
    (bundle_copy / "bentoml.yml").write_text("name: IrisClassifier\napis: [\n  {broken")
    with pytest.raises(BundleError, match="corrupt: not valid YAML"):
        bentoml.load(str(bundle_copy))
    clean_failure(cli("run", str(bundle_copy), "predict", "--input", IRIS_ROW), "corrupt")
    clean_failure(cli("info", str(bundle_copy)), "corrupt")


def test_bentoml_yml_missing_fields(bundle_copy):
    _edit_configs(bundle_copy, lambda d: d.pop("service"))
    with pytest.raises(BundleError, match="corrupt.*service"):
        bentoml.load(str(bundle_copy))


def test_incompatible_schema_version(bundle_copy, cli, clean_failure):
    _edit_configs(bundle_copy, lambda d: d.update(schema_version=99))
    with pytest.raises(BundleError, match="schema_version 99"):
        bentoml.load(str(bundle_copy))
    clean_failure(cli("run", str(bundle_copy), "predict", "--input", IRIS_ROW), "schema_version 99")


def test_bundle_needing_a_plugin_not_installed(bundle_copy, cli, clean_failure):
    def edit(data):
        data["artifacts"][0]["provider"] = {"distribution": "bentoml-notinstalled", "version": "1.0"}

    _edit_configs(bundle_copy, edit)
    with pytest.raises(MissingPlugin) as err:
        bentoml.load(str(bundle_copy))
    assert isinstance(err.value, ImportError)
    assert err.value.distribution == "bentoml-notinstalled"
    assert "bentoml-notinstalled" in str(err.value) and "artifact model" in str(err.value)
    clean_failure(cli("run", str(bundle_copy), "predict", "--input", IRIS_ROW), "bentoml-notinstalled")


def test_bundle_adapter_from_a_plugin_not_installed(bundle_copy):
    def edit(data):
        data["apis"][0]["input_provider"]["distribution"] = "bentoml-adapter-gone"

    _edit_configs(bundle_copy, edit)
    with pytest.raises(MissingPlugin, match="bentoml-adapter-gone.*API predict"):
        bentoml.load(str(bundle_copy))


# -- names and versions that look like paths --------------------------------------------------------


def _snapshot(root, skip):
    """Every path under ``root`` except those under ``skip``."""
    found = set()
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.commonpath([dirpath, skip]) == skip:
            dirnames[:] = []
            continue
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            if path != skip:
                found.add(os.path.relpath(path, root))
    return found


@pytest.mark.parametrize("version", ["../../evil", "../evil", "a/b", "..", ".evil", "x/../../../evil"])
def test_path_like_version_on_save_is_rejected(iris_service, bentoml_home, tmp_path, version):
    bentoml_home.mkdir()
    before = _snapshot(str(tmp_path), str(bentoml_home))
    above = [sorted(os.listdir(tmp_path.parent)), sorted(os.listdir(tmp_path.parent.parent))]
    with pytest.raises(InvalidArgument, match="invalid version"):
        iris_service.save(version=version)
    assert _snapshot(str(tmp_path), str(bentoml_home)) == before
    assert [sorted(os.listdir(tmp_path.parent)), sorted(os.listdir(tmp_path.parent.parent))] == above
    assert not [p for p in _snapshot(str(tmp_path), "/nonexistent") if os.path.basename(p) == "evil"]
    assert get_repository().list() == []


@pytest.mark.parametrize("tag", ["../x:1", "x:../../evil", "a/b:1", "..:latest"])
def test_path_like_tags_on_the_cli_are_rejected(bentoml_home, tmp_path, cli, clean_failure, tag):
    bentoml_home.mkdir()
    before = _snapshot(str(tmp_path), str(bentoml_home))
    clean_failure(cli("get", tag), "invalid")
    clean_failure(cli("delete", "-y", tag))
    clean_failure(cli("retrieve", tag, "--target_dir", str(tmp_path / "out")))
    assert _snapshot(str(tmp_path), str(bentoml_home)) == before


@pytest.mark.parametrize("tag", ["../x:1", "IrisClassifier:../../evil", "IrisClassifier:a/b"])
def test_load_of_path_like_tags(bentoml_home, tag):
    # refused either as an invalid tag or as a path that is not a bundle; never resolved
    with pytest.raises((InvalidArgument, BundleError)) as err:
        bentoml.load(tag)
    assert tag in str(err.value)


# -- CLI input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad_input,needle", [
    ("[[5.1, 3.5", "not valid JSON"),
    ("{not json", "not valid JSON"),
    ("[]", "empty"),
])
def test_run_with_malformed_input(saved_bundle, cli, clean_failure, bad_input, needle):
    out = cli("run", str(saved_bundle), "predict", "--input", bad_input)
    clean_failure(out, "DataframeInput", needle)


def test_run_unknown_api(saved_bundle, cli, clean_failure):
    clean_failure(cli("run", str(saved_bundle), "predictt", "--input", IRIS_ROW), "predictt", "predict")


def test_run_where_the_model_refuses_the_input(saved_bundle, cli, clean_failure):
    # valid JSON, but 2 features for a model trained on 4: scikit-learn's input check refuses it
    # inside the API, and the sklearn plugin marks that as bad input, named in the client's terms.
    out = cli("run", str(saved_bundle), "predict", "--input", "[[1, 2]]")
    clean_failure(out, "IrisClassifier predict: the model expects 4 features, got 2 (SVC)")
