"""The hook specs are the kernel's only extension points: named, documented, registration style."""
import inspect

import pluggy

from bentoml import hookspecs
from bentoml.testing import PLUGIN_CONTRACTS


def test_project_name_is_the_entry_point_group():
    assert hookspecs.NAME == "bentoml"
    assert isinstance(hookspecs.hookimpl, pluggy.HookimplMarker)
    assert isinstance(hookspecs.hookspec, pluggy.HookspecMarker)


def test_every_registration_hook_is_a_documented_spec():
    kinds = set(hookspecs.REGISTRATION_HOOKS)
    assert kinds == {"artifacts", "input_adapters", "output_adapters", "storage_backends", "deployers"}
    for kind, hook_name in hookspecs.REGISTRATION_HOOKS.items():
        func = getattr(hookspecs, hook_name)
        assert hasattr(func, "bentoml_spec"), f"{hook_name} is not marked @hookspec"
        doc = inspect.getdoc(func) or ""
        assert doc.strip(), f"{hook_name} has no docstring"
        assert ":param register:" in doc, f"{hook_name}'s docstring does not document register"
        assert list(inspect.signature(func).parameters) == ["register"]


def test_no_unlisted_hookspecs():
    specs = {name for name, obj in vars(hookspecs).items() if hasattr(obj, "bentoml_spec")}
    assert specs == set(hookspecs.REGISTRATION_HOOKS.values()) | {hookspecs.COMMAND_HOOK}
    assert sorted(hookspecs.hook_names()) == sorted(specs)


def test_the_command_hook_is_a_documented_spec():
    func = getattr(hookspecs, hookspecs.COMMAND_HOOK)
    assert hasattr(func, "bentoml_spec")
    doc = inspect.getdoc(func) or ""
    assert ":param cli:" in doc and "@cli.command()" in doc
    assert list(inspect.signature(func).parameters) == ["cli"]


def test_module_docstring_shows_a_complete_plugin():
    doc = hookspecs.__doc__
    assert "@hookimpl" in doc and "[project.entry-points.bentoml]" in doc


def test_every_hook_has_one_documented_contract_class():
    covered = [contract.hook for contract in PLUGIN_CONTRACTS]
    assert sorted(covered) == sorted(hookspecs.hook_names()), "a hook without a contract class, or two"
    for contract in PLUGIN_CONTRACTS:
        assert (inspect.getdoc(contract) or "").strip(), f"{contract.__name__} has no docstring"
        tests = [name for name in dir(contract) if name.startswith("test_")]
        assert tests, f"{contract.__name__} tests nothing"
        for name in tests:
            assert (inspect.getdoc(getattr(contract, name)) or "").strip(), f"{contract.__name__}.{name}: no docstring"
