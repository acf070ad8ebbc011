"""Hook implementations are checked per plugin, and plugins add ``bentoml`` commands."""
import json
import types

import click
import importlib_metadata
import pytest
from click.testing import CliRunner

from bentoml.cli import cli
from bentoml.exceptions import InvalidPlugin
from bentoml.hookspecs import hookimpl
from bentoml.plugins import PluginRegistry


def _module(name, **functions):
    module = types.ModuleType(name)
    for attr, function in functions.items():
        setattr(module, attr, function)
    return module


@hookimpl
def _misspelled(register):
    pass


@hookimpl
def _wrong_arguments(reg):
    pass


def _unmarked(register):
    pass


@hookimpl
def _artifacts(register):
    register(type("GoodArtifact", (), {}))


class _EntryPoint:
    def __init__(self, name, module):
        self.name, self.dist, self._module = name, types.SimpleNamespace(name=f"bentoml-{name}", version="1"), module

    def load(self):
        return self._module


@pytest.fixture
def entry_points(monkeypatch):
    eps = []
    monkeypatch.setattr(importlib_metadata, "entry_points", lambda **kw: list(eps))
    monkeypatch.delenv("BENTOML_LOAD_PLUGINS", raising=False)
    monkeypatch.delenv("BENTOML_DISABLE_PLUGINS", raising=False)
    return eps


@pytest.mark.parametrize("functions, message", [
    ({"register_artifact": _misspelled}, "@hookimpl register_artifact matches no hook of bentoml; "
                                         "did you mean register_artifacts?"),
    ({"register_everything": _misspelled}, "the hooks are register_artifacts, register_input_adapters"),
    ({"register_artifacts": _unmarked}, "register_artifacts is not marked @hookimpl, so it is never called"),
    ({"register_artifacts": _wrong_arguments}, "reg"),
])
def test_the_culprit_alone_is_reported_and_skipped(entry_points, functions, message):
    entry_points.append(_EntryPoint("culprit", _module("culprit", **functions)))
    entry_points.append(_EntryPoint("good", _module("good", register_artifacts=_artifacts)))
    registry = PluginRegistry()
    assert registry.names("artifacts") == ["GoodArtifact"]
    [failure] = registry.failures
    assert failure.distribution == "bentoml-culprit" and message in failure.error, failure.error
    assert {p.distribution for p in registry.plugins()} == {"bentoml", "bentoml-good"}
    assert not registry.pm.has_plugin("bentoml-culprit:culprit")


def test_registering_by_hand_raises_and_registers_nothing(empty_plugin_registry):
    with pytest.raises(InvalidPlugin, match="register_artifact matches no hook"):
        empty_plugin_registry.register(_module("typo", register_artifact=_misspelled), "typo")
    assert not empty_plugin_registry.pm.has_plugin("typo")
    empty_plugin_registry.register(_module("fine", register_artifacts=_artifacts), "fine")
    assert empty_plugin_registry.names("artifacts") == ["GoodArtifact"]


def _commands_plugin(*names, fail=False):
    @hookimpl
    def register_commands(cli):
        if fail:
            raise RuntimeError("cannot add commands")
        for name in names:
            @cli.command(name=name)
            @click.argument("who")
            def hello(who, _name=name):
                """Greets WHO."""
                click.echo(f"{_name}: hello {who}")

    return _module(f"commands_{'_'.join(names)}", register_commands=register_commands)


def test_a_plugin_command_is_listed_and_runs(empty_plugin_registry):
    empty_plugin_registry.register(_commands_plugin("greet"), "greeter", distribution="bentoml-greeter")
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0 and "greet  " in listed.output and "Greets WHO." in listed.output
    ran = runner.invoke(cli, ["greet", "Ann"])
    assert (ran.exit_code, ran.output) == (0, "greet: hello Ann\n")
    shown = runner.invoke(cli, ["plugins", "-o", "json"])
    [greeter] = [p for p in json.loads(shown.output)["plugins"] if p["distribution"] == "bentoml-greeter"]
    assert greeter["registers"] == {"commands": ["greet"]}


def test_two_plugins_adding_one_command_name_both_when_it_runs(empty_plugin_registry):
    empty_plugin_registry.register(_commands_plugin("publish", "only-a"), "a", distribution="bentoml-a")
    empty_plugin_registry.register(_commands_plugin("publish"), "b", distribution="bentoml-b")
    runner = CliRunner()
    assert runner.invoke(cli, ["--help"]).exit_code == 0
    ran = runner.invoke(cli, ["publish", "x"])
    assert ran.exit_code == 1
    assert "bentoml-a and bentoml-b" in ran.output and "Traceback" not in ran.output
    assert runner.invoke(cli, ["only-a", "x"]).output == "only-a: hello x\n"


