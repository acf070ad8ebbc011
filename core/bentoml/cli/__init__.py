"""The ``bentoml`` command line: one module per group of commands, plus what plugins add.

Conventions: results go to stdout, logs and errors to stderr; an error exits
non-zero with a one-line message naming what is wrong (``--debug`` adds the
traceback to the log).
"""
from __future__ import annotations

import click

from bentoml.cli.common import common_options
from bentoml.cli.plugin_commands import WithPluginCommands


@click.group(cls=WithPluginCommands, context_settings={"help_option_names": ["-h", "--help"]})
@common_options
@click.version_option(package_name="bentoml", prog_name="bentoml")
def cli() -> None:
    """BentoML: package trained models as versioned prediction services and serve them."""


def _register_commands() -> None:
    from bentoml.cli import (config_commands, deploy_commands, plugins_command, repository_commands,
                             run_commands, serve_commands, yatai_commands)

    for module in (repository_commands, run_commands, serve_commands, yatai_commands, plugins_command,
                   config_commands, deploy_commands):
        for command in module.COMMANDS:
            cli.add_command(command)


_register_commands()


def main() -> None:
    cli(prog_name="bentoml")
