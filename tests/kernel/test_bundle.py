"""Bundle names and versions, the bentoml.yml schema, and requirement merging."""
import re

import pytest
import yaml

from bentoml.bundle.config import SCHEMA_VERSION, BundleConfig
from bentoml.bundle.dependencies import merge_requirements
from bentoml.bundle.naming import new_version, validate_name, validate_version
from bentoml.repository.tags import parse_tag
from bentoml.bundle.templates import pep440_version
from bentoml.exceptions import BundleError, DependencyConflict, InvalidArgument

# -- naming --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["../x:1", "../x", "a/b:1", "x:../1", "x:a/b", "x:..", "x:.hidden",
                                 ".x:1", "", ":1", "x:", "x:1/../../..", "..:1", "/abs:1", "x:1:2",
                                 "x:" + "9" * 200, "x\x00:1", "x: 1"])
def test_parse_tag_rejects_path_like_or_empty(tag):
    with pytest.raises(InvalidArgument):
        parse_tag(tag)


@pytest.mark.parametrize("tag,expected", [
    ("IrisClassifier", ("IrisClassifier", None)),
    ("IrisClassifier:latest", ("IrisClassifier", "latest")),
    ("IrisClassifier:20200121114004_360ECB", ("IrisClassifier", "20200121114004_360ECB")),
    ("_svc2:v1.2-rc", ("_svc2", "v1.2-rc")),
])
def test_parse_tag_accepts(tag, expected):
    assert parse_tag(tag) == expected


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "a/b", "../x", "a b", "1abc", "a-b", None, 3,
                                  "Svc\n", "Svc\n/../x"])
def test_validate_name_rejects(name):
    with pytest.raises(InvalidArgument, match="invalid bundle name"):
        validate_name(name)


@pytest.mark.parametrize("version", ["", ".", "..", "../x", "../../evil", ".hidden", "a/b", "a\\b",
                                     "1..2", "-1", "v 1", None, "1\n", "1\n/x"])
def test_validate_version_rejects(version):
    with pytest.raises(InvalidArgument, match="invalid version"):
        validate_version(version)


def test_validate_accepts_and_returns():
    assert validate_name("IrisClassifier") == "IrisClassifier"
    assert validate_version("1.0.0-rc1") == "1.0.0-rc1"


def test_new_version_format_and_uniqueness():
    versions = {new_version() for _ in range(200)}
    assert len(versions) == 200
    for version in versions:
        assert re.match(r"^\d{14}_[0-9A-F]{6}$", version), version
        validate_version(version)


def test_pep440_version():
    assert pep440_version("20200121114004_360ECB") == "20200121114004+360ecb"
    assert pep440_version("v1.2") == "0+v1.2"


# -- BundleConfig ---------------------------------------------------------------------------------


def _valid_dict():
    return {
        "schema_version": SCHEMA_VERSION, "kind": "BentoService",
        "name": "Svc", "version": "v1", "created_at": "2020-01-01T00:00:00+00:00",
        "bentoml_version": "2.0.0",
        "service": {"module": "svc", "class_name": "Svc", "local_modules": ["svc"]},
        "env": {"python_version": "3.11.0"},
        "apis": [], "artifacts": [{"name": "m", "artifact_type": "TextArtifact",
                                   "provider": {"distribution": "local"}}],
    }


def _write(tmp_path, text):
    (tmp_path / "bentoml.yml").write_text(text)
    return str(tmp_path)


def test_config_round_trip(tmp_path):
    config = BundleConfig.from_dict(_valid_dict())
    config.dump(str(tmp_path / "bentoml.yml"))
    again = BundleConfig.load(str(tmp_path))
    assert again == config
    assert again.artifacts[0].provider.distribution == "local"
    assert list(yaml.safe_load((tmp_path / "bentoml.yml").read_text()))[:2] == ["schema_version", "kind"]


def test_config_unknown_keys_are_tolerated(tmp_path):
    data = _valid_dict()
    data["added_by_a_newer_minor"] = {"x": 1}
    assert BundleConfig.from_dict(data).name == "Svc"


def test_corrupt_yaml(tmp_path):
    with pytest.raises(BundleError, match=r"bentoml\.yml is corrupt: not valid YAML"):
        BundleConfig.load(_write(tmp_path, "name: [unclosed\n  - : :"))


def test_binary_garbage(tmp_path):
    (tmp_path / "bentoml.yml").write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(BundleError, match="corrupt"):
        BundleConfig.load(str(tmp_path))


@pytest.mark.parametrize("text,kind", [("- a\n- b\n", "list"), ("just text\n", "str"), ("", "NoneType")])
def test_not_a_mapping(tmp_path, text, kind):
    with pytest.raises(BundleError, match=f"corrupt: expected a mapping, got {kind}"):
        BundleConfig.load(_write(tmp_path, text))


@pytest.mark.parametrize("schema", [2, 0, "1", None])
def test_wrong_schema_version(tmp_path, schema):
    data = _valid_dict()
    data["schema_version"] = schema
    with pytest.raises(BundleError, match=f"schema_version {schema!r}; this bentoml reads schema 1"):
        BundleConfig.load(_write(tmp_path, yaml.safe_dump(data)))


def test_bentoml_0x_bundle_is_named_incompatible(tmp_path):
    old = {"version": "20200121114004_360ECB", "kind": "BentoService",
           "metadata": {"service_name": "IrisClassifier"}}
    with pytest.raises(BundleError, match=r"was saved by BentoML 0\.x, not by this kernel; re-save the service"):
        BundleConfig.load(_write(tmp_path, yaml.safe_dump(old)))


