"""The plugin registry: lazy loading, failure isolation, conflicts, missing plugins, env selection."""
import subprocess
import sys
import types

import importlib_metadata
import pytest

from bentoml import plugins as plugins_mod
from bentoml.artifact import BentoServiceArtifact
from bentoml.exceptions import MissingPlugin, PluginConflict
from bentoml.hookspecs import hookimpl
from bentoml.plugins import PluginRegistry


def _artifact_class(name):
    """A distinct artifact class per call, named ``name``."""
    return type(name, (BentoServiceArtifact,), {
        "_save": lambda self, obj, path: None, "_load": lambda self, path: None})


def _plugin(artifacts=(), input_adapters=(), calls=None, raises=None):
    """A plugin module object registering the given classes (and counting hook calls)."""
    module = types.ModuleType(f"fake_plugin_{id(artifacts)}")

    @hookimpl
    def register_artifacts(register):
        if calls is not None:
            calls.append("artifacts")
        if raises is not None:
            raise raises
        for cls in artifacts:
            register(cls)

    @hookimpl
    def register_input_adapters(register):
        for cls in input_adapters:
            register(cls)

    module.register_artifacts = register_artifacts
    module.register_input_adapters = register_input_adapters
    return module


# -- loading ---------------------------------------------------------------------------------


