"""BentoML 0.9-0.13's module paths (``bentoml.frameworks.sklearn``, ``bentoml.adapters.dataframe_input``,
``bentoml.service.artifacts.common``), served from what the plugins declare.

From the 0.9.0 release notes ("artifact classes should be imported from
bentoml.frameworks.*") and the 0.13 API reference of the adapters' modules.
"""
from __future__ import annotations

import importlib
import types

import pytest

import bentoml
from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import MissingPlugin, PluginConflict
from bentoml.hookspecs import hookimpl

ARTIFACT_PATHS = [
    ("bentoml.frameworks.sklearn", "SklearnModelArtifact"),
    ("bentoml.frameworks.xgboost", "XgboostModelArtifact"),
    ("bentoml.frameworks.tensorflow", "TensorflowSavedModelArtifact"),
    ("bentoml.frameworks.h2o", "H2oModelArtifact"),
    ("bentoml.service.artifacts.common", "PickleArtifact"),
]
ADAPTER_PATHS = [
    ("bentoml.adapters.dataframe_input", "DataframeInput"),
    ("bentoml.adapters.json_input", "JsonInput"),
    ("bentoml.adapters.image_input", "ImageInput"),
    ("bentoml.adapters.multi_image_input", "MultiImageInput"),
    ("bentoml.adapters.tensorflow_tensor_input", "TfTensorInput"),
    ("bentoml.adapters.file_input", "FileInput"),
    ("bentoml.adapters.string_input", "StringInput"),
]


@pytest.mark.parametrize("module,name", ARTIFACT_PATHS)
def test_artifact_paths_give_the_registered_class(module, name):
    import bentoml.artifact

    assert getattr(importlib.import_module(module), name) is getattr(bentoml.artifact, name)


@pytest.mark.parametrize("module,name", ADAPTER_PATHS)
def test_adapter_submodules_give_the_registered_class(module, name):
    import bentoml.adapters

    assert getattr(importlib.import_module(module), name) is getattr(bentoml.adapters, name)


def test_import_bentoml_loads_no_plugin_and_a_path_imports_no_framework(python):
    code = ("import sys, bentoml\n"
            "assert not [m for m in sys.modules if m.startswith('bentoml_')], 'a plugin loaded on import bentoml'\n"
            "from bentoml.frameworks.sklearn import SklearnModelArtifact\n"
            "from bentoml.frameworks.tensorflow import TensorflowSavedModelArtifact\n"
            "print(sorted(m for m in ('sklearn', 'tensorflow') if m in sys.modules))\n")
    assert python("-c", code).stdout.strip() == "[]"


@pytest.mark.parametrize("module,name,dist", [
    ("bentoml.frameworks.h2o", "H2oModelArtifact", "bentoml-h2o"),
    ("bentoml.frameworks.xgboost", "XgboostModelArtifact", "bentoml-xgboost"),
    ("bentoml.service.artifacts.common", "PickleArtifact", "bentoml-pickle"),
])
def test_a_path_whose_plugin_is_missing_names_its_distribution(python, module, name, dist):
    proc = python("-c", f"from {module} import {name}", ok=False, env={"BENTOML_DISABLE_PLUGINS": dist})
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("bentoml.exceptions.MissingPlugin: ")
    assert f"{module}.{name}" in last and repr(dist) in last and "pip install -e" in last


def test_keras_model_artifact_is_the_tensorflow_plugins(python):
    from bentoml.artifact import KerasModelArtifact
    from bentoml.frameworks.keras import KerasModelArtifact as from_0_9
    from bentoml_tensorflow import KerasModelArtifact as own

    assert KerasModelArtifact is from_0_9 is own
    proc = python("-c", "from bentoml.frameworks.keras import KerasModelArtifact", ok=False,
                  env={"BENTOML_DISABLE_PLUGINS": "bentoml-tensorflow"})
    assert "'bentoml-tensorflow'" in proc.stderr.strip().splitlines()[-1]


def test_a_name_the_module_never_had_lists_what_it_has():
    import bentoml.frameworks.sklearn as sklearn_path

    with pytest.raises(AttributeError, match="has no attribute 'SklearnModel'; it provides: SklearnModelArtifact"):
        sklearn_path.SklearnModel  # noqa: B018
    assert "SklearnModelArtifact" in dir(sklearn_path)


