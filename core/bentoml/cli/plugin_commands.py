"""The commands plugins add through ``register_commands``, served by the ``bentoml`` group.

They are looked up only when ``bentoml`` needs a name it does not know, or lists
its commands (``--help``), so running a kernel command loads no plugin early.
"""
from __future__ import annotations

import logging
from typing import List, Optional

import click

from bentoml.cli.common import BentoMLGroup
from bentoml.exceptions import PluginConflict
from bentoml.hookspecs import PLUGIN_COMMAND_GROUPS

logger = logging.getLogger("bentoml.cli")


def _conflicting(name: str, error: PluginConflict) -> click.Command:
    """Stands in for a name two plugins add: listed by ``--help``, an error when run."""

    def fail() -> None:
        raise click.ClickException(str(error))

    return click.Command(name, callback=fail, help=f"(not available: {error})",
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True})


class WithPluginCommands(BentoMLGroup):
    """A group whose commands are its own plus those of every plugin; its own win a clash.

    The top-level ``bentoml`` group serves the plugin commands registered under one
    word; a kernel group named in :data:`~bentoml.hookspecs.PLUGIN_COMMAND_GROUPS`
    (``deploy``) serves those registered as ``"deploy NAME"``.
    """

    def _registered_name(self, name: str) -> str:
        """The registry name of this group's subcommand ``name``."""
        return f"{self.name} {name}" if self.name in PLUGIN_COMMAND_GROUPS else name

    def _registered_names(self) -> List[str]:
        """This group's subcommand names among the registered plugin commands."""
        from bentoml.plugins import get_registry

        names = get_registry().names("commands")
        if self.name in PLUGIN_COMMAND_GROUPS:
            prefix = f"{self.name} "
            return [name[len(prefix):] for name in names if name.startswith(prefix)]
        return [name for name in names if " " not in name]

    def _plugin_names(self, ctx: click.Context) -> List[str]:
        from bentoml.plugins import get_registry

        names = []
        for name in self._registered_names():
            if super().get_command(ctx, name) is not None:
                providers = " and ".join(r.distribution for r in
                                         get_registry().registrations("commands", self._registered_name(name)))
                logger.warning("the command %r of %s is ignored: bentoml has its own %r command",
                               name, providers, name)
            else:
                names.append(name)
        return names

    def list_commands(self, ctx: click.Context) -> List[str]:
        return sorted([*super().list_commands(ctx), *self._plugin_names(ctx)])

    def get_command(self, ctx: click.Context, name: str) -> Optional[click.Command]:
        own = super().get_command(ctx, name)
        if own is not None:
            return own
        from bentoml.plugins import get_registry

        if name not in self._registered_names():
            return None
        try:
            return get_registry().get("commands", self._registered_name(name))  # type: ignore[return-value]
        except PluginConflict as exc:
            return _conflicting(name, exc)