def test_importing_bentoml_loads_no_plugin():
    code = (
        "import bentoml, bentoml.artifact, bentoml.adapters, bentoml.service, bentoml.service.inference_api\n"
        "import bentoml.plugins as p\n"
        "assert p._registry is None or not p._registry._loaded, 'plugins loaded at import time'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_loading_is_lazy_and_happens_once(monkeypatch):
    scans = []
    monkeypatch.setattr(importlib_metadata, "entry_points",
                        lambda **kw: scans.append(kw) or [])
    registry = PluginRegistry()
    assert scans == []  # constructing it loads nothing
    registry.names("artifacts")
    registry.names("input_adapters")
    registry.load_plugins()
    assert scans == [{"group": "bentoml"}]


def test_hooks_run_once_until_the_plugin_set_changes(empty_plugin_registry):
    calls = []
    empty_plugin_registry.register(_plugin([_artifact_class("OnceArtifact")], calls=calls), "once",
                                   distribution="bentoml-once")
    for _ in range(3):
        assert empty_plugin_registry.get("artifacts", "OnceArtifact").__name__ == "OnceArtifact"
    assert calls == ["artifacts"]
    empty_plugin_registry.unregister("once")
    with pytest.raises(MissingPlugin):
        empty_plugin_registry.get("artifacts", "OnceArtifact")


def test_kernel_builtins_are_registered_like_any_plugin(empty_plugin_registry):
    reg = empty_plugin_registry.lookup("output_adapters", "JsonOutput")
    assert reg.distribution == "bentoml"
    assert [p.distribution for p in empty_plugin_registry.plugins()] == ["bentoml"]


def test_registered_names_resolve_through_module_attributes(empty_plugin_registry):
    cls = _artifact_class("TinyTestArtifact")
    empty_plugin_registry.register(_plugin([cls]), "tiny", distribution="bentoml-tiny", version="1.0")
    from bentoml.artifact import TinyTestArtifact  # noqa: F401 - resolved by the registry

    assert TinyTestArtifact is cls
    reg = empty_plugin_registry.provider_of("artifacts", cls)
    assert (reg.distribution, reg.version, reg.plugin) == ("bentoml-tiny", "1.0", "tiny")
    info = {p.plugin: p for p in empty_plugin_registry.plugins()}["tiny"]
    assert info.registers == {"artifacts": ["TinyTestArtifact"]}


def test_private_names_are_plain_attribute_errors(empty_plugin_registry):
    import bentoml.artifact

    with pytest.raises(AttributeError):
        bentoml.artifact._NoSuchThing  # noqa: B018


# -- failures ----------------------------------------------------------------------------------


def test_a_raising_plugin_is_reported_and_skipped(empty_plugin_registry):
    good = _artifact_class("GoodArtifact")
    half = _artifact_class("HalfArtifact")
    broken = _plugin([half], input_adapters=[_artifact_class("HalfInput")], raises=RuntimeError("kaboom"))
    empty_plugin_registry.register(broken, "broken", distribution="bentoml-broken")
    empty_plugin_registry.register(_plugin([good]), "good", distribution="bentoml-good")

    assert empty_plugin_registry.get("artifacts", "GoodArtifact") is good
    assert "HalfArtifact" not in empty_plugin_registry.names("artifacts")
    # what the broken plugin registered under its other hooks is dropped too
    assert "HalfInput" not in empty_plugin_registry.names("input_adapters")
    [failure] = empty_plugin_registry.failures
    assert failure.plugin == "broken" and failure.distribution == "bentoml-broken"
    assert "RuntimeError" in failure.error and "kaboom" in failure.error
    assert {p.plugin for p in empty_plugin_registry.plugins()} >= {"good", "bentoml"}


def test_a_plugin_whose_framework_is_missing_is_reported_and_skipped(empty_plugin_registry):
    """Its classes name modules that cannot be found: skipped, reported, and lookups say why."""
    needs_missing = _artifact_class("GhostFrameworkArtifact")
    needs_missing.requirement_imports = ("json", "no_such_framework_31c7")
    present = _artifact_class("PresentFrameworkArtifact")
    present.requirement_imports = ("json",)
    empty_plugin_registry.register(_plugin([needs_missing], input_adapters=[_artifact_class("GhostInput")]),
                                   "ghost", distribution="bentoml-ghost")
    empty_plugin_registry.register(_plugin([present]), "present", distribution="bentoml-present")

    assert empty_plugin_registry.get("artifacts", "PresentFrameworkArtifact") is present
    assert empty_plugin_registry.names("artifacts") == ["PresentFrameworkArtifact"]
    assert "GhostInput" not in empty_plugin_registry.names("input_adapters")
    [failure] = empty_plugin_registry.failures
    assert failure.distribution == "bentoml-ghost"
    assert "'no_such_framework_31c7'" in failure.error and "not installed" in failure.error
    assert "json" not in failure.error  # only what is missing is named
    with pytest.raises(MissingPlugin) as err:
        empty_plugin_registry.get("artifacts", "GhostFrameworkArtifact")
    assert "bentoml-ghost" in str(err.value) and "no_such_framework_31c7" in str(err.value)
    assert err.value.distribution == "bentoml-ghost"


def test_finding_a_framework_does_not_import_it(empty_plugin_registry):
    code = ("import sys; from bentoml.plugins.frameworks import missing_modules as _missing_modules\nfrom bentoml.plugins import Registration\n"
            "cls = type('A', (), {'requirement_imports': ('email.mime', 'xml')})\n"
            "assert _missing_modules([Registration('artifacts', 'A', cls, 'd', None, 'p')]) == []\n"
            "assert 'xml' not in sys.modules and 'email.mime' not in sys.modules")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_two_plugins_claiming_one_name_conflict_only_on_that_name(empty_plugin_registry):
    empty_plugin_registry.register(_plugin([_artifact_class("DupArtifact"), _artifact_class("OnlyA")]),
                                   "a", distribution="bentoml-dup-a")
    empty_plugin_registry.register(_plugin([_artifact_class("DupArtifact")]), "b",
                                   distribution="bentoml-dup-b")
    with pytest.raises(PluginConflict) as err:
        empty_plugin_registry.get("artifacts", "DupArtifact")
    assert "bentoml-dup-a" in str(err.value) and "bentoml-dup-b" in str(err.value)
    assert "DupArtifact" in str(err.value)
    # unrelated lookups still work
    assert empty_plugin_registry.get("artifacts", "OnlyA").__name__ == "OnlyA"
    assert empty_plugin_registry.get("output_adapters", "JsonOutput").__name__ == "JsonOutput"


def test_missing_known_name_names_the_distribution(empty_plugin_registry):
    with pytest.raises(MissingPlugin) as err:
        from bentoml.artifact import SklearnModelArtifact  # noqa: F401
    assert isinstance(err.value, ImportError)
    assert "bentoml-sklearn" in str(err.value) and "SklearnModelArtifact" in str(err.value)
    assert err.value.distribution == "bentoml-sklearn"

    with pytest.raises(ImportError, match="bentoml-adapter-dataframe"):
        from bentoml.adapters import DataframeInput  # noqa: F401


def test_missing_unknown_name_lists_what_is_registered(empty_plugin_registry):
    with pytest.raises(MissingPlugin, match="NoSuchArtifact") as err:
        empty_plugin_registry.get("artifacts", "NoSuchArtifact")
    assert "registered: none" in str(err.value)
    with pytest.raises(MissingPlugin, match="JsonOutput"):
        empty_plugin_registry.get("output_adapters", "NoSuchOutput")


def test_the_process_registry_is_swapped_by_the_fixture(empty_plugin_registry):
    assert plugins_mod.get_registry() is empty_plugin_registry


# -- entry points and environment selection ------------------------------------------------------


class FakeEntryPoint:
    """What the registry uses of ``importlib_metadata.EntryPoint``."""

    def __init__(self, name, dist, module=None, error=None):
        self.name = name
        self.dist = types.SimpleNamespace(name=dist, version="9.9")
        self._module, self._error = module, error
        self.loads = 0

    def load(self):
        self.loads += 1
        if self._error is not None:
            raise self._error
        return self._module


@pytest.fixture
def fake_entry_points(monkeypatch):
    eps = [
        FakeEntryPoint("alpha", "bentoml-alpha", _plugin([_artifact_class("AlphaArtifact")])),
        FakeEntryPoint("beta", "bentoml-beta", _plugin([_artifact_class("BetaArtifact")])),
        FakeEntryPoint("gamma", "bentoml-gamma", _plugin([_artifact_class("GammaArtifact")])),
    ]

    def entry_points(**kw):
        assert kw == {"group": "bentoml"}
        return list(eps)

    monkeypatch.setattr(importlib_metadata, "entry_points", entry_points)
    monkeypatch.delenv("BENTOML_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("BENTOML_DISABLE_PLUGINS", raising=False)
    return eps


def _loaded(registry):
    return registry.names("artifacts")


def test_entry_points_load_with_their_distribution(fake_entry_points):
    registry = PluginRegistry()
    assert _loaded(registry) == ["AlphaArtifact", "BetaArtifact", "GammaArtifact"]
    reg = registry.lookup("artifacts", "BetaArtifact")
    assert (reg.distribution, reg.version) == ("bentoml-beta", "9.9")
    assert "beta" in reg.plugin  # the entry point's name identifies the plugin


def test_load_plugins_selects_by_entry_point_or_distribution(fake_entry_points, monkeypatch):
    monkeypatch.setenv("BENTOML_LOAD_PLUGINS", " alpha , bentoml-gamma")
    registry = PluginRegistry()
    assert _loaded(registry) == ["AlphaArtifact", "GammaArtifact"]
    assert fake_entry_points[1].loads == 0  # a deselected plugin is never even imported


def test_empty_load_plugins_loads_none(fake_entry_points, monkeypatch):
    monkeypatch.setenv("BENTOML_LOAD_PLUGINS", "")
    registry = PluginRegistry()
    assert _loaded(registry) == []
    assert registry.get("output_adapters", "JsonOutput")  # the kernel's own still there


def test_disable_plugins(fake_entry_points, monkeypatch):
    monkeypatch.setenv("BENTOML_DISABLE_PLUGINS", "bentoml-alpha,beta")
    assert _loaded(PluginRegistry()) == ["GammaArtifact"]


def test_disable_wins_over_load(fake_entry_points, monkeypatch):
    monkeypatch.setenv("BENTOML_LOAD_PLUGINS", "alpha,beta")
    monkeypatch.setenv("BENTOML_DISABLE_PLUGINS", "beta")
    assert _loaded(PluginRegistry()) == ["AlphaArtifact"]


def test_disabling_one_side_resolves_a_conflict(monkeypatch):
    eps = [FakeEntryPoint("one", "bentoml-one", _plugin([_artifact_class("SameArtifact")])),
           FakeEntryPoint("two", "bentoml-two", _plugin([_artifact_class("SameArtifact")]))]
    monkeypatch.setattr(importlib_metadata, "entry_points", lambda **kw: list(eps))
    monkeypatch.delenv("BENTOML_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("BENTOML_DISABLE_PLUGINS", raising=False)
    with pytest.raises(PluginConflict, match="BENTOML_DISABLE_PLUGINS"):
        PluginRegistry().get("artifacts", "SameArtifact")
    monkeypatch.setenv("BENTOML_DISABLE_PLUGINS", "bentoml-two")
    assert PluginRegistry().lookup("artifacts", "SameArtifact").distribution == "bentoml-one"


def test_a_plugin_that_fails_to_import_is_reported(fake_entry_points, monkeypatch):
    fake_entry_points.insert(0, FakeEntryPoint("bad", "bentoml-bad", error=ImportError("no module named x")))
    registry = PluginRegistry()
    assert _loaded(registry) == ["AlphaArtifact", "BetaArtifact", "GammaArtifact"]
    [failure] = registry.failures
    assert failure.distribution == "bentoml-bad" and "bad" in failure.plugin
    assert "no module named x" in failure.error
    registry.load_plugins()  # idempotent: not retried, not reported twice
    assert len(registry.failures) == 1 and fake_entry_points[0].loads == 1


def test_a_disabled_plugin_missing_name_still_names_its_distribution(monkeypatch):
    eps = [FakeEntryPoint("sk", "bentoml-sklearn", _plugin([_artifact_class("SklearnModelArtifact")]))]
    monkeypatch.setattr(importlib_metadata, "entry_points", lambda **kw: list(eps))
    monkeypatch.setenv("BENTOML_DISABLE_PLUGINS", "bentoml-sklearn")
    with pytest.raises(MissingPlugin, match="bentoml-sklearn"):
        PluginRegistry().get("artifacts", "SklearnModelArtifact")