def _deploy_plugin(*targets):
    @hookimpl
    def register_commands(cli):
        for target in targets:
            @cli.commands["deploy"].command(name=target)
            @click.argument("bento")
            def deploy_to(bento, _target=target):
                """Deploys BENTO."""
                click.echo(f"{bento} to {_target}")

    return _module(f"deploy_{'_'.join(targets)}", register_commands=register_commands)


def test_plugins_add_targets_to_the_kernels_deploy_group(empty_plugin_registry):
    empty_plugin_registry.register(_deploy_plugin("kube"), "k", distribution="bentoml-kube")
    empty_plugin_registry.register(_deploy_plugin("spark", "batch"), "s", distribution="bentoml-spark")
    runner = CliRunner()
    listed = runner.invoke(cli, ["deploy", "--help"])
    assert listed.exit_code == 0
    assert all(f"  {target} " in listed.output for target in ("kube", "spark", "batch")), listed.output
    assert "Deploys BENTO." in listed.output
    assert runner.invoke(cli, ["deploy", "spark", "Iris:1"]).output == "Iris:1 to spark\n"
    assert runner.invoke(cli, ["deploy", "kube", "Iris:1"]).output == "Iris:1 to kube\n"
    top = runner.invoke(cli, ["--help"]).output
    assert top.count("\n  deploy ") == 1 and "  kube " not in top
    assert runner.invoke(cli, ["kube", "Iris:1"]).exit_code == 2  # not a top-level command
    shown = json.loads(runner.invoke(cli, ["plugins", "-o", "json"]).output)
    [spark] = [p for p in shown["plugins"] if p["distribution"] == "bentoml-spark"]
    assert spark["registers"] == {"commands": ["deploy batch", "deploy spark"]}


def test_two_plugins_adding_one_deploy_target_name_both_when_it_runs(empty_plugin_registry):
    empty_plugin_registry.register(_deploy_plugin("kube"), "a", distribution="bentoml-a")
    empty_plugin_registry.register(_deploy_plugin("kube", "other"), "b", distribution="bentoml-b")
    runner = CliRunner()
    assert runner.invoke(cli, ["deploy", "--help"]).exit_code == 0
    ran = runner.invoke(cli, ["deploy", "kube", "x"])
    assert ran.exit_code == 1 and "bentoml-a and bentoml-b" in ran.output and "Traceback" not in ran.output
    assert runner.invoke(cli, ["deploy", "other", "x"]).output == "x to other\n"
    unknown = runner.invoke(cli, ["deploy", "nowhere", "x"])
    assert unknown.exit_code == 2 and "No such command 'nowhere'" in unknown.output


def test_a_plugins_own_top_level_deploy_loses_to_the_kernels(empty_plugin_registry, caplog):
    empty_plugin_registry.register(_commands_plugin("deploy"), "shadow", distribution="bentoml-shadow")
    runner = CliRunner()
    assert runner.invoke(cli, ["--help"]).output.count("\n  deploy ") == 1
    assert "the command 'deploy' of bentoml-shadow is ignored" in caplog.text
    assert "hello" not in runner.invoke(cli, ["deploy", "--help"]).output


def test_the_kernels_own_command_wins(empty_plugin_registry, caplog):
    empty_plugin_registry.register(_commands_plugin("list"), "shadow", distribution="bentoml-shadow")
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0 and listed.output.count("\n  list ") == 1
    assert "the command 'list' of bentoml-shadow is ignored" in caplog.text
    assert "hello" not in runner.invoke(cli, ["list", "--help"]).output


def test_a_failing_command_hook_skips_its_plugin(empty_plugin_registry):
    empty_plugin_registry.register(_commands_plugin("boom", fail=True), "boom", distribution="bentoml-boom")
    empty_plugin_registry.register(_commands_plugin("fine"), "fine", distribution="bentoml-fine")
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0 and "fine" in result.output and "boom" not in result.output
    [failure] = empty_plugin_registry.failures
    assert failure.distribution == "bentoml-boom" and "cannot add commands" in failure.error
    unknown = CliRunner().invoke(cli, ["boom"])
    assert unknown.exit_code == 2 and "No such command 'boom'" in unknown.output


def test_a_plugin_modules_own_getattr_is_not_called(empty_plugin_registry):
    lazy = _module("lazy", register_artifacts=_artifacts)

    def __getattr__(name):  # a plugin module with lazy attributes that raise for unknown ones
        raise ImportError(f"no lazy attribute {name}")

    lazy.__getattr__ = __getattr__
    empty_plugin_registry.register(lazy, "lazy")
    assert empty_plugin_registry.names("artifacts") == ["GoodArtifact"]
