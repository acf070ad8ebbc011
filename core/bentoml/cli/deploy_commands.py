"""``bentoml deploy TARGET``: one group that every deployment target's plugin adds to.

The kernel has no target of its own; a deployer plugin adds its subcommand
through ``register_commands`` (``cli.commands["deploy"]``, see
:func:`bentoml.hookspecs.register_commands`), so that two targets never both
claim the top-level name ``deploy``.
"""
from __future__ import annotations

import click

from bentoml.cli.common import common_options
from bentoml.cli.plugin_commands import WithPluginCommands


@click.group(cls=WithPluginCommands)
@common_options
def deploy() -> None:
    """Deploy a Bento to a target; each target is added by its deployer plugin.

    `bentoml plugins` lists what is installed.
    """


COMMANDS = [deploy]
