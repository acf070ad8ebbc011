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

logger = logging.getLogger("bentoml.cli")


def _conflicting(name: str, error: PluginConflict) -> click.Command:
    """Stands in for a name two plugins add: listed by ``--help``, an error when run."""

    def fail() -> None:
        raise click.ClickException(str(error))

    return click.Command(name, callback=fail, help=f"(not available: {error})",
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True})


class WithPluginCommands(BentoMLGroup):
    """A group whose commands are its own plus those of every plugin; its own win a clash."""

    def _plugin_names(self, ctx: click.Context) -> List[str]:
        from bentoml.plugins import get_registry

        names = []
        for name in get_registry().names("commands"):
            if super().get_command(ctx, name) is not None:
                providers = " and ".join(r.distribution for r in get_registry().registrations("commands", name))
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

        if name not in get_registry().names("commands"):
            return None
        try:
            return get_registry().get("commands", name)  # type: ignore[return-value]
        except PluginConflict as exc:
            return _conflicting(name, exc)