def test_the_hints_list_exactly_what_our_plugins_declare(plugin_registry):
    from bentoml.plugins.hints import KNOWN_LEGACY_PATHS, NOT_PROVIDED

    declared = {f"{module}:{attribute}": (kind, name)
                for module, names in plugin_registry.legacy_table().items()
                for attribute, targets in names.items() for kind, name, _plugin in targets}
    hinted = {path: target for path, target in KNOWN_LEGACY_PATHS.items()
              if target[1] not in NOT_PROVIDED.get(target[0], {})}
    assert declared == hinted


# -- a third-party plugin declares its own paths ---------------------------------------------
class ExampleArtifact(BentoServiceArtifact):
    def _save(self, obj, path):
        pass

    def _load(self, path):
        return None


class OtherArtifact(ExampleArtifact):
    pass


def _plugin(cls, paths, requirement_imports=()):
    cls.requirement_imports = requirement_imports

    @hookimpl
    def register_artifacts(register):
        register(cls, legacy_paths=paths)

    return types.SimpleNamespace(register_artifacts=register_artifacts)


def test_a_third_party_plugin_serves_its_own_0x_path(empty_plugin_registry, fresh_legacy_modules):
    empty_plugin_registry.register(_plugin(ExampleArtifact, ("bentoml.frameworks.example",)), "example",
                                   distribution="bentoml-example", version="1.0")
    from bentoml.frameworks.example import ExampleArtifact as imported

    assert imported is ExampleArtifact


def test_two_plugins_declaring_one_path_for_different_classes_are_named(empty_plugin_registry,
                                                                        fresh_legacy_modules):
    empty_plugin_registry.register(_plugin(ExampleArtifact, ("bentoml.frameworks.example:Model",)), "one",
                                   distribution="bentoml-one")
    empty_plugin_registry.register(_plugin(OtherArtifact, ("bentoml.frameworks.example:Model",)), "two",
                                   distribution="bentoml-two")
    import bentoml.frameworks.example as example

    with pytest.raises(PluginConflict, match="bentoml.frameworks.example.Model .* one and two"):
        example.Model  # noqa: B018


def test_a_path_of_a_skipped_plugin_says_why_it_was_skipped(empty_plugin_registry, fresh_legacy_modules):
    plugin = _plugin(ExampleArtifact, ("bentoml.frameworks.example",), requirement_imports=("no_such_framework_x",))
    empty_plugin_registry.register(plugin, "example", distribution="bentoml-example")
    with pytest.raises(MissingPlugin, match="'bentoml-example', which is installed but was skipped: "
                                            "needs the module 'no_such_framework_x'"):
        from bentoml.frameworks.example import ExampleArtifact as _  # noqa: F401


@pytest.mark.parametrize("paths,message", [
    ("bentoml.frameworks.example", "takes a tuple of strings"),
    (("sklearn.frameworks",), "is not 'bentoml.MODULE'"),
    (("bentoml.adapters:Example",), "is a module of the kernel itself"),
    (("bentoml.frameworks.ex ample",), "is not 'bentoml.MODULE'"),
])
def test_a_bad_declaration_fails_that_plugin_alone(empty_plugin_registry, paths, message):
    empty_plugin_registry.register(_plugin(ExampleArtifact, paths), "bad", distribution="bentoml-bad")
    assert "ExampleArtifact" not in empty_plugin_registry.names("artifacts")
    assert "JsonOutput" in empty_plugin_registry.names("output_adapters")
    failure, = empty_plugin_registry.failures
    assert failure.distribution == "bentoml-bad" and message in failure.error


def test_served_modules_leave_real_and_unknown_modules_alone():
    import bentoml.adapters.dataframe_input as served
    import bentoml.adapters.json_output as real

    assert "BentoML 0.x path" in served.__spec__.origin and not hasattr(served, "__file__")
    assert real.__file__.endswith("json_output.py") and bentoml.adapters.JsonOutput is real.JsonOutput
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("bentoml.frameworks.no_such_framework")
