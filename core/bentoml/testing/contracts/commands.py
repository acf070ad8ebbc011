"""``CommandsContract``: what a plugin adding ``bentoml`` commands promises."""
from __future__ import annotations

import pathlib
import subprocess
import sys
from typing import ClassVar, Sequence, Tuple

from bentoml.plugins import PluginRegistry
from bentoml.testing.contracts.plugin import PluginContract, canonical_name


def _bentoml(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bentoml", *args], capture_output=True, text=True,
                          timeout=120)


class CommandsContract(PluginContract):
    """Tests for a plugin that implements ``register_commands``.

    Set ``distribution`` and ``commands`` (the names it adds; one added to a kernel
    group is named with it: ``"deploy kubernetes"``).
    """

    kind = "commands"
    hook = "register_commands"
    commands: ClassVar[Sequence[str]]

    def registered(self, tmp_path: pathlib.Path) -> Tuple[str, type]:
        from bentoml.plugins import get_registry

        command = get_registry().get("commands", self.commands[0])
        return self.commands[0], command.callback  # type: ignore[attr-defined, return-value]

    def test_registry_resolves_name(self, plugin_registry: PluginRegistry, tmp_path: pathlib.Path) -> None:
        """Each command resolves to a click command of this distribution (a fresh one per registry)."""
        import click

        assert self.commands
        for name in self.commands:
            reg = plugin_registry.lookup(self.kind, name)
            assert isinstance(reg.obj, click.Command)
            assert canonical_name(reg.distribution) == canonical_name(self.distribution)

    def test_commands_are_listed_and_documented(self) -> None:
        """``bentoml --help`` lists each command, and ``bentoml NAME --help`` shows its help."""
        for name in self.commands:
            *group, last = name.split(" ")
            listed = _bentoml(*group, "--help")
            assert listed.returncode == 0, listed.stderr
            assert f"  {last} " in listed.stdout or f"  {last}\n" in listed.stdout, listed.stdout
            shown = _bentoml(*name.split(" "), "--help")
            assert shown.returncode == 0, shown.stderr
            assert f"Usage: bentoml {name}" in shown.stdout
            assert "is ignored: bentoml has its own" not in listed.stderr

    def test_commands_do_not_shadow_the_kernel(self) -> None:
        """No name is one of the kernel's own commands (those win, and the plugin's is ignored)."""
        from bentoml.cli import cli

        shadowed = sorted(set(self.commands) & set(cli.commands))
        assert not shadowed, f"bentoml has its own {', '.join(shadowed)}; pick other names"