@pytest.mark.parametrize("missing", ["name", "service", "env", "version"])
def test_missing_keys(tmp_path, missing):
    data = _valid_dict()
    del data[missing]
    with pytest.raises(BundleError, match="corrupt") as err:
        BundleConfig.load(_write(tmp_path, yaml.safe_dump(data)))
    assert missing in str(err.value)


def test_wrong_types(tmp_path):
    data = _valid_dict()
    data["artifacts"] = "model"
    with pytest.raises(BundleError, match="corrupt"):
        BundleConfig.load(_write(tmp_path, yaml.safe_dump(data)))


def test_path_that_is_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="is not a bundle: it has no bentoml.yml"):
        BundleConfig.load(str(tmp_path))


@pytest.mark.parametrize("key, value, says", [
    (("name",), "../outside", "invalid bundle name '../outside'"),
    (("name",), "Svc\n", "invalid bundle name"),
    (("version",), "../../v1", "invalid version"),
    (("service", "module"), "../../x", "service.module '../../x' is not a dotted Python module name"),
    (("service", "module"), "/abs/svc", "is not a dotted Python module name"),
    (("service", "module"), "svc.", "is not a dotted Python module name"),
    (("service", "local_modules"), ["svc", "../evil"], "service.local_modules '../evil'"),
    (("service", "class_name"), "Svc; import os", "service.class_name"),
    (("artifacts",), [{"name": "../m", "artifact_type": "T", "provider": {"distribution": "local"}}],
     "artifact name '../m'"),
])
def test_names_read_from_bentoml_yml_are_checked(tmp_path, key, value, says):
    """Names that become paths or imports are refused in a tampered bentoml.yml, as a BundleError."""
    data = _valid_dict()
    target = data
    for k in key[:-1]:
        target = target[k]
    target[key[-1]] = value
    with pytest.raises(BundleError, match="bentoml.yml is corrupt") as err:
        BundleConfig.load(_write(tmp_path, yaml.safe_dump(data)))
    assert says in str(err.value) and "\n" not in str(err.value).strip()


def test_dotted_module_names_are_accepted():
    data = _valid_dict()
    data["service"].update(module="pkg.svc_1", local_modules=["pkg", "pkg.svc_1", "_helpers"])
    assert BundleConfig.from_dict(data).service.module == "pkg.svc_1"


# -- merge_requirements ----------------------------------------------------------------------------


def test_precedence_pip_over_file_over_inferred():
    merged = merge_requirements(
        inferred={"numpy": "numpy==1.0", "pandas": "pandas==2.0", "scikit-learn": "scikit-learn==1.3"},
        requirements_txt=["numpy==1.1", "pandas>=1.5  # comment", "", "# only a comment", "--extra-index-url x"],
        pip_dependencies=["NumPy==1.2", "requests"],
        bundled={})
    assert merged == ["--extra-index-url x", "NumPy==1.2", "pandas>=1.5", "requests", "scikit-learn==1.3"]


def test_names_are_compared_canonically():
    merged = merge_requirements({"scikit-learn": "scikit-learn==1.3"}, ["Scikit_Learn==1.4"], [], {})
    assert merged == ["Scikit_Learn==1.4"]


def test_conflicting_duplicates_within_one_source():
    with pytest.raises(DependencyConflict) as err:
        merge_requirements({}, [], ["numpy==1.0", "pandas", "numpy==2.0"], {})
    assert "pip_dependencies" in str(err.value)
    assert "numpy==1.0" in str(err.value) and "numpy==2.0" in str(err.value)

    with pytest.raises(DependencyConflict, match="requirements.txt.*'a<2'.*'A>3'"):
        merge_requirements({}, ["a<2", "A>3"], [], {}, requirements_txt_name="requirements.txt")


def test_identical_duplicates_are_fine():
    assert merge_requirements({}, [], ["numpy==1.0", "numpy==1.0"], {}) == ["numpy==1.0"]


def test_requirement_on_a_bundled_distribution_conflicts_naming_both_sides():
    with pytest.raises(DependencyConflict) as err:
        merge_requirements({}, [], ["bentoml==0.8.6"], {"bentoml": "2.0.0.dev0"})
    message = str(err.value)
    assert "bentoml==0.8.6" in message and "bentoml==2.0.0.dev0" in message
    assert "pip_dependencies" in message

    with pytest.raises(DependencyConflict, match="bentoml-sklearn==1.0"):
        merge_requirements({}, ["bentoml-sklearn<1"], [], {"bentoml-sklearn": "1.0"})


def test_satisfied_requirement_on_a_bundled_distribution_is_dropped():
    merged = merge_requirements({}, ["bentoml>=2.0.0.dev0"], ["bentoml_sklearn", "x"],
                                {"bentoml": "2.0.0.dev0", "bentoml-sklearn": "2.0.0.dev0"})
    assert merged == ["x"]


def test_invalid_requirement_names_its_source():
    with pytest.raises(InvalidArgument, match=r"pip_dependencies: 'numpy===' is not a valid requirement"):
        merge_requirements({}, [], ["numpy==="], {})


def test_bare_names_are_kept_and_option_lines_may_repeat():
    merged = merge_requirements({"requests": "requests"}, ["--find-links ./w", "--find-links ./w", "flask"],
                                ["attrs"], {})
    assert merged == ["--find-links ./w", "attrs", "flask", "requests"]
