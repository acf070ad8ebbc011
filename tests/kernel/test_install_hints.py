"""The install commands in errors point at things that exist: a plugin's folder in this clone,
a wheel inside the bundle, the index distributions of a plugin's extras."""
import os
import re
import tomllib

import pytest

from bentoml.bundle.load import _install_hint
from bentoml.exceptions import MissingPlugin
from bentoml.plugins import hints
from bentoml.plugins.install_hints import (clone_root, extra_requirements, framework_install_hint,
                                           plugin_install_command, plugin_source)

ROOT = clone_root()
pytestmark = pytest.mark.skipif(ROOT is None, reason="the kernel is not installed from a clone")


def _dists_in_clone():
    found = {}
    for kind in sorted(os.listdir(os.path.join(ROOT, "plugins"))):
        for folder in sorted(os.listdir(os.path.join(ROOT, "plugins", kind))):
            pyproject = os.path.join(ROOT, "plugins", kind, folder, "pyproject.toml")
            if os.path.isfile(pyproject):
                with open(pyproject, "rb") as f:
                    found[tomllib.load(f)["project"]["name"]] = os.path.dirname(pyproject)
    return found


def test_every_plugin_in_the_clone_is_found_at_its_folder():
    dists = _dists_in_clone()
    assert len(dists) >= 12
    for dist, folder in dists.items():
        assert plugin_source(dist) == folder
        assert plugin_install_command(dist, "cpu") == f"pip install -e '{folder}[cpu]'"


def test_a_missing_known_plugin_names_a_command_that_points_at_its_folder():
    dists = _dists_in_clone()
    for kind, names in hints.KNOWN_PROVIDERS.items():
        for name, dist in names.items():
            message = str(hints.missing(kind, name, None, [], []))
            if dist in dists:
                assert message.endswith(f"pip install -e '{dists[dist]}'"), message
            else:  # not written yet: a path relative to a clone, and why
                assert "plugins are not on the package index" in message, message


def test_a_plugin_without_a_clone_is_installed_from_a_clone(monkeypatch):
    monkeypatch.setattr("bentoml.plugins.install_hints.clone_root", lambda: None)
    assert plugin_install_command("bentoml-xgboost", "cpu") == (
        "pip install -e 'plugins/artifacts/bentoml-xgboost[cpu]' in a clone of the bentoml kernel "
        "repository (plugins are not on the package index)")


def test_framework_hints_name_the_extras_index_distributions():
    dists = _dists_in_clone()
    with open(os.path.join(dists["bentoml-xgboost"], "pyproject.toml"), "rb") as f:
        declared = tomllib.load(f)["project"]["optional-dependencies"]
    extras = extra_requirements("bentoml-xgboost")
    if not extras:
        pytest.skip("bentoml-xgboost is not installed in this environment")
    assert extras == {k: v for k, v in declared.items() if k != "test"}
    hint = framework_install_hint("bentoml-xgboost")
    assert re.fullmatch(r"pip install '[^']+' \(\[cpu\] of bentoml-xgboost\) or pip install '[^']+' "
                        r"\(\[gpu\] of bentoml-xgboost\)", hint), hint
    assert framework_install_hint("no-such-distribution-5e1") is None


def test_a_bundle_missing_a_plugin_names_the_wheel_it_carries(greeter_module, tmp_path):
    path = greeter_module.Greeter().pack("greeting", "hi").save_to_dir(str(tmp_path / "bundle"))
    hint = _install_hint("bentoml", path)
    wheel = hint.rpartition(" ")[2]
    assert hint.startswith("install it from the bundle's own wheel: pip install ")
    assert os.path.isfile(wheel) and os.path.dirname(wheel) == os.path.join(path, "wheels")
    assert _install_hint("bentoml-ghost", path) == plugin_install_command("bentoml-ghost")
    assert isinstance(hints.missing("artifacts", "XgboostModelArtifact", None, [], []), MissingPlugin)
